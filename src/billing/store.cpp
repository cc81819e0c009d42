#include "billing/store.h"

#include <soci/soci.h>

#include "platform/db.h"

namespace opsmerge::billing::store {

namespace {

constexpr const char* kContractColumns =
    "SELECT id, client_id, name, kind, start_date, end_date, monthly_fee_pence, included_hours, "
    "overage_rate_pence, per_endpoint_pence, created_at, updated_at FROM contracts ";

Contract ToContract(const soci::row& r) {
  Contract c;
  c.id = db::RowInt(r, "id");
  c.client_id = db::RowInt(r, "client_id");
  c.name = db::RowText(r, "name");
  c.kind = ParseContractKind(db::RowText(r, "kind")).value_or(ContractKind::kFixed);
  c.start = ParseDate(db::RowText(r, "start_date")).value_or(Date{1970, 1, 1});
  c.end = ParseDate(db::RowText(r, "end_date"));
  c.monthly_fee_pence = db::RowInt(r, "monthly_fee_pence");
  c.included_hours = db::RowInt(r, "included_hours");
  c.overage_rate_pence = db::RowInt(r, "overage_rate_pence");
  c.per_endpoint_pence = db::RowInt(r, "per_endpoint_pence");
  c.created_at = db::RowText(r, "created_at");
  c.updated_at = db::RowText(r, "updated_at");
  return c;
}

constexpr const char* kInvoiceColumns =
    "SELECT i.id, i.client_id, c.name AS client_name, i.month, i.status, i.number, i.issue_date, "
    "i.due_date, i.currency, i.net_pence, i.vat_pence, i.gross_pence, i.supplier_name, "
    "i.supplier_address, i.vat_number, i.customer_name, i.customer_address, i.reissue_of, "
    "i.created_at, i.updated_at FROM invoices i JOIN clients c ON c.id = i.client_id ";

Invoice ToInvoice(const soci::row& r) {
  Invoice i;
  i.id = db::RowInt(r, "id");
  i.client_id = db::RowInt(r, "client_id");
  i.client_name = db::RowText(r, "client_name");
  i.month = ParseMonth(db::RowText(r, "month")).value_or(Month{1970, 1});
  i.status = ParseInvoiceStatus(db::RowText(r, "status")).value_or(InvoiceStatus::kDraft);
  i.number = db::RowText(r, "number");
  i.issue_date = db::RowText(r, "issue_date");
  i.due_date = db::RowText(r, "due_date");
  i.currency = db::RowText(r, "currency");
  i.net_pence = db::RowInt(r, "net_pence");
  i.vat_pence = db::RowInt(r, "vat_pence");
  i.gross_pence = db::RowInt(r, "gross_pence");
  i.supplier_name = db::RowText(r, "supplier_name");
  i.supplier_address = db::RowText(r, "supplier_address");
  i.vat_number = db::RowText(r, "vat_number");
  i.customer_name = db::RowText(r, "customer_name");
  i.customer_address = db::RowText(r, "customer_address");
  i.reissue_of = db::RowOptInt(r, "reissue_of");
  i.created_at = db::RowText(r, "created_at");
  i.updated_at = db::RowText(r, "updated_at");
  return i;
}

std::string Where(const Filter& f, std::vector<std::string>& binds) {
  std::string w = " WHERE 1 = 1";
  if (f.client_id) {
    w += " AND i.client_id = :c";
    binds.push_back(std::to_string(*f.client_id));
  }
  if (!f.month.empty()) {
    w += " AND i.month = :m";
    binds.push_back(f.month);
  }
  if (!f.status.empty()) {
    w += " AND i.status = :s";
    binds.push_back(f.status);
  }
  return w;
}

// Binds `binds` in order: the client id as a number, the rest as text.
void BindAll(soci::statement& st, const Filter& f, std::vector<std::string>& binds,
             long long& client) {
  size_t k = 0;
  if (f.client_id) {
    client = *f.client_id;
    st.exchange(soci::use(client));
    ++k;
  }
  for (; k < binds.size(); ++k) st.exchange(soci::use(binds[k]));
}

}  // namespace

int64_t InsertContract(soci::session& sql, const Contract& c, const std::string& now) {
  long long cid = c.client_id, fee = c.monthly_fee_pence, hours = c.included_hours,
            rate = c.overage_rate_pence, per = c.per_endpoint_pence, id = 0;
  std::string kind = ContractKindName(c.kind), start = FormatDate(c.start),
              end = c.end ? FormatDate(*c.end) : "";
  soci::indicator end_i = c.end ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO contracts (client_id, name, kind, start_date, end_date, monthly_fee_pence, "
         "included_hours, overage_rate_pence, per_endpoint_pence, created_at, updated_at) VALUES "
         "(:c, :n, :k, :s, :e, :f, :h, :r, :p, :ca, :ua) RETURNING id",
      soci::use(cid), soci::use(c.name), soci::use(kind), soci::use(start), soci::use(end, end_i),
      soci::use(fee), soci::use(hours), soci::use(rate), soci::use(per), soci::use(now),
      soci::use(now), soci::into(id);
  return id;
}

void UpdateContract(soci::session& sql, const Contract& c, const std::string& now) {
  long long id = c.id, fee = c.monthly_fee_pence, hours = c.included_hours,
            rate = c.overage_rate_pence, per = c.per_endpoint_pence;
  std::string kind = ContractKindName(c.kind), start = FormatDate(c.start),
              end = c.end ? FormatDate(*c.end) : "";
  soci::indicator end_i = c.end ? soci::i_ok : soci::i_null;
  sql << "UPDATE contracts SET name = :n, kind = :k, start_date = :s, end_date = :e, "
         "monthly_fee_pence = :f, included_hours = :h, overage_rate_pence = :r, "
         "per_endpoint_pence = :p, updated_at = :u WHERE id = :id",
      soci::use(c.name), soci::use(kind), soci::use(start), soci::use(end, end_i), soci::use(fee),
      soci::use(hours), soci::use(rate), soci::use(per), soci::use(now), soci::use(id);
}

std::optional<Contract> FindContract(soci::session& sql, int64_t id) {
  long long v = id;
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kContractColumns) + "WHERE id = :id", soci::use(v));
  for (const auto& r : rows) return ToContract(r);
  return std::nullopt;
}

