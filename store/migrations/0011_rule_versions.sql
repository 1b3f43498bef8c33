-- Several ingest processes (MQTT shared subscriptions) judge fixes of the same subject: each
-- batch locks its subjects' rows here, so one process at a time decides for a subject, and
-- moves them to a new version, so the others learn that their remembered rule state for
-- that subject is stale and reload it from the rule state tables.
CREATE SEQUENCE rule_version_seq;

CREATE TABLE rule_versions (
    subject_id bigint PRIMARY KEY REFERENCES subjects (id),
    version    bigint NOT NULL DEFAULT 0
);
INSERT INTO rule_versions (subject_id) SELECT id FROM subjects;

CREATE FUNCTION rule_versions_for_new_subject() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO rule_versions (subject_id) VALUES (NEW.id);
    RETURN NEW;
END $$;

CREATE TRIGGER subjects_rule_versions AFTER INSERT ON subjects
    FOR EACH ROW EXECUTE FUNCTION rule_versions_for_new_subject();

-- When the clock rules (silence, curfew start, leave end) last ran: a process taking them
-- over goes on from there, so a window edge in the hand-over is still judged.
CREATE TABLE rule_clock (
    one       boolean PRIMARY KEY DEFAULT true CHECK (one),
    ticked_at timestamptz NOT NULL
);
