#pragma once

#include <cstdint>
#include <optional>
#include <string>

// The agent's identity and settings, in a JSON file readable only by the service's
// account and administrators (see core/files.h). Never throws.
namespace opsmerge::agent {

struct Config {
  std::string server;  // "https://psa.example-msp.co.uk"
  int64_t agent_id = 0;
  std::string secret;
  int64_t checkin_interval = 60;
};

// nullopt (and `error` set) when missing or unreadable.
std::optional<Config> LoadConfig(const std::string& path, std::string* error);
// Writes atomically with mode 0600; false (and `error`) on failure.
bool SaveConfig(const std::string& path, const Config& config, std::string* error);

// What `run` last saw, for `status`: kept beside the config as PATH.state.
struct State {
  int64_t last_checkin = 0;  // Unix seconds of the last successful check-in
  std::string last_error;
};
State LoadState(const std::string& config_path);
void SaveState(const std::string& config_path, const State& state);

}  // namespace opsmerge::agent
