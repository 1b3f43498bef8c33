-- Stay points: where each subject dwelt (start, end, centre, radius, fixes), found by a job
-- from the stored fixes. Positions, so under retention like the fixes they come from.
CREATE TABLE stays (
    subject_id bigint NOT NULL REFERENCES subjects (id),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at >= starts_at),
    lon        double precision NOT NULL,
    lat        double precision NOT NULL,
    radius_m   real NOT NULL,
    fixes      integer NOT NULL,
    current    boolean NOT NULL DEFAULT false, -- the last fixes are part of it: it may go on
    PRIMARY KEY (subject_id, starts_at)
);

-- Subjects with fixes the job has not looked at, and the earliest of them: written with the
-- fixes (in the same transaction), so a fix that arrives late is never missed. `version`
-- tells the job whether more came while it worked.
CREATE TABLE stays_pending (
    subject_id bigint PRIMARY KEY,
    since      timestamptz NOT NULL,
    version    bigint NOT NULL DEFAULT 1
);

-- Where the job starts again for each subject: the first fix of the place they may be
-- dwelling at now.
CREATE TABLE stays_progress (
    subject_id bigint PRIMARY KEY REFERENCES subjects (id),
    resume_at  timestamptz NOT NULL
);

-- The place a subject lives (the registered residence, 居住地): a zone.
ALTER TABLE subjects ADD COLUMN residence_zone_id bigint REFERENCES zones (id);

ALTER TABLE location_reads DROP CONSTRAINT location_reads_what_check;
ALTER TABLE location_reads ADD CONSTRAINT location_reads_what_check
    CHECK (what IN ('latest', 'trail', 'live', 'alert', 'quarantine', 'whereabouts', 'places'));
