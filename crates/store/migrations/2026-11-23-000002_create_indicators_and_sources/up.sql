-- The indicator catalog. It is data (imported like everything else); the default catalog
-- is installed by `ansinh-import migrate` from crates/store/reference/indicators.csv.
-- A ratio names its parts so that roll-ups recompute it from summed parts.
CREATE TABLE indicators (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    code VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    name VARCHAR(255) NOT NULL,
    name_vi VARCHAR(255) NULL,
    unit VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    kind VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    numerator_id INT UNSIGNED NULL,
    denominator_id INT UNSIGNED NULL,
    description TEXT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY indicators_code (code),
    -- Both stay: a ratio whose part vanished cannot be recomputed.
    CONSTRAINT indicators_numerator_fk FOREIGN KEY (numerator_id) REFERENCES indicators (id),
    CONSTRAINT indicators_denominator_fk FOREIGN KEY (denominator_id) REFERENCES indicators (id),
    CONSTRAINT indicators_unit_check CHECK (unit IN ('persons', 'percent', 'vnd', 'count')),
    CONSTRAINT indicators_kind_check CHECK (kind IN ('stock', 'flow', 'ratio', 'reported_ratio')),
    -- Only ratios have parts, and then both; model::Indicator enforces the rest. A ratio
    -- may lack both for a moment: the catalog is written first and its parts resolved after.
    CONSTRAINT indicators_parts_check CHECK (
        (numerator_id IS NULL) = (denominator_id IS NULL)
        AND (kind = 'ratio' OR numerator_id IS NULL)
    )
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC;

-- Where figures come from, as the import rows state it ("baolamdong.vn 2025-05",
-- "Decision No. 148/QD-UBND dated 2024-01-26"). Compared byte for byte: two spellings are
-- two sources, and a case-insensitive key would make one silently stand for the other.
CREATE TABLE sources (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY sources_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC;
