-- Contracts and recurring invoices (B1-B4). The foundation's placeholder invoices
-- table grows its columns. One invoice per client-month is a unique key, not a
-- check in code: billing_client_id is the client the run made it for and is never
-- changed (a merge moves client_id to the survivor, so two runs racing across a
-- merge still cannot make two), and a void invoice leaves the key free for its
-- reissue. Money is integer pence; dates are 'YYYY-MM-DD', months 'YYYY-MM'.
ALTER TABLE clients ADD COLUMN billing_address TEXT NOT NULL DEFAULT '';

CREATE TABLE contracts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  client_id INTEGER NOT NULL REFERENCES clients(id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('fixed', 'unlimited', 'hours_block', 'per_endpoint')),
  start_date TEXT NOT NULL,
  end_date TEXT,
  monthly_fee_pence INTEGER NOT NULL DEFAULT 0 CHECK (monthly_fee_pence >= 0),
  included_hours INTEGER NOT NULL DEFAULT 0 CHECK (included_hours >= 0),
  overage_rate_pence INTEGER NOT NULL DEFAULT 0 CHECK (overage_rate_pence >= 0),
  per_endpoint_pence INTEGER NOT NULL DEFAULT 0 CHECK (per_endpoint_pence >= 0),
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX contracts_client ON contracts(client_id, start_date);

ALTER TABLE invoices ADD COLUMN billing_client_id INTEGER;
ALTER TABLE invoices ADD COLUMN month TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN status TEXT NOT NULL DEFAULT 'draft';
ALTER TABLE invoices ADD COLUMN number TEXT;
ALTER TABLE invoices ADD COLUMN issue_date TEXT;
ALTER TABLE invoices ADD COLUMN due_date TEXT;
ALTER TABLE invoices ADD COLUMN currency TEXT NOT NULL DEFAULT 'GBP';
ALTER TABLE invoices ADD COLUMN net_pence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN vat_pence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN gross_pence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invoices ADD COLUMN supplier_name TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN supplier_address TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN vat_number TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN customer_name TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN customer_address TEXT NOT NULL DEFAULT '';
ALTER TABLE invoices ADD COLUMN voided_at TEXT;
ALTER TABLE invoices ADD COLUMN reissue_of INTEGER REFERENCES invoices(id);
ALTER TABLE invoices ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
UPDATE invoices SET billing_client_id = client_id, month = substr(created_at, 1, 7),
  updated_at = created_at;
CREATE UNIQUE INDEX invoices_client_month ON invoices(billing_client_id, month)
  WHERE status <> 'void';
CREATE UNIQUE INDEX invoices_number ON invoices(number);
CREATE INDEX invoices_month ON invoices(month, status, id);

CREATE TABLE invoice_lines (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  invoice_id INTEGER NOT NULL REFERENCES invoices(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  contract_id INTEGER REFERENCES contracts(id) ON DELETE SET NULL,
  kind TEXT NOT NULL,
  description TEXT NOT NULL,
  working TEXT NOT NULL,
  quantity_milli INTEGER NOT NULL,
  unit_pence INTEGER NOT NULL,
  period_start TEXT NOT NULL,
  period_end TEXT NOT NULL,
  vat_rate_bp INTEGER NOT NULL,
  net_pence INTEGER NOT NULL,
  vat_pence INTEGER NOT NULL
);
CREATE INDEX invoice_lines_invoice ON invoice_lines(invoice_id, position);
CREATE INDEX invoice_lines_contract ON invoice_lines(contract_id);

INSERT INTO counters (name, value) VALUES ('invoice_number', 0);
