#pragma once

#include <cstdint>
#include <string>

namespace soci {
class session;
}

// Fixed-window counters in the database, so every node sees the same counts
// (sign-in attempts, portal link requests, auto-replies per recipient). Each call
// runs on the caller's session, inside the caller's transaction.
namespace opsmerge::ratelimit {

struct Window {
  int64_t count = 0;         // hits in the current window, this one included
  int64_t window_start = 0;  // Unix seconds
  // Seconds until the window ends (at least 1), for Retry-After.
  int64_t RetryAfter(int64_t now, int64_t window_seconds) const;
};

// Counts one hit on `bucket` and returns the window after it, in one statement
// (an upsert with RETURNING), so concurrent callers on any node each see a
// distinct count: check the limit against the returned count, before doing the
// expensive or risky work. A window older than `window_seconds` starts over.
Window Hit(soci::session& sql, const std::string& bucket, int64_t now, int64_t window_seconds);
// The current window without counting.
Window Peek(soci::session& sql, const std::string& bucket, int64_t now, int64_t window_seconds);
// Takes one hit back (for attempts that turned out not to count, e.g. a
// successful sign-in against the address limit).
void Unhit(soci::session& sql, const std::string& bucket);
void Clear(soci::session& sql, const std::string& bucket);
// Removes windows that started before `cutoff` (the cleanup job).
int64_t Purge(soci::session& sql, int64_t cutoff);

}  // namespace opsmerge::ratelimit