std::vector<Contract> ListContracts(soci::session& sql, int64_t client_id) {
  long long v = client_id;
  soci::rowset<soci::row> rows = (sql.prepare << std::string(kContractColumns) +
                                                     "WHERE client_id = :c ORDER BY start_date, id",
                                  soci::use(v));
  std::vector<Contract> out;
  for (const auto& r : rows) out.push_back(ToContract(r));
  return out;
}

bool ContractInvoiced(soci::session& sql, int64_t contract_id) {
  long long v = contract_id, n = 0;
  sql << "SELECT COUNT(*) FROM invoice_lines WHERE contract_id = :c", soci::use(v), soci::into(n);
  return n > 0;
}

void DeleteContract(soci::session& sql, int64_t id) {
  long long v = id;
  sql << "DELETE FROM contracts WHERE id = :id", soci::use(v);
}

std::optional<Party> FindParty(soci::session& sql, int64_t client_id) {
  long long v = client_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT name, billing_address, archived_at FROM clients WHERE id = :id",
       soci::use(v));
  for (const auto& r : rows) {
    return Party{db::RowText(r, "name"), db::RowText(r, "billing_address"),
                 !db::RowIsNull(r, "archived_at")};
  }
  return std::nullopt;
}

void SetBillingAddress(soci::session& sql, int64_t client_id, const std::string& address) {
  long long v = client_id;
  sql << "UPDATE clients SET billing_address = :a WHERE id = :id", soci::use(address), soci::use(v);
}

std::vector<int64_t> RunCandidates(soci::session& sql, const std::string& month,
                                   const std::string& first, const std::string& last) {
  soci::rowset<soci::row> rows =
      (sql.prepare
           << "SELECT c.id FROM clients c WHERE c.archived_at IS NULL "
              "AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.billing_client_id = c.id "
              "AND i.month = :m) "
              "AND (EXISTS (SELECT 1 FROM contracts k WHERE k.client_id = c.id "
              "AND k.start_date <= :l1 AND (k.end_date IS NULL OR k.end_date >= :f1)) "
              "OR EXISTS (SELECT 1 FROM tickets t JOIN time_entries e ON e.ticket_id = t.id "
              "WHERE t.client_id = c.id AND e.billable = 1 AND e.work_date >= :f2 "
              "AND e.work_date <= :l2)) ORDER BY c.id",
       soci::use(month), soci::use(last), soci::use(first), soci::use(first), soci::use(last));
  std::vector<int64_t> out;
  for (const auto& r : rows) out.push_back(db::RowInt(r, size_t{0}));
  return out;
}

