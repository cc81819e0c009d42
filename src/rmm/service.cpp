#include "rmm/service.h"

#include <algorithm>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "platform/crypto.h"
#include "platform/errors.h"
#include "platform/search_terms.h"
#include "platform/text.h"

namespace opsmerge::rmm {

namespace {

using nlohmann::json;

json TokenAudit(const EnrollmentToken& t) {
  return {{"id", t.id},
          {"client_id", t.client_id},
          {"site_id", t.site_id ? json(*t.site_id) : json()},
          {"prefix", t.prefix},
          {"expires_at", FormatIsoUtc(t.expires_at)},
          {"max_uses", t.max_uses ? json(*t.max_uses) : json()}};
}

json EndpointAudit(const Endpoint& e) {
  return {{"id", e.id},
          {"client_id", e.client_id},
          {"site_id", e.site_id ? json(*e.site_id) : json()},
          {"hostname", e.hostname},
          {"billable", e.billable},
          {"retired", e.retired},
          {"notes", e.notes}};
}

audit::Who AgentWho(const std::string& hostname) {
  return audit::Who{std::nullopt, "agent " + hostname};
}

constexpr const char* kTokenPrefix = "omt_";

}  // namespace

// The site a request names, checked in the caller's transaction against the client
// it must belong to.
clients::Site RmmService::SiteOf(db::Tx& tx, const staff::Actor& actor, int64_t site_id,
                                 int64_t client_id) {
  clients::Site site;
  try {
    site = clients_.GetSiteIn(tx, actor, site_id);
  } catch (const NotFound&) {
    throw ValidationError("site_id", "There is no such site");
  }
  if (site.client_id != client_id) {
    throw ValidationError("site_id", "That site belongs to another client");
  }
  return site;
}

IssuedToken RmmService::IssueToken(const staff::Actor& actor, int64_t client_id,
                                   const TokenRequest& request) {
  staff::Require(actor, staff::Permission::kEditClients);
  int64_t days = request.expires_in_days.value_or(7);
  if (days < 1 || days > 365)
    throw ValidationError("expires_in_days", "expires_in_days must be 1-365");
  if (request.max_uses && (*request.max_uses < 1 || *request.max_uses > 1000000)) {
    throw ValidationError("max_uses", "max_uses must be at least 1 (leave it out for unlimited)");
  }
  IssuedToken issued;
  issued.secret = kTokenPrefix + crypto::RandomToken(32);
  int64_t now = clock_.NowUnix();
  db_.Write([&](db::Tx& tx) {
    // Client and site are checked in the transaction that issues the token, so a
    // client archived or a site deleted meanwhile cannot slip through.
    clients::ClientDetail client = clients_.GetIn(tx, actor, client_id);  // Moved / NotFound
    if (client.client.archived()) {
      throw Conflict("conflict", client.client.name + " is archived: unarchive it to add agents");
    }
    if (request.site_id) SiteOf(tx, actor, *request.site_id, client_id);
    soci::session& sql = tx.sql();
    std::string prefix = issued.secret.substr(0, 10);
    int64_t id = store::InsertToken(sql, client_id, request.site_id,
                                    crypto::HashToken(issued.secret), prefix, actor.name,
                                    FormatIsoUtc(now), now + days * 86400, request.max_uses);
    issued.token = *store::FindToken(sql, id);
    audit_.Write(
        sql, actor.Who(),
        {"create", "enrollment_token", id, client_id,
         "Issued an agent enrolment token (" + prefix + "…)", "", TokenAudit(issued.token).dump()});
  });
  return issued;
}

std::vector<EnrollmentToken> RmmService::ListTokens(const staff::Actor& actor, int64_t client_id) {
  clients_.Get(actor, client_id);
  std::vector<EnrollmentToken> out;
  db_.Read([&](soci::session& sql) { out = store::ListTokens(sql, client_id); });
  return out;
}

void RmmService::RevokeToken(const staff::Actor& actor, int64_t token_id,
                             std::optional<int64_t> client_id) {
  staff::Require(actor, staff::Permission::kEditClients);
  db_.Write([&](soci::session& sql) {
    auto t = store::FindToken(sql, token_id);
    if (!t || (client_id && t->client_id != *client_id)) throw NotFound("Enrolment token");
    if (!t->revoked_at.empty()) return;
    store::RevokeToken(sql, token_id, FormatIsoUtc(clock_.NowUnix()));
    audit_.Write(sql, actor.Who(),
                 {"revoke", "enrollment_token", token_id, t->client_id,
                  "Revoked agent enrolment token " + t->prefix + "…", TokenAudit(*t).dump(), ""});
  });
}

Enrolled RmmService::Enroll(const json& body, const std::string& remote_ip) {
  if (!body.is_object()) throw ValidationError("body", "The request body must be a JSON object");
  auto tok = body.find("token");
  if (tok == body.end() || !tok->is_string() || tok->get_ref<const std::string&>().size() > 200) {
    throw ValidationError("token", "token is required");
  }
  std::string token = text::Trim(tok->get<std::string>());
  static const json kNoInventory = json::object();
  const json* inventory = &kNoInventory;
  if (auto i = body.find("inventory"); i != body.end() && !i->is_null()) inventory = &*i;
  std::string hostname;
  if (auto h = body.find("hostname"); h != body.end() && h->is_string()) {
    hostname = h->get<std::string>();
  }
  Inventory inv = ValidateInventory(*inventory, hostname);
  std::string inventory_hash;
  if (auto h = body.find("inventory_hash");
      h != body.end() && h->is_string() && h->get_ref<const std::string&>().size() <= 128) {
    inventory_hash = h->get<std::string>();
  }

  Enrolled out;
  std::optional<int64_t> replaced;  // an endpoint retired by this enrolment
  out.secret = crypto::RandomToken(32);
  out.checkin_interval = settings_.checkin_interval;
  int64_t now = clock_.NowUnix();
  db_.Write([&](soci::session& sql) {
    std::string hash = crypto::HashToken(token);
    auto t = store::FindTokenByHash(sql, hash);
    if (!t) throw Unauthorized("This enrolment token is not valid");
    switch (StateOf(*t, now)) {
      case TokenState::kExpired:
        throw Forbidden("This enrolment token expired on " + FormatIsoUtc(t->expires_at) +
                            ": issue a new one from the client's Add agent dialog",
                        "token_expired");
      case TokenState::kRevoked:
        throw Forbidden("This enrolment token was revoked", "token_revoked");
      case TokenState::kExhausted:
        throw Forbidden("This enrolment token has been used its maximum number of times",
                        "token_exhausted");
      case TokenState::kUsable:
        break;
    }
    if (!store::ConsumeToken(sql, t->id, now)) {
      throw Forbidden("This enrolment token has been used its maximum number of times",
                      "token_exhausted");
    }
    std::string now_text = FormatIsoUtc(now);
    out.client_id = t->client_id;
    out.site_id = t->site_id;
    // The same machine again (same machine id and hostname, and the same serial when
    // both report one): not a second billable endpoint. A clone of a golden image
    // shares the machine id but not the hostname, so it stays a machine of its own.
    std::optional<store::MachineMatch> earlier;
    if (!inv.machine_id.empty()) {
      for (const auto& m : store::FindByMachine(sql, inv.machine_id)) {
        if (text::FoldCase(m.hostname) == text::FoldCase(inv.hostname) &&
            (m.serial.empty() || inv.serial.empty() || m.serial == inv.serial)) {
          earlier = m;
          break;
        }
      }
    }
    json after = {{"hostname", inv.hostname},
                  {"client_id", t->client_id},
                  {"site_id", t->site_id ? json(*t->site_id) : json()},
                  {"token", t->prefix},
                  {"from", remote_ip}};
    if (earlier && earlier->client_id == t->client_id) {
      out.endpoint_id = earlier->id;
      store::TakeOverEndpoint(sql, earlier->id, t->site_id, crypto::HashToken(out.secret), t->id,
                              now_text);
      // Every node drops the old credential from its cache.
      store::RecordRevocation(sql, earlier->id, now);
      store::RecordInventory(sql, out.endpoint_id, now, inv, inventory_hash);
      after["id"] = out.endpoint_id;
      audit_.Write(sql, AgentWho(inv.hostname),
                   {"reenroll", "endpoint", out.endpoint_id, t->client_id,
                    "Endpoint " + inv.hostname + " enrolled again with token " + t->prefix +
                        "…: same machine, same endpoint and history",
                    "", after.dump()});
      return;
    }
    out.endpoint_id = store::InsertEndpoint(sql, t->client_id, t->site_id, inv.hostname,
                                            crypto::HashToken(out.secret), t->id, now_text);
    store::RecordInventory(sql, out.endpoint_id, now, inv, inventory_hash);
    after["id"] = out.endpoint_id;
    audit_.Write(
        sql, AgentWho(inv.hostname),
        {"enroll", "endpoint", out.endpoint_id, t->client_id,
         "Endpoint " + inv.hostname + " enrolled with token " + t->prefix + "…", "", after.dump()});
    if (earlier) {
      // Moved to another client: the old endpoint is retired and points here.
      store::RetireReplaced(sql, earlier->id, out.endpoint_id, now_text);
      replaced = earlier->id;
      store::RecordRevocation(sql, earlier->id, now);
      audit_.Write(sql, AgentWho(inv.hostname),
                   {"retire", "endpoint", earlier->id, earlier->client_id,
                    "Endpoint " + inv.hostname +
                        " retired: the machine enrolled into another client (endpoint " +
                        std::to_string(out.endpoint_id) + ")",
                    "", json{{"retired", true}, {"replaced_by", out.endpoint_id}}.dump()});
    }
  });
  // A replaced endpoint's credential ends on this node now (others follow the log).
  if (replaced) ForgetAgent(*replaced);
  // Its first check-in then needs no read on this node.
  RememberAgent(out.endpoint_id, KnownAgent{crypto::HashToken(out.secret), inventory_hash, now});
  return out;
}

CheckinReply RmmService::Checkin(const std::string& authorization, const json& body) {
  auto creds = ParseAgentAuthorization(authorization);
  if (!creds) throw Unauthorized("Send Authorization: Agent <id>:<secret>");
  if (!body.is_object()) throw ValidationError("body", "The request body must be a JSON object");
  static const json kNoMetrics = json::object();
  auto m = body.find("metrics");
  Metrics metrics = ValidateMetrics(m == body.end() || m->is_null() ? kNoMetrics : *m);
  std::optional<Inventory> inv;
  std::string inventory_hash;
  if (auto h = body.find("inventory_hash"); h != body.end() && !h->is_null()) {
    if (!h->is_string() || h->get_ref<const std::string&>().size() > 128) {
      throw ValidationError("inventory_hash", "inventory_hash must be a short string");
    }
    inventory_hash = h->get<std::string>();
  }
  if (auto i = body.find("inventory"); i != body.end() && !i->is_null())
    inv = ValidateInventory(*i);

  int64_t now = clock_.NowUnix();
  std::string presented = crypto::HashToken(creds->secret);
  SyncRevocations();
  std::optional<KnownAgent> agent = CachedAgent(creds->endpoint_id, now);
  if (!agent || !crypto::ConstantTimeEquals(agent->secret_hash, presented)) {
    std::optional<store::AgentRow> row;
    db_.Read([&](soci::session& sql) { row = store::FindAgent(sql, creds->endpoint_id); });
    if (!row || !crypto::ConstantTimeEquals(row->secret_hash, presented)) {
      throw Unauthorized("Unknown agent or wrong secret");
    }
    agent = KnownAgent{row->secret_hash, row->inventory_hash, now};
    RememberAgent(creds->endpoint_id, *agent);
  }
  CheckinReply reply{settings_.checkin_interval, agent->inventory_hash};
  heartbeats_.Write(creds->endpoint_id, now, metrics);
  if (inv) {
    // Inventories are rare (only when their hash changes): written on their own.
    db_.Write([&](soci::session& sql) {
      store::RecordInventory(sql, creds->endpoint_id, now, *inv, inventory_hash);
    });
    reply.inventory_hash = inventory_hash;
    agent->inventory_hash = inventory_hash;
    RememberAgent(creds->endpoint_id, *agent);
  }
  return reply;
}

namespace {
constexpr int64_t kCredentialTtl = 600;
constexpr size_t kCredentialCacheSize = 1000000;
}  // namespace

const std::chrono::seconds RmmService::kRevocationPoll{2};

std::optional<RmmService::KnownAgent> RmmService::CachedAgent(int64_t endpoint_id, int64_t now) {
  MutexLock lock(agents_mu_);
  auto it = agents_.find(endpoint_id);
  if (it == agents_.end() || now - it->second.cached_at > kCredentialTtl) return std::nullopt;
  return it->second;
}

void RmmService::RememberAgent(int64_t endpoint_id, KnownAgent agent) {
  MutexLock lock(agents_mu_);
  if (agents_.size() >= kCredentialCacheSize) agents_.clear();
  agents_[endpoint_id] = std::move(agent);
}

void RmmService::ForgetAgent(int64_t endpoint_id) {
  MutexLock lock(agents_mu_);
  agents_.erase(endpoint_id);
}

void RmmService::SyncRevocations() {
  auto steady = std::chrono::steady_clock::now();
  std::optional<int64_t> after;
  {
    MutexLock lock(agents_mu_);
    if (last_revocation_ && steady - revocations_checked_ < kRevocationPoll) return;
    revocations_checked_ = steady;
    after = last_revocation_;
  }
  std::vector<store::Revocation> revoked;
  int64_t latest = 0;
  db_.Read([&](soci::session& sql) {
    if (after) {
      revoked = store::RevocationsAfter(sql, *after);
    } else {
      latest = store::LatestRevocationId(sql);
    }
  });
  MutexLock lock(agents_mu_);
  if (!after) {
    // First look at the log: whatever was cached before it may be stale.
    agents_.clear();
    last_revocation_ = latest;
    return;
  }
  for (const auto& r : revoked) {
    agents_.erase(r.endpoint_id);
    last_revocation_ = std::max(*last_revocation_, r.id);
  }
}

Status RmmService::StatusOf(const Endpoint& e) const {
  return rmm::StatusOf(e.last_seen_at, clock_.NowUnix(), settings_.checkin_interval);
}

std::vector<Endpoint> RmmService::SearchEndpoints(const staff::Actor& actor,
                                                  const std::string& query, int limit) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::vector<std::string> words = search::QueryWords(query);
  std::vector<Endpoint> out;
  if (words.empty()) return out;
  db_.Read([&](soci::session& sql) {
    out = store::EndpointsByIds(sql, search::Match(sql, search::Kind::kEndpoint, words, limit));
  });
  std::sort(out.begin(), out.end(), [](const Endpoint& a, const Endpoint& b) {
    return std::tie(a.retired, a.hostname, a.id) < std::tie(b.retired, b.hostname, b.id);
  });
  return out;
}

