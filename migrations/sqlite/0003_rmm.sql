-- Agents and endpoints (R1-R4). Enrolment tokens are scoped to a client (and
-- optionally a site), expire, may be use-limited and revoked; only hashes stored.
CREATE TABLE enrollment_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  site_id INTEGER REFERENCES sites(id) ON DELETE SET NULL,
  token_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  max_uses INTEGER,
  uses INTEGER NOT NULL DEFAULT 0,
  revoked_at TEXT
);
CREATE INDEX enrollment_tokens_client ON enrollment_tokens(client_id);

-- The endpoint row doubles as the agent's identity: agent_secret_hash is what the
-- agent proves on every call. Times the agent reports are Unix seconds.
ALTER TABLE endpoints ADD COLUMN agent_secret_hash TEXT;
ALTER TABLE endpoints ADD COLUMN enrollment_token_id INTEGER;
ALTER TABLE endpoints ADD COLUMN billable INTEGER NOT NULL DEFAULT 1;
ALTER TABLE endpoints ADD COLUMN retired INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN os_name TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN os_version TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN last_seen_at INTEGER;
ALTER TABLE endpoints ADD COLUMN cpu_percent REAL;
ALTER TABLE endpoints ADD COLUMN memory_percent REAL;
ALTER TABLE endpoints ADD COLUMN disk_percent REAL;
ALTER TABLE endpoints ADD COLUMN inventory_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN inventory_json TEXT NOT NULL DEFAULT '{}';
ALTER TABLE endpoints ADD COLUMN inventory_at INTEGER;
ALTER TABLE endpoints ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
CREATE INDEX endpoints_hostname ON endpoints(hostname);

-- Recent metrics for the endpoint page: one row per endpoint per minute at most.
CREATE TABLE endpoint_metrics (
  endpoint_id INTEGER NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  cpu_percent REAL NOT NULL,
  memory_percent REAL NOT NULL,
  disk_percent REAL NOT NULL,
  PRIMARY KEY (endpoint_id, at)
);
