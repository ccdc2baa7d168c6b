-- API tokens and browser sessions: the same tables as on SQLite (migrations/sqlite/0005_auth.sql).
-- A token is kept as the SHA-256 of its secret (hex), never the secret itself; revoked tokens
-- stay (revoked_at set) so their names are never reused. `namespaces` is a JSON array of
-- namespace globs the token's role covers (empty: every namespace). Times are RFC 3339 UTC.
CREATE TABLE api_tokens (
    name         TEXT PRIMARY KEY,
    secret_hash  TEXT NOT NULL UNIQUE,
    role         TEXT NOT NULL,
    namespaces   TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT,
    revoked_at   TEXT,
    last_used_at TEXT
);
-- Sessions of signed-in users: `data` is the session's JSON, `expires_at` Unix seconds.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