RmmService::FleetStatus RmmService::Fleet(const staff::Actor& actor, int limit) {
  staff::Require(actor, staff::Permission::kReadClients);
  int64_t since = clock_.NowUnix() - 3 * settings_.checkin_interval;
  FleetStatus out;
  db_.Read([&](soci::session& sql) {
    store::FleetCounts counts = store::CountFleet(sql, since);
    out.online = counts.online;
    out.offline = counts.total - counts.online;
    out.latest_offline = store::EndpointsByIds(sql, store::LatestOffline(sql, since, limit));
  });
  return out;
}

void RmmService::ReindexSearchIn(db::Tx& tx) { store::ReindexEndpoints(tx.sql()); }

EndpointPage RmmService::ListEndpoints(const staff::Actor& actor, const EndpointQuery& q) {
  staff::Require(actor, staff::Permission::kReadClients);
  if (q.client_id) clients_.Get(actor, *q.client_id);  // NotFound, or ClientMerged (moved)
  store::EndpointFilter f;
  f.client_id = q.client_id;
  f.site_id = q.site_id;
  f.pool_only = q.pool_only;
  if (q.status == "online") {
    f.status = store::EndpointFilter::Status::kOnline;
  } else if (q.status == "offline") {
    f.status = store::EndpointFilter::Status::kOffline;
  } else if (!q.status.empty() && q.status != "all") {
    throw ValidationError("status", "status must be online, offline or all");
  }
  f.online_since = clock_.NowUnix() - 3 * settings_.checkin_interval;
  f.search = q.search;
  f.client_search = q.client_search;
  static const std::set<std::string> kSorts = {"hostname", "client", "os", "last_seen"};
  std::string key = !q.sort.empty() && q.sort[0] == '-' ? q.sort.substr(1) : q.sort;
  if (!q.sort.empty() && !kSorts.count(key)) {
    throw ValidationError("sort", "sort must be hostname, client, os or last_seen");
  }
  f.sort = q.sort;
  EndpointPage page;
  db_.Read([&](soci::session& sql) {
    page.items = store::ListEndpoints(sql, f, q.offset, q.limit);
    page.total = store::CountEndpoints(sql, f);
  });
  return page;
}

