#pragma once

#include <optional>
#include <string>

namespace soci {
class session;
}

// The settings store: one row per key in `settings`, read and written on the
// caller's session so a change joins the use case's transaction (and its audit
// entry). Keys are dotted names owned by the feature that reads them
// ("staff.require_two_factor"); values are text, typed by the helpers below.
namespace opsmerge::settings {

std::optional<std::string> Get(soci::session& sql, const std::string& key);
void Set(soci::session& sql, const std::string& key, const std::string& value,
         const std::string& now);

void Remove(soci::session& sql, const std::string& key);

// "1"/"0"; an absent key reads as `fallback`.
bool GetBool(soci::session& sql, const std::string& key, bool fallback);
inline void SetBool(soci::session& sql, const std::string& key, bool value,
                    const std::string& now) {
  Set(sql, key, value ? "1" : "0", now);
}

}  // namespace opsmerge::settings
