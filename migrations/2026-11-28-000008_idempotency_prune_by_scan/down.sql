CREATE INDEX idempotency_records_created_idx ON idempotency_records (created_at);
