-- Status events devices report about themselves (strap, power, battery, SOS, offline).
CREATE TABLE device_events (
    time        timestamptz NOT NULL,
    device_id   bigint NOT NULL REFERENCES devices (id),
    subject_id  bigint NOT NULL REFERENCES subjects (id),
    event       text NOT NULL,
    battery     smallint,
    seq         bigint,
    received_at timestamptz NOT NULL
);
-- A redelivered event is stored once.
CREATE UNIQUE INDEX device_events_once ON device_events (device_id, time, event, seq)
    NULLS NOT DISTINCT;
CREATE INDEX device_events_subject_time ON device_events (subject_id, time DESC);
