ALTER TABLE observations
    ADD KEY observations_import_run (import_run_id),
    ADD KEY observations_source (source_id);
ALTER TABLE observations
    ADD CONSTRAINT observations_import_run_fk FOREIGN KEY (import_run_id) REFERENCES import_runs (id),
    ADD CONSTRAINT observations_source_fk FOREIGN KEY (source_id) REFERENCES sources (id);
ALTER TABLE targets DROP COLUMN row_digest;
ALTER TABLE observations DROP COLUMN row_digest;
