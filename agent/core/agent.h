#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "core/config.h"

// What the agent does: enrol once, then check in forever. Every function returns
// an exit code and reports on stderr; nothing throws out of here.
namespace opsmerge::agent {

// Exchanges `token` for this machine's identity and writes it to `config_path`.
int Enroll(const std::string& server, const std::string& token, const std::string& config_path);

// The service loop: check in every interval (set by the server) with +-10% jitter;
// when the server is away, retry with capped exponential backoff and full jitter.
// Returns when `stop` becomes true.
int Run(const std::string& config_path, const std::atomic<bool>& stop);

// Prints what the agent knows: server, id, interval, last check-in.
int Status(const std::string& config_path);

// Backoff before retry number `attempt` (0-based): uniform in [0, min(cap, base*2^attempt)],
// at least 1 s. Pure; `random01` in [0, 1).
int64_t BackoffSeconds(int attempt, int64_t base, int64_t cap, double random01);

}  // namespace opsmerge::agent
