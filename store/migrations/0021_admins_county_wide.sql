-- An admin acts county-wide (users, API tokens, webhooks, quarantine): one with an office
-- would not be confined to it, so an admin has none. NOT VALID: a row from before is left
-- (a failed migration would stop monitoring); the API refuses making one.
ALTER TABLE users ADD CONSTRAINT users_admin_county_wide
    CHECK (role <> 'admin' OR office_id IS NULL) NOT VALID;
