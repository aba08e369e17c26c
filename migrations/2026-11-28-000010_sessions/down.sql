ALTER TABLE refresh_tokens DROP COLUMN family_started_at;
DROP TRIGGER users_session_generation ON users;
DROP FUNCTION users_bump_session_generation();
ALTER TABLE users DROP COLUMN session_generation;
