#include "platform/rate_limit.h"

#include <algorithm>

#include <soci/soci.h>

namespace opsmerge::ratelimit {

int64_t Window::RetryAfter(int64_t now, int64_t window_seconds) const {
  return std::max<int64_t>(1, window_start + window_seconds - now);
}

Window Hit(soci::session& sql, const std::string& bucket, int64_t now, int64_t window_seconds) {
  // SET expressions all see the row as it was, on both dialects. SQLite binds a
  // repeated placeholder name once, so every use has its own name.
  long long n1 = now, n2 = now, n3 = now, n4 = now, w1 = window_seconds, w2 = window_seconds;
  long long count = 0, start = 0;
  sql << "INSERT INTO rate_limits (bucket, window_start, count) VALUES (:b, :n1, 1) "
         "ON CONFLICT (bucket) DO UPDATE SET "
         "count = CASE WHEN rate_limits.window_start + :w1 <= :n2 THEN 1 "
         "ELSE rate_limits.count + 1 END, "
         "window_start = CASE WHEN rate_limits.window_start + :w2 <= :n3 THEN :n4 "
         "ELSE rate_limits.window_start END "
         "RETURNING count, window_start",
      soci::use(bucket), soci::use(n1), soci::use(w1), soci::use(n2), soci::use(w2), soci::use(n3),
      soci::use(n4), soci::into(count), soci::into(start);
  return Window{count, start};
}

Window Peek(soci::session& sql, const std::string& bucket, int64_t now, int64_t window_seconds) {
  long long start = 0, count = 0;
  sql << "SELECT window_start, count FROM rate_limits WHERE bucket = :b", soci::use(bucket),
      soci::into(start), soci::into(count);
  if (!sql.got_data() || start + window_seconds <= now) return Window{0, now};
  return Window{count, start};
}

void Unhit(soci::session& sql, const std::string& bucket) {
  sql << "UPDATE rate_limits SET count = count - 1 WHERE bucket = :b AND count > 0",
      soci::use(bucket);
}

void Clear(soci::session& sql, const std::string& bucket) {
  sql << "DELETE FROM rate_limits WHERE bucket = :b", soci::use(bucket);
}

int64_t Purge(soci::session& sql, int64_t cutoff) {
  long long c = cutoff;
  soci::statement st =
      (sql.prepare << "DELETE FROM rate_limits WHERE window_start < :c", soci::use(c));
  st.execute(true);
  return st.get_affected_rows();
}

}  // namespace opsmerge::ratelimit
