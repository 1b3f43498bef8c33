-- Signing in: short-lived bearer tokens (JWT) for a session that a refresh token renews and
-- logging out ends; lock-out after repeated failed passwords; API tokens for integrations.

ALTER TABLE users ADD COLUMN failed_logins integer NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until timestamptz;

-- The key access tokens are signed with: made on first start, shared by every process.
CREATE TABLE signing_keys (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    secret     bytea NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A signed-in session. Only a hash of its current refresh token is kept; each refresh
-- replaces it. Access tokens name their session, and a revoked one stops them at once.
CREATE TABLE auth_sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      bigint NOT NULL REFERENCES users (id),
    refresh_hash text NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    refreshed_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);

-- A token for another system, acting as one user (its role and offices); shown once,
-- kept as a hash, revocable.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name         text NOT NULL CHECK (name <> ''),
    user_id      bigint NOT NULL REFERENCES users (id),
    token_hash   text NOT NULL UNIQUE,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
