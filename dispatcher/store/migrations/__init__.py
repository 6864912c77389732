"""Alembic environment (a package so that an installed wheel carries env.py and versions)."""
