-- A leave's destination is an assignment of its own (with the leave's window): a second
-- leave to the same city, or one to a zone the subject already has, is not a duplicate of
-- it. One current assignment per (subject, zone, role) holds for the others only.
DROP INDEX zone_assignments_current;
CREATE UNIQUE INDEX zone_assignments_current ON zone_assignments (subject_id, zone_id, role)
    WHERE ended_at IS NULL AND leave_id IS NULL;
