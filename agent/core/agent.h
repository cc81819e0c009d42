#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/background.h"
#include "core/clock.h"
#include "core/collector.h"
#include "core/config.h"
#include "core/transport.h"

// What the agent does: enrol once, then check in forever. The platform comes in
// through Transport, Collector and Clock, so nothing here knows the OS and the
// loop runs in-process in tests. Nothing throws out of here: every reply of a
// server, however odd, is logged and answered with a back-off.
namespace opsmerge::agent {

// A server's answers, checked member by member; nullopt when unusable.
struct EnrollReply {
  int64_t agent_id = 0;
  std::string secret;
  int64_t checkin_interval = 60;
};
std::optional<EnrollReply> ParseEnrollReply(const std::string& body);
struct CheckinReply {
  std::optional<int64_t> checkin_interval;  // within wire::kMinInterval..kMaxInterval
  std::optional<std::string> inventory_hash;
};
std::optional<CheckinReply> ParseCheckinReply(const std::string& body);
// "HTTP 503: The server is busy (busy)" from a JSON error body, or the transport's error.
std::string DescribeFailure(const HttpReply& reply);

// Exchanges `token` for this machine's identity and writes it to `config_path`.
// Exit codes: 0 done, 64 usage, 73 cannot write, 75 no answer, 76 odd answer,
// 77 refused.
int Enroll(const std::string& server, const std::string& token, const std::string& config_path,
           Transport& transport, Collector& collector);

// The service loop: check in every interval (set by the server), up to 10% early
// (jitter) but never late;
// when the server is away or refuses, retry with capped exponential backoff and full
// jitter, never sooner than a Retry-After it sent.
class CheckinLoop {
 public:
  // `random01` returns uniform numbers in [0, 1).
  CheckinLoop(Config config, std::string config_path, Transport& transport, Collector& collector,
              BackgroundInventory& background, Clock& clock, std::function<double()> random01);
  // One check-in; returns the seconds to wait before the next.
  double Step();
  // Step() and wait, until `stop`.
  void Run(const std::atomic<bool>& stop);

  int failures() const { return failures_; }
  int64_t interval() const { return config_.checkin_interval; }

 private:
  nlohmann::json CurrentInventory(int64_t now);

  Config config_;
  const std::string config_path_;
  const std::string url_;
  const std::string authorization_;
  Transport& transport_;
  Collector& collector_;
  BackgroundInventory& background_;
  Clock& clock_;
  std::function<double()> random01_;
  State state_;
  nlohmann::json base_;  // the fast inventory, re-read every kBaseEvery seconds
  int64_t base_at_ = 0;
  std::string server_hash_;  // what the server says it holds
  int failures_ = 0;
};

// Reads the config (exit 78 if missing), starts the background inventory and runs
// the loop until `stop`.
int Run(const std::string& config_path, const std::atomic<bool>& stop, Transport& transport,
        Collector& collector);

// Prints what the agent knows: server, id, interval, last check-in.
int Status(const std::string& config_path);

// Backoff before retry number `attempt` (0-based): uniform in [0, min(cap, base*2^attempt)],
// at least 1 s. Pure; `random01` in [0, 1).
int64_t BackoffSeconds(int attempt, int64_t base, int64_t cap, double random01);

}  // namespace opsmerge::agent
