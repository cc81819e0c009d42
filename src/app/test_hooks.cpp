#include "app/test_hooks.h"

#include <cstdlib>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sodium.h>
#include <unistd.h>

#include "platform/crypto.h"
#include "platform/errors.h"
#include "platform/http/json.h"

#ifndef OPSMERGE_TEST_BUILD
#error "test hooks are compiled into opsmerge-testable only"
#endif

namespace opsmerge::app {

int64_t TestClock::NowUnix() const {
  int64_t frozen = frozen_.load();
  return (frozen ? frozen : SystemClock().NowUnix()) + offset_.load();
}

void ApplyTestSettings() {
  crypto::SetPasswordCost(
      {crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN});
}

void LogRenderedTemplates(Templates& templates) {
  const char* path = std::getenv("OPSMERGE_TEMPLATE_LOG");
  if (!path || !*path) return;
  std::string file = path;
  templates.SetObserver([file](const std::string& name) {
    // One write per line with O_APPEND: lines from parallel servers never interleave.
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    std::string line = name + "\n";
    (void)!write(fd, line.data(), line.size());
    close(fd);
  });
}

void RegisterTestRoutes(http::Router& router, TestClock& clock, Scheduler& scheduler) {
  router.Add(
      "POST", "/__test__/clock",
      [&clock, &scheduler](http::Request& req) {
        if (req.remote_ip != "127.0.0.1" && req.remote_ip != "::1") throw NotFound("Page");
        nlohmann::json body = http::ParseJsonObject(req.body);
        if (auto at = http::OptInt(body, "freeze_at")) {
          if (*at <= 0) throw ValidationError("freeze_at", "freeze_at must be a unix time");
          // Periods claimed at the real time before the freeze would otherwise keep
          // jobs from running until the frozen clock catches up with it.
          scheduler.ResetClock([&] { clock.Freeze(*at); });
          return http::JsonResponse({{"now", clock.NowUnix()}});
        }
        auto seconds = http::OptInt(body, "advance_seconds");
        if (!seconds || *seconds < 0) {
          throw ValidationError("advance_seconds", "advance_seconds must be a positive integer");
        }
        clock.Advance(*seconds);
        return http::JsonResponse({{"now", clock.NowUnix()}});
      },
      http::Access::kAgent);  // no session or CSRF: a test tool, not a page
  router.Add(
      "POST", "/__test__/tick",
      [&scheduler](http::Request& req) {
        if (req.remote_ip != "127.0.0.1" && req.remote_ip != "::1") throw NotFound("Page");
        scheduler.Tick();
        return http::JsonResponse({{"ticked", true}});
      },
      http::Access::kAgent);
}

}  // namespace opsmerge::app
