#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "audit/service.h"
#include "cipp/http.h"
#include "clients/service.h"
#include "platform/clock.h"
#include "platform/db.h"
#include "platform/secret_box.h"
#include "staff/model.h"

// Microsoft 365 through CIPP (I1-I2, C4): tenants become clients, licensed users
// become contacts. Everything is fetched from CIPP first; then one transaction
// applies it all (a dry run rolls it back), so a failure halfway changes nothing.
// A tenant maps to the client holding its id, else to the one client matching by
// name (C3 folding) or domain, else a new client (or "unmatched"); a tenant that
// matches two clients is "ambiguous" and left alone. Nothing is ever deleted: users
// gone from Microsoft 365 become inactive contacts. One sync at a time across
// nodes (a lease). Admins only. Thread-safe.
namespace opsmerge::cipp {

// A tenant the last sync could not link, for the Microsoft 365 page's actions.
struct PendingTenant {
  std::string tenant_id;
  std::string display_name;
  std::string default_domain;
  std::string state;   // "unmatched" or "ambiguous"
  std::string detail;  // why
};

struct StoredReport {
  int64_t id = 0;
  std::string started_at;
  bool dry_run = false;
  bool ok = false;
  std::string json;  // the report as Sync returned it
};

class CippService {
 public:
  CippService(db::Database& db, const audit::AuditLog& audit, const Clock& clock,
              clients::ClientService& clients, const SecretBox& secrets, HttpClient& http,
              std::string node_id);
  ~CippService();  // waits for a sync StartSync began
  CippService(const CippService&) = delete;
  CippService& operator=(const CippService&) = delete;

  // How many customer tenants CIPP lists; CippError with the exact error.
  int64_t TestConnection(const staff::Actor& actor);
  // A sync (or, with `dry_run`, what it would do), its report stored and returned:
  // {"dry_run","ok","tenants":{"matched","created","unmatched","ambiguous","failed"},
  //  "contacts":{"created","updated","paired","deactivated","reactivated","unchanged"},
  //  "changes":[{"client_id","tenant_id","action","detail"}],"errors":[...]}.
  // ValidationError when the connection is not set up; Conflict("busy") while
  // another sync runs.
  nlohmann::json Sync(const staff::Actor& actor, bool dry_run);
  // The same on a thread of its own, returning at once (the page's buttons: a
  // sync of many tenants can take minutes); the report is stored as always.
  // ValidationError and Conflict("busy") as Sync, before it starts.
  void StartSync(const staff::Actor& actor, bool dry_run);
  // Whether a sync is running, on this node or another.
  bool Running();
  // The scheduler's job: a sync when cipp_sync_hours have passed since the last
  // one ("" when none was due).
  std::string ScheduledSync();
  // The newest reports first.
  std::vector<StoredReport> Reports(const staff::Actor& actor, int limit);
  std::vector<PendingTenant> Pending(const staff::Actor& actor);
  // The pending tenant's actions: a new client from it, or link it to a client.
  int64_t CreateClientFor(const staff::Actor& actor, const std::string& tenant_id);
  void LinkTenant(const staff::Actor& actor, const std::string& tenant_id, int64_t client_id);

 private:
  nlohmann::json Run(const staff::Actor& actor, bool dry_run);

  db::Database& db_;
  const audit::AuditLog& audit_;
  const Clock& clock_;
  clients::ClientService& clients_;
  const SecretBox& secrets_;
  HttpClient& http_;
  std::string node_id_;
  std::atomic<bool> busy_{false};  // a sync runs in this process (the lease is per node)
  std::mutex worker_mu_;
  std::thread worker_;  // StartSync's
};

}  // namespace opsmerge::cipp
