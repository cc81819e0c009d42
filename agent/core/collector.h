#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

// What the agent reports about its machine. One implementation per platform
// (platform/linux, platform/windows), fakes in tests. Not thread-safe: the
// check-in loop calls the fast methods, the background collector the slow ones,
// each from its own thread, and an implementation keeps the two apart.
namespace opsmerge::agent {

struct MetricsSample {
  double cpu_percent = 0;
  double memory_percent = 0;
  double disk_percent = 0;  // the system drive, as df shows it: used / (used + available)
};

class Collector {
 public:
  virtual ~Collector() = default;
  // Fast (milliseconds), every check-in: CPU use since the previous call (0 the
  // first time), memory and system-drive use.
  virtual MetricsSample Metrics() = 0;
  // Fast: everything of the inventory but software and pending updates (hostname,
  // OS, CPU, memory, disks, network, hardware, uptime, users, machine identity).
  virtual nlohmann::json BaseInventory() = 0;
  // Slow (seconds to minutes), on the background thread only.
  virtual nlohmann::json Software() = 0;
  // nullopt: not known (no package manager or update service to ask).
  virtual std::optional<int64_t> PendingUpdates() = 0;
  // From another thread, when the agent stops: ends slow work in progress (a
  // package manager's run) so the service stops within seconds. Afterwards the
  // slow methods return at once with what they have.
  virtual void CancelSlowWork() {}
};

// A short stable hash of an inventory (FNV-1a 64 of its JSON text without the
// uptime, which changes every second and is no reason to resend), hex.
std::string InventoryHash(const nlohmann::json& inventory);

}  // namespace opsmerge::agent
