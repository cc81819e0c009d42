#pragma once

#include <cstdint>
#include <string>

namespace opsmerge {

// The time source. Injected so tests can move time instead of sleeping.
// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch, UTC.
  virtual int64_t NowUnix() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowUnix() const override;
};

// "2026-11-25T06:55:08Z": the one form times take in the database and the API.
// It sorts lexically in time order on both SQLite and PostgreSQL.
std::string FormatIsoUtc(int64_t unix_seconds);
// "25 Nov 2026 06:55 GMT": how pages show a time, in the process's time zone (set
// once at start-up from the MSP's setting; Europe/London by default).
std::string FormatForPeople(int64_t unix_seconds);
// Sets the time zone FormatForPeople uses ("Europe/London"). Call before any thread
// starts; false if the zone is unknown.
bool SetDisplayTimeZone(const std::string& iana_name);

// The inverse of FormatIsoUtc; 0 for text not in that form.
int64_t ParseIsoUtc(const std::string& text);

}  // namespace opsmerge
