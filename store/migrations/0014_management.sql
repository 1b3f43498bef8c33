-- Managing the registry over the API, the live feed and retention.

-- Which office holds each zone and device. A zone of no office is shared by every office
-- (the county's and districts' boundaries); a device of no office is the county's stock.
ALTER TABLE zones ADD COLUMN office_id bigint REFERENCES offices (id);
UPDATE zones z SET office_id = used.office_id
    FROM (SELECT a.zone_id, min(s.office_id) AS office_id
          FROM zone_assignments a JOIN subjects s ON s.id = a.subject_id
          GROUP BY a.zone_id HAVING count(DISTINCT s.office_id) = 1) used
    WHERE used.zone_id = z.id;
ALTER TABLE devices ADD COLUMN office_id bigint REFERENCES offices (id);
UPDATE devices d SET office_id = s.office_id FROM subjects s WHERE s.id = d.subject_id;

-- An assignment is ended, not deleted: alerts refer to it.
ALTER TABLE zone_assignments ADD COLUMN ended_at timestamptz;
ALTER TABLE zone_assignments ADD COLUMN ended_by text;
ALTER TABLE zone_assignments DROP CONSTRAINT zone_assignments_subject_id_zone_id_role_key;
CREATE UNIQUE INDEX zone_assignments_current ON zone_assignments (subject_id, zone_id, role)
    WHERE ended_at IS NULL;

-- A user is disabled, not deleted: the audit trail names them.
ALTER TABLE users ADD COLUMN disabled_at timestamptz;

-- Every change made through the API: who, what, to which object, in which office.
CREATE TABLE changes (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    username  text NOT NULL,
    action    text NOT NULL,
    target    text NOT NULL,
    target_id bigint,
    office_id bigint REFERENCES offices (id),
    detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX changes_at ON changes (at);
CREATE TRIGGER changes_append_only BEFORE UPDATE OR DELETE ON changes
    FOR EACH ROW EXECUTE FUNCTION forbid_history_rewrite();
CREATE TRIGGER changes_no_truncate BEFORE TRUNCATE ON changes
    FOR EACH STATEMENT EXECUTE FUNCTION forbid_history_rewrite();

-- Each device's newest fix, written with every batch. `xid` is the writing transaction:
-- the live feed hands out what committed below the oldest running transaction, so what it
-- has sent is never overtaken by an earlier transaction committing late. One row per
-- device: the feed scans it; without an index on xid (and with room in each page) a new
-- position is a HOT update that touches no index.
CREATE TABLE device_positions (
    device_id   bigint PRIMARY KEY REFERENCES devices (id),
    subject_id  bigint NOT NULL REFERENCES subjects (id),
    time        timestamptz NOT NULL,
    lon         double precision NOT NULL,
    lat         double precision NOT NULL,
    accuracy    real NOT NULL,
    source      text NOT NULL,
    battery     smallint,
    received_at timestamptz NOT NULL,
    xid         xid8 NOT NULL DEFAULT pg_current_xact_id()
) WITH (fillfactor = 50);
INSERT INTO device_positions
    (device_id, subject_id, time, lon, lat, accuracy, source, battery, received_at)
    SELECT DISTINCT ON (f.device_id) f.device_id, f.subject_id, f.time, f.lon, f.lat,
           f.accuracy, f.source, f.battery, f.received_at
    FROM fixes f JOIN devices d ON d.id = f.device_id
    ORDER BY f.device_id, f.time DESC;

ALTER TABLE alert_events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX alert_events_xid ON alert_events (xid);

-- A live feed shows the positions of every subject of some offices: one audit row per
-- connection, naming the offices (NULL: all).
ALTER TABLE location_reads ALTER COLUMN subject_id DROP NOT NULL;
ALTER TABLE location_reads DROP CONSTRAINT location_reads_what_check;
ALTER TABLE location_reads ADD CHECK (what IN ('latest', 'trail', 'live'));
ALTER TABLE location_reads ADD CHECK (what = 'live' OR subject_id IS NOT NULL);
ALTER TABLE location_reads ADD COLUMN offices bigint[];

-- Retention: an order's fixes are deleted once it has been over for the configured age.
-- One row per purge, kept for the auditors.
CREATE TABLE fix_purges (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id      bigint NOT NULL REFERENCES monitoring_orders (id),
    subject_id    bigint NOT NULL REFERENCES subjects (id),
    period_start  timestamptz NOT NULL,
    period_end    timestamptz NOT NULL,
    purged_at     timestamptz NOT NULL DEFAULT now(),
    fixes_deleted bigint NOT NULL,
    UNIQUE (order_id, period_end)
);
