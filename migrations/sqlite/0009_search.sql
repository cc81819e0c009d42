-- Global search: the word-prefix terms of contacts and endpoints (platform/
-- search_terms), kept by the features in the transaction that changes the object
-- and cascading with it. Rows written before this migration are indexed once at
-- start-up ("search.index_version" in settings). An endpoint's address and
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
ALTER TABLE endpoints ADD COLUMN primary_ip TEXT NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN signed_in TEXT NOT NULL DEFAULT '';
