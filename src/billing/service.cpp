#include "billing/service.h"

#include <ctime>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "billing/pdf.h"
#include "billing/store.h"
#include "platform/errors.h"
#include "platform/log.h"
#include "platform/outbox.h"
#include "platform/settings.h"
#include "platform/text.h"

namespace opsmerge::billing {

namespace {

using nlohmann::json;

// Clients whose drafts share one transaction in a run (each in its own savepoint,
// so one that fails is rolled back alone): a commit per client would make the run
// wait on the disk 10,000 times.
constexpr size_t kRunBatch = 100;
constexpr const char* kLastRunKey = "billing.last_run_month";
constexpr int kMaxCatchUpMonths = 12;

int64_t Number(soci::session& sql, const std::string& key, int64_t fallback) {
  std::string v = settings::Get(sql, key).value_or("");
  if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
    return fallback;
  }
  return std::stoll(v);
}

// Today in the installation's time zone (the process's, set from the settings).
Date LocalDate(int64_t unix_seconds) {
  auto t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  localtime_r(&t, &tm);
  return Date{tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday};
}

void RequireBilling(const staff::Actor& actor) {
  staff::Require(actor, staff::Permission::kManageBilling);
}

std::string Address(const std::string& in) {
  return text::CleanField("billing_address", "The billing address", in, 1000, true);
}

}  // namespace

json ContractToJson(const Contract& c) {
  return {{"id", c.id},
          {"client_id", c.client_id},
          {"name", c.name},
          {"kind", ContractKindName(c.kind)},
          {"start_date", FormatDate(c.start)},
          {"end_date", c.end ? json(FormatDate(*c.end)) : json()},
          {"monthly_fee_pence", c.monthly_fee_pence},
          {"included_hours", c.included_hours},
          {"overage_rate_pence", c.overage_rate_pence},
          {"per_endpoint_pence", c.per_endpoint_pence},
          {"created_at", c.created_at},
          {"updated_at", c.updated_at}};
}

std::string RunResult::Summary() const {
  return FormatMonthForPeople(month) + ": " + std::to_string(created) +
         (created == 1 ? " draft" : " drafts") + " made, " + std::to_string(existing) +
         " already invoiced" +
         (failed ? ", " + std::to_string(failed) + " failed (see the log)" : "");
}

BillingSettings StoredBillingSettings(soci::session& sql) {
  BillingSettings s;
  s.supplier_name = settings::Get(sql, "supplier_name").value_or("");
  s.supplier_address = settings::Get(sql, "supplier_address").value_or("");
  s.vat_number = settings::Get(sql, "vat_number").value_or("");
  s.vat_rate_bp = Number(sql, "vat_rate_bp", 2000);
  s.hourly_rate_pence = Number(sql, "hourly_rate_pence", 0);
  s.billing_day = Number(sql, "billing_day", 1);
  s.invoice_number_format =
      settings::Get(sql, "invoice_number_format").value_or(kDefaultNumberFormat);
  s.payment_terms_days = Number(sql, "payment_terms_days", 30);
  return s;
}

Contract BillingService::LoadContract(soci::session& sql, int64_t id) {
  auto c = store::FindContract(sql, id);
  if (!c) throw NotFound("Contract");
  return *c;
}

Invoice BillingService::LoadInvoice(soci::session& sql, int64_t id) {
  auto i = store::FindInvoice(sql, id);
  if (!i) throw NotFound("Invoice");
  return *i;
}

Contract BillingService::CreateContract(const staff::Actor& actor, int64_t client_id,
                                        const ContractInput& in) {
  RequireBilling(actor);
  Contract c = ValidateContract(in);
  c.client_id = client_id;
  db_.Write([&](db::Tx& tx) {
    clients::ClientDetail d = clients_.GetIn(tx, actor, client_id);
    if (d.client.archived()) {
      throw Conflict("archived", d.client.name + " is archived: unarchive it to add a contract");
    }
    std::string now = FormatIsoUtc(clock_.NowUnix());
    c.id = store::InsertContract(tx.sql(), c, now);
    c = LoadContract(tx.sql(), c.id);
    audit_.Write(tx.sql(), actor.Who(),
                 {"create", "contract", c.id, client_id, "Added contract " + c.name, "",
                  ContractToJson(c).dump()});
  });
  return c;
}

std::vector<Contract> BillingService::Contracts(const staff::Actor& actor, int64_t client_id) {
  clients_.Get(actor, client_id);
  std::vector<Contract> out;
  db_.Read([&](soci::session& sql) { out = store::ListContracts(sql, client_id); });
  return out;
}

