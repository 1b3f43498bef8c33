-- An OwnTracks phone publishes on owntracks/<user>/<device>: `user/device` names the
-- registered device. The passphrase is the app's encryption secret (secretbox), if it
-- encrypts; never shown by the API.
ALTER TABLE devices ADD COLUMN owntracks_topic text UNIQUE CHECK (owntracks_topic ~ '^[^/]+/[^/]+$');
ALTER TABLE devices ADD COLUMN owntracks_key text;
