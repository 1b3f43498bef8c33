-- Access tokens are signed with the newest of several keys (named in each token's `kid`);
-- a new key is made every so often and an old one kept only while tokens it signed can
-- still be alive.
ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_pkey;
ALTER TABLE signing_keys DROP COLUMN one;
ALTER TABLE signing_keys ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;
