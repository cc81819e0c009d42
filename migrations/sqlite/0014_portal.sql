-- The client portal (M1-M2). A sign-in link is a random token stored as its hash,
-- valid 15 minutes, used once; a contact has one link row, replaced by each new
-- link in one upsert, so only the newest works even when two are asked for at once; a portal session is a random token stored as its
-- hash. Every portal request checks the contact (a portal user, not deleted) and
-- its client (not archived); the triggers end the sessions and links of a contact
-- whose Portal user tick is removed, or whose client is archived, in the same
-- transaction, whatever path made the change, so ticking it again does not bring
-- an old session back. Deleting a contact (or a merge folding it into another)
-- cascades or is moved by the merge.
CREATE TABLE portal_links (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE UNIQUE,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER
);

CREATE TABLE portal_sessions (
  token_hash TEXT PRIMARY KEY,
  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX portal_sessions_contact ON portal_sessions(contact_id);

ALTER TABLE contacts ADD COLUMN last_portal_sign_in_at INTEGER;

CREATE TRIGGER portal_end_on_untick AFTER UPDATE OF portal_user ON contacts
WHEN NEW.portal_user = 0
BEGIN
  DELETE FROM portal_sessions WHERE contact_id = NEW.id;
  DELETE FROM portal_links WHERE contact_id = NEW.id;
END;

CREATE TRIGGER portal_end_on_archive AFTER UPDATE OF archived_at ON clients
WHEN NEW.archived_at IS NOT NULL
BEGIN
  DELETE FROM portal_sessions WHERE contact_id IN (SELECT id FROM contacts WHERE client_id = NEW.id);
  DELETE FROM portal_links WHERE contact_id IN (SELECT id FROM contacts WHERE client_id = NEW.id);
END;
