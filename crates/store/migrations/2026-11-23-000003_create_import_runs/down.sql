DROP TABLE import_run_rejections;
DROP TABLE import_run_files;
DROP TABLE import_runs;
