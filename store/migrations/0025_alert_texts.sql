-- What a rule said of an alert, as a key into the catalogue of texts (domain/texts.py) with
-- its values, so it is shown in the reader's language; `message` keeps the English.
ALTER TABLE alerts ADD COLUMN message_key text;
ALTER TABLE alerts ADD COLUMN message_params jsonb;
