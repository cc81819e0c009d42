#pragma once

#include <atomic>
#include <cstdint>

#include "platform/clock.h"
#include "platform/http/router.h"
#include "platform/scheduler.h"
#include "platform/templates.h"

// Test hooks, compiled only into `opsmerge-testable` (OPSMERGE_TEST_BUILD), the
// binary the integration tests drive; the release `opsmerge` has none of this and
// answers 404 at these addresses (a test checks). They let tests move time instead
// of sleeping, hash passwords cheaply, and fail on any unresolved template name.
namespace opsmerge::app {

// Real time plus an offset that only tests move forward. Thread-safe.
class TestClock final : public Clock {
 public:
  int64_t NowUnix() const override;
  void Advance(int64_t seconds) { offset_ += seconds; }
  // Stops the clock at `unix_seconds` (later advances still move it): for tests
  // whose outcome depends on where in a 30-second step "now" falls.
  void Freeze(int64_t unix_seconds) {
    offset_ = 0;
    frozen_ = unix_seconds;
  }

 private:
  std::atomic<int64_t> offset_{0};
  std::atomic<int64_t> frozen_{0};  // 0: running
};

// Process-wide settings of the test build: argon2id at its minimum cost.
void ApplyTestSettings();

// With OPSMERGE_TEMPLATE_LOG set, appends the name of every template the server
// renders to that file (one per line), for the coverage check after the suite.
void LogRenderedTemplates(Templates& templates);

// POST /__test__/clock {"advance_seconds": N} (from loopback only): moves `clock`.
// POST /__test__/clock (advance or freeze the clock) and POST /__test__/tick (one
// scheduler tick, run before the answer: a test sees its effect, or its absence,
// without waiting for the background thread).
void RegisterTestRoutes(http::Router& router, TestClock& clock, Scheduler& scheduler);

}  // namespace opsmerge::app
