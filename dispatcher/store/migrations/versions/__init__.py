"""Alembic revisions; the number prefix gives the order."""
