-- The figures. The primary key is (region, indicator, period end, period start), so InnoDB
-- clusters one region's series of one indicator together in time order: a time series is a
-- single range scan. A stock is stored at its instant (period_start = period_end), so a
-- stock reported for `2024` and for `2024-12-31` is one row, as the data contract demands.
--
-- Values are DECIMAL(24,6): 18 integer digits hold any VND amount the country reports
-- (trillions are 13 digits) and 6 decimals hold any percentage the reports print.
-- qualifier is model::Qualifier::code (0 exact, 1 more_than, 2 less_than, 3 nearly, 4 about).
--
-- Foreign keys: observation -> region, indicator and import run stay, because a figure that
-- names no region, no indicator or no run is unreadable or unaccountable. They are the ones
-- to drop (and check in the importer instead) should the schema move to Vitess or TiDB.
CREATE TABLE observations (
    region_id INT UNSIGNED NOT NULL,
    indicator_id INT UNSIGNED NOT NULL,
    period_end DATE NOT NULL,
    period_start DATE NOT NULL,
    value DECIMAL(24,6) NOT NULL,
    qualifier TINYINT UNSIGNED NOT NULL DEFAULT 0,
    source_id INT UNSIGNED NULL,
    note VARCHAR(1024) NULL,
    import_run_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (region_id, indicator_id, period_end, period_start),
    -- Rankings and roll-ups: one indicator, one period, many regions.
    KEY observations_indicator_period (indicator_id, period_end, region_id),
    -- "What did run N write?"
    KEY observations_import_run (import_run_id),
    KEY observations_source (source_id),
    CONSTRAINT observations_region_fk FOREIGN KEY (region_id) REFERENCES regions (id),
    CONSTRAINT observations_indicator_fk FOREIGN KEY (indicator_id) REFERENCES indicators (id),
    CONSTRAINT observations_import_run_fk FOREIGN KEY (import_run_id) REFERENCES import_runs (id),
    -- Stays while sources are never deleted; cheap, and it keeps the source text recoverable.
    CONSTRAINT observations_source_fk FOREIGN KEY (source_id) REFERENCES sources (id),
    CONSTRAINT observations_period_check CHECK (period_start <= period_end),
    CONSTRAINT observations_qualifier_check CHECK (qualifier <= 4)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC;

-- Every value an import replaced, with the run that set it and the run that replaced it, so
-- "what did we know on date X" is answerable: the current row if its run finished by X,
-- else the history row whose value was set by X and replaced after it.
CREATE TABLE observation_history (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    region_id INT UNSIGNED NOT NULL,
    indicator_id INT UNSIGNED NOT NULL,
    period_end DATE NOT NULL,
    period_start DATE NOT NULL,
    value DECIMAL(24,6) NOT NULL,
    qualifier TINYINT UNSIGNED NOT NULL,
    source_id INT UNSIGNED NULL,
    note VARCHAR(1024) NULL,
    set_by_run_id BIGINT UNSIGNED NOT NULL,
    replaced_by_run_id BIGINT UNSIGNED NOT NULL,
    replaced_at DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    KEY observation_history_key (region_id, indicator_id, period_end, period_start, replaced_at),
    -- The run foreign keys stay (the history is only as good as its accounting). Region,
    -- indicator and source are not constrained here: the rows were copied from observations,
    -- which checked them, and an append-only log should never block anything.
    CONSTRAINT observation_history_set_by_fk FOREIGN KEY (set_by_run_id) REFERENCES import_runs (id),
    CONSTRAINT observation_history_replaced_by_fk
        FOREIGN KEY (replaced_by_run_id) REFERENCES import_runs (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC;

-- Plan figures (e.g. a provincial coverage target for 2024), keyed like observations.
CREATE TABLE targets (
    region_id INT UNSIGNED NOT NULL,
    indicator_id INT UNSIGNED NOT NULL,
    period_end DATE NOT NULL,
    period_start DATE NOT NULL,
    target DECIMAL(24,6) NOT NULL,
    source_id INT UNSIGNED NULL,
    import_run_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (region_id, indicator_id, period_end, period_start),
    KEY targets_indicator_period (indicator_id, period_end, region_id),
    KEY targets_import_run (import_run_id),
    KEY targets_source (source_id),
    -- The same foreign keys as observations, for the same reasons.
    CONSTRAINT targets_region_fk FOREIGN KEY (region_id) REFERENCES regions (id),
    CONSTRAINT targets_indicator_fk FOREIGN KEY (indicator_id) REFERENCES indicators (id),
    CONSTRAINT targets_import_run_fk FOREIGN KEY (import_run_id) REFERENCES import_runs (id),
    CONSTRAINT targets_source_fk FOREIGN KEY (source_id) REFERENCES sources (id),
    CONSTRAINT targets_period_check CHECK (period_start <= period_end)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC;
