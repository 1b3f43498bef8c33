-- Alert delivery: webhook subscriptions, who gets text messages, and the outbox every alert
-- event fills in the same transaction as the event itself.

CREATE TABLE webhook_subscriptions (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- NULL: every office; else this office and the offices under it
    office_id    bigint REFERENCES offices (id),
    url          text NOT NULL CHECK (url ~ '^https?://'),
    secret       text NOT NULL CHECK (length(secret) >= 16),
    kinds        text[],  -- NULL: every kind
    min_severity text NOT NULL DEFAULT 'normal'
                 CHECK (min_severity IN ('critical', 'high', 'normal')),
    active       boolean NOT NULL DEFAULT true,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Text messages go to the on-duty officers of a subject's office (new alerts) and to its
-- supervisors (escalations).
ALTER TABLE users ADD COLUMN office_id bigint REFERENCES offices (id);
ALTER TABLE users ADD COLUMN phone text CHECK (phone ~ '^\+?[0-9]{6,15}$');
ALTER TABLE users ADD COLUMN on_duty boolean NOT NULL DEFAULT false;

CREATE TABLE outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        bigint NOT NULL REFERENCES alert_events (id),
    channel         text NOT NULL CHECK (channel IN ('webhook', 'sms')),
    subscription_id bigint REFERENCES webhook_subscriptions (id),
    phone           text,
    body            jsonb NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'delivered', 'dead', 'suppressed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((channel = 'webhook') = (subscription_id IS NOT NULL)),
    CHECK ((channel = 'sms') = (phone IS NOT NULL))
);
CREATE UNIQUE INDEX outbox_webhook_once ON outbox (event_id, subscription_id)
    WHERE channel = 'webhook';
CREATE UNIQUE INDEX outbox_sms_once ON outbox (event_id, phone) WHERE channel = 'sms';
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_state ON outbox (state, id DESC);
-- For the per-phone rate limit.
CREATE INDEX outbox_sms_sent ON outbox (phone, delivered_at) WHERE channel = 'sms';