Contract BillingService::GetContract(const staff::Actor& actor, int64_t id) {
  staff::Require(actor, staff::Permission::kReadClients);
  Contract c;
  db_.Read([&](soci::session& sql) { c = LoadContract(sql, id); });
  clients_.Get(actor, c.client_id);
  return c;
}

Contract BillingService::UpdateContract(const staff::Actor& actor, int64_t id,
                                        const ContractPatch& p) {
  RequireBilling(actor);
  Contract out;
  db_.Write([&](db::Tx& tx) {
    Contract before = LoadContract(tx.sql(), id);
    clients_.GetIn(tx, actor, before.client_id);
    ContractInput in{before.name,
                     ContractKindName(before.kind),
                     FormatDate(before.start),
                     before.end ? FormatDate(*before.end) : "",
                     before.monthly_fee_pence,
                     before.included_hours,
                     before.overage_rate_pence,
                     before.per_endpoint_pence};
    if (p.name) in.name = *p.name;
    if (p.kind) in.kind = *p.kind;
    if (p.start_date) in.start_date = *p.start_date;
    if (p.end_date) in.end_date = *p.end_date;
    if (p.monthly_fee_pence) in.monthly_fee_pence = *p.monthly_fee_pence;
    if (p.included_hours) in.included_hours = *p.included_hours;
    if (p.overage_rate_pence) in.overage_rate_pence = *p.overage_rate_pence;
    if (p.per_endpoint_pence) in.per_endpoint_pence = *p.per_endpoint_pence;
    // Changing the kind drops what only the old kind had.
    if (p.kind && *p.kind != ContractKindName(before.kind)) {
      if (!p.included_hours && *p.kind != "hours_block") in.included_hours = 0;
      if (!p.overage_rate_pence && *p.kind != "hours_block") in.overage_rate_pence = 0;
      if (!p.per_endpoint_pence && *p.kind != "per_endpoint") in.per_endpoint_pence = 0;
    }
    out = ValidateContract(in);
    out.id = id;
    out.client_id = before.client_id;
    std::string now = FormatIsoUtc(clock_.NowUnix());
    store::UpdateContract(tx.sql(), out, now);
    out = LoadContract(tx.sql(), id);
    audit_.Write(tx.sql(), actor.Who(),
                 {"update", "contract", id, out.client_id, "Changed contract " + out.name,
                  ContractToJson(before).dump(), ContractToJson(out).dump()});
  });
  return out;
}

void BillingService::DeleteContract(const staff::Actor& actor, int64_t id) {
  RequireBilling(actor);
  db_.Write([&](db::Tx& tx) {
    Contract c = LoadContract(tx.sql(), id);
    clients_.GetIn(tx, actor, c.client_id);
    if (store::ContractInvoiced(tx.sql(), id)) {
      throw Conflict("has_dependents",
                     "Contract " + c.name + " has been invoiced: give it an end date instead");
    }
    store::DeleteContract(tx.sql(), id);
    audit_.Write(tx.sql(), actor.Who(),
                 {"delete", "contract", id, c.client_id, "Deleted contract " + c.name,
                  ContractToJson(c).dump(), ""});
  });
}

std::string BillingService::BillingAddress(const staff::Actor& actor, int64_t client_id) {
  clients_.Get(actor, client_id);
  std::string out;
  db_.Read([&](soci::session& sql) {
    if (auto p = store::FindParty(sql, client_id)) out = p->address;
  });
  return out;
}

void BillingService::SetBillingAddress(const staff::Actor& actor, int64_t client_id,
                                       const std::string& address) {
  RequireBilling(actor);
  std::string a = Address(address);
  db_.Write([&](db::Tx& tx) {
    clients::ClientDetail d = clients_.GetIn(tx, actor, client_id);
    auto before = store::FindParty(tx.sql(), client_id);
    if (before && before->address == a) return;
    store::SetBillingAddress(tx.sql(), client_id, a);
    audit_.Write(tx.sql(), actor.Who(),
                 {"update", "client", client_id, client_id,
                  "Changed the billing address of " + d.client.name,
                  json{{"billing_address", before ? before->address : ""}}.dump(),
                  json{{"billing_address", a}}.dump()});
  });
}

RunInput BillingService::InputsIn(db::Tx& tx, int64_t client_id, const Month& m, int64_t invoice_id,
                                  const BillingSettings& s) {
  RunInput in;
  in.month = m;
  in.contracts = store::ListContracts(tx.sql(), client_id);
  in.billable_endpoints = rmm_.CountBillableIn(tx, client_id);
  in.billable_minutes =
      tickets_.BillableMinutesIn(tx, client_id, FormatDate(m.First()), FormatDate(m.Last()));
  in.hourly_rate_pence = s.hourly_rate_pence;
  in.vat_rate_bp = s.vat_rate_bp;
  in.already_billed = store::AlreadyBilled(tx.sql(), client_id, FormatMonth(m), invoice_id);
  return in;
}

