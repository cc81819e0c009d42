#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "audit/service.h"
#include "billing/model.h"
#include "clients/service.h"
#include "platform/clock.h"
#include "platform/db.h"
#include "rmm/service.h"
#include "staff/model.h"
#include "tickets/service.h"

// Contracts and recurring invoices (B1-B4): the use cases behind the Contracts tab,
// the Invoices pages, the API, `opsmerge billing run` and the scheduled run. Each
// change runs in one transaction with its audit row. One invoice per client-month
// is the database's unique key (migration 0013), so reruns, a run killed half-way
// and runs on two nodes at once all end with exactly one. Contracts are read by
// every role; changing them and everything about invoices needs the billing
// permission (admins and the billing role). Thread-safe.
namespace opsmerge::billing {

// Members left empty are not changed; end_date "" clears it.
struct ContractPatch {
  std::optional<std::string> name;
  std::optional<std::string> kind;
  std::optional<std::string> start_date;
  std::optional<std::string> end_date;
  std::optional<int64_t> monthly_fee_pence;
  std::optional<int64_t> included_hours;
  std::optional<int64_t> overage_rate_pence;
  std::optional<int64_t> per_endpoint_pence;
};

struct InvoiceQuery {
  std::optional<int64_t> client_id;
  std::string month;   // "" any
  std::string status;  // "" any
  int64_t offset = 0;
  int64_t limit = 50;
};

// An invoice's PDF (B4) and the name a download offers.
struct InvoicePdf {
  std::string filename;
  std::string content;
};

struct InvoicePage {
  std::vector<Invoice> items;  // without lines
  int64_t total = 0;
};

// What a run did, for the command line, the API and the log.
struct RunResult {
  Month month;
  int64_t created = 0;               // new drafts
  int64_t existing = 0;              // clients whose month had an invoice already
  int64_t failed = 0;                // clients whose draft could not be made (logged)
  std::vector<int64_t> invoice_ids;  // the new drafts
  std::string Summary() const;
};

// The billing settings, defaults filled in.
struct BillingSettings {
  std::string supplier_name;
  std::string supplier_address;
  std::string vat_number;
  int64_t vat_rate_bp = 2000;
  int64_t hourly_rate_pence = 0;
  int64_t billing_day = 1;
  std::string invoice_number_format = kDefaultNumberFormat;
  int64_t payment_terms_days = 30;
};
BillingSettings StoredBillingSettings(soci::session& sql);

// The API's (and the audit log's) form of a contract: {"id","client_id","name",
// "kind","start_date","end_date","monthly_fee_pence","included_hours",
// "overage_rate_pence","per_endpoint_pence","created_at","updated_at"}.
nlohmann::json ContractToJson(const Contract& c);

class BillingService {
 public:
  BillingService(db::Database& db, const audit::AuditLog& audit, const Clock& clock,
                 clients::ClientService& clients, rmm::RmmService& rmm,
                 tickets::TicketService& tickets)
      : db_(db), audit_(audit), clock_(clock), clients_(clients), rmm_(rmm), tickets_(tickets) {}

  Contract CreateContract(const staff::Actor& actor, int64_t client_id, const ContractInput& in);
  std::vector<Contract> Contracts(const staff::Actor& actor, int64_t client_id);
  Contract GetContract(const staff::Actor& actor, int64_t id);
  Contract UpdateContract(const staff::Actor& actor, int64_t id, const ContractPatch& patch);
  // Refused (Conflict) once the contract is on an invoice: end it instead.
  void DeleteContract(const staff::Actor& actor, int64_t id);

  // The address invoices carry for a client (B3), several lines.
  std::string BillingAddress(const staff::Actor& actor, int64_t client_id);
  void SetBillingAddress(const staff::Actor& actor, int64_t client_id, const std::string& address);

  // B2: a draft for every active client with a contract covering a day of `month`
  // or billable time in it, unless the client-month has an invoice already.
  // `made` (optional) is called after each draft is written, before its batch
  // commits, with the number made so far (the command line's progress; the test
  // build kills the run there to prove a crash leaves whole invoices or none).
  RunResult Run(const staff::Actor& actor, const Month& month,
                const std::function<void(int64_t)>& made = {});
  // Scheduled (under the scheduler's lease, hourly): from its billing day on, the
  // month that has started, again on every pass (only client-months without an
  // invoice get one, so a contract added mid-month is billed that month), and any
  // month missed since the last run, at most a year back.
  std::string ScheduledRun();

  InvoicePage ListInvoices(const staff::Actor& actor, const InvoiceQuery& query);
  Invoice GetInvoice(const staff::Actor& actor, int64_t id);
  InvoicePdf Pdf(const staff::Actor& actor, int64_t id);
  // B4/P5: queues an issued invoice's PDF to the client's billing recipients (else
  // its contact email) through the outbound mail queue, with its audit row.
  // Returns the addresses. Conflict when there is nobody to send to, or no
  // mail_from in the settings.
  std::vector<std::string> Email(const staff::Actor& actor, int64_t id);
  // B3: the next number of the gap-free sequence, the issue date and the supplier's
  // and customer's details, frozen, in one transaction. Only a draft.
  Invoice Issue(const staff::Actor& actor, int64_t id);
  // Every draft of `month` with lines, in client name order; all or none.
  int64_t IssueAll(const staff::Actor& actor, const Month& month);
  // A draft or an issued invoice becomes void; an issued one keeps its number.
  Invoice Void(const staff::Actor& actor, int64_t id);
  // A draft's lines worked out again from today's contracts, count and time.
  Invoice Regenerate(const staff::Actor& actor, int64_t id);
  // A new draft for a void invoice's client-month (a reissue is a new invoice).
  Invoice Reissue(const staff::Actor& actor, int64_t id);

  // The billing settings (for the pages' warnings: what an issued invoice would lack).
  BillingSettings Settings(const staff::Actor& actor);

  int64_t Now() const { return clock_.NowUnix(); }

 private:
  Contract LoadContract(soci::session& sql, int64_t id);
  Invoice LoadInvoice(soci::session& sql, int64_t id);
  // The inputs of client `client_id`'s invoice for `m`, read now, in `tx`.
  RunInput InputsIn(db::Tx& tx, int64_t client_id, const Month& m, int64_t invoice_id,
                    const BillingSettings& s);
  // A new draft for one client-month in `tx`; nullopt when it has one already or
  // nothing to bill.
  std::optional<int64_t> DraftIn(db::Tx& tx, const staff::Actor& actor, int64_t client_id,
                                 const Month& m, const BillingSettings& s,
                                 std::optional<int64_t> reissue_of);
  Invoice IssueIn(db::Tx& tx, const staff::Actor& actor, int64_t id, const BillingSettings& s);

  db::Database& db_;
  const audit::AuditLog& audit_;
  const Clock& clock_;
  clients::ClientService& clients_;
  rmm::RmmService& rmm_;
  tickets::TicketService& tickets_;
};

}  // namespace opsmerge::billing
