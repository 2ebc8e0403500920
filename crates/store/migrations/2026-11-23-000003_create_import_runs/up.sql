-- The ledger: every import run, committed or not, with its input files and the rows it
-- rejected. A rejected or failed run lands nothing but its ledger entry, so these rows are
-- written outside the run's data transaction.
CREATE TABLE import_runs (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    started_at DATETIME(6) NOT NULL,
    finished_at DATETIME(6) NULL,
    operator VARCHAR(128) NOT NULL,
    status VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    dry_run BOOL NOT NULL,
    inserted BIGINT UNSIGNED NOT NULL DEFAULT 0,
    updated BIGINT UNSIGNED NOT NULL DEFAULT 0,
    unchanged BIGINT UNSIGNED NOT NULL DEFAULT 0,
    rejected BIGINT UNSIGNED NOT NULL DEFAULT 0,
    message TEXT NULL,
    -- The ledger lists newest first by id (ids increase with time); no other index needed.
    PRIMARY KEY (id),
    CONSTRAINT import_runs_status_check
        CHECK (status IN ('running', 'committed', 'rejected', 'failed', 'dry_run'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC;

CREATE TABLE import_run_files (
    run_id BIGINT UNSIGNED NOT NULL,
    ordinal INT UNSIGNED NOT NULL,
    path VARCHAR(1024) NOT NULL,
    sha256 CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    size_bytes BIGINT UNSIGNED NOT NULL,
    kind VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    row_count BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (run_id, ordinal),
    -- Stays: a file entry belongs to its run and goes with it.
    CONSTRAINT import_run_files_run_fk FOREIGN KEY (run_id) REFERENCES import_runs (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC;

CREATE TABLE import_run_rejections (
    run_id BIGINT UNSIGNED NOT NULL,
    ordinal INT UNSIGNED NOT NULL,
    file VARCHAR(1024) NOT NULL,
    line INT UNSIGNED NOT NULL,
    column_name VARCHAR(64) NULL,
    value TEXT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (run_id, ordinal),
    -- Stays, as for import_run_files.
    CONSTRAINT import_run_rejections_run_fk FOREIGN KEY (run_id) REFERENCES import_runs (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC;
