#pragma once

#include <atomic>
#include <cstdint>

#include "core/collector.h"

// Windows collectors: Win32 (memory, disks, adapters, sessions), the registry
// (OS version, CPU name, installed software), SMBIOS through
// GetSystemFirmwareTable, and the Windows Update Agent's COM API for pending
// updates. Raw data goes through the pure parsers of platform/windows/parsers.h.
// Metrics() keeps the previous CPU sample (loop thread); Software() and
// PendingUpdates() keep nothing (background thread).
namespace opsmerge::agent::windows {

class WindowsCollector final : public Collector {
 public:
  MetricsSample Metrics() override;
  nlohmann::json BaseInventory() override;
  nlohmann::json Software() override;
  std::optional<int64_t> PendingUpdates() override;
  void CancelSlowWork() override;

 private:
  uint64_t prev_busy_ = 0;
  uint64_t prev_total_ = 0;
  std::atomic<bool> cancelled_{false};
};

}  // namespace opsmerge::agent::windows