int64_t CountInvoicedClients(soci::session& sql, const std::string& month) {
  long long n = 0;
  sql << "SELECT COUNT(DISTINCT billing_client_id) FROM invoices WHERE month = :m",
      soci::use(month), soci::into(n);
  return n;
}

bool HasInvoice(soci::session& sql, int64_t billing_client_id, const std::string& month) {
  long long c = billing_client_id, n = 0;
  sql << "SELECT COUNT(*) FROM invoices WHERE billing_client_id = :c AND month = :m", soci::use(c),
      soci::use(month), soci::into(n);
  return n > 0;
}

std::optional<int64_t> InsertDraft(soci::session& sql, int64_t client_id, const std::string& month,
                                   std::optional<int64_t> reissue_of, const std::string& now) {
  long long c = client_id, re = reissue_of.value_or(0), id = 0;
  soci::indicator re_i = reissue_of ? soci::i_ok : soci::i_null;
  sql << "INSERT INTO invoices (client_id, billing_client_id, month, status, currency, "
         "reissue_of, created_at, updated_at) VALUES (:c, :b, :m, 'draft', 'GBP', :r, :ca, :ua) "
         "ON CONFLICT DO NOTHING RETURNING id",
      soci::use(c), soci::use(c), soci::use(month), soci::use(re, re_i), soci::use(now),
      soci::use(now), soci::into(id);
  if (!sql.got_data()) return std::nullopt;
  return id;
}

void WriteLines(soci::session& sql, int64_t invoice_id, const std::vector<Line>& lines,
                const std::string& now) {
  long long inv = invoice_id;
  sql << "DELETE FROM invoice_lines WHERE invoice_id = :i", soci::use(inv);
  long long pos = 0;
  for (const auto& l : lines) {
    ++pos;
    long long contract = l.contract_id.value_or(0), qty = l.quantity_milli, unit = l.unit_pence,
              rate = l.vat_rate_bp, net = l.net_pence, vat = l.vat_pence;
    soci::indicator contract_i = l.contract_id ? soci::i_ok : soci::i_null;
    std::string kind = LineKindName(l.kind), from = FormatDate(l.period_start),
                to = FormatDate(l.period_end);
    sql << "INSERT INTO invoice_lines (invoice_id, position, contract_id, kind, description, "
           "working, quantity_milli, unit_pence, period_start, period_end, vat_rate_bp, net_pence, "
           "vat_pence) VALUES (:i, :p, :c, :k, :d, :w, :q, :u, :f, :t, :r, :n, :v)",
        soci::use(inv), soci::use(pos), soci::use(contract, contract_i), soci::use(kind),
        soci::use(l.description), soci::use(l.working), soci::use(qty), soci::use(unit),
        soci::use(from), soci::use(to), soci::use(rate), soci::use(net), soci::use(vat);
  }
  Totals t = Sum(lines);
  long long net = t.net_pence, vat = t.vat_pence, gross = t.gross_pence;
  sql << "UPDATE invoices SET net_pence = :n, vat_pence = :v, gross_pence = :g, updated_at = :u "
         "WHERE id = :i",
      soci::use(net), soci::use(vat), soci::use(gross), soci::use(now), soci::use(inv);
}

std::vector<int64_t> AlreadyBilled(soci::session& sql, int64_t client_id, const std::string& month,
                                   int64_t except_invoice) {
  long long c = client_id, except = except_invoice;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT DISTINCT l.contract_id FROM invoice_lines l "
                      "JOIN invoices i ON i.id = l.invoice_id "
                      "JOIN contracts k ON k.id = l.contract_id WHERE k.client_id = :c "
                      "AND i.month = :m AND i.status <> 'void' AND i.id <> :e",
       soci::use(c), soci::use(month), soci::use(except));
  std::vector<int64_t> out;
  for (const auto& r : rows) out.push_back(db::RowInt(r, size_t{0}));
  return out;
}

