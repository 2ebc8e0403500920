DROP TABLE region_lineage;
DROP TABLE region_members;
DROP TABLE regions;
