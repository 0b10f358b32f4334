"""Organisations, users, roles, API apps and their credentials."""
