-- The ebc role and database on a PostgreSQL server (12 or later). Run once, as a superuser:
--
--   sudo -u postgres psql -v ebc_password="$(cat /root/ebc-db.secret)" -f deploy/postgresql/init.sql
--
-- Safe to run again: what exists is left alone (the password too; change it with
-- `ALTER ROLE ebc PASSWORD ...` or psql's \password ebc). The platform creates and migrates its
-- tables itself on start (or: python -m dispatcher.store URL upgrade), as the owner.
-- Then, in /etc/ebc/ebc.env:
--   EBC_DATABASE_URL=postgresql+asyncpg://ebc:PASSWORD@127.0.0.1:5432/ebc

\set ON_ERROR_STOP on

-- psql interpolates :'ebc_password' as a quoted literal; format(%L) quotes it again for
-- the generated statement, so any character is safe in the password.
SELECT format('CREATE ROLE ebc LOGIN PASSWORD %L', :'ebc_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ebc')
\gexec

-- template0 with the C collation: identical sort order on every server, and region codes,
-- EBRIDs and ids are ASCII anyway. UTF8 for the Chinese texts.
SELECT 'CREATE DATABASE ebc OWNER ebc ENCODING ''UTF8'' LC_COLLATE ''C'' LC_CTYPE ''C'' TEMPLATE template0'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ebc')
\gexec

REVOKE ALL ON DATABASE ebc FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE ebc TO ebc;

\connect ebc
-- Before PostgreSQL 15 every role may create objects in public; only the platform should.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO ebc;