std::optional<int64_t> BillingService::DraftIn(db::Tx& tx, const staff::Actor& actor,
                                               int64_t client_id, const Month& m,
                                               const BillingSettings& s,
                                               std::optional<int64_t> reissue_of) {
  auto party = store::FindParty(tx.sql(), client_id);
  if (!party || party->archived) return std::nullopt;  // C6
  std::string month = FormatMonth(m);
  if (!reissue_of && store::HasInvoice(tx.sql(), client_id, month)) return std::nullopt;
  std::vector<Line> lines = BuildLines(InputsIn(tx, client_id, m, 0, s));
  if (lines.empty()) return std::nullopt;
  std::string now = FormatIsoUtc(clock_.NowUnix());
  auto id = store::InsertDraft(tx.sql(), client_id, month, reissue_of, now);
  if (!id) return std::nullopt;  // another run made it first
  store::WriteLines(tx.sql(), *id, lines, now);
  Totals t = Sum(lines);
  audit_.Write(
      tx.sql(), actor.Who(),
      {"create", "invoice", *id, client_id,
       "Drafted the invoice for " + FormatMonthForPeople(m) + " (" + FormatMoney(t.net_pence) +
           " net)" + (reissue_of ? ", reissuing a void one" : ""),
       "", ""});
  return id;
}

RunResult BillingService::Run(const staff::Actor& actor, const Month& m,
                              const std::function<void(int64_t)>& made) {
  RequireBilling(actor);
  RunResult r;
  r.month = m;
  BillingSettings s;
  std::vector<int64_t> candidates;
  db_.Read([&](soci::session& sql) {
    s = StoredBillingSettings(sql);
    candidates =
        store::RunCandidates(sql, FormatMonth(m), FormatDate(m.First()), FormatDate(m.Last()));
  });
  for (size_t at = 0; at < candidates.size(); at += kRunBatch) {
    size_t end = std::min(candidates.size(), at + kRunBatch);
    RunResult batch;
    db_.Write([&](db::Tx&) {
      batch = RunResult{};
      for (size_t k = at; k < end; ++k) {
        int64_t client = candidates[k];
        try {
          db_.Write([&](db::Tx& inner) {
            if (auto id = DraftIn(inner, actor, client, m, s, std::nullopt)) {
              ++batch.created;
              batch.invoice_ids.push_back(*id);
              if (made) made(r.created + batch.created);
            }
          });
        } catch (const std::exception& e) {
          ++batch.failed;
          log::Error("billing run " + FormatMonth(m) + ": client " + std::to_string(client) + ": " +
                     e.what());
        }
      }
    });
    r.created += batch.created;
    r.failed += batch.failed;
    r.invoice_ids.insert(r.invoice_ids.end(), batch.invoice_ids.begin(), batch.invoice_ids.end());
  }
  // What other runs (earlier, or on other nodes now) made.
  db_.Read([&](soci::session& sql) {
    r.existing = store::CountInvoicedClients(sql, FormatMonth(m)) - r.created;
  });
  if (r.created || r.failed) log::Info("billing run " + r.Summary());
  return r;
}

std::string BillingService::ScheduledRun() {
  Date today = LocalDate(clock_.NowUnix());
  BillingSettings s;
  std::string last;
  db_.Read([&](soci::session& sql) {
    s = StoredBillingSettings(sql);
    last = settings::Get(sql, kLastRunKey).value_or("");
  });
  Month due{today.year, today.month};
  if (today.day < s.billing_day)
    due = Month{due.month == 1 ? due.year - 1 : due.year, due.month == 1 ? 12 : due.month - 1};
  // The month due is run on every pass until the next one is due, so a contract
  // added during the month gets its prorated draft within the hour (client-months
  // that have an invoice are left alone); months missed while no node ran (at
  // most a year back) are caught up.
  auto last_run = ParseMonth(last);
  auto index = [](const Month& m) { return m.year * 12 + m.month - 1; };
  Month from = last_run && *last_run < due ? *last_run : due;
  if (index(due) - index(from) >= kMaxCatchUpMonths) {
    int i = index(due) - kMaxCatchUpMonths + 1;
    from = Month{i / 12, i % 12 + 1};
  }
  std::string out;
  for (Month m = from; !(due < m); m = m.Next()) {
    RunResult r = Run(staff::Actor::System(), m);
    db_.Write([&](soci::session& sql) {
      settings::Set(sql, kLastRunKey, FormatMonth(m), FormatIsoUtc(clock_.NowUnix()));
    });
    if (r.created || r.failed) out += (out.empty() ? "" : "; ") + r.Summary();
  }
  return out;
}

