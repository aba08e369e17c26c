-- The morning peak writes one sign-in (and one idempotency record) per officer within minutes.
-- Each foreign key on those rows made PostgreSQL lock the referenced user and enterprise rows
-- (FOR KEY SHARE), which writes the lock into the tuple and the WAL: three extra row writes
-- per sign-in, the largest cost after the insert itself (pg_stat_statements, docs/performance.md).
--
-- The keys add no protection here: users and enterprises are never deleted (they are
-- deactivated), and the write path reads the officer's assignment to the enterprise in the
-- same transaction before it inserts. The same reasoning already kept `region_code` free of
-- a key. Tables written at human pace (reports, problems, their timelines) keep theirs.
ALTER TABLE sign_ins DROP CONSTRAINT sign_ins_officer_id_fkey;
ALTER TABLE sign_ins DROP CONSTRAINT sign_ins_enterprise_id_fkey;
ALTER TABLE idempotency_records DROP CONSTRAINT idempotency_records_user_id_fkey;
