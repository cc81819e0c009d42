#include "core/config.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

namespace opsmerge::agent {

namespace {

bool WriteFile(const std::string& path, const std::string& text, std::string* error) {
  std::string tmp = path + ".tmp";
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (error) *error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = fsync(fd) == 0 && ok;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    if (error) *error = "cannot write " + path + ": " + std::strerror(errno);
    unlink(tmp.c_str());
    return false;
  }
  return true;
}

std::optional<nlohmann::json> ReadJson(const std::string& path) {
  std::ifstream f(path);
  if (!f) return std::nullopt;
  std::stringstream ss;
  ss << f.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

}  // namespace

std::optional<Config> LoadConfig(const std::string& path, std::string* error) {
  auto j = ReadJson(path);
  if (!j) {
    if (error)
      *error = "no readable agent config at " + path + " (run opsmerge-agent enroll first)";
    return std::nullopt;
  }
  Config c;
  c.server = j->value("server", "");
  c.agent_id = j->value("agent_id", int64_t{0});
  c.secret = j->value("secret", "");
  c.checkin_interval = j->value("checkin_interval", int64_t{60});
  if (c.server.empty() || c.agent_id <= 0 || c.secret.empty()) {
    if (error) *error = "agent config " + path + " is incomplete";
    return std::nullopt;
  }
  return c;
}

bool SaveConfig(const std::string& path, const Config& c, std::string* error) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) mkdir(path.substr(0, slash).c_str(), 0700);
  nlohmann::json j = {{"server", c.server},
                      {"agent_id", c.agent_id},
                      {"secret", c.secret},
                      {"checkin_interval", c.checkin_interval}};
  return WriteFile(path, j.dump(2) + "\n", error);
}

State LoadState(const std::string& config_path) {
  State s;
  if (auto j = ReadJson(config_path + ".state")) {
    s.last_checkin = j->value("last_checkin", int64_t{0});
    s.last_error = j->value("last_error", "");
  }
  return s;
}

void SaveState(const std::string& config_path, const State& s) {
  nlohmann::json j = {{"last_checkin", s.last_checkin}, {"last_error", s.last_error}};
  WriteFile(config_path + ".state", j.dump() + "\n", nullptr);
}

}  // namespace opsmerge::agent
