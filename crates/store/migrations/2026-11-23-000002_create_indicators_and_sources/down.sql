DROP TABLE sources;
DROP TABLE indicators;
