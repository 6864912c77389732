"""Storage: SQLAlchemy 2 async on SQLite (WAL, the default) or PostgreSQL (asyncpg).

`Database` owns the engine and runs migrations on start; `repo` holds the queries; `records`
the plain values they take and return. Services import these three and `errors`, never models.
"""

from dispatcher.store.db import Database
from dispatcher.store.errors import DuplicateAlert, StoreError, StoreUnavailable

__all__ = ["Database", "DuplicateAlert", "StoreError", "StoreUnavailable"]
