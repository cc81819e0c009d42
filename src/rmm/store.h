#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rmm/model.h"

namespace soci {
class session;
}

// The RMM tables' SQL and nothing else. Callers own the transaction.
namespace opsmerge::rmm::store {

int64_t InsertToken(soci::session& sql, int64_t client_id, std::optional<int64_t> site_id,
                    const std::string& hash, const std::string& prefix,
                    const std::string& created_by, const std::string& now, int64_t expires_at,
                    std::optional<int64_t> max_uses);
std::vector<EnrollmentToken> ListTokens(soci::session& sql, int64_t client_id);
std::optional<EnrollmentToken> FindToken(soci::session& sql, int64_t id);
std::optional<EnrollmentToken> FindTokenByHash(soci::session& sql, const std::string& hash);
void RevokeToken(soci::session& sql, int64_t id, const std::string& now);
// Counts one use if the token is still usable at `now`; false if it is not (a race
// with another enrolment, expiry or revocation in between).
bool ConsumeToken(soci::session& sql, int64_t id, int64_t now);

int64_t InsertEndpoint(soci::session& sql, int64_t client_id, std::optional<int64_t> site_id,
                       const std::string& hostname, const std::string& secret_hash,
                       int64_t token_id, const std::string& now);
struct AgentRow {
  std::string secret_hash;
  std::string inventory_hash;
};
// The agent's credential, while it may check in (not revoked, endpoint not
// retired or deleted).
std::optional<AgentRow> FindAgent(soci::session& sql, int64_t endpoint_id);
// Ends the agent's credential for good (it must enrol again).
void ClearAgentSecret(soci::session& sql, int64_t endpoint_id, const std::string& now);
void DeleteEndpoint(soci::session& sql, int64_t endpoint_id);
// The revocation log every node's credential cache follows.
void RecordRevocation(soci::session& sql, int64_t endpoint_id, int64_t now);

// Re-enrolment (docs/agents.md): the endpoints that reported this machine id, newest
// first (a cloned image can share one), at most 50.
struct MachineMatch {
  int64_t id = 0;
  int64_t client_id = 0;
  std::string hostname;
  std::string serial;
};
std::vector<MachineMatch> FindByMachine(soci::session& sql, const std::string& machine_id);
// The same machine enrolled again into its client: a new credential on the old
// endpoint (history kept), back in service if it was retired; the token's site if
// it names one.
void TakeOverEndpoint(soci::session& sql, int64_t endpoint_id, std::optional<int64_t> site_id,
                      const std::string& secret_hash, int64_t token_id, const std::string& now);
// The machine moved to another client: the old endpoint is retired (never billed),
// its credential cut, and it points at its successor.
void RetireReplaced(soci::session& sql, int64_t endpoint_id, int64_t replaced_by,
                    const std::string& now);
struct Revocation {
  int64_t id = 0;
  int64_t endpoint_id = 0;
};
std::vector<Revocation> RevocationsAfter(soci::session& sql, int64_t after_id);
int64_t LatestRevocationId(soci::session& sql);
int64_t PruneRevocations(soci::session& sql, int64_t before);
void RecordInventory(soci::session& sql, int64_t endpoint_id, int64_t now, const Inventory& inv,
                     const std::string& inventory_hash);
// Once after the search migration: every endpoint's address, signed-in users and
// search terms from the inventory it last sent.
void ReindexEndpoints(soci::session& sql);
// Endpoints not retired, and how many of them checked in since `online_since`.
struct FleetCounts {
  int64_t total = 0;
  int64_t online = 0;
};
FleetCounts CountFleet(soci::session& sql, int64_t online_since);
// Up to `limit` offline endpoints (not retired): the most recently seen first, then
// those never seen, newest first. Index range scans only.
std::vector<int64_t> LatestOffline(soci::session& sql, int64_t online_since, int64_t limit);
// The endpoints with these ids (list columns), in the order given; absent ids skipped.
std::vector<Endpoint> EndpointsByIds(soci::session& sql, const std::vector<int64_t>& ids);
struct Heartbeat {
  int64_t endpoint_id = 0;
  int64_t at = 0;
  Metrics metrics;
};
// Records last_seen_at and metrics, and a per-minute metrics sample, for many
// heartbeats in the caller's transaction, each statement prepared once.
void RecordHeartbeats(soci::session& sql, const std::vector<Heartbeat>& beats);
int64_t PruneMetrics(soci::session& sql, int64_t before);

struct EndpointFilter {
  std::optional<int64_t> client_id;
  std::optional<int64_t> site_id;  // with pool_only: endpoints in no site
  bool pool_only = false;
  enum class Status { kAny, kOnline, kOffline } status = Status::kAny;
  int64_t online_since = 0;   // last_seen_at at or after this is online
  std::string search;         // hostname substring
  std::string client_search;  // part of the client's name (folded as clients.name_key)
  // "hostname" (default), "client", "os", "last_seen"; a leading '-' reverses.
  std::string sort;
};
std::vector<Endpoint> ListEndpoints(soci::session& sql, const EndpointFilter& f, int64_t offset,
                                    int64_t limit);
int64_t CountEndpoints(soci::session& sql, const EndpointFilter& f);
std::optional<Endpoint> FindEndpoint(soci::session& sql, int64_t id);
void UpdateEndpoint(soci::session& sql, const Endpoint& e, const std::string& now);
void MoveEndpoint(soci::session& sql, int64_t id, std::optional<int64_t> site_id,
                  const std::string& now);
int64_t CountBillable(soci::session& sql, int64_t client_id);

// What the RMM owns of clients (rmm/client_data.cpp registers these).
std::map<int64_t, int64_t> CountEndpointsByClient(soci::session& sql,
                                                  const std::vector<int64_t>& client_ids);
std::map<int64_t, int64_t> CountEndpointsBySite(soci::session& sql,
                                                const std::vector<int64_t>& site_ids);
std::map<int64_t, int64_t> CountTokensByClient(soci::session& sql,
                                               const std::vector<int64_t>& client_ids);
void MoveEndpointsToClient(soci::session& sql, int64_t from_client, int64_t to_client);
void MoveTokensToClient(soci::session& sql, int64_t from_client, int64_t to_client);
struct MetricPoint {
  int64_t at = 0;
  Metrics metrics;
};
std::vector<MetricPoint> RecentMetrics(soci::session& sql, int64_t endpoint_id, int64_t limit);

}  // namespace opsmerge::rmm::store
