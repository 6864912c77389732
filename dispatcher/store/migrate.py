"""Alembic without alembic.ini: the configuration is built here so an installed package migrates.

`Database.start()` calls `upgrade()` on its own connection; `python -m dispatcher.store` is the
command line (current, history, new revisions).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Revision files named by number sort in the order they apply.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Upgrade on `connection`, inside the caller's transaction (run via `conn.run_sync`)."""
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
