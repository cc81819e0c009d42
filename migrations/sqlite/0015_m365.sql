-- Microsoft 365 through CIPP (I1-I2). A client holds at most one tenant id (the
-- stable key of C4) and a tenant id belongs to one client; a contact imported
-- from a tenant keeps the user's id (unique within its client, whose tenant it
-- is) and is never deleted by a sync: a user gone or disabled in Microsoft 365 is
-- marked inactive, which ends their portal access at once (trigger, as for the
-- Portal user tick). cipp_reports keeps what each sync did or would do;
-- cipp_tenants the tenants the last sync could not link (unmatched, ambiguous),
-- for the settings page's actions.
ALTER TABLE clients ADD COLUMN m365_tenant_id TEXT;
ALTER TABLE clients ADD COLUMN m365_synced_at TEXT;
CREATE UNIQUE INDEX clients_m365_tenant ON clients(m365_tenant_id);

ALTER TABLE contacts ADD COLUMN active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE contacts ADD COLUMN source TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE contacts ADD COLUMN m365_user_id TEXT;
CREATE UNIQUE INDEX contacts_m365_user ON contacts(client_id, m365_user_id);

CREATE TABLE cipp_reports (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at TEXT NOT NULL,
  dry_run INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  report TEXT NOT NULL
);

CREATE TABLE cipp_tenants (
  tenant_id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  default_domain TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('unmatched', 'ambiguous')),
  detail TEXT NOT NULL,
  seen_at TEXT NOT NULL
);

CREATE TRIGGER m365_end_on_deactivate AFTER UPDATE OF active ON contacts
WHEN NEW.active = 0
BEGIN
  DELETE FROM portal_sessions WHERE contact_id = NEW.id;
  DELETE FROM portal_links WHERE contact_id = NEW.id;
END;
