"""Alembic without alembic.ini: the configuration is built here so an installed package migrates.

`Database.start()` calls `upgrade()` on its own connection. For a new revision, from a checkout:
    python -m dispatcher.store.migrate sqlite:///var/dev.db upgrade
    python -m dispatcher.store.migrate sqlite:///var/dev.db revision -m "..." --autogenerate
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dispatcher.store.migrate")
    parser.add_argument("url", help="SQLAlchemy URL, e.g. sqlite+aiosqlite:///var/dev.db")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("upgrade").add_argument("revision", nargs="?", default="head")
    sub.add_parser("current")
    sub.add_parser("history")
    rev = sub.add_parser("revision")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--autogenerate", action="store_true")
    rev.add_argument("--rev-id")
    args = parser.parse_args(argv)
    config = alembic_config(args.url)
    if args.cmd == "upgrade":
        command.upgrade(config, args.revision)
    elif args.cmd == "current":
        command.current(config, verbose=True)
    elif args.cmd == "history":
        command.history(config)
    else:
        command.revision(
            config, message=args.message, autogenerate=args.autogenerate, rev_id=args.rev_id
        )


if __name__ == "__main__":
    main()
