-- An alert's coordinates are a location read of their own (GET /alerts/{id}/location).
ALTER TABLE location_reads DROP CONSTRAINT location_reads_what_check;
ALTER TABLE location_reads ADD CONSTRAINT location_reads_what_check
    CHECK (what IN ('latest', 'trail', 'live', 'alert'));
