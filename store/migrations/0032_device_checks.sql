-- Per device, what the faked-location rule (alerts/suspect.py) remembers of its fixes: a
-- row of floats whose first four are the device's newest fix (time, lon, lat, accuracy).
-- Kept under the subject it judged, so a device bound to someone else starts afresh.
CREATE TABLE device_checks (
    device_id  bigint PRIMARY KEY REFERENCES devices (id),
    subject_id bigint NOT NULL REFERENCES subjects (id),
    state      double precision[] NOT NULL
);
