"""Browser tests: Debian's Chromium, driven by Playwright, on the live app."""
