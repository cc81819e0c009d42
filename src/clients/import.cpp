// CSV import and export of clients and contacts (issue "first user", item 13).
// An import runs every row through the same use cases a person's form does, in one
// transaction, and keeps it only when every row is fine and the person asked to.
#include <algorithm>
#include <limits>
#include <map>

#include <soci/soci.h>

#include "clients/json.h"
#include "clients/service.h"
#include "clients/store.h"
#include "platform/csv.h"
#include "platform/errors.h"
#include "platform/text.h"

namespace opsmerge::clients {

namespace {

// Thrown inside the transaction to roll it back on purpose (a preview, or errors).
struct RollBack {};

// "Email Address", "e-mail", "job title" -> "email_address", "e_mail", "job_title".
std::string HeaderKey(const std::string& h) {
  std::string k = text::FoldCase(text::Trim(h)), out;
  for (char c : k) out += (c == ' ' || c == '-' || c == '.') ? '_' : c;
  return out;
}

// Which column of the file holds each of our fields: the first whose header is
// one of the field's names. Columns that match none are reported as ignored.
struct Columns {
  std::map<std::string, size_t> of;  // our field -> column index
  std::vector<std::string> used, ignored;
  const std::string* Get(const std::vector<std::string>& row, const std::string& field) const {
    auto it = of.find(field);
    return it == of.end() ? nullptr : &row[it->second];
  }
};

Columns MapColumns(const std::vector<std::string>& header,
                   const std::map<std::string, std::vector<std::string>>& names) {
  Columns cols;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string key = HeaderKey(header[i]);
    bool matched = false;
    for (const auto& [field, aliases] : names) {
      if (cols.of.count(field)) continue;
      if (std::find(aliases.begin(), aliases.end(), key) != aliases.end()) {
        cols.of[field] = i;
        matched = true;
        break;
      }
    }
    (matched ? cols.used : cols.ignored).push_back(header[i]);
  }
  return cols;
}

std::vector<std::string> UsedValues(const Columns& cols, const std::vector<std::string>& header,
                                    const std::vector<std::string>& row) {
  std::vector<std::string> out;
  for (size_t i = 0; i < header.size(); ++i) {
    if (std::find(cols.ignored.begin(), cols.ignored.end(), header[i]) == cols.ignored.end()) {
      out.push_back(row[i]);
    }
  }
  return out;
}

const std::map<std::string, std::vector<std::string>> kClientColumns = {
    {"name",
     {"name", "client", "client_name", "company", "company_name", "organisation", "organization",
      "account", "account_name"}},
    {"domain", {"domain", "website", "web_site", "url", "email_domain"}},
    {"domains", {"domains", "other_domains", "extra_domains"}},
    {"contact_email", {"contact_email", "email", "email_address", "e_mail"}},
    {"notes", {"notes", "note", "comments", "description"}},
};

const std::map<std::string, std::vector<std::string>> kContactColumns = {
    {"client",
     {"client", "client_name", "company", "company_name", "organisation", "organization", "account",
      "account_name", "client_domain"}},
    {"name", {"name", "full_name", "display_name", "contact_name", "contact"}},
    {"first_name", {"first_name", "firstname", "given_name", "forename"}},
    {"last_name", {"last_name", "lastname", "surname", "family_name"}},
    {"email", {"email", "email_address", "e_mail", "mail", "primary_email"}},
    {"phone", {"phone", "telephone", "phone_number", "mobile", "mobile_phone", "tel"}},
    {"job_title", {"job_title", "position", "job"}},
    {"vip", {"vip"}},
    {"portal_user", {"portal_user", "portal"}},
    {"billing_recipient", {"billing_recipient", "billing"}},
    {"primary_technical", {"primary_technical", "primary_technical_contact", "primary"}},
};

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s + " ") {
    if (c == ' ' || c == ',' || c == ';') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  return out;
}

