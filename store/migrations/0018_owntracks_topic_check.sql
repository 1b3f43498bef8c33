-- An OwnTracks topic becomes an ACL line of the broker: the database refuses what the API
-- refuses (wildcards, newlines, anything but plain names), however the device is registered.
-- NOT VALID: a row from before is not checked (a failed migration would stop monitoring);
-- `ccmon mosquitto-auth` leaves such a device out of the ACL.
ALTER TABLE devices DROP CONSTRAINT devices_owntracks_topic_check;
ALTER TABLE devices ADD CONSTRAINT devices_owntracks_topic_check
    CHECK (owntracks_topic ~ '^[A-Za-z0-9_.-]{1,64}/[A-Za-z0-9_.-]{1,64}$') NOT VALID;
