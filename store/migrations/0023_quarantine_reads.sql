-- Quarantined payloads may hold anyone's position: reading them is a location read too
-- (of no one subject, as a live feed's).
ALTER TABLE location_reads DROP CONSTRAINT location_reads_what_check;
ALTER TABLE location_reads ADD CONSTRAINT location_reads_what_check
    CHECK (what IN ('latest', 'trail', 'live', 'alert', 'quarantine'));
ALTER TABLE location_reads DROP CONSTRAINT location_reads_check;
ALTER TABLE location_reads ADD CONSTRAINT location_reads_check
    CHECK (what IN ('live', 'quarantine') OR subject_id IS NOT NULL);
