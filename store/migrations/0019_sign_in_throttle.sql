-- Wrong passwords are counted per (the user name typed, the source address), and per source
-- (username ''), not per account: an attacker slows down and is then held off from where
-- they try, and cannot lock a user out everywhere by guessing their password. A name that
-- does not exist is counted the same, so the answers do not tell which names exist.
CREATE TABLE login_throttle (
    username      text NOT NULL,
    source        text NOT NULL,
    failures      integer NOT NULL,
    blocked_until timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (username, source)
);
ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN locked_until;

-- Refresh tokens already exchanged: one used again means two holders of the session's
-- tokens, one of them a thief; the session ends.
CREATE TABLE used_refresh_tokens (
    hash       text PRIMARY KEY,
    session_id uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE
);
