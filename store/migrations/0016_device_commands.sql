-- Commands to devices (locate now, a reporting interval for a while, a check-in) and what
-- became of each; who issued it is on the row (or 'pursuit', for the automatic ones).
CREATE TABLE device_commands (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    device_id    bigint NOT NULL REFERENCES devices (id),
    subject_id   bigint REFERENCES subjects (id),
    kind         text NOT NULL CHECK (kind IN ('locate', 'set_interval', 'check_in')),
    params       jsonb NOT NULL DEFAULT '{}',
    state        text NOT NULL DEFAULT 'pending' CHECK (state IN
                 ('pending', 'sent', 'delivered', 'answered', 'expired', 'failed')),
    issued_by    text NOT NULL,
    issued_at    timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    alert_id     bigint REFERENCES alerts (id),  -- the alert a pursuit follows
    sent_at      timestamptz,
    delivered_at timestamptz,
    answered_at  timestamptz,
    answer       jsonb,
    error        text
);
CREATE INDEX device_commands_waiting ON device_commands (state, issued_at)
    WHERE state IN ('pending', 'sent', 'delivered');
CREATE INDEX device_commands_device ON device_commands (device_id, issued_at DESC);
CREATE INDEX device_commands_alert ON device_commands (alert_id) WHERE alert_id IS NOT NULL;
