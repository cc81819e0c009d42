#include "cipp/service.h"

#include <initializer_list>
#include <map>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "cipp/model.h"
#include "clients/store.h"
#include "platform/errors.h"
#include "platform/http/request.h"
#include "platform/log.h"
#include "platform/settings.h"
#include "platform/text.h"

namespace opsmerge::cipp {

namespace {

using nlohmann::json;
namespace store = clients::store;

struct RollBack {};  // thrown to roll a dry run's transaction back

// The parts one after the other (one allocation, for the per-user lines).
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  size_t n = 0;
  for (std::string_view p : parts) n += p.size();
  out.reserve(n);
  for (std::string_view p : parts) out.append(p);
  return out;
}

constexpr size_t kMaxChanges = 2000;  // listed in a report; the counts are complete
constexpr int kReportsKept = 50;

struct Options {
  Connection conn;
  std::string tenant_id;
  bool create_clients = true;
  ImportMode mode = ImportMode::kLicensedEnabled;
  int64_t sync_hours = 0;
};

Options ReadOptions(soci::session& sql, const SecretBox& secrets) {
  auto get = [&](const char* k) { return settings::Get(sql, k).value_or(""); };
  Options o;
  o.conn.base_url = get("cipp_base_url");
  o.tenant_id = get("cipp_tenant_id");
  o.conn.token_url = TokenUrl(get("cipp_token_url"), o.tenant_id);
  o.conn.client_id = get("cipp_client_id");
  std::string sealed = get("cipp_client_secret");
  o.conn.client_secret = sealed.empty() ? "" : secrets.Open(sealed).value_or("");
  o.create_clients = get("cipp_create_clients") != "false";
  o.mode = ParseImportMode(get("cipp_import"));
  std::string hours = get("cipp_sync_hours");
  o.sync_hours = hours.empty() ? 0 : std::atoll(hours.c_str());
  return o;
}

void RequireConfigured(const Options& o) {
  if (o.conn.base_url.empty()) throw ValidationError("cipp_base_url", "Enter your CIPP's address");
  if (o.tenant_id.empty()) throw ValidationError("cipp_tenant_id", "Enter your tenant id");
  if (o.conn.client_id.empty()) {
    throw ValidationError("cipp_client_id", "Enter the CIPP API client's id");
  }
  if (o.conn.client_secret.empty()) {
    throw ValidationError("cipp_client_secret", "Enter the CIPP API client's secret");
  }
}

// Where a tenant goes (C4): the client holding its id; else the one client that
// matches it by name or by domain; else none (new). Two candidates: ambiguous.
struct Mapping {
  enum Kind { kHolder, kMatch, kNew, kAmbiguous } kind = kNew;
  int64_t client_id = 0;
  std::string client_name;
  std::string detail;  // how it matched, or why it is ambiguous
};

Mapping Classify(soci::session& sql, const Tenant& t) {
  Mapping m;
  if (auto holder = store::FindByTenantId(sql, t.id)) {
    m.kind = Mapping::kHolder;
    m.client_id = holder->id;
    m.client_name = holder->name;
    return m;
  }
  std::map<int64_t, std::string> candidates;  // client id -> how it matched
  std::map<int64_t, std::string> names;
  for (const store::NamedId& n : store::FindAllByNameKey(sql, clients::NameKey(t.display_name))) {
    auto c = store::FindClient(sql, n.id);
    if (!c || c->archived()) continue;
    candidates[n.id] = "by name";
    names[n.id] = c->name;
  }
  for (const std::string& domain : {t.default_domain, t.initial_domain}) {
    if (domain.empty()) continue;
    if (auto owner = store::FindActiveDomainOwner(sql, domain, 0)) {
      auto [it, added] = candidates.emplace(owner->id, "by domain " + domain);
      if (!added && it->second == "by name") it->second = "by name and domain";
      names[owner->id] = owner->name;
    }
  }
  if (candidates.empty()) return m;
  if (candidates.size() > 1) {
    m.kind = Mapping::kAmbiguous;
    std::string which;
    for (const auto& [id, how] : candidates) {
      which += (which.empty() ? "" : " and ") + names[id] + " (" + how + ")";
    }
    m.detail = "Matches " + which + ": link it to one by hand";
    return m;
  }
  auto [id, how] = *candidates.begin();
  auto c = store::FindClient(sql, id);
  if (c && !c->m365_tenant_id.empty()) {
    m.kind = Mapping::kAmbiguous;
    m.detail = "Matches " + names[id] + " (" + how + "), which is linked to another tenant";
    return m;
  }
  m.kind = Mapping::kMatch;
  m.client_id = id;
  m.client_name = names[id];
  m.detail = how;
  return m;
}

// A report being built: counts, the changes (capped) and errors.
struct Report {
  json doc;
  size_t changes = 0;
  explicit Report(bool dry_run) {
    doc = {{"dry_run", dry_run},
           {"ok", true},
           {"tenants",
            {{"matched", 0}, {"created", 0}, {"unmatched", 0}, {"ambiguous", 0}, {"failed", 0}}},
           {"contacts",
            {{"created", 0},
             {"updated", 0},
             {"paired", 0},
             {"deactivated", 0},
             {"reactivated", 0},
             {"unchanged", 0}}},
           {"changes", json::array()},
           {"errors", json::array()}};
  }
  void Count(const char* group, const char* what) {
    doc[group][what] = doc[group][what].get<int64_t>() + 1;
  }
  void Change(int64_t client_id, const std::string& tenant_id, const std::string& action,
              const std::string& detail) {
    if (++changes > kMaxChanges) return;
    doc["changes"].push_back({{"client_id", client_id ? json(client_id) : json()},
                              {"tenant_id", tenant_id},
                              {"action", action},
                              {"detail", detail}});
  }
  void Error(const std::string& message) { doc["errors"].push_back(message); }
};

constexpr const char* kPendingColumns =
    "SELECT tenant_id, display_name, default_domain, state, detail FROM cipp_tenants";

PendingTenant ToPending(const soci::row& row) {
  return {db::RowText(row, "tenant_id"), db::RowText(row, "display_name"),
          db::RowText(row, "default_domain"), db::RowText(row, "state"),
          db::RowText(row, "detail")};
}

void KeepPending(soci::session& sql, const Tenant& t, const std::string& state,
                 const std::string& detail, const std::string& now) {
  sql << "INSERT INTO cipp_tenants (tenant_id, display_name, default_domain, state, detail, "
         "seen_at) VALUES (:t, :n, :d, :s, :x, :at)",
      soci::use(t.id), soci::use(t.display_name), soci::use(t.default_domain), soci::use(state),
      soci::use(detail), soci::use(now);
}

// A linked tenant's users into its client's contacts (I2).
void ImportUsers(clients::ClientService& service, db::Tx& tx, const staff::Actor& actor,
                 int64_t client_id, const std::string& tenant_id, const std::vector<User>& users,
                 const Options& o, Report& r) {
  soci::session& sql = tx.sql();
  std::vector<clients::Contact> contacts = store::ListContacts(sql, client_id, 0, 1000000);
  std::map<std::string, clients::Contact*> by_user, by_email;
  for (clients::Contact& c : contacts) {
    if (!c.m365_user_id.empty()) by_user[c.m365_user_id] = &c;
    by_email[text::FoldCase(c.email)] = &c;
  }
  std::set<std::string> present;
  for (const User& u : users) {
    if (!Wanted(u, o.mode)) continue;
    present.insert(u.id);
    std::string email = EmailOf(u), name = NameOf(u), phone = PhoneOf(u);
    clients::Contact* c = nullptr;
    if (auto it = by_user.find(u.id); it != by_user.end()) c = it->second;
    try {
      if (c) {
        // Known: only values Microsoft 365 has replace ours.
        clients::ContactInput in;
        std::vector<std::string> fields;
        if (!name.empty() && name != c->name) in.name = name, fields.push_back("name");
        if (!email.empty() && email != text::FoldCase(c->email)) {
          auto other = by_email.find(email);
          if (other != by_email.end() && other->second != c) {
            r.Error(
                Cat({name, ": the new address ", email, " is another contact's; kept ", c->email}));
          } else {
            in.email = email;
            fields.push_back("email");
          }
        }
        if (!phone.empty() && phone != c->phone) in.phone = phone, fields.push_back("phone");
        if (!u.job_title.empty() && u.job_title != c->job_title) {
          in.job_title = u.job_title;
          fields.push_back("job title");
        }
        if (!fields.empty()) {
          service.UpdateContact(actor, c->id, in);
          std::string list;
          for (const auto& f : fields) list += (list.empty() ? "" : ", ") + f;
          r.Count("contacts", "updated");
          r.Change(client_id, tenant_id, "contact_updated", Cat({name, ": ", list}));
        }
        if (!c->active) {
          store::SetContactM365(sql, c->id, u.id, c->source, true);
          r.Count("contacts", "reactivated");
          r.Change(client_id, tenant_id, "contact_reactivated", name + " is back in Microsoft 365");
        }
        if (fields.empty() && c->active) r.Count("contacts", "unchanged");
        continue;
      }
      if (auto it = by_email.find(email);
          it != by_email.end() && it->second->m365_user_id.empty()) {
        // A contact someone added by hand: paired once, keeps its roles; from now
        // on the values Microsoft 365 has are its (so a re-sync changes nothing).
        c = it->second;
        clients::ContactInput in;
        if (!name.empty() && name != c->name) in.name = name;
        if (!phone.empty() && phone != c->phone) in.phone = phone;
        if (!u.job_title.empty() && u.job_title != c->job_title) in.job_title = u.job_title;
        if (in.name || in.phone || in.job_title) service.UpdateContact(actor, c->id, in);
        store::SetContactM365(sql, c->id, u.id, c->source, true);
        c->m365_user_id = u.id;
        by_user[u.id] = c;
        r.Count("contacts", "paired");
        r.Change(client_id, tenant_id, "contact_paired", c->name + " <" + c->email + ">");
        continue;
      }
      clients::ContactInput in;
      in.name = name;
      in.email = email;
      if (!phone.empty()) in.phone = phone;
      if (!u.job_title.empty()) in.job_title = u.job_title;
      clients::Contact made = service.CreateContact(actor, client_id, in);
      store::SetContactM365(sql, made.id, u.id, "m365", true);
      r.Count("contacts", "created");
      r.Change(client_id, tenant_id, "contact_created", Cat({name, " <", email, ">"}));
    } catch (const ValidationError& e) {
      r.Error(Cat({name, " <", email, ">: ", e.field(), ": ", e.what()}));
    } catch (const Conflict& e) {
      r.Error(Cat({name, " <", email, ">: ", e.what()}));
    }
  }
  // Gone, disabled or unlicensed in Microsoft 365: inactive, never deleted.
  for (clients::Contact& c : contacts) {
    if (c.m365_user_id.empty() || !c.active || present.count(c.m365_user_id)) continue;
    store::SetContactM365(sql, c.id, c.m365_user_id, c.source, false);
    r.Count("contacts", "deactivated");
    r.Change(client_id, tenant_id, "contact_deactivated",
             c.name + " <" + c.email + "> is gone or disabled in Microsoft 365");
  }
}

}  // namespace