// Runs `row_fn` for every row inside one transaction, recording each outcome;
// keeps the transaction only when `write` and no row failed.
void RunImport(
    db::Database& db, const csv::Table& table, const Columns& cols, bool write,
    ImportReport& report,
    const std::function<void(db::Tx&, const std::vector<std::string>&, ImportRow&)>& row_fn) {
  report.columns = cols.used;
  report.ignored = cols.ignored;
  try {
    db.Write([&](db::Tx&) {
      for (size_t i = 0; i < table.rows.size(); ++i) {
        ImportRow row;
        row.line = table.lines[i];
        row.values = UsedValues(cols, table.header, table.rows[i]);
        try {
          // Each row is a savepoint: a refused row leaves nothing behind.
          db.Write([&](db::Tx& inner) { row_fn(inner, table.rows[i], row); });
          if (row.outcome == ImportRow::Outcome::kNew) ++report.created;
        } catch (const Conflict& e) {
          row.outcome = ImportRow::Outcome::kSkipped;
          row.field = e.field();
          row.message = e.what();
          ++report.skipped;
        } catch (const ValidationError& e) {
          row.outcome = ImportRow::Outcome::kError;
          row.field = e.field();
          row.message = e.what();
          ++report.errors;
        } catch (const NotFound& e) {
          row.outcome = ImportRow::Outcome::kError;
          row.message = e.what();
          ++report.errors;
        }
        report.rows.push_back(std::move(row));
      }
      if (!write || report.errors > 0) throw RollBack{};
    });
    report.written = true;
  } catch (const RollBack&) {
    report.written = false;
  }
}

}  // namespace

ImportReport ClientService::ImportClients(const staff::Actor& actor, const std::string& text,
                                          bool write) {
  staff::Require(actor, staff::Permission::kEditClients);
  csv::Table table = csv::Parse(text, "csv", kMaxImportRows);
  Columns cols = MapColumns(table.header, kClientColumns);
  if (!cols.of.count("name")) {
    throw ValidationError("csv", "The header row has no name column (\"name\" or \"company\")");
  }
  ImportReport report;
  report.kind = "clients";
  RunImport(db_, table, cols, write, report,
            [&](db::Tx&, const std::vector<std::string>& r, ImportRow&) {
              ClientInput in;
              in.name = *cols.Get(r, "name");
              if (const auto* d = cols.Get(r, "domain")) in.domain = *d;
              if (const auto* d = cols.Get(r, "domains")) in.domains = SplitList(*d);
              if (const auto* e = cols.Get(r, "contact_email")) in.contact_email = *e;
              if (const auto* n = cols.Get(r, "notes")) in.notes = *n;
              Create(actor, in, /*confirm_duplicate_name=*/false);
            });
  return report;
}

ImportReport ClientService::ImportContacts(const staff::Actor& actor, const std::string& text,
                                           bool write) {
  staff::Require(actor, staff::Permission::kEditClients);
  csv::Table table = csv::Parse(text, "csv", kMaxImportRows);
  Columns cols = MapColumns(table.header, kContactColumns);
  if (!cols.of.count("email")) {
    throw ValidationError("csv", "The header row has no email column");
  }
  if (!cols.of.count("name") && !cols.of.count("first_name") && !cols.of.count("last_name")) {
    throw ValidationError("csv",
                          "The header row has no name column (\"name\", or \"first name\" and "
                          "\"last name\")");
  }
  ImportReport report;
  report.kind = "contacts";
  RunImport(db_, table, cols, write, report,
            [&](db::Tx& tx, const std::vector<std::string>& r, ImportRow&) {
              ContactInput in;
              if (const auto* n = cols.Get(r, "name"); n && !n->empty()) {
                in.name = *n;
              } else {
                const auto *first = cols.Get(r, "first_name"), *last = cols.Get(r, "last_name");
                in.name =
                    text::CollapseWhitespace((first ? *first : "") + " " + (last ? *last : ""));
              }
              in.email = text::EmailFromPasted(*cols.Get(r, "email"));
              if (const auto* p = cols.Get(r, "phone")) in.phone = *p;
              if (const auto* j = cols.Get(r, "job_title")) in.job_title = *j;
              auto flag = [&](const char* field, std::optional<bool>& slot) {
                const auto* v = cols.Get(r, field);
                if (!v) return;
                slot = ParseYesNo(*v);
                if (!slot) throw ValidationError(field, std::string(field) + " must be yes or no");
              };
              flag("vip", in.vip);
              flag("portal_user", in.portal_user);
              flag("billing_recipient", in.billing_recipient);
              flag("primary_technical", in.primary_technical);
              // The client: named in the file (by name or domain), else the one
              // whose domain the email is at, as the email gateway routes.
              soci::session& sql = tx.sql();
              std::optional<int64_t> client_id;
              const auto* named = cols.Get(r, "client");
              if (named && !text::Trim(*named).empty()) {
                std::vector<store::NamedId> by_name = store::FindAllByNameKey(sql, NameKey(*named));
                std::erase_if(by_name, [&](const store::NamedId& n) {
                  auto c = store::FindClient(sql, n.id);
                  return !c || c->archived();
                });
                if (by_name.size() > 1) {
                  throw ValidationError("client", "More than one client is named " + *named +
                                                      ": use the client's domain instead");
                }
                if (by_name.size() == 1) {
                  client_id = by_name[0].id;
                } else if (auto d = text::DomainFromPasted(*named)) {
                  if (auto owner = store::FindActiveDomainOwner(sql, *d, 0)) client_id = owner->id;
                }
                if (!client_id) {
                  throw ValidationError("client", "No active client is named or has the domain " +
                                                      text::Trim(*named));
                }
              } else {
                std::optional<std::string> email = text::NormalizeEmail(*in.email);
                if (!email) throw ValidationError("email", "Email is not a valid address");
                std::string domain = email->substr(email->rfind('@') + 1);
                auto owner = store::FindActiveDomainOwner(sql, domain, 0);
                if (!owner) {
                  throw ValidationError(
                      "client", "No client has the domain " + domain + ": add a client column");
                }
                client_id = owner->id;
              }
              CreateContact(actor, *client_id, in);
            });
  return report;
}

