-- The ansinh database and its three users, each with only what its job needs.
--
-- This file is a template: deploy/sql/apply-grants.sh fills in the {{...}} placeholders from
-- the environment and runs it (or prints the result with --print). Do not run it as it is: it
-- would create users literally named {{SERVER_USER}}.
--
--   {{SERVER_USER}}    ansinh-server. Reads; can change nothing.
--   {{IMPORTER_USER}}  ansinh-import load and runs. Reads and writes rows; cannot change the schema.
--   {{MIGRATOR_USER}}  ansinh-import migrate. Changes the schema and installs the reference data.
--
-- Runs on MySQL 8 and MariaDB 10.11 as a user that may create users and grant (root, or an
-- admin with CREATE USER and the privileges below WITH GRANT OPTION). Running it again is
-- safe: existing users get their password set to the one given (that is how to rotate one),
-- and a privilege granted twice is granted once. It never revokes: a privilege someone granted
-- by hand stays until someone REVOKEs it (SHOW GRANTS FOR ... lists what a user has).
--
-- Privileges are granted on the whole database, not table by table, so that a table a later
-- migration adds is covered without re-running this file, and so that it can run before the
-- first migration (a table-level GRANT fails on a table that does not exist yet). The only
-- table besides ansinh's own is diesel's migration ledger, __diesel_schema_migrations.
--
-- In a GRANT, `_` and `%` in a database name are wildcards. {{ANSINH_DB_PATTERN}} is the name
-- with them escaped, so that a grant on ansinh_prod does not also cover ansinhXprod.

CREATE DATABASE IF NOT EXISTS `{{ANSINH_DB}}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- The query service: SELECT only. Its health check is `SELECT 1`; it sets only session
-- variables (sql_mode), which needs no privilege.
CREATE USER IF NOT EXISTS '{{SERVER_USER}}'@'{{USER_HOST}}' IDENTIFIED BY '{{SERVER_PASSWORD}}';
ALTER USER '{{SERVER_USER}}'@'{{USER_HOST}}' IDENTIFIED BY '{{SERVER_PASSWORD}}';
GRANT SELECT ON `{{ANSINH_DB_PATTERN}}`.* TO '{{SERVER_USER}}'@'{{USER_HOST}}';

-- The importer: compares incoming rows with stored ones (SELECT), lands new ones (INSERT,
-- which is also all LOAD DATA LOCAL INFILE needs: LOCAL reads the file on the client, so no
-- FILE privilege), replaces changed ones and copies the old values to observation_history
-- (UPDATE, INSERT) and writes the ledger. Changed rows are staged in TEMPORARY tables. DELETE
-- is granted because the importer owns the tables' contents (withdrawing a row or a group
-- member is a load's business); today's loader only inserts and updates. The run lock is
-- GET_LOCK, which needs no privilege. No CREATE, ALTER, DROP or INDEX: neither a bug nor a
-- crafted input file can change the schema.
CREATE USER IF NOT EXISTS '{{IMPORTER_USER}}'@'{{USER_HOST}}' IDENTIFIED BY '{{IMPORTER_PASSWORD}}';
ALTER USER '{{IMPORTER_USER}}'@'{{USER_HOST}}' IDENTIFIED BY '{{IMPORTER_PASSWORD}}';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE TEMPORARY TABLES
    ON `{{ANSINH_DB_PATTERN}}`.* TO '{{IMPORTER_USER}}'@'{{USER_HOST}}';

-- The migrator: what diesel's migrations need (tables, indexes, foreign keys, its own ledger
-- table) plus writing the bundled reference data. DROP is there for migrations that rebuild a
-- table; note that DROP on a database also allows DROP DATABASE, so keep this user's password
-- for deployments only (the Kubernetes migrate Job, the compose migrate service).
CREATE USER IF NOT EXISTS '{{MIGRATOR_USER}}'@'{{USER_HOST}}' IDENTIFIED BY '{{MIGRATOR_PASSWORD}}';
ALTER USER '{{MIGRATOR_USER}}'@'{{USER_HOST}}' IDENTIFIED BY '{{MIGRATOR_PASSWORD}}';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES,
    CREATE TEMPORARY TABLES
    ON `{{ANSINH_DB_PATTERN}}`.* TO '{{MIGRATOR_USER}}'@'{{USER_HOST}}';
