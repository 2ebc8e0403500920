-- observations keeps its primary key (region_id, indicator_id, period_end, period_start) and
-- no secondary index (issue 3, docs/benchmarks.md).
--
-- observations_indicator_period (indicator_id, period_end, region_id) cost every loaded row a
-- second B-tree insert: a first import of 1M rows took about half as long again as the same
-- load without it. No question needs it. Every figure the server computes with (series,
-- roll-ups, rankings, attainments, summaries) is read for named region versions, i.e. by
-- primary-key ranges; a listing or export by indicator without regions walks the regions in
-- key order and reads each one's primary-key range of the indicators asked
-- (ansinh_store::queries::observations::list_observations), which touches the same rows the
-- index did.
--
-- The index also backed the foreign key to indicators, which goes with it. What it guarded
-- stays guarded: indicators are never deleted (no code path deletes them), and the only
-- writer of observations, ansinh-import, resolves every indicator id from the stored catalog
-- under the run lock (it already loads with foreign_key_checks = 0, trusting exactly that).
ALTER TABLE observations DROP FOREIGN KEY observations_indicator_fk;
ALTER TABLE observations DROP INDEX observations_indicator_period;
