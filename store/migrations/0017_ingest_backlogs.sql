-- Ingest processes reading a backlog (fixes that waited in the broker, or while the store
-- was away): the clock rules call nobody silent meanwhile. A row holds at most until
-- `until`, so a process that died while reading holds nothing for long.
CREATE TABLE ingest_backlogs (
    member text PRIMARY KEY,
    until  timestamptz NOT NULL
);
