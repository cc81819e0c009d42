#pragma once

#include <atomic>
#include <cstdint>

// Time for the check-in loop: read it and wait on it. Tests pass a fake that
// moves time instead of sleeping. Thread-safe implementations.
namespace opsmerge::agent {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t Now() = 0;  // Unix seconds
  // Waits up to `seconds`, returning early (false) once `stop` is set.
  virtual bool SleepFor(double seconds, const std::atomic<bool>& stop) = 0;
};

// The real clock (portable C++: std::chrono and short sleeps).
class SystemClock final : public Clock {
 public:
  int64_t Now() override;
  bool SleepFor(double seconds, const std::atomic<bool>& stop) override;
};

}  // namespace opsmerge::agent