std::optional<Invoice> FindInvoice(soci::session& sql, int64_t id) {
  long long v = id;
  std::optional<Invoice> out;
  {
    soci::rowset<soci::row> rows =
        (sql.prepare << std::string(kInvoiceColumns) + "WHERE i.id = :id", soci::use(v));
    for (const auto& r : rows) out = ToInvoice(r);
  }
  if (!out) return out;
  soci::rowset<soci::row> lines =
      (sql.prepare << "SELECT contract_id, kind, description, working, quantity_milli, unit_pence, "
                      "period_start, period_end, vat_rate_bp, net_pence, vat_pence "
                      "FROM invoice_lines WHERE invoice_id = :i ORDER BY position",
       soci::use(v));
  for (const auto& r : lines) {
    Line l;
    l.contract_id = db::RowOptInt(r, "contract_id");
    l.kind = ParseLineKind(db::RowText(r, "kind")).value_or(LineKind::kFee);
    l.description = db::RowText(r, "description");
    l.working = db::RowText(r, "working");
    l.quantity_milli = db::RowInt(r, "quantity_milli");
    l.unit_pence = db::RowInt(r, "unit_pence");
    l.period_start = ParseDate(db::RowText(r, "period_start")).value_or(Date{1970, 1, 1});
    l.period_end = ParseDate(db::RowText(r, "period_end")).value_or(Date{1970, 1, 1});
    l.vat_rate_bp = db::RowInt(r, "vat_rate_bp");
    l.net_pence = db::RowInt(r, "net_pence");
    l.vat_pence = db::RowInt(r, "vat_pence");
    out->lines.push_back(std::move(l));
  }
  return out;
}

std::vector<Invoice> ListInvoices(soci::session& sql, const Filter& f, int64_t offset,
                                  int64_t limit) {
  std::vector<std::string> binds;
  std::string q = std::string(kInvoiceColumns) + Where(f, binds) +
                  " ORDER BY i.month DESC, c.name_key, i.id LIMIT :lim OFFSET :off";
  long long client = 0, lim = limit, off = offset;
  soci::statement st(sql);
  BindAll(st, f, binds, client);
  st.exchange(soci::use(lim));
  st.exchange(soci::use(off));
  soci::row r;
  st.exchange(soci::into(r));
  st.alloc();
  st.prepare(q);
  st.define_and_bind();
  st.execute();
  std::vector<Invoice> out;
  while (st.fetch()) out.push_back(ToInvoice(r));
  return out;
}

int64_t CountInvoices(soci::session& sql, const Filter& f) {
  std::vector<std::string> binds;
  std::string q = "SELECT COUNT(*) FROM invoices i" + Where(f, binds);
  long long client = 0, n = 0;
  soci::statement st(sql);
  BindAll(st, f, binds, client);
  st.exchange(soci::into(n));
  st.alloc();
  st.prepare(q);
  st.define_and_bind();
  st.execute(true);
  return n;
}

std::vector<int64_t> IssuableDrafts(soci::session& sql, const std::string& month) {
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT i.id FROM invoices i JOIN clients c ON c.id = i.client_id "
                      "WHERE i.month = :m AND i.status = 'draft' AND EXISTS (SELECT 1 FROM "
                      "invoice_lines l WHERE l.invoice_id = i.id) ORDER BY c.name_key, i.id",
       soci::use(month));
  std::vector<int64_t> out;
  for (const auto& r : rows) out.push_back(db::RowInt(r, size_t{0}));
  return out;
}

int64_t NextInvoiceNumber(soci::session& sql) {
  long long n = 0;
  sql << "UPDATE counters SET value = value + 1 WHERE name = 'invoice_number' RETURNING value",
      soci::into(n);
  return n;
}

bool MarkIssued(soci::session& sql, const Invoice& inv, const std::string& now) {
  long long id = inv.id;
  soci::statement st =
      (sql.prepare << "UPDATE invoices SET status = 'issued', number = :n, issue_date = :d, "
                      "due_date = :due, supplier_name = :sn, supplier_address = :sa, "
                      "vat_number = :vn, customer_name = :cn, customer_address = :ca, "
                      "updated_at = :u WHERE id = :id AND status = 'draft'",
       soci::use(inv.number), soci::use(inv.issue_date), soci::use(inv.due_date),
       soci::use(inv.supplier_name), soci::use(inv.supplier_address), soci::use(inv.vat_number),
       soci::use(inv.customer_name), soci::use(inv.customer_address), soci::use(now),
       soci::use(id));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

bool MarkVoid(soci::session& sql, int64_t id, const std::string& now) {
  long long v = id;
  soci::statement st = (sql.prepare << "UPDATE invoices SET status = 'void', voided_at = :n, "
                                       "updated_at = :u WHERE id = :id AND status <> 'void'",
                        soci::use(now), soci::use(now), soci::use(v));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

}  // namespace opsmerge::billing::store
