DROP TABLE assignment_batch_items;
DROP TABLE assignment_batches;
DROP INDEX problems_number_key;
ALTER TABLE problems DROP COLUMN number;
DROP TABLE problem_number_counters;