CippService::CippService(db::Database& db, const audit::AuditLog& audit, const Clock& clock,
                         clients::ClientService& clients, const SecretBox& secrets,
                         HttpClient& http, std::string node_id)
    : db_(db),
      audit_(audit),
      clock_(clock),
      clients_(clients),
      secrets_(secrets),
      http_(http),
      node_id_(std::move(node_id)) {}

int64_t CippService::TestConnection(const staff::Actor& actor) {
  staff::Require(actor, staff::Permission::kManageStaff);
  Options o;
  db_.Read([&](soci::session& sql) { o = ReadOptions(sql, secrets_); });
  RequireConfigured(o);
  return static_cast<int64_t>(ParseTenants(http_.Get(o.conn, "/api/ListTenants")).size());
}

CippService::~CippService() {
  std::lock_guard<std::mutex> lock(worker_mu_);
  if (worker_.joinable()) worker_.join();
}

json CippService::Sync(const staff::Actor& actor, bool dry_run) {
  staff::Require(actor, staff::Permission::kManageStaff);
  // One sync at a time: in this process (the lease is held per node) and across
  // every node (a second would only repeat the work).
  bool idle = false;
  if (!busy_.compare_exchange_strong(idle, true)) {
    throw Conflict("busy", "A Microsoft 365 sync is already running: try again in a minute");
  }
  struct Done {
    std::atomic<bool>& busy;
    ~Done() { busy = false; }
  } done{busy_};
  int64_t now = clock_.NowUnix();
  if (!db_.TryLease("cipp-sync", node_id_, now, 1800)) {
    throw Conflict("busy", "A Microsoft 365 sync is already running: try again in a minute");
  }
  json report;
  try {
    report = Run(actor, dry_run);
  } catch (...) {
    db_.ReleaseLease("cipp-sync", node_id_);
    throw;
  }
  db_.ReleaseLease("cipp-sync", node_id_);
  return report;
}

