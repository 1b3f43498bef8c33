-- Who looked at whose locations, when, for which time range and why (全程留痕; Art. 29:
-- location data serves community-correction work only). Written by every location read in
-- the same transaction as the read; nobody can change or remove a row.
CREATE TABLE location_reads (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    username   text NOT NULL,
    subject_id bigint NOT NULL REFERENCES subjects (id),
    what       text NOT NULL CHECK (what IN ('latest', 'trail')),
    from_time  timestamptz,
    to_time    timestamptz,
    purpose    text NOT NULL CHECK (length(btrim(purpose)) >= 4),
    fixes      integer NOT NULL
);
CREATE INDEX location_reads_subject ON location_reads (subject_id, at);
CREATE INDEX location_reads_user ON location_reads (username, at);

CREATE TRIGGER location_reads_append_only BEFORE UPDATE OR DELETE ON location_reads
    FOR EACH ROW EXECUTE FUNCTION forbid_history_rewrite();
CREATE TRIGGER location_reads_no_truncate BEFORE TRUNCATE ON location_reads
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_history_rewrite();