Endpoint RmmService::GetEndpoint(const staff::Actor& actor, int64_t id) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::optional<Endpoint> e;
  db_.Read([&](soci::session& sql) { e = store::FindEndpoint(sql, id); });
  if (!e) throw NotFound("Endpoint");
  return *e;
}

std::vector<store::MetricPoint> RmmService::RecentMetrics(const staff::Actor& actor, int64_t id,
                                                          int64_t limit) {
  GetEndpoint(actor, id);
  std::vector<store::MetricPoint> out;
  db_.Read([&](soci::session& sql) { out = store::RecentMetrics(sql, id, limit); });
  return out;
}

Endpoint RmmService::UpdateEndpoint(const staff::Actor& actor, int64_t id,
                                    const EndpointPatch& patch) {
  staff::Require(actor, staff::Permission::kEditClients);
  Endpoint before = GetEndpoint(actor, id);
  Endpoint after = before;
  if (patch.billable) after.billable = *patch.billable;
  if (patch.retired) after.retired = *patch.retired;
  bool retiring = after.retired && !before.retired;
  if (patch.notes) {
    if (patch.notes->size() > 10000 || !text::IsValidUtf8(*patch.notes)) {
      throw ValidationError("notes", "Notes must be at most 10000 characters of text");
    }
    after.notes = text::Trim(*patch.notes);
  }
  db_.Write([&](db::Tx& tx) {
    soci::session& sql = tx.sql();
    auto current = store::FindEndpoint(sql, id);
    if (!current) throw NotFound("Endpoint");
    if (patch.site_id && *patch.site_id) SiteOf(tx, actor, **patch.site_id, current->client_id);
    std::string now = FormatIsoUtc(clock_.NowUnix());
    store::UpdateEndpoint(sql, after, now);
    if (retiring) store::RecordRevocation(sql, id, clock_.NowUnix());
    if (patch.site_id) store::MoveEndpoint(sql, id, *patch.site_id, now);
    after = *store::FindEndpoint(sql, id);
    audit_.Write(sql, actor.Who(),
                 {"update", "endpoint", id, after.client_id, "Edited endpoint " + after.hostname,
                  EndpointAudit(before).dump(), EndpointAudit(after).dump()});
  });
  if (retiring) ForgetAgent(id);
  return after;
}

