"""The web shell: app factory, page chrome, translations, static assets."""