json CippService::Run(const staff::Actor& actor, bool dry_run) {
  Options o;
  db_.Read([&](soci::session& sql) { o = ReadOptions(sql, secrets_); });
  RequireConfigured(o);
  Report r(dry_run);
  std::string started = FormatIsoUtc(clock_.NowUnix());

  // 1. Everything from CIPP first, outside any transaction.
  std::vector<Tenant> tenants;
  std::map<std::string, std::vector<User>> users;
  std::map<std::string, std::string> failed;  // tenant id -> why
  try {
    tenants = ParseTenants(http_.Get(o.conn, "/api/ListTenants"));
  } catch (const CippError& e) {
    r.Error(e.what());
  }
  std::vector<std::string> linked;
  db_.Read([&](soci::session& sql) {
    for (const Tenant& t : tenants) {
      Mapping m = Classify(sql, t);
      if (m.kind == Mapping::kHolder || m.kind == Mapping::kMatch ||
          (m.kind == Mapping::kNew && o.create_clients)) {
        linked.push_back(t.id);
      }
    }
  });
  for (const std::string& id : linked) {
    try {
      users[id] =
          ParseUsers(http_.Get(o.conn, "/api/ListUsers?tenantFilter=" + http::UrlEncode(id)));
    } catch (const CippError& e) {
      failed[id] = e.what();
    }
  }
  // Anything CIPP could not give us fails the whole sync: nothing is applied, so
  // no client is half-imported and no user is taken for gone.
  for (const Tenant& t : tenants) {
    if (auto f = failed.find(t.id); f != failed.end()) {
      r.Count("tenants", "failed");
      r.Error(t.display_name + ": " + f->second);
    }
  }

  // 2. One transaction applies it all; a dry run rolls it back.
  if (r.doc["errors"].empty()) {
    try {
      db_.Write([&](db::Tx& tx) {
        soci::session& sql = tx.sql();
        std::string at = FormatIsoUtc(clock_.NowUnix());
        sql << "DELETE FROM cipp_tenants";
        for (const Tenant& t : tenants) {
          Mapping m = Classify(sql, t);
          if (m.kind == Mapping::kAmbiguous) {
            r.Count("tenants", "ambiguous");
            r.Change(0, t.id, "ambiguous", t.display_name + ": " + m.detail);
            KeepPending(sql, t, "ambiguous", m.detail, at);
            continue;
          }
          if (m.kind == Mapping::kNew && !o.create_clients) {
            r.Count("tenants", "unmatched");
            r.Change(0, t.id, "unmatched", t.display_name + ": no client has its name or domain");
            KeepPending(sql, t, "unmatched", "No client has this name or domain", at);
            continue;
          }
          auto fetched = users.find(t.id);
          if (fetched == users.end()) {
            // Linked by someone else while this sync read CIPP: next time.
            r.Count("tenants", "failed");
            r.Error(t.display_name + ": changed during the sync; sync again");
            continue;
          }
          int64_t client_id = m.client_id;
          if (m.kind == Mapping::kNew) {
            clients::ClientInput in;
            in.name = t.display_name;
            if (!t.default_domain.empty()) in.domain = t.default_domain;
            in.m365_tenant_id = t.id;
            try {
              client_id = clients_.Create(actor, in, false).client.id;
            } catch (const std::exception& e) {
              r.Count("tenants", "failed");
              r.Error(t.display_name + ": the client could not be made: " + e.what());
              continue;
            }
            r.Count("tenants", "created");
            r.Change(client_id, t.id, "created", "New client " + t.display_name);
          } else {
            r.Count("tenants", "matched");
            if (m.kind == Mapping::kMatch) {
              store::SetTenantId(sql, client_id, t.id);
              r.Change(client_id, t.id, "linked",
                       t.display_name + " linked to " + m.client_name + " " + m.detail);
            }
          }
          ImportUsers(clients_, tx, actor, client_id, t.id, fetched->second, o, r);
          store::SetSyncedAt(sql, client_id, at);
        }
        if (dry_run) throw RollBack{};
      });
    } catch (const RollBack&) {
    }
  }
  r.doc["ok"] = r.doc["errors"].empty();
  if (r.changes > kMaxChanges) {
    r.doc["changes_left_out"] = static_cast<int64_t>(r.changes - kMaxChanges);
  }

  // 3. The report, stored (dry or not), and the audit line of a real sync.
  db_.Write([&](soci::session& sql) {
    int dry = dry_run ? 1 : 0, ok = r.doc["ok"].get<bool>() ? 1 : 0;
    std::string text = r.doc.dump();
    sql << "INSERT INTO cipp_reports (started_at, dry_run, ok, report) VALUES (:s, :d, :o, :r)",
        soci::use(started), soci::use(dry), soci::use(ok), soci::use(text);
    long long keep = kReportsKept;
    sql << "DELETE FROM cipp_reports WHERE id NOT IN (SELECT id FROM cipp_reports ORDER BY id "
           "DESC LIMIT :k)",
        soci::use(keep);
    if (!dry_run) {
      const json& t = r.doc["tenants"];
      const json& c = r.doc["contacts"];
      audit_.Write(sql, actor.Who(),
                   {"sync", "m365", std::nullopt, std::nullopt,
                    "Microsoft 365 sync: " + t["created"].dump() + " clients created, " +
                        c["created"].dump() + " contacts created, " + c["updated"].dump() +
                        " updated, " + c["deactivated"].dump() + " deactivated" +
                        (r.doc["ok"].get<bool>() ? "" : " (with errors)"),
                    "", ""});
    }
  });
  return r.doc;
}

