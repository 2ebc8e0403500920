ALTER TABLE region_lineage DROP CONSTRAINT region_lineage_weight_check;
ALTER TABLE region_lineage DROP COLUMN weight;
