-- Global search: the word-prefix terms of contacts and endpoints (platform/
-- search_terms), kept by the features in the transaction that changes the object
-- and cascading with it. Rows written before this migration are indexed once at
-- start-up ("search.reindex" in settings). An endpoint's address and
-- signed-in users are kept as columns when its inventory arrives, so lists show
-- them without reading the whole inventory.
CREATE TABLE contact_terms (
  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  term TEXT NOT NULL,
  PRIMARY KEY (contact_id, term)
) WITHOUT ROWID;
CREATE INDEX contact_terms_term ON contact_terms(term);
CREATE TABLE endpoint_terms (
  endpoint_id INTEGER NOT NULL REFERENCES endpoints(id) ON DELETE CASCADE,
  term TEXT NOT NULL,
  PRIMARY KEY (endpoint_id, term)
) WITHOUT ROWID;
CREATE INDEX endpoint_terms_term ON endpoint_terms(term);
-- The dashboard's fleet status: online/offline counts and the latest lost, from the
-- index alone.
CREATE INDEX endpoints_status ON endpoints(retired, last_seen_at);
ALTER TABLE endpoints ADD COLUMN primary_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN signed_in TEXT NOT NULL DEFAULT '';
-- Rows already here have no terms yet: the server indexes them at its next start
-- and removes this marker (app/server_app.cpp). A new, empty database needs none.
INSERT INTO settings (key, value, updated_at)
SELECT 'search.reindex', '1', '' WHERE EXISTS (SELECT 1 FROM contacts) OR EXISTS (SELECT 1 FROM endpoints);
