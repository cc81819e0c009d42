-- Agent credentials that stopped being valid (agent revoked, endpoint retired or
-- deleted, machine re-enrolled). Every node reads new rows every few seconds and
-- drops those agents from its credential cache, so a cut-off agent is refused on
-- every node within seconds. Rows older than a cache lifetime are pruned.
CREATE TABLE agent_revocations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  endpoint_id INTEGER NOT NULL,
  at INTEGER NOT NULL
);
