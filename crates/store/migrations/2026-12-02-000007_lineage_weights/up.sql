-- The share of the earlier version's figure that goes to the later one, 0..1, where it is
-- known: the 2025 reform divided 471 communes among 2-5 new ones without saying how, so a
-- province that knows how a divided commune's population was shared says so here (the
-- `lineage` import kind's `weight` column), and figures carried across that edge are
-- apportioned instead of approximate. NULL: not known. The weights of one earlier version's
-- edges sum to 1; the importer checks that, since a CHECK cannot see other rows.
ALTER TABLE region_lineage
    ADD COLUMN weight DECIMAL(7, 6) NULL,
    ADD CONSTRAINT region_lineage_weight_check CHECK (weight IS NULL OR (weight >= 0 AND weight <= 1));
