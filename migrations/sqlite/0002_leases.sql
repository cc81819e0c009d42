-- Leases for scheduled work: one holder per name until expires_at (Unix seconds).
-- A holder renews before expiry; another node takes over once it lapses.
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
);

-- When each scheduled job last ran, and a short log of runs (which node, when).
CREATE TABLE job_state (
  name TEXT PRIMARY KEY,
  last_run_at INTEGER NOT NULL
);

CREATE TABLE job_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job TEXT NOT NULL,
  node TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  result TEXT NOT NULL DEFAULT ''
);
CREATE INDEX job_runs_job ON job_runs(job, id);
