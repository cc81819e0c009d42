#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "billing/model.h"

namespace soci {
class session;
}

// The billing feature's SQL, nothing else. Runs on the caller's session.
namespace opsmerge::billing::store {

int64_t InsertContract(soci::session& sql, const Contract& c, const std::string& now);
void UpdateContract(soci::session& sql, const Contract& c, const std::string& now);
std::optional<Contract> FindContract(soci::session& sql, int64_t id);
// A client's contracts, by start date.
std::vector<Contract> ListContracts(soci::session& sql, int64_t client_id);
bool ContractInvoiced(soci::session& sql, int64_t contract_id);
void DeleteContract(soci::session& sql, int64_t id);

// The client as an invoice names it: name, billing address, archived or not.
struct Party {
  std::string name;
  std::string address;
  bool archived = false;
};
std::optional<Party> FindParty(soci::session& sql, int64_t client_id);
void SetBillingAddress(soci::session& sql, int64_t client_id, const std::string& address);

// Active clients that may have something to bill in [first, last] (a contract
// covering a day of it, or billable time dated in it) and no invoice for `month`
// yet, by id.
std::vector<int64_t> RunCandidates(soci::session& sql, const std::string& month,
                                   const std::string& first, const std::string& last);
// How many clients have an invoice (of any status) for `month`.
int64_t CountInvoicedClients(soci::session& sql, const std::string& month);
// Whether the client-month has an invoice of any status.
bool HasInvoice(soci::session& sql, int64_t billing_client_id, const std::string& month);
// A new draft; nullopt when the client-month has one that is not void (the unique
// key: another node made it first).
std::optional<int64_t> InsertDraft(soci::session& sql, int64_t client_id, const std::string& month,
                                   std::optional<int64_t> reissue_of, const std::string& now);
// Replaces a draft's lines and totals.
void WriteLines(soci::session& sql, int64_t invoice_id, const std::vector<Line>& lines,
                const std::string& now);
// The client's contracts already on a line of another invoice for `month` that is
// not void (one query).
std::vector<int64_t> AlreadyBilled(soci::session& sql, int64_t client_id, const std::string& month,
                                   int64_t except_invoice);

std::optional<Invoice> FindInvoice(soci::session& sql, int64_t id);  // with lines
struct Filter {
  std::optional<int64_t> client_id;
  std::string month;
  std::string status;
};
std::vector<Invoice> ListInvoices(soci::session& sql, const Filter& f, int64_t offset,
                                  int64_t limit);
int64_t CountInvoices(soci::session& sql, const Filter& f);
// Drafts of a month that have lines, in client name order.
std::vector<int64_t> IssuableDrafts(soci::session& sql, const std::string& month);

// The next number of the gap-free sequence (a counter row written in the issuing
// transaction: a rollback gives the number back).
int64_t NextInvoiceNumber(soci::session& sql);
// Freezes a draft as issued; false when it was not a draft any more.
bool MarkIssued(soci::session& sql, const Invoice& inv, const std::string& now);
bool MarkVoid(soci::session& sql, int64_t id, const std::string& now);

}  // namespace opsmerge::billing::store
