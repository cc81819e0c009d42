#include "core/background.h"

#include <chrono>

namespace opsmerge::agent {

BackgroundInventory::BackgroundInventory(Collector& collector, Schedule schedule)
    : collector_(collector), schedule_(schedule) {}

BackgroundInventory::~BackgroundInventory() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  collector_.CancelSlowWork();  // never wait for a package manager to finish
  if (thread_.joinable()) thread_.join();
}

void BackgroundInventory::Start() {
  thread_ = std::thread([this] { Loop(); });
}

BackgroundInventory::Snapshot BackgroundInventory::Latest() {
  std::lock_guard<std::mutex> lock(mu_);
  return latest_;
}

void BackgroundInventory::Loop() {
  using Steady = std::chrono::steady_clock;
  Steady::time_point software_due = Steady::now(), updates_due = Steady::now();
  while (true) {
    Steady::time_point now = Steady::now();
    if (now >= software_due) {
      nlohmann::json software = collector_.Software();
      std::lock_guard<std::mutex> lock(mu_);
      latest_.software = std::move(software);
      software_due = Steady::now() + std::chrono::seconds(schedule_.software_seconds);
    }
    if (now >= updates_due) {
      std::optional<int64_t> updates = collector_.PendingUpdates();
      std::lock_guard<std::mutex> lock(mu_);
      latest_.pending_updates = updates;
      updates_due = Steady::now() + std::chrono::seconds(schedule_.updates_seconds);
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (wake_.wait_until(lock, std::min(software_due, updates_due), [this] { return stopping_; })) {
      return;
    }
  }
}

}  // namespace opsmerge::agent