void RmmService::RevokeAgent(const staff::Actor& actor, int64_t endpoint_id) {
  staff::Require(actor, staff::Permission::kEditClients);
  db_.Write([&](soci::session& sql) {
    auto e = store::FindEndpoint(sql, endpoint_id);
    if (!e) throw NotFound("Endpoint");
    int64_t now = clock_.NowUnix();
    store::ClearAgentSecret(sql, endpoint_id, FormatIsoUtc(now));
    store::RecordRevocation(sql, endpoint_id, now);
    audit_.Write(sql, actor.Who(),
                 {"revoke_agent", "endpoint", endpoint_id, e->client_id,
                  "Revoked the agent of " + e->hostname + ": it must enrol again to report",
                  EndpointAudit(*e).dump(), ""});
  });
  ForgetAgent(endpoint_id);
}

void RmmService::DeleteEndpoint(const staff::Actor& actor, int64_t endpoint_id) {
  staff::Require(actor, staff::Permission::kEditClients);
  db_.Write([&](soci::session& sql) {
    auto e = store::FindEndpoint(sql, endpoint_id);
    if (!e) throw NotFound("Endpoint");
    store::DeleteEndpoint(sql, endpoint_id);
    store::RecordRevocation(sql, endpoint_id, clock_.NowUnix());
    audit_.Write(sql, actor.Who(),
                 {"delete", "endpoint", endpoint_id, e->client_id,
                  "Deleted endpoint " + e->hostname, EndpointAudit(*e).dump(), ""});
  });
  ForgetAgent(endpoint_id);
}

