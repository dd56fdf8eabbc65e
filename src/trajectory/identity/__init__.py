"""Who may act: users with their bearer tokens (`users`), people's web sign-in with a
password and a TOTP second factor (`credentials`), and the `trajectory users` command
line (`cli`).

The API, the web pages and the command line stand on this package; it stands on the
persistence layer and the key ring only (TOTP secrets are wrapped by the master key).
Importing the package loads nothing: import the module you need.
"""
