DROP TABLE targets;
DROP TABLE observation_history;
DROP TABLE observations;