void RmmService::MoveEndpoints(const staff::Actor& actor, const std::vector<int64_t>& ids,
                               std::optional<int64_t> site_id) {
  staff::Require(actor, staff::Permission::kEditClients);
  std::vector<int64_t> unique;
  std::set<int64_t> seen;
  for (int64_t id : ids) {
    if (seen.insert(id).second) unique.push_back(id);
  }
  if (unique.empty()) throw ValidationError("endpoint_ids", "Choose at least one endpoint");
  if (unique.size() > kMaxMove) {
    throw ValidationError("endpoint_ids",
                          "Move at most " + std::to_string(kMaxMove) + " endpoints at a time");
  }
  db_.Write([&](db::Tx& tx) {
    soci::session& sql = tx.sql();
    std::optional<clients::Site> site;
    if (site_id) {
      try {
        site = clients_.GetSiteIn(tx, actor, *site_id);
      } catch (const NotFound&) {
        throw ValidationError("site_id", "There is no such site");
      }
    }
    std::string now = FormatIsoUtc(clock_.NowUnix());
    for (int64_t id : unique) {
      auto e = store::FindEndpoint(sql, id);
      if (!e) throw ValidationError("endpoint_ids", "There is no endpoint " + std::to_string(id));
      if (site && site->client_id != e->client_id) {
        throw ValidationError("site_id", "Endpoint " + e->hostname + " belongs to another client");
      }
      store::MoveEndpoint(sql, id, site_id, now);
      audit_.Write(sql, actor.Who(),
                   {"move", "endpoint", id, e->client_id,
                    "Moved endpoint " + e->hostname + " to " + (site ? site->name : "the pool"),
                    EndpointAudit(*e).dump(), ""});
    }
  });
}

int64_t RmmService::CountBillable(const staff::Actor& actor, int64_t client_id) {
  clients_.Get(actor, client_id);
  int64_t n = 0;
  db_.Read([&](soci::session& sql) { n = store::CountBillable(sql, client_id); });
  return n;
}

int64_t RmmService::CountBillableIn(db::Tx& tx, int64_t client_id) {
  return store::CountBillable(tx.sql(), client_id);
}

std::string RmmService::PruneMetrics() {
  int64_t n = 0, r = 0;
  db_.Write([&](soci::session& sql) {
    n = store::PruneMetrics(sql, clock_.NowUnix() - 86400);
    // A node's cached credential lives at most kCredentialTtl; older entries of
    // the log can change nothing.
    r = store::PruneRevocations(sql, clock_.NowUnix() - 2 * kCredentialTtl);
  });
  return std::to_string(n) + " metric samples, " + std::to_string(r) + " revocations removed";
}

}  // namespace opsmerge::rmm
