#include "platform/log.h"

#include <atomic>
#include <cstdio>
#include <vector>

#include "platform/clock.h"

namespace opsmerge::log {

namespace {
std::atomic<bool> g_access{true};

}  // namespace

std::string Escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) {
      char buf[5];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

namespace {

void Line(const char* level, const std::string& message) {
  std::string line =
      FormatIsoUtc(SystemClock().NowUnix()) + " " + level + " " + Escape(message) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}
}  // namespace

void Info(const std::string& message) { Line("INFO", message); }
void Error(const std::string& message) { Line("ERROR", message); }

namespace {
std::vector<std::string>& Redacted() {
  static std::vector<std::string> prefixes;  // written before serving, then only read
  return prefixes;
}
}  // namespace

void RedactPathsUnder(const std::string& prefix) { Redacted().push_back(prefix); }

void Access(const std::string& method, const std::string& path, int status, double ms,
            const std::string& request_id, const std::string& remote_ip) {
  if (!g_access.load(std::memory_order_relaxed)) return;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%d %.1fms", status, ms);
  std::string shown = path;
  for (const std::string& prefix : Redacted()) {
    if (path.rfind(prefix, 0) == 0) shown = prefix + "[redacted]";
  }
  Line("ACCESS", method + " " + shown + " " + buf + " id=" + request_id + " ip=" + remote_ip);
}

void SetAccessLog(bool enabled) { g_access = enabled; }

}  // namespace opsmerge::log
