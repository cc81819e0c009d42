-- Tickets (T1-T2): the placeholder table of the foundation grows its columns; a
-- number from one counter row (unique across nodes: the increment is a row write in
-- the creating transaction); the conversation (public replies, internal notes,
-- system events) and time entries; word-prefix search terms (number, subject).
-- Rows written before (none in a real install) keep a NULL number.
ALTER TABLE tickets ADD COLUMN number INTEGER;
ALTER TABLE tickets ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN contact_id INTEGER REFERENCES contacts(id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN status TEXT NOT NULL DEFAULT 'new';
ALTER TABLE tickets ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal';
ALTER TABLE tickets ADD COLUMN vip INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN assignee_id INTEGER REFERENCES staff_users(id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN endpoint_id INTEGER REFERENCES endpoints(id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN site_id INTEGER REFERENCES sites(id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN source TEXT NOT NULL DEFAULT 'staff';
ALTER TABLE tickets ADD COLUMN first_response_due_at INTEGER;
ALTER TABLE tickets ADD COLUMN resolution_due_at INTEGER;
ALTER TABLE tickets ADD COLUMN first_responded_at INTEGER;
ALTER TABLE tickets ADD COLUMN resolved_at INTEGER;
ALTER TABLE tickets ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX tickets_number ON tickets(number);
CREATE INDEX tickets_queue ON tickets(status, id);
CREATE INDEX tickets_assignee ON tickets(assignee_id, status);
CREATE INDEX tickets_client_status ON tickets(client_id, status, id);

CREATE TABLE counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO counters (name, value) SELECT 'ticket_number', COALESCE(MAX(id), 0) FROM tickets;

CREATE TABLE ticket_entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  kind TEXT NOT NULL CHECK (kind IN ('public', 'internal', 'system')),
  body TEXT NOT NULL,
  author_id INTEGER REFERENCES staff_users(id) ON DELETE SET NULL,
  author_name TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX ticket_entries_ticket ON ticket_entries(ticket_id, id);

CREATE TABLE time_entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  staff_id INTEGER REFERENCES staff_users(id) ON DELETE SET NULL,
  staff_name TEXT NOT NULL,
  minutes INTEGER NOT NULL CHECK (minutes > 0),
  work_date TEXT NOT NULL,
  billable INTEGER NOT NULL DEFAULT 1,
  note TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE INDEX time_entries_ticket ON time_entries(ticket_id, work_date);

CREATE TABLE ticket_terms (
  ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
  term TEXT NOT NULL,
  PRIMARY KEY (ticket_id, term)
) WITHOUT ROWID;
CREATE INDEX ticket_terms_term ON ticket_terms(term);
