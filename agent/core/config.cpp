#include "core/config.h"

#include <nlohmann/json.hpp>

#include "core/files.h"
#include "protocol/json_limits.h"

namespace opsmerge::agent {

namespace {

std::optional<nlohmann::json> ReadJson(const std::string& path) {
  std::string text;
  if (!ReadFile(path, &text) || jsonlimits::Depth(text) > jsonlimits::kMaxDepth) {
    return std::nullopt;
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// A member of the expected type, or `fallback` (never throws on a wrong type).
template <typename T>
T Member(const nlohmann::json& obj, const char* key, T fallback) {
  auto it = obj.find(key);
  if (it == obj.end()) return fallback;
  if constexpr (std::is_same_v<T, std::string>) {
    return it->is_string() ? it->template get<std::string>() : fallback;
  } else {
    return it->is_number_integer() ? it->template get<T>() : fallback;
  }
}

}  // namespace

std::optional<Config> LoadConfig(const std::string& path, std::string* error) {
  auto j = ReadJson(path);
  if (!j) {
    if (error) {
      *error = "no readable agent config at " + path + " (run opsmerge-agent enroll first)";
    }
    return std::nullopt;
  }
  Config c;
  c.server = Member<std::string>(*j, "server", "");
  c.agent_id = Member<int64_t>(*j, "agent_id", 0);
  c.secret = Member<std::string>(*j, "secret", "");
  c.checkin_interval = Member<int64_t>(*j, "checkin_interval", 60);
  if (c.server.empty() || c.agent_id <= 0 || c.secret.empty()) {
    if (error) *error = "agent config " + path + " is incomplete";
    return std::nullopt;
  }
  return c;
}

bool SaveConfig(const std::string& path, const Config& c, std::string* error) {
  nlohmann::json j = {{"server", c.server},
                      {"agent_id", c.agent_id},
                      {"secret", c.secret},
                      {"checkin_interval", c.checkin_interval}};
  return WriteSecretFile(path, j.dump(2) + "\n", error);
}

State LoadState(const std::string& config_path) {
  State s;
  if (auto j = ReadJson(config_path + ".state")) {
    s.last_checkin = Member<int64_t>(*j, "last_checkin", 0);
    s.last_error = Member<std::string>(*j, "last_error", "");
  }
  return s;
}

void SaveState(const std::string& config_path, const State& s) {
  nlohmann::json j = {{"last_checkin", s.last_checkin}, {"last_error", s.last_error}};
  WriteSecretFile(config_path + ".state",
                  j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", nullptr);
}

}  // namespace opsmerge::agent