void CippService::StartSync(const staff::Actor& actor, bool dry_run) {
  staff::Require(actor, staff::Permission::kManageStaff);
  Options o;
  db_.Read([&](soci::session& sql) { o = ReadOptions(sql, secrets_); });
  RequireConfigured(o);
  std::lock_guard<std::mutex> lock(worker_mu_);
  if (Running()) {
    throw Conflict("busy", "A Microsoft 365 sync is already running: try again in a minute");
  }
  if (worker_.joinable()) worker_.join();  // the last one, finished
  worker_ = std::thread([this, actor, dry_run] {
    try {
      Sync(actor, dry_run);
    } catch (const std::exception& e) {
      log::Error(std::string("Microsoft 365 sync: ") + e.what());
    }
  });
}

bool CippService::Running() {
  if (busy_) return true;
  long long held = 0, now = clock_.NowUnix();
  db_.Read([&](soci::session& sql) {
    sql << "SELECT COUNT(*) FROM leases WHERE name = 'cipp-sync' AND expires_at > :n",
        soci::use(now), soci::into(held);
  });
  return held > 0;
}

std::string CippService::ScheduledSync() {
  Options o;
  std::string last;
  db_.Read([&](soci::session& sql) {
    o = ReadOptions(sql, secrets_);
    soci::indicator ind = soci::i_null;
    sql << "SELECT MAX(started_at) FROM cipp_reports WHERE dry_run = 0", soci::into(last, ind);
    if (ind != soci::i_ok) last.clear();
  });
  if (o.sync_hours <= 0 || o.conn.base_url.empty()) return "";
  if (!last.empty() && last > FormatIsoUtc(clock_.NowUnix() - o.sync_hours * 3600)) return "";
  try {
    json r = Sync(staff::Actor::System(), false);
    return "Microsoft 365 sync: " + r["tenants"].dump() + " " + r["contacts"].dump() +
           (r["ok"].get<bool>() ? "" : " errors: " + r["errors"].dump());
  } catch (const Conflict&) {
    return "";  // another node's sync is running
  }
}

