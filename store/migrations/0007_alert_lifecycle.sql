-- Alert lifecycle (open -> acknowledged -> resolved / dismissed), repeats, conditions that
-- clear by themselves, escalation; rule state that survives a restart.

-- Timer-decided alerts (a device gone silent) may have no position.
ALTER TABLE alerts ALTER COLUMN lon DROP NOT NULL;
ALTER TABLE alerts ALTER COLUMN lat DROP NOT NULL;
ALTER TABLE alerts ADD COLUMN device_id bigint REFERENCES devices (id);
-- 'cleared': the condition ended by itself (back inside); the alert still needs an officer.
ALTER TABLE alerts ADD COLUMN condition text NOT NULL DEFAULT 'active'
    CHECK (condition IN ('active', 'cleared'));
ALTER TABLE alerts ADD COLUMN count integer NOT NULL DEFAULT 1;
ALTER TABLE alerts ADD COLUMN last_time timestamptz;
UPDATE alerts SET last_time = fix_time;
ALTER TABLE alerts ALTER COLUMN last_time SET NOT NULL;
ALTER TABLE alerts ADD COLUMN acknowledged_at timestamptz;
ALTER TABLE alerts ADD COLUMN acknowledged_by text;
ALTER TABLE alerts ADD COLUMN closed_at timestamptz;
ALTER TABLE alerts ADD COLUMN closed_by text;
ALTER TABLE alerts ADD COLUMN escalated_at timestamptz;

-- One live alert per (subject, rule, zone, device): repeats update it.
DROP INDEX alerts_one_live_per_assignment;
CREATE UNIQUE INDEX alerts_one_live ON alerts
    (subject_id, kind, COALESCE(assignment_id, 0), COALESCE(device_id, 0))
    WHERE state IN ('open', 'acknowledged');
CREATE INDEX alerts_subject_opened ON alerts (subject_id, opened_at DESC);

-- 全程留痕: the alert's history is its events; nothing rewrites or removes them, and an
-- alert is never deleted.
CREATE FUNCTION forbid_history_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: the history is append-only', TG_OP, TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER alert_events_append_only BEFORE UPDATE OR DELETE ON alert_events
    FOR EACH ROW EXECUTE FUNCTION forbid_history_rewrite();
CREATE TRIGGER alert_events_no_truncate BEFORE TRUNCATE ON alert_events
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_history_rewrite();
CREATE TRIGGER alerts_never_deleted BEFORE DELETE ON alerts
    FOR EACH ROW EXECUTE FUNCTION forbid_history_rewrite();
CREATE TRIGGER alerts_no_truncate BEFORE TRUNCATE ON alerts
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_history_rewrite();

-- A subject's level decides the rules' timing: a change must reach the pipelines.
CREATE TRIGGER subjects_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON subjects
    FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_version();

-- How far each condition has got toward confirmation, so a restarted pipeline resumes where
-- it stopped instead of confirming from scratch (or alerting twice).
CREATE TABLE zone_rule_state (
    assignment_id bigint PRIMARY KEY REFERENCES zone_assignments (id) ON DELETE CASCADE,
    active        boolean NOT NULL,
    run           integer NOT NULL,
    run_active    boolean NOT NULL,
    run_start     double precision NOT NULL,
    last_time     double precision NOT NULL
);

CREATE TABLE separation_rule_state (
    subject_id     bigint PRIMARY KEY REFERENCES subjects (id),
    active         boolean NOT NULL,
    run            integer NOT NULL,
    run_active     boolean NOT NULL,
    run_start      double precision NOT NULL,
    last_time      double precision NOT NULL,
    -- the newest fix of each device kind, to pair with the other's next fix
    phone_time     double precision,
    phone_lon      double precision,
    phone_lat      double precision,
    phone_accuracy double precision,
    band_time      double precision,
    band_lon       double precision,
    band_lat       double precision,
    band_accuracy  double precision
);
