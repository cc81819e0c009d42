#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "audit/service.h"
#include "clients/service.h"
#include "platform/clock.h"
#include "platform/db.h"
#include "platform/sync.h"
#include "rmm/checkin_writer.h"
#include "rmm/model.h"
#include "rmm/store.h"
#include "staff/model.h"

// Use cases of the agent and endpoints (R1-R4, S2): enrolment tokens, enrolment,
// check-ins, endpoint lists and edits, the live billable count. Staff methods check
// roles; agent methods authenticate the agent and touch only its own endpoint.
// Thread-safe (all state is in the database).
namespace opsmerge::rmm {

struct RmmSettings {
  int64_t checkin_interval = 60;  // seconds; sent to agents, and the base of "offline"
};

struct TokenRequest {
  std::optional<int64_t> site_id;
  std::optional<int64_t> expires_in_days;  // default 7, 1-365
  std::optional<int64_t> max_uses;         // default unlimited
};

struct IssuedToken {
  EnrollmentToken token;
  std::string secret;  // shown once; only its hash is stored
};

struct Enrolled {
  int64_t endpoint_id = 0;
  std::string secret;
  int64_t client_id = 0;
  std::optional<int64_t> site_id;
  int64_t checkin_interval = 60;
};

struct CheckinReply {
  int64_t checkin_interval = 60;
  std::string inventory_hash;  // what the server holds; the agent resends when it differs
};

struct EndpointQuery {
  std::optional<int64_t> client_id;
  std::optional<int64_t> site_id;
  bool pool_only = false;
  std::string status;  // "", "online", "offline"
  std::string search;
  std::string client_search;  // part of the client's name
  std::string sort;           // "hostname", "client", "os", "last_seen"; '-' reverses
  int64_t offset = 0;
  int64_t limit = 50;
};

struct EndpointPage {
  std::vector<Endpoint> items;
  int64_t total = 0;
};

inline constexpr size_t kMaxMove = 10000;

struct EndpointPatch {
  std::optional<bool> billable;
  std::optional<bool> retired;
  std::optional<std::string> notes;
  std::optional<std::optional<int64_t>> site_id;  // engaged null: back to the pool
};

class RmmService {
 public:
  static const std::chrono::seconds kRevocationPoll;

  RmmService(db::Database& db, const audit::AuditLog& audit, const Clock& clock,
             clients::ClientService& clients, RmmSettings settings)
      : db_(db),
        audit_(audit),
        clock_(clock),
        clients_(clients),
        settings_(settings),
        heartbeats_(db) {}

  IssuedToken IssueToken(const staff::Actor& actor, int64_t client_id, const TokenRequest& request);
  std::vector<EnrollmentToken> ListTokens(const staff::Actor& actor, int64_t client_id);
  // `client_id`: the client the caller reached the token through (a page under
  // /clients/{id}); a token of another client is NotFound, whatever its id.
  void RevokeToken(const staff::Actor& actor, int64_t token_id,
                   std::optional<int64_t> client_id = std::nullopt);

  // Exchanges a token for the agent's identity. The endpoint lands in the token's
  // client and site whatever the body says. Unauthorized for an unknown token,
  // Forbidden with code token_expired / token_revoked / token_exhausted.
  Enrolled Enroll(const nlohmann::json& body, const std::string& remote_ip);
  // `authorization` is the "Agent <id>:<secret>" header. Unauthorized if it does
  // not prove the endpoint's identity.
  CheckinReply Checkin(const std::string& authorization, const nlohmann::json& body);

  EndpointPage ListEndpoints(const staff::Actor& actor, const EndpointQuery& query);
  Endpoint GetEndpoint(const staff::Actor& actor, int64_t id);
  // The global search: endpoints whose hostname, address or serial starts with
  // every word of `query`, at most `limit`, retired ones last.
  std::vector<Endpoint> SearchEndpoints(const staff::Actor& actor, const std::string& query,
                                        int limit);
  // The dashboard: how many endpoints (not retired) are online and offline, and
  // up to `limit` offline ones, the most recently lost first, then never seen.
  struct FleetStatus {
    int64_t online = 0;
    int64_t offline = 0;
    std::vector<Endpoint> latest_offline;
  };
  FleetStatus Fleet(const staff::Actor& actor, int limit);
  // Start-up, once after the search migration (see app/).
  void ReindexSearchIn(db::Tx& tx);
  std::vector<store::MetricPoint> RecentMetrics(const staff::Actor& actor, int64_t id,
                                                int64_t limit);
  // Retiring an endpoint also ends its agent's credential (R2).
  Endpoint UpdateEndpoint(const staff::Actor& actor, int64_t id, const EndpointPatch& patch);
  // R2 "Revoke agent": the agent's credential ends on every node within seconds;
  // the endpoint and its history stay. The machine must enrol again to report.
  void RevokeAgent(const staff::Actor& actor, int64_t endpoint_id);
  // Deletes the endpoint, its metrics and its agent's credential.
  void DeleteEndpoint(const staff::Actor& actor, int64_t endpoint_id);
  // S2: one or many at once; `site_id` empty = the client's pool. All endpoints must
  // belong to the site's client. Repeated ids count once; at most kMaxMove.
  void MoveEndpoints(const staff::Actor& actor, const std::vector<int64_t>& ids,
                     std::optional<int64_t> site_id);
  // R4: billable, non-retired endpoints right now.
  int64_t CountBillable(const staff::Actor& actor, int64_t client_id);
  // The same in the caller's transaction (the billing run reads it at generation).
  int64_t CountBillableIn(db::Tx& tx, int64_t client_id);

  Status StatusOf(const Endpoint& e) const;
  int64_t checkin_interval() const { return settings_.checkin_interval; }
  // The service's clock, for "as of" times and token states shown to people.
  int64_t Now() const { return clock_.NowUnix(); }
  // Drops metric samples older than a day (a scheduled job).
  std::string PruneMetrics();

 private:
  clients::Site SiteOf(db::Tx& tx, const staff::Actor& actor, int64_t site_id, int64_t client_id);

  db::Database& db_;
  const audit::AuditLog& audit_;
  const Clock& clock_;
  clients::ClientService& clients_;
  RmmSettings settings_;
  CheckinWriter heartbeats_;

  // Agent credentials recently proven, so a check-in needs no read of its own.
  // A cache, not a copy of record: entries expire after kCredentialTtl and the
  // table is emptied when it reaches kCredentialCacheSize.
  struct KnownAgent {
    std::string secret_hash;
    std::string inventory_hash;
    int64_t cached_at = 0;
  };
  std::optional<KnownAgent> CachedAgent(int64_t endpoint_id, int64_t now) OM_EXCLUDES(agents_mu_);
  void RememberAgent(int64_t endpoint_id, KnownAgent agent) OM_EXCLUDES(agents_mu_);
  void ForgetAgent(int64_t endpoint_id) OM_EXCLUDES(agents_mu_);
  // Reads the revocation log (at most every kRevocationPoll) and drops revoked
  // agents from this node's cache, so a revocation made on any node holds here
  // within seconds.
  void SyncRevocations() OM_EXCLUDES(agents_mu_);
  Mutex agents_mu_;
  std::unordered_map<int64_t, KnownAgent> agents_ OM_GUARDED_BY(agents_mu_);
  std::optional<int64_t> last_revocation_ OM_GUARDED_BY(agents_mu_);
  std::chrono::steady_clock::time_point revocations_checked_ OM_GUARDED_BY(agents_mu_);
};

}  // namespace opsmerge::rmm