std::vector<StoredReport> CippService::Reports(const staff::Actor& actor, int limit) {
  staff::Require(actor, staff::Permission::kManageStaff);
  std::vector<StoredReport> out;
  db_.Read([&](soci::session& sql) {
    long long n = limit;
    soci::rowset<soci::row> rs =
        (sql.prepare << "SELECT id, started_at, dry_run, ok, report FROM cipp_reports ORDER BY id "
                        "DESC LIMIT :n",
         soci::use(n));
    for (const auto& row : rs) {
      out.push_back({db::RowInt(row, "id"), db::RowText(row, "started_at"),
                     db::RowInt(row, "dry_run") != 0, db::RowInt(row, "ok") != 0,
                     db::RowText(row, "report")});
    }
  });
  return out;
}

std::vector<PendingTenant> CippService::Pending(const staff::Actor& actor) {
  staff::Require(actor, staff::Permission::kManageStaff);
  std::vector<PendingTenant> out;
  db_.Read([&](soci::session& sql) {
    soci::rowset<soci::row> rs =
        (sql.prepare << std::string(kPendingColumns) + " ORDER BY display_name");
    for (const auto& row : rs) out.push_back(ToPending(row));
  });
  return out;
}

namespace {
PendingTenant FindPending(soci::session& sql, const std::string& tenant_id) {
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kPendingColumns) + " WHERE tenant_id = :t", soci::use(tenant_id));
  for (const auto& row : rs) return ToPending(row);
  throw NotFound("Tenant");
}
}  // namespace

int64_t CippService::CreateClientFor(const staff::Actor& actor, const std::string& tenant_id) {
  staff::Require(actor, staff::Permission::kManageStaff);
  int64_t id = 0;
  db_.Write([&](soci::session& sql) {
    PendingTenant p = FindPending(sql, tenant_id);
    clients::ClientInput in;
    in.name = p.display_name;
    if (!p.default_domain.empty()) in.domain = p.default_domain;
    in.m365_tenant_id = p.tenant_id;
    id = clients_.Create(actor, in, true).client.id;
    sql << "DELETE FROM cipp_tenants WHERE tenant_id = :t", soci::use(tenant_id);
  });
  return id;
}

void CippService::LinkTenant(const staff::Actor& actor, const std::string& tenant_id,
                             int64_t client_id) {
  staff::Require(actor, staff::Permission::kManageStaff);
  db_.Write([&](soci::session& sql) {
    FindPending(sql, tenant_id);
    clients::ClientInput in;
    in.m365_tenant_id = tenant_id;
    clients_.Update(actor, client_id, in, false);
    sql << "DELETE FROM cipp_tenants WHERE tenant_id = :t", soci::use(tenant_id);
  });
}

}  // namespace opsmerge::cipp
