-- "Who was there then" (核查): each subject answered is a location read of the window,
-- with the case it was asked for.
ALTER TABLE location_reads DROP CONSTRAINT location_reads_what_check;
ALTER TABLE location_reads ADD CONSTRAINT location_reads_what_check
    CHECK (what IN ('latest', 'trail', 'live', 'alert', 'quarantine', 'whereabouts'));
ALTER TABLE location_reads ADD COLUMN case_ref text
    CHECK (case_ref IS NULL OR length(btrim(case_ref)) BETWEEN 1 AND 200);
ALTER TABLE location_reads ADD CONSTRAINT location_reads_case_check
    CHECK (what <> 'whereabouts' OR case_ref IS NOT NULL);
