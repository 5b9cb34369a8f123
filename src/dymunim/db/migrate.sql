-- The migration runner's own statements (dymunim.db.migrate). Job statements live in store/queries.sql.

-- name: migrations_lock
-- One migration runner at a time per database (session lock, released by migrations_unlock).
-- The key is 0x64796D756E696D, "dymunim".
SELECT pg_advisory_lock(28281008699631981);

-- name: migrations_unlock
SELECT pg_advisory_unlock(28281008699631981);

-- name: migrations_table
-- The runner's own table. The checksum column came later: databases migrated before it get it here,
-- filled for their rows on the next run.
CREATE TABLE IF NOT EXISTS dymunim_migrations (
    name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());
ALTER TABLE dymunim_migrations ADD COLUMN IF NOT EXISTS checksum text;

-- name: applied_migrations
SELECT name, checksum FROM dymunim_migrations;

-- name: record_migration
INSERT INTO dymunim_migrations (name, checksum) VALUES (%(name)s, %(checksum)s);

-- name: fill_migration_checksum
-- A row from before checksums were kept takes the file's checksum once; a stored one never changes.
UPDATE dymunim_migrations SET checksum = %(checksum)s WHERE name = %(name)s AND checksum IS NULL;

-- name: pgmq_available
SELECT 1 FROM pg_available_extensions WHERE name = 'pgmq';

-- name: pgmq_create_extension
CREATE EXTENSION IF NOT EXISTS pgmq;

-- name: pgmq_installed
SELECT to_regclass('pgmq.meta') IS NOT NULL;