std::string ClientService::ExportClients(const staff::Actor& actor, ArchivedFilter archived) {
  staff::Require(actor, staff::Permission::kEditClients);
  std::string out = csv::Row({"id", "name", "domain", "other_domains", "contact_email", "notes",
                              "archived", "created_at"});
  // Read without holding the write lock; the audit row is a short write of its own,
  // and the file is handed out only once it is recorded.
  std::vector<Client> all;
  db_.Read([&](soci::session& sql) {
    ClientQuery q;
    q.archived = archived;
    q.limit = std::numeric_limits<int32_t>::max();
    all = store::ListClients(sql, q, nullptr);
  });
  for (const auto& c : all) {
    std::string extra;
    for (const auto& d : c.domains) extra += (extra.empty() ? "" : " ") + d;
    out += csv::Row({std::to_string(c.id), c.name, c.domain, extra, c.contact_email, c.notes,
                     c.archived() ? "yes" : "no", c.created_at});
  }
  db_.Write([&](soci::session& sql) {
    audit_.Write(
        sql, actor.Who(),
        {"export", "client", std::nullopt, std::nullopt,
         "Exported " + text::CountOf(static_cast<int64_t>(all.size()), "client", "clients"), "",
         ""});
  });
  return out;
}

std::string ClientService::ExportContacts(const staff::Actor& actor) {
  staff::Require(actor, staff::Permission::kEditClients);
  std::string out = csv::Row({"id", "client", "client_id", "name", "email", "phone", "job_title",
                              "vip", "portal_user", "billing_recipient", "primary_technical"});
  std::vector<ContactHit> all;
  db_.Read([&](soci::session& sql) { all = store::AllContacts(sql); });
  auto yes = [](bool b) { return std::string(b ? "yes" : "no"); };
  for (const auto& h : all) {
    const Contact& c = h.contact;
    out += csv::Row({std::to_string(c.id), h.client_name, std::to_string(c.client_id), c.name,
                     c.email, c.phone, c.job_title, yes(c.roles.vip), yes(c.roles.portal_user),
                     yes(c.roles.billing_recipient), yes(c.roles.primary_technical)});
  }
  db_.Write([&](soci::session& sql) {
    audit_.Write(
        sql, actor.Who(),
        {"export", "contact", std::nullopt, std::nullopt,
         "Exported " + text::CountOf(static_cast<int64_t>(all.size()), "contact", "contacts"), "",
         ""});
  });
  return out;
}

}  // namespace opsmerge::clients