InvoicePage BillingService::ListInvoices(const staff::Actor& actor, const InvoiceQuery& q) {
  RequireBilling(actor);
  if (!q.month.empty() && !ParseMonth(q.month)) {
    throw ValidationError("month", "month must be YYYY-MM");
  }
  if (!q.status.empty() && !ParseInvoiceStatus(q.status)) {
    throw ValidationError("status", "status must be draft, issued or void");
  }
  store::Filter f{q.client_id, q.month, q.status};
  InvoicePage page;
  db_.Read([&](soci::session& sql) {
    page.items = store::ListInvoices(sql, f, q.offset, q.limit);
    page.total = store::CountInvoices(sql, f);
  });
  return page;
}

Invoice BillingService::GetInvoice(const staff::Actor& actor, int64_t id) {
  RequireBilling(actor);
  Invoice out;
  db_.Read([&](soci::session& sql) { out = LoadInvoice(sql, id); });
  return out;
}

BillingSettings BillingService::Settings(const staff::Actor& actor) {
  RequireBilling(actor);
  BillingSettings s;
  db_.Read([&](soci::session& sql) { s = StoredBillingSettings(sql); });
  return s;
}

InvoicePdf BillingService::Pdf(const staff::Actor& actor, int64_t id) {
  Invoice inv = GetInvoice(actor, id);
  return InvoicePdf{InvoiceFileName(inv), RenderInvoicePdf(inv)};
}

std::vector<std::string> BillingService::Email(const staff::Actor& actor, int64_t id) {
  RequireBilling(actor);
  std::vector<std::string> to;
  db_.Write([&](db::Tx& tx) {
    Invoice inv = LoadInvoice(tx.sql(), id);
    if (inv.status != InvoiceStatus::kIssued) {
      throw Conflict("conflict", "Only an issued invoice is emailed; this one is " +
                                     std::string(InvoiceStatusName(inv.status)));
    }
    std::string from = settings::Get(tx.sql(), "mail_from").value_or("");
    if (from.empty()) {
      throw Conflict("conflict", "Set the address mail is sent from (Settings, General) first");
    }
    to = clients_.BillingRecipientsIn(tx, inv.client_id);
    if (to.empty()) {
      throw Conflict("conflict", inv.client_name +
                                     " has no billing recipient and no contact email: tick "
                                     "Billing recipient on a contact");
    }
    std::string who = inv.supplier_name.empty() ? from : inv.supplier_name;
    outbox::Mail m;
    m.from = from;
    m.to = to;
    m.subject = "Invoice " + inv.number + " from " + who;
    m.body = "Hello,\n\nPlease find attached invoice " + inv.number + " for " +
             FormatMonthForPeople(inv.month) + ": " + FormatMoney(inv.gross_pence) +
             " including VAT, due by " + FormatDateForPeople(*ParseDate(inv.due_date)) +
             ".\n\nThank you,\n" + who + "\n";
    m.ref = "invoice:" + std::to_string(id);
    m.attachments.push_back({InvoiceFileName(inv), "application/pdf", RenderInvoicePdf(inv)});
    outbox::Enqueue(tx.sql(), m, clock_.NowUnix());
    std::string list;
    for (const auto& a : to) list += (list.empty() ? "" : ", ") + a;
    audit_.Write(tx.sql(), actor.Who(),
                 {"email", "invoice", id, inv.client_id,
                  "Emailed invoice " + inv.number + " to " + list, "", ""});
  });
  return to;
}

