-- Prohibition orders (禁止令): people a subject must not come near. A protected person (a
-- victim, a witness) may carry a phone that reports like a subject's; another subject named
-- in the order (a co-defendant) must not be met.
CREATE TABLE protected_persons (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    office_id       bigint NOT NULL REFERENCES offices (id),
    -- how officers and alerts name them (P-17), never their name outside the office
    code            text NOT NULL UNIQUE CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- warned by text message when a subject comes near (opt-in), in their language
    phone           text CHECK (phone ~ '^\+?[0-9]{5,20}$'),
    sms_opt_in      boolean NOT NULL DEFAULT false,
    language        text NOT NULL DEFAULT 'zh' CHECK (language IN ('zh', 'en')),
    pursuit_consent boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- One pair an order keeps apart, watched while the subject is under an active monitoring
-- order and the pair is active (a retired pair keeps its alerts' history).
CREATE TABLE prohibitions (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_id          bigint NOT NULL REFERENCES subjects (id),
    protected_person_id bigint REFERENCES protected_persons (id),
    other_subject_id    bigint REFERENCES subjects (id),
    distance_m          double precision NOT NULL CHECK (distance_m BETWEEN 10 AND 50000),
    for_s               double precision NOT NULL DEFAULT 0 CHECK (for_s BETWEEN 0 AND 86400),
    warn_s              double precision NOT NULL DEFAULT 300 CHECK (warn_s BETWEEN 0 AND 3600),
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text NOT NULL,
    CHECK ((protected_person_id IS NULL) <> (other_subject_id IS NULL)),
    CHECK (other_subject_id IS DISTINCT FROM subject_id)
);
CREATE UNIQUE INDEX prohibitions_protected_once ON prohibitions (subject_id, protected_person_id)
    WHERE active AND protected_person_id IS NOT NULL;
CREATE UNIQUE INDEX prohibitions_contact_once
    ON prohibitions (LEAST(subject_id, other_subject_id), GREATEST(subject_id, other_subject_id))
    WHERE active AND other_subject_id IS NOT NULL;

-- A device belongs to a subject or to a protected person, never both.
ALTER TABLE devices ADD COLUMN protected_person_id bigint REFERENCES protected_persons (id);
ALTER TABLE devices ADD CONSTRAINT devices_one_holder
    CHECK (subject_id IS NULL OR protected_person_id IS NULL);
ALTER TABLE devices ADD CONSTRAINT devices_protected_phone
    CHECK (protected_person_id IS NULL OR kind = 'phone');

-- A protected person's positions: the most sensitive data ccmon holds. Kept only while a
-- prohibition protecting them is watched; deleted by retention at its age.
CREATE TABLE protected_fixes (
    time                timestamptz NOT NULL,
    protected_person_id bigint NOT NULL,
    device_id           bigint NOT NULL,
    lon                 double precision NOT NULL,
    lat                 double precision NOT NULL,
    accuracy            real NOT NULL,
    source              text NOT NULL,
    received_at         timestamptz NOT NULL
);
CREATE UNIQUE INDEX protected_fixes_once ON protected_fixes (device_id, time);
CREATE INDEX protected_fixes_person ON protected_fixes (protected_person_id, time);

-- The proximity rule's state: each pair's runs (near, approaching), written under the locks
-- of every subject the pair concerns.
CREATE TABLE proximity_rule_state (
    prohibition_id bigint NOT NULL REFERENCES prohibitions (id),
    rule           text NOT NULL CHECK (rule IN ('near', 'approach')),
    active         boolean NOT NULL,
    run            integer NOT NULL,
    run_active     boolean NOT NULL,
    run_start      double precision NOT NULL,
    last_time      double precision NOT NULL,
    PRIMARY KEY (prohibition_id, rule)
);
-- The early warning's state: the run of each approach to an exclusion zone.
CREATE TABLE heading_rule_state (LIKE zone_rule_state INCLUDING ALL);
ALTER TABLE heading_rule_state ADD FOREIGN KEY (assignment_id)
    REFERENCES zone_assignments (id) ON DELETE CASCADE;
-- Each party's newest fix and motion (party: a subject's id, a protected person's negated),
-- for the proximity rule and the early warning.
CREATE TABLE party_tracks (
    party bigint PRIMARY KEY,
    track double precision[] NOT NULL
);

-- An alert about a pair names it; one live alert per (subject, rule, zone, device, pair).
ALTER TABLE alerts ADD COLUMN prohibition_id bigint REFERENCES prohibitions (id);
DROP INDEX alerts_one_live;
CREATE UNIQUE INDEX alerts_one_live ON alerts
    (subject_id, kind, COALESCE(assignment_id, 0), COALESCE(device_id, 0),
     COALESCE(prohibition_id, 0))
    WHERE state IN ('open', 'acknowledged');

CREATE TRIGGER protected_persons_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON protected_persons
    FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_version();
CREATE TRIGGER prohibitions_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON prohibitions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_version();
