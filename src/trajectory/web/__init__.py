"""The web pages for the people who do the work: coordinators, aftercare workers,
researchers and admins, server-rendered (Jinja2), in Dutch by default with English.

`trajectory.web.routes` holds what `create_app` mounts under /app. Importing this package
loads nothing.
"""
