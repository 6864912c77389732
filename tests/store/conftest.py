from tests.dbsupport import database_fixture

# `db`: a fresh, migrated Database per test, on SQLite and (when configured) PostgreSQL.
db = database_fixture()