Invoice BillingService::IssueIn(db::Tx& tx, const staff::Actor& actor, int64_t id,
                                const BillingSettings& s) {
  Invoice inv = LoadInvoice(tx.sql(), id);
  if (inv.status != InvoiceStatus::kDraft) {
    throw Conflict("conflict", "Invoice " + inv.number + " is " + InvoiceStatusName(inv.status) +
                                   ": only a draft is issued");
  }
  if (inv.lines.empty()) throw Conflict("conflict", "This draft has nothing to bill");
  auto party = store::FindParty(tx.sql(), inv.client_id);
  Date today = LocalDate(clock_.NowUnix());
  inv.number = FormatInvoiceNumber(s.invoice_number_format, store::NextInvoiceNumber(tx.sql()));
  inv.issue_date = FormatDate(today);
  inv.due_date = FormatDate(FromDayNumber(DayNumber(today) + s.payment_terms_days));
  inv.supplier_name = s.supplier_name;
  inv.supplier_address = s.supplier_address;
  inv.vat_number = s.vat_number;
  inv.customer_name = party ? party->name : inv.client_name;
  inv.customer_address = party ? party->address : "";
  std::string now = FormatIsoUtc(clock_.NowUnix());
  if (!store::MarkIssued(tx.sql(), inv, now)) {
    throw Conflict("conflict", "The invoice was issued or voided meanwhile");
  }
  audit_.Write(tx.sql(), actor.Who(),
               {"issue", "invoice", id, inv.client_id,
                "Issued invoice " + inv.number + " for " + FormatMonthForPeople(inv.month) + " (" +
                    FormatMoney(inv.gross_pence) + ")",
                "", ""});
  return LoadInvoice(tx.sql(), id);
}

Invoice BillingService::Issue(const staff::Actor& actor, int64_t id) {
  RequireBilling(actor);
  Invoice out;
  db_.Write([&](db::Tx& tx) { out = IssueIn(tx, actor, id, StoredBillingSettings(tx.sql())); });
  return out;
}

int64_t BillingService::IssueAll(const staff::Actor& actor, const Month& m) {
  RequireBilling(actor);
  int64_t n = 0;
  db_.Write([&](db::Tx& tx) {
    BillingSettings s = StoredBillingSettings(tx.sql());
    for (int64_t id : store::IssuableDrafts(tx.sql(), FormatMonth(m))) {
      IssueIn(tx, actor, id, s);
      ++n;
    }
  });
  return n;
}

Invoice BillingService::Void(const staff::Actor& actor, int64_t id) {
  RequireBilling(actor);
  Invoice out;
  db_.Write([&](db::Tx& tx) {
    Invoice inv = LoadInvoice(tx.sql(), id);
    if (inv.status == InvoiceStatus::kVoid ||
        !store::MarkVoid(tx.sql(), id, FormatIsoUtc(clock_.NowUnix()))) {
      throw Conflict("conflict", "The invoice is void already");
    }
    audit_.Write(tx.sql(), actor.Who(),
                 {"void", "invoice", id, inv.client_id,
                  "Voided " + (inv.number.empty() ? "the draft" : "invoice " + inv.number) +
                      " for " + FormatMonthForPeople(inv.month),
                  "", ""});
    out = LoadInvoice(tx.sql(), id);
  });
  return out;
}

Invoice BillingService::Regenerate(const staff::Actor& actor, int64_t id) {
  RequireBilling(actor);
  Invoice out;
  db_.Write([&](db::Tx& tx) {
    Invoice inv = LoadInvoice(tx.sql(), id);
    if (inv.status != InvoiceStatus::kDraft) {
      throw Conflict("conflict", "Only a draft is worked out again; this invoice is " +
                                     std::string(InvoiceStatusName(inv.status)));
    }
    BillingSettings s = StoredBillingSettings(tx.sql());
    std::vector<Line> lines = BuildLines(InputsIn(tx, inv.client_id, inv.month, id, s));
    store::WriteLines(tx.sql(), id, lines, FormatIsoUtc(clock_.NowUnix()));
    out = LoadInvoice(tx.sql(), id);
    audit_.Write(tx.sql(), actor.Who(),
                 {"update", "invoice", id, inv.client_id,
                  "Worked out the draft for " + FormatMonthForPeople(inv.month) + " again (" +
                      FormatMoney(inv.net_pence) + " -> " + FormatMoney(out.net_pence) + " net)",
                  "", ""});
  });
  return out;
}

Invoice BillingService::Reissue(const staff::Actor& actor, int64_t id) {
  RequireBilling(actor);
  Invoice out;
  db_.Write([&](db::Tx& tx) {
    Invoice inv = LoadInvoice(tx.sql(), id);
    if (inv.status != InvoiceStatus::kVoid) {
      throw Conflict("conflict", "Only a void invoice is reissued: void this one first");
    }
    auto made = DraftIn(tx, actor, inv.client_id, inv.month, StoredBillingSettings(tx.sql()), id);
    if (!made) {
      throw Conflict("conflict", inv.client_name + " has an invoice for " +
                                     FormatMonthForPeople(inv.month) +
                                     " that is not void, or nothing to bill for it");
    }
    out = LoadInvoice(tx.sql(), *made);
  });
  return out;
}

}  // namespace opsmerge::billing
