-- Staff, sessions, API keys, sign-in limits, clients, contacts, sites, links, audit.
-- Times are ISO-8601 UTC text ("2026-11-25T06:55:08Z"): they sort in time order.

CREATE TABLE staff_users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  email TEXT NOT NULL,
  email_key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'technician', 'billing')),
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE staff_sessions (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  remote_ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staff_sessions_user ON staff_sessions(user_id);
CREATE INDEX staff_sessions_expiry ON staff_sessions(expires_at);

CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  created_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);

-- Setup tokens let the first admin be created in the browser; one-time.
CREATE TABLE setup_tokens (
  token_hash TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

-- Fixed-window counters for sign-in attempts, per account and per address.
CREATE TABLE rate_limits (
  bucket TEXT PRIMARY KEY,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL
);

CREATE TABLE clients (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  name_core TEXT NOT NULL,
  domain TEXT,
  contact_email TEXT,
  notes TEXT NOT NULL DEFAULT '',
  archived_at TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX clients_name_key ON clients(name_key);
CREATE INDEX clients_name_core ON clients(name_core);
CREATE INDEX clients_archived_name ON clients(archived_at, name_key);

-- Every domain of a client (primary and extra). A domain routes email, so it may
-- belong to one active client only; `active` mirrors the client's archive state.
CREATE TABLE client_domains (
  client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  domain TEXT NOT NULL,
  is_primary INTEGER NOT NULL DEFAULT 0,
  active INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (client_id, domain)
);
CREATE UNIQUE INDEX client_domains_active ON client_domains(domain) WHERE active = 1;
CREATE INDEX client_domains_domain ON client_domains(domain);

-- The ids of merged-away clients and where they went, so old links still work.
CREATE TABLE client_redirects (
  old_id INTEGER PRIMARY KEY,
  new_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE
);
CREATE INDEX client_redirects_new ON client_redirects(new_id);

CREATE TABLE client_links (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  low_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  high_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  created_at TEXT NOT NULL,
  CHECK (low_id < high_id),
  UNIQUE (low_id, high_id)
);
CREATE INDEX client_links_high ON client_links(high_id);

CREATE TABLE contacts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  email_key TEXT NOT NULL,
  phone TEXT NOT NULL DEFAULT '',
  job_title TEXT NOT NULL DEFAULT '',
  vip INTEGER NOT NULL DEFAULT 0,
  portal_user INTEGER NOT NULL DEFAULT 0,
  billing_recipient INTEGER NOT NULL DEFAULT 0,
  primary_technical INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (client_id, email_key)
);
CREATE UNIQUE INDEX contacts_one_primary ON contacts(client_id) WHERE primary_technical = 1;
CREATE INDEX contacts_email_key ON contacts(email_key);

CREATE TABLE sites (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL,
  address TEXT NOT NULL DEFAULT '',
  notes TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  UNIQUE (client_id, name_key)
);

-- The first columns of the tables the RMM, ticket and billing features own. They
-- exist now so the client rules that depend on them (C5 merge moves them, C6 delete
-- is refused while any exist) are enforced and tested from day one; those features
-- extend them with their own migrations.
CREATE TABLE endpoints (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id INTEGER NOT NULL REFERENCES clients(id),
  site_id INTEGER REFERENCES sites(id) ON DELETE SET NULL,
  hostname TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE INDEX endpoints_client ON endpoints(client_id);
CREATE INDEX endpoints_site ON endpoints(site_id);

CREATE TABLE tickets (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id INTEGER REFERENCES clients(id),
  subject TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE INDEX tickets_client ON tickets(client_id);

CREATE TABLE invoices (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id INTEGER NOT NULL REFERENCES clients(id),
  created_at TEXT NOT NULL
);
CREATE INDEX invoices_client ON invoices(client_id);

CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor_id INTEGER,
  actor_name TEXT NOT NULL,
  action TEXT NOT NULL,
  entity_type TEXT NOT NULL,
  entity_id INTEGER,
  client_id INTEGER,
  summary TEXT NOT NULL DEFAULT '',
  before_json TEXT,
  after_json TEXT
);
CREATE INDEX audit_log_client ON audit_log(client_id, id);
