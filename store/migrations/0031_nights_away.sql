-- The nights a subject was raised as away from their residence (once a night).
CREATE TABLE nights_away (
    subject_id      bigint NOT NULL REFERENCES subjects (id),
    night_starts_at timestamptz NOT NULL,
    PRIMARY KEY (subject_id, night_starts_at)
);
