#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

// Enrolment tokens, endpoints, inventory and status (R1-R4). Pure rules, no I/O.
namespace opsmerge::rmm {

struct EnrollmentToken {
  int64_t id = 0;
  int64_t client_id = 0;
  std::optional<int64_t> site_id;
  std::string prefix;  // first characters of the secret, to tell tokens apart
  std::string created_by;
  std::string created_at;
  int64_t expires_at = 0;  // Unix seconds
  std::optional<int64_t> max_uses;
  int64_t uses = 0;
  std::string revoked_at;
};

enum class TokenState { kUsable, kExpired, kRevoked, kExhausted };
TokenState StateOf(const EnrollmentToken& token, int64_t now);
const char* TokenStateName(TokenState state);

struct Metrics {
  double cpu_percent = 0;
  double memory_percent = 0;
  double disk_percent = 0;
};

struct Endpoint {
  int64_t id = 0;
  int64_t client_id = 0;
  std::string client_name;
  std::optional<int64_t> site_id;
  std::string site_name;
  std::string hostname;
  std::string os_name;
  std::string os_version;
  bool billable = true;
  bool retired = false;
  std::string notes;
  std::optional<int64_t> last_seen_at;  // Unix seconds
  std::optional<Metrics> metrics;
  std::string serial;
  std::string primary_ip;  // from the last inventory (IdentityOf)
  std::string signed_in;
  // The validated inventory, "{}" until the first arrives; read only for one
  // endpoint (its page, the API's GET), "" in lists.
  std::string inventory_json;
  std::optional<int64_t> inventory_at;
  std::string created_at;
};

enum class Status { kOnline, kOffline, kNeverSeen };
// R3: online until three check-in intervals have been missed.
Status StatusOf(const std::optional<int64_t>& last_seen_at, int64_t now, int64_t interval_seconds);
const char* StatusName(Status status);

// What an agent reports about its machine, validated. Throws ValidationError
// naming the offending member for wrong types or sizes. `hostname` is required.
struct Inventory {
  std::string hostname;
  std::string machine_id;  // the machine's stable identity, "" if it reports none
  std::string serial;      // hardware serial number, "" if unknown
  std::string os_name;
  std::string os_version;
  std::string json;  // the validated inventory, re-serialised (unknown members dropped)
  // What tells machines apart in a list and finds them in search (IdentityOf).
  std::string primary_ip;
  std::vector<std::string> addresses;
  std::string signed_in;
};

// From a validated inventory: the address a list shows (IPv4 first; not loopback
// or link-local), every such address, and who is signed in ("alice, bob").
struct Identity {
  std::string primary_ip;
  std::vector<std::string> addresses;
  std::string signed_in;
};
Identity IdentityOf(const nlohmann::json& inventory);

// The global search's terms of an endpoint: hostname, addresses, serial.
std::vector<std::string> EndpointSearchTexts(const std::string& hostname,
                                             const std::vector<std::string>& addresses,
                                             const std::string& serial);
// `fallback_hostname` is used when the inventory has none (enrolment may send the
// hostname beside it).
Inventory ValidateInventory(const nlohmann::json& inventory,
                            const std::string& fallback_hostname = "");

// Check-in metrics: each 0-100. Throws ValidationError.
Metrics ValidateMetrics(const nlohmann::json& metrics);

// "Agent <id>:<secret>" -> id and secret; nullopt if malformed.
struct AgentCredentials {
  int64_t endpoint_id = 0;
  std::string secret;
};
std::optional<AgentCredentials> ParseAgentAuthorization(const std::string& header);

}  // namespace opsmerge::rmm
