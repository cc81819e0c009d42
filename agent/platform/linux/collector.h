#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "core/collector.h"

// Linux collectors, from /proc, /sys, statvfs, getifaddrs, utmp and the package
// databases. No root needed (the serial number is read when the file allows).
// Metrics() keeps the previous CPU sample (loop thread); Software() and
// PendingUpdates() keep nothing (background thread).
namespace opsmerge::agent {

class LinuxCollector final : public Collector {
 public:
  MetricsSample Metrics() override;
  nlohmann::json BaseInventory() override;
  nlohmann::json Software() override;
  std::optional<int64_t> PendingUpdates() override;
  void CancelSlowWork() override;

  // Runs `argv` (its own process group, stderr discarded) and calls `line` with
  // each line of its output; false if it could not run or was cancelled.
  // CancelSlowWork() kills it and every later call returns false at once.
  bool RunCommand(const std::vector<std::string>& argv,
                  const std::function<void(const std::string&)>& line);

 private:
  uint64_t prev_busy_ = 0;
  uint64_t prev_total_ = 0;
  std::atomic<pid_t> running_{0};
  std::atomic<bool> cancelled_{false};
};

// df's "Use%": used / (used + available to unprivileged users), the root-reserved
// blocks excluded. 0 for an empty file system.
double DiskUsePercent(uint64_t blocks, uint64_t free_blocks, uint64_t available_blocks);

}  // namespace opsmerge::agent
