DROP TABLE job_openings;
