#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

// Linux collectors, from /proc, /sys, statvfs, getifaddrs, utmp and the package
// databases. No root needed (serial numbers are read when the file allows).
// Not thread-safe (keeps the previous CPU sample).
namespace opsmerge::agent {

struct MetricsSample {
  double cpu_percent = 0;
  double memory_percent = 0;
  double disk_percent = 0;
};

class Collector {
 public:
  // CPU use since the previous call (0 the first time), memory and root disk use.
  MetricsSample Metrics();
  // The full inventory object the server's /agent/v1 expects. Pending updates are
  // counted at most every `updates_every` seconds (running the package manager costs);
  // a negative value skips counting (enrolment: the first check-in counts them).
  nlohmann::json Inventory(int64_t now, int64_t updates_every = 6 * 3600);

 private:
  uint64_t prev_busy_ = 0;
  uint64_t prev_total_ = 0;
  int64_t updates_at_ = 0;
  int64_t pending_updates_ = 0;
};

// A short stable hash of an inventory (FNV-1a 64 of its JSON text), hex.
std::string InventoryHash(const nlohmann::json& inventory);

}  // namespace opsmerge::agent
