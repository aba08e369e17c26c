ALTER TABLE sign_ins ADD CONSTRAINT sign_ins_officer_id_fkey FOREIGN KEY (officer_id) REFERENCES users (id);
ALTER TABLE sign_ins ADD CONSTRAINT sign_ins_enterprise_id_fkey FOREIGN KEY (enterprise_id) REFERENCES enterprises (id);
ALTER TABLE idempotency_records ADD CONSTRAINT idempotency_records_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id);
