-- When an assignment applies. NULL: always. Otherwise
-- {"timezone": "Asia/Shanghai",
--  "weekly": [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "06:00"}],
--  "once": [{"start": "2026-12-01T08:00:00+08:00", "end": "2026-12-03T20:00:00+08:00"}]}
ALTER TABLE zone_assignments ADD COLUMN schedule jsonb;

-- Zones may now also be {"type": "Circle", ...} or {"type": "Corridor", ...}; the
-- geometry column already holds any JSON, so only the assignment table changes.
