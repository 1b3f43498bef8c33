-- A counter that moves whenever devices, zones or zone assignments change, so a pipeline
-- can poll one row instead of reloading thousands of zones to find out nothing changed.
CREATE TABLE registry_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version  bigint NOT NULL
);
INSERT INTO registry_version (version) VALUES (1);

CREATE FUNCTION bump_registry_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registry_version SET version = version + 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER devices_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_version();
CREATE TRIGGER zones_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON zones
    FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_version();
CREATE TRIGGER zone_assignments_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON zone_assignments
    FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_version();
