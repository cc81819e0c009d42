-- "Not duplicates": pairs of clients a person said are different organisations, so
-- the possible-duplicates page stops showing them together. low_id < high_id. A
-- merged-away client's pairs go with its row.
CREATE TABLE client_not_duplicates (
  low_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  high_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  PRIMARY KEY (low_id, high_id)
);
CREATE INDEX client_not_duplicates_high ON client_not_duplicates(high_id);
