-- Monitoring orders (Community Corrections Law Art. 29), their extensions, leaves (请假) and
-- the history of which subject each device was bound to.

-- An order is approved for at most 3 months; each extension adds at most 3 more. Outside
-- every order of a subject, no fix of that subject is stored.
CREATE TABLE monitoring_orders (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_id  bigint NOT NULL REFERENCES subjects (id),
    approved_by text NOT NULL CHECK (approved_by <> ''),
    reason      text NOT NULL CHECK (reason <> ''),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at),
    CHECK (ends_at <= starts_at + interval '3 months')
);
CREATE INDEX monitoring_orders_subject ON monitoring_orders (subject_id, starts_at);

CREATE TABLE order_extensions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id     bigint NOT NULL REFERENCES monitoring_orders (id),
    approved_by  text NOT NULL CHECK (approved_by <> ''),
    reason       text NOT NULL CHECK (reason <> ''),
    previous_end timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- extensions follow each other: one per previous end
    UNIQUE (order_id, previous_end),
    CHECK (ends_at > previous_end),
    CHECK (ends_at <= previous_end + interval '3 months')
);

-- One reminder per order and end (an extension moves the end: a new reminder).
CREATE TABLE order_reminders (
    order_id    bigint NOT NULL REFERENCES monitoring_orders (id),
    ends_at     timestamptz NOT NULL,
    reminded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (order_id, ends_at)
);

ALTER TABLE alerts ADD COLUMN order_id bigint REFERENCES monitoring_orders (id);

-- A leave: while approved and running, its destination applies instead of the subject's
-- other inclusion zones (the district, the home at night).
CREATE TABLE leaves (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_id    bigint NOT NULL REFERENCES subjects (id),
    destination   bigint NOT NULL REFERENCES zones (id),
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    reason        text NOT NULL CHECK (reason <> ''),
    state         text NOT NULL DEFAULT 'requested'
                  CHECK (state IN ('requested', 'approved', 'rejected')),
    requested_by  text NOT NULL,
    requested_at  timestamptz NOT NULL DEFAULT now(),
    decided_by    text,
    decided_at    timestamptz,
    CHECK (ends_at > starts_at)
);
CREATE INDEX leaves_subject ON leaves (subject_id, starts_at);
-- An approved leave's destination is a real assignment (alerts refer to it).
ALTER TABLE zone_assignments ADD COLUMN leave_id bigint UNIQUE REFERENCES leaves (id);

-- Which subject a device was bound to, and when; devices.subject_id is the current binding.
CREATE TABLE device_bindings (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id   bigint NOT NULL REFERENCES devices (id),
    subject_id  bigint NOT NULL REFERENCES subjects (id),
    bound_at    timestamptz NOT NULL DEFAULT now(),
    bound_by    text NOT NULL,
    unbound_at  timestamptz,
    unbound_by  text
);
CREATE UNIQUE INDEX device_bindings_current ON device_bindings (device_id) WHERE unbound_at IS NULL;
INSERT INTO device_bindings (device_id, subject_id, bound_at, bound_by)
    SELECT id, subject_id, created_at, 'migration' FROM devices WHERE subject_id IS NOT NULL;

CREATE TRIGGER monitoring_orders_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON monitoring_orders
    FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_version();
CREATE TRIGGER order_extensions_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON order_extensions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_version();
CREATE TRIGGER leaves_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON leaves
    FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_version();
