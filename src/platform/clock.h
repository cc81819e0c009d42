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
// The inverse of FormatIsoUtc; 0 for text not in that form.
int64_t ParseIsoUtc(const std::string& text);

}  // namespace opsmerge
