-- Phones that post over HTTP (OwnTracks HTTP mode) authenticate per device: argon2 hash of
-- the device's own password. NULL: the device may not use HTTP.
ALTER TABLE devices ADD COLUMN http_password_hash text;
