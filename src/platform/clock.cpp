#include "platform/clock.h"

#include <chrono>
#include <cstdlib>
#include <ctime>

#include <unistd.h>

namespace opsmerge {

int64_t SystemClock::NowUnix() const {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string FormatIsoUtc(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatForPeople(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[48];
  std::strftime(buf, sizeof buf, "%d %b %Y %H:%M %Z", &tm);
  return buf;
}

bool SetDisplayTimeZone(const std::string& iana_name) {
  std::string path = "/usr/share/zoneinfo/" + iana_name;
  if (iana_name.empty() || iana_name.find("..") != std::string::npos ||
      access(path.c_str(), R_OK) != 0) {
    return false;
  }
  setenv("TZ", iana_name.c_str(), 1);
  tzset();
  return true;
}

int64_t ParseIsoUtc(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') return 0;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace opsmerge
