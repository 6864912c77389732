"""Migrations from the command line, e.g. for a new revision in a checkout:

    python -m dispatcher.store sqlite:///var/dev.db upgrade
    python -m dispatcher.store sqlite:///var/dev.db revision -m "add x" --autogenerate
    python -m dispatcher.store postgresql://postgres@127.0.0.1:5432/ebc current
"""

from __future__ import annotations

import argparse
import asyncio

from alembic import command

from dispatcher.store.db import Database
from dispatcher.store.migrate import alembic_config


async def _upgrade(url: str) -> None:
    # The same path as the application: pragmas, the PostgreSQL migration lock, errors.
    db = Database(url)
    await db.start()
    await db.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m dispatcher.store")
    parser.add_argument("url", help="SQLAlchemy URL, e.g. sqlite:///var/dev.db")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("upgrade", help="upgrade to head")
    sub.add_parser("current")
    sub.add_parser("history")
    rev = sub.add_parser("revision")
    rev.add_argument("-m", "--message", required=True)
    rev.add_argument("--autogenerate", action="store_true")
    rev.add_argument("--rev-id", help="e.g. 0002 (revisions are numbered)")
    args = parser.parse_args(argv)
    if args.cmd == "upgrade":
        asyncio.run(_upgrade(args.url))
        return
    config = alembic_config(args.url)
    if args.cmd == "current":
        command.current(config, verbose=True)
    elif args.cmd == "history":
        command.history(config)
    else:
        command.revision(
            config, message=args.message, autogenerate=args.autogenerate, rev_id=args.rev_id
        )


if __name__ == "__main__":
    main()
