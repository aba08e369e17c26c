-- Sessions of the hub console (/console): a cookie holds a random token; only its SHA-256 is
-- stored. A session ends after 30 idle minutes, 12 hours, a sign-out, or when the user's
-- session generation moves (logout everywhere, a role change, deactivation).
CREATE TABLE console_sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id),
    -- The synchronizer token every form of the session carries.
    csrf         TEXT NOT NULL,
    generation   BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX console_sessions_user_idx ON console_sessions (user_id);
