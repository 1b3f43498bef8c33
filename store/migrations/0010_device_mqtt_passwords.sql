-- Each device's MQTT password, as Mosquitto's password file holds it (PBKDF2-SHA512,
-- "$7$iterations$salt$hash"); ccmon writes the broker's password file and ACL from these.
-- NULL: the device has no broker account.
ALTER TABLE devices ADD COLUMN mqtt_password_hash text CHECK (mqtt_password_hash ~ '^\$7\$');
