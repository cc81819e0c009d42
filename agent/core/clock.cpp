#include "core/clock.h"

#include <chrono>
#include <thread>

namespace opsmerge::agent {

int64_t SystemClock::Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool SystemClock::SleepFor(double seconds, const std::atomic<bool>& stop) {
  using Steady = std::chrono::steady_clock;
  Steady::time_point until = Steady::now() + std::chrono::duration_cast<Steady::duration>(
                                                 std::chrono::duration<double>(seconds));
  while (!stop.load()) {
    Steady::time_point now = Steady::now();
    if (now >= until) return true;
    Steady::duration step = std::chrono::milliseconds(100);
    std::this_thread::sleep_for(std::min(step, until - now));
  }
  return false;
}

}  // namespace opsmerge::agent
