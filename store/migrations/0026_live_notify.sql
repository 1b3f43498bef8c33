-- The live feed wakes when something it shows commits, instead of waiting for its next
-- poll: a statement that writes positions or alert steps notifies `ccmon_live` (delivered
-- at commit, once per transaction however many statements; nothing when it rolls back).
CREATE FUNCTION notify_live() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ccmon_live', '');
    RETURN NULL;
END $$;
CREATE TRIGGER device_positions_live AFTER INSERT OR UPDATE ON device_positions
    FOR EACH STATEMENT EXECUTE FUNCTION notify_live();
CREATE TRIGGER alert_events_live AFTER INSERT ON alert_events
    FOR EACH STATEMENT EXECUTE FUNCTION notify_live();
