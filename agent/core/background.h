#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/collector.h"

// The slow part of the inventory (installed software, pending updates) collected
// on its own thread and schedule, so a check-in never waits for a package manager:
// the check-in loop reads the latest results. Thread-safe.
namespace opsmerge::agent {

class BackgroundInventory {
 public:
  struct Schedule {
    int64_t software_seconds = int64_t{15} * 60;
    int64_t updates_seconds = int64_t{6} * 3600;  // the package manager's simulation is costly
  };
  BackgroundInventory(Collector& collector, Schedule schedule);
  ~BackgroundInventory();  // stops and joins
  BackgroundInventory(const BackgroundInventory&) = delete;
  BackgroundInventory& operator=(const BackgroundInventory&) = delete;

  void Start();

  struct Snapshot {
    std::optional<nlohmann::json> software;  // not collected yet: nullopt
    std::optional<int64_t> pending_updates;  // not known (yet): nullopt
  };
  Snapshot Latest();

 private:
  void Loop();

  Collector& collector_;
  const Schedule schedule_;
  std::mutex mu_;  // guards latest_ and stopping_
  std::condition_variable wake_;
  Snapshot latest_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace opsmerge::agent
