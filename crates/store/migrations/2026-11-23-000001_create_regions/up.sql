-- Regions are versions: a code plus a validity interval. Code 68 before 2025-07-01 and
-- code 68 from 2025-07-01 are different rows with different ids, so everything that refers
-- to a region refers to a version, and a series can say exactly which territory it covers.
--
-- Codes and keyword columns use utf8mb4_bin: they are identifiers compared byte for byte.
-- Names use utf8mb4_unicode_ci (the table default) for sorting; search goes through
-- name_folded, which the application fills with model::fold_name so that the same folding
-- rule ("đ" -> "d", diacritics dropped) applies on MariaDB and MySQL alike, independent of
-- the server's collations.
CREATE TABLE regions (
    id INT UNSIGNED NOT NULL AUTO_INCREMENT,
    code VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    level VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    kind VARCHAR(32) NULL,
    name VARCHAR(255) NOT NULL,
    name_vi VARCHAR(255) NULL,
    -- Both names folded and joined (see queries::regions::fold_region_names), hence twice
    -- the length of one name.
    name_folded VARCHAR(512) NOT NULL,
    parent_id INT UNSIGNED NULL,
    valid_from DATE NOT NULL,
    -- Inclusive; NULL while the version is current.
    valid_to DATE NULL,
    PRIMARY KEY (id),
    -- Resolving a code on a date: the latest version starting on or before it.
    UNIQUE KEY regions_code_valid_from (code, valid_from),
    KEY regions_parent (parent_id),
    -- Listing a level on a date in code order: the index is read in order and covers the
    -- validity test, so a page stops after `limit` matching rows and counting never
    -- touches the rows themselves.
    KEY regions_level_code (level, code, valid_from, valid_to),
    KEY regions_name_folded (name_folded),
    -- Stays: a dangling parent would silently cut a subtree out of every roll-up.
    CONSTRAINT regions_parent_fk FOREIGN KEY (parent_id) REFERENCES regions (id),
    CONSTRAINT regions_level_check
        CHECK (level IN ('nation', 'province', 'district', 'commune', 'group')),
    CONSTRAINT regions_validity_check CHECK (valid_to IS NULL OR valid_to >= valid_from)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC;

-- Members of user-defined groups (e.g. BHXH-KV25 = Lâm Đồng, Bình Thuận, Đắk Nông).
CREATE TABLE region_members (
    group_id INT UNSIGNED NOT NULL,
    member_id INT UNSIGNED NOT NULL,
    PRIMARY KEY (group_id, member_id),
    -- "Which groups is this region in?"
    KEY region_members_member (member_id),
    -- Both stay: a membership of a missing region is meaningless and would skew a roll-up.
    CONSTRAINT region_members_group_fk FOREIGN KEY (group_id) REFERENCES regions (id),
    CONSTRAINT region_members_member_fk FOREIGN KEY (member_id) REFERENCES regions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC;

-- How versions lead to their successors (merge, split, rename). Carrying a series across a
-- boundary change walks these edges; `approximate` marks edges whose figures cannot be
-- carried exactly (splits).
CREATE TABLE region_lineage (
    from_region_id INT UNSIGNED NOT NULL,
    to_region_id INT UNSIGNED NOT NULL,
    kind VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    effective_date DATE NOT NULL,
    approximate BOOL NOT NULL,
    -- Successors of a version: the primary key. Predecessors: the index on to_region_id.
    PRIMARY KEY (from_region_id, to_region_id),
    KEY region_lineage_to (to_region_id),
    -- Both stay: an edge to a missing version would make a re-based series silently short.
    CONSTRAINT region_lineage_from_fk FOREIGN KEY (from_region_id) REFERENCES regions (id),
    CONSTRAINT region_lineage_to_fk FOREIGN KEY (to_region_id) REFERENCES regions (id),
    CONSTRAINT region_lineage_kind_check CHECK (kind IN ('merge', 'split', 'rename')),
    CONSTRAINT region_lineage_not_self_check CHECK (from_region_id <> to_region_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci ROW_FORMAT=DYNAMIC;
