-- ccmon foundation schema. Forward-only: never edit an applied migration, add a new one.

CREATE TABLE offices (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    parent_id  bigint REFERENCES offices (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'supervisor', 'officer', 'auditor')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE subjects (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    office_id  bigint NOT NULL REFERENCES offices (id),
    name       text NOT NULL,
    level      text NOT NULL CHECK (level IN ('strict', 'normal', 'lenient')),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE devices (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code       text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_.-]{1,64}$'),
    kind       text NOT NULL CHECK (kind IN ('phone', 'wristband')),
    subject_id bigint REFERENCES subjects (id),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE zones (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    geometry   jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE zone_assignments (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_id bigint NOT NULL REFERENCES subjects (id),
    zone_id    bigint NOT NULL REFERENCES zones (id),
    role       text NOT NULL CHECK (role IN ('inclusion', 'exclusion')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subject_id, zone_id, role)
);

-- No foreign keys on fixes: it is the high-volume table, written by COPY; the pipeline only
-- writes fixes of registered devices.
CREATE TABLE fixes (
    time        timestamptz NOT NULL,
    subject_id  bigint NOT NULL,
    device_id   bigint NOT NULL,
    lon         double precision NOT NULL,
    lat         double precision NOT NULL,
    accuracy    real NOT NULL,
    source      text NOT NULL,
    battery     smallint,
    seq         bigint,
    received_at timestamptz NOT NULL
);
-- A redelivered fix (same device, time and sequence number) is stored once.
CREATE UNIQUE INDEX fixes_device_time_seq ON fixes (device_id, time, seq) NULLS NOT DISTINCT;
CREATE INDEX fixes_subject_time ON fixes (subject_id, time DESC);
CREATE INDEX fixes_time_brin ON fixes USING brin (time);

CREATE TABLE alerts (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind          text NOT NULL,
    severity      text NOT NULL CHECK (severity IN ('critical', 'high', 'normal')),
    state         text NOT NULL DEFAULT 'open'
                  CHECK (state IN ('open', 'acknowledged', 'resolved', 'dismissed')),
    subject_id    bigint NOT NULL REFERENCES subjects (id),
    assignment_id bigint REFERENCES zone_assignments (id),
    fix_time      timestamptz NOT NULL,
    lon           double precision NOT NULL,
    lat           double precision NOT NULL,
    message       text NOT NULL,
    opened_at     timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
-- One live alert per excursion: a second pipeline or a retry cannot open a duplicate.
CREATE UNIQUE INDEX alerts_one_live_per_assignment ON alerts (assignment_id, kind)
    WHERE state IN ('open', 'acknowledged');
CREATE INDEX alerts_state_opened ON alerts (state, opened_at DESC);

CREATE TABLE alert_events (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    alert_id bigint NOT NULL REFERENCES alerts (id),
    at       timestamptz NOT NULL DEFAULT now(),
    action   text NOT NULL,
    actor    text NOT NULL,
    note     text
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, at);

CREATE TABLE quarantine (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    topic       text NOT NULL,
    payload     bytea NOT NULL,
    reason      text NOT NULL
);
CREATE INDEX quarantine_received ON quarantine (received_at DESC);
