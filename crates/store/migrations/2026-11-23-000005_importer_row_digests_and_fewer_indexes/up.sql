-- What ansinh-import needs to load fast (issue 3, docs/benchmarks.md).
--
-- 1. row_digest: the importer's digest of the row's content (ansinh_store::import::row_digest:
--    the first 8 bytes of SHA-256 over the columns joined with '|' as CONCAT_WS prints them).
--    A re-import compares a key range of incoming rows with the stored ones by count and
--    BIT_XOR of this column: a range scan over one integer, where computing a hash per stored
--    row on the server cost most of a re-import. The importer writes it with every row it
--    inserts or updates. A writer that changes a row's content some other way must set it to
--    the new digest or to 0; 0 never matches, so the importer then compares those rows one
--    by one (correct, only slower). Existing rows get their digest here, computed by the same
--    formula in SQL (ansinh_store::import::OBSERVATION_DIGEST_EXPR / TARGET_DIGEST_EXPR).
ALTER TABLE observations ADD COLUMN row_digest BIGINT UNSIGNED NOT NULL DEFAULT 0;
UPDATE observations SET row_digest = CAST(CONV(LEFT(SHA2(CONCAT_WS('|', region_id, indicator_id, period_end, period_start, value, qualifier, IFNULL(source_id, ''), IFNULL(note, '')), 256), 16), 16, 10) AS UNSIGNED);
ALTER TABLE targets ADD COLUMN row_digest BIGINT UNSIGNED NOT NULL DEFAULT 0;
UPDATE targets SET row_digest = CAST(CONV(LEFT(SHA2(CONCAT_WS('|', region_id, indicator_id, period_end, period_start, target, 0, IFNULL(source_id, ''), ''), 256), 16), 16, 10) AS UNSIGNED);

-- 2. Fewer secondary indexes on observations, the table that takes millions of rows a night.
--    Each secondary index costs every loaded row a B-tree insert; the importer's first load
--    of 1M rows spent more time in the two below than in the table itself. Neither serves a
--    query: nothing asks "which observations did run N write" or "which observations cite
--    source S" (the ledger answers per run with counts; sources are joined by their own
--    primary key), and InnoDB keeps them only because each foreign key needs an index.
--    The foreign keys go with them. What they guarded stays guarded: import_runs and
--    sources are never deleted (no code path deletes them), and the only writer of
--    observations, ansinh-import, stamps rows with its own run id and resolves every source
--    id from the stored sources or inserts it in the same transaction (it already loads with
--    foreign_key_checks = 0 for speed, trusting exactly that). observations_indicator_period
--    stays: it serves rankings and roll-ups. targets is small and keeps its keys.
ALTER TABLE observations
    DROP FOREIGN KEY observations_import_run_fk,
    DROP FOREIGN KEY observations_source_fk;
ALTER TABLE observations
    DROP INDEX observations_import_run,
    DROP INDEX observations_source;
