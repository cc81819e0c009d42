// Whatever a server (or something pretending to be one) answers, the agent
// parses it without crashing and keeps its interval in bounds.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/agent.h"

namespace {

using namespace opsmerge::agent;

class OneReply : public Transport {
 public:
  explicit OneReply(HttpReply r) : reply_(std::move(r)) {}
  HttpReply PostJson(const std::string&, const std::string&, const std::string&) override {
    return reply_;
  }

 private:
  HttpReply reply_;
};

class Quiet : public Collector {
 public:
  MetricsSample Metrics() override { return {}; }
  nlohmann::json BaseInventory() override { return {{"hostname", "fuzz"}}; }
  nlohmann::json Software() override { return nlohmann::json::array(); }
  std::optional<int64_t> PendingUpdates() override { return std::nullopt; }
};

class Frozen : public Clock {
 public:
  int64_t Now() override { return 1800000000; }
  bool SleepFor(double, const std::atomic<bool>&) override { return true; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  ParseEnrollReply(body);
  ParseCheckinReply(body);
  static const long kStatuses[] = {200, 201, 401, 429, 500, 503, 0};
  HttpReply reply{kStatuses[data[0] % 7], body, body.substr(0, 64), data[0] % 5 == 0 ? 30 : 0};
  DescribeFailure(reply);
  OneReply transport(reply);
  Quiet collector;
  Frozen clock;
  BackgroundInventory background(collector, {});
  CheckinLoop loop(Config{"https://psa.example", 1, "fuzz-secret-fuzz-secret-00", 60},
                   "/dev/null/agent.json", transport, collector, background, clock,
                   [] { return 0.5; });
  double wait = loop.Step();
  if (!(wait >= 1 && wait <= 7200) || loop.interval() < 1 || loop.interval() > 3600) {
    __builtin_trap();
  }
  return 0;
}
