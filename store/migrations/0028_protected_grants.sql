-- Who may see a protected person's position: the roles of the offices their order grants
-- (a grant names one office and one role: its users of that role, and no one else; admins
-- and auditors are never granted). Revoking keeps the grant's history.
CREATE TABLE protected_grants (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    protected_person_id bigint NOT NULL REFERENCES protected_persons (id),
    office_id           bigint NOT NULL REFERENCES offices (id),
    role                text NOT NULL CHECK (role IN ('supervisor', 'officer')),
    granted_by          text NOT NULL,
    granted_at          timestamptz NOT NULL DEFAULT now(),
    revoked_by          text,
    revoked_at          timestamptz,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE UNIQUE INDEX protected_grants_once ON protected_grants (protected_person_id, office_id, role)
    WHERE revoked_at IS NULL;

-- A read of a protected person's position is recorded like a subject's.
ALTER TABLE location_reads ADD COLUMN protected_person_id bigint
    REFERENCES protected_persons (id);
ALTER TABLE location_reads DROP CONSTRAINT location_reads_check;
ALTER TABLE location_reads ADD CONSTRAINT location_reads_check
    CHECK (what IN ('live', 'quarantine') OR subject_id IS NOT NULL
           OR protected_person_id IS NOT NULL);
CREATE INDEX location_reads_protected ON location_reads (protected_person_id, at)
    WHERE protected_person_id IS NOT NULL;
