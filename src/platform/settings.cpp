#include "platform/settings.h"

#include <soci/soci.h>

namespace opsmerge::settings {

std::optional<std::string> Get(soci::session& sql, const std::string& key) {
  std::string value;
  sql << "SELECT value FROM settings WHERE key = :k", soci::use(key), soci::into(value);
  if (!sql.got_data()) return std::nullopt;
  return value;
}

void Set(soci::session& sql, const std::string& key, const std::string& value,
         const std::string& now) {
  sql << "INSERT INTO settings (key, value, updated_at) VALUES (:k, :v, :n) "
         "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
      soci::use(key), soci::use(value), soci::use(now);
}

void Remove(soci::session& sql, const std::string& key) {
  sql << "DELETE FROM settings WHERE key = :k", soci::use(key);
}

bool GetBool(soci::session& sql, const std::string& key, bool fallback) {
  auto value = Get(sql, key);
  return value ? *value == "1" : fallback;
}

}  // namespace opsmerge::settings
