-- A received message's bytes as they came when they are text (valid UTF-8 with no
-- NUL: almost all mail is 7-bit), else base64 as before: a third fewer bytes to
-- write, and no encoding, for each message the gateway keeps.
ALTER TABLE mail_messages ADD COLUMN raw_encoding TEXT NOT NULL DEFAULT 'base64';
