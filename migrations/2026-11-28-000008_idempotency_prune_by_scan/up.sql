-- Every POST and PUT writes an idempotency record, and the morning peak is thousands of them a
-- second; the index on created_at cost each of them one more B-tree insert, to serve only the
-- prune job, which runs every 15 minutes and reads two days of records at most. That job now
-- scans the table instead.
DROP INDEX idempotency_records_created_idx;
