-- The email gateway (mail/): every message that reached us, kept whole (base64 of
-- the raw bytes) with what became of it; the same Message-ID from the same sender
-- twice is one row, so a redelivered message lands once. Participants are the
-- other addresses on a ticket's thread; attachments live in their own rows, base64,
-- never in the entry's. The auto-reply log caps acknowledgements per recipient per
-- hour (E4).

-- An entry that came by mail (its original is kept in mail_messages).
ALTER TABLE ticket_entries ADD COLUMN via_mail INTEGER NOT NULL DEFAULT 0;

CREATE TABLE mail_messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  message_id TEXT NOT NULL,
  sender TEXT NOT NULL DEFAULT '',
  subject TEXT NOT NULL DEFAULT '',
  outcome TEXT NOT NULL CHECK (outcome IN ('ticket', 'reply', 'note', 'dropped')),
  reason TEXT NOT NULL DEFAULT '',
  ticket_id INTEGER REFERENCES tickets(id) ON DELETE SET NULL,
  entry_id INTEGER REFERENCES ticket_entries(id) ON DELETE SET NULL,
  size INTEGER NOT NULL,
  raw TEXT NOT NULL,
  received_at TEXT NOT NULL
);
-- One message is one Message-ID from one sender: someone who has seen a client's
-- Message-ID cannot make the client's own message a "duplicate" by sending first.
CREATE UNIQUE INDEX mail_messages_once ON mail_messages(message_id, sender);
CREATE INDEX mail_messages_ticket ON mail_messages(ticket_id);
CREATE INDEX mail_messages_entry ON mail_messages(entry_id);

CREATE TABLE ticket_participants (
  ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  PRIMARY KEY (ticket_id, email)
) WITHOUT ROWID;

CREATE TABLE ticket_attachments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  entry_id INTEGER NOT NULL REFERENCES ticket_entries(id) ON DELETE CASCADE,
  filename TEXT NOT NULL,
  content_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  content TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX ticket_attachments_entry ON ticket_attachments(entry_id);
CREATE INDEX ticket_attachments_ticket ON ticket_attachments(ticket_id);

CREATE TABLE mail_autoreplies (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  recipient TEXT NOT NULL,
  sent_at INTEGER NOT NULL
);
CREATE INDEX mail_autoreplies_recipient ON mail_autoreplies(recipient, sent_at);

-- An endpoint's Tickets tab.
CREATE INDEX tickets_endpoint ON tickets(endpoint_id, id);
-- The SLA filters and the dashboard's breached count read these columns of active
-- tickets from the index alone.
CREATE INDEX tickets_sla ON tickets(status, assignee_id, first_responded_at, first_response_due_at,
  resolution_due_at);
