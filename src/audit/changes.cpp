#include "audit/changes.h"

#include <nlohmann/json.hpp>

namespace opsmerge::audit {

namespace {

using nlohmann::json;

json ParseObject(const std::string& text) {
  if (text.empty()) return json::object();
  json parsed = json::parse(text, nullptr, false);
  return parsed.is_object() ? parsed : json::object();
}

std::string Label(const std::string& key) {
  std::string out;
  for (char c : key) out += c == '_' ? ' ' : c;
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 32);
  return out;
}

std::string Show(const json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "Yes" : "No";
  if (value.is_array()) {
    std::string out;
    for (const auto& item : value) {
      std::string shown = Show(item);
      if (shown.empty()) continue;
      out += (out.empty() ? "" : ", ") + shown;
    }
    return out;
  }
  return value.dump();
}

}  // namespace

std::vector<FieldChange> FieldChanges(const std::string& before_json,
                                      const std::string& after_json) {
  json before = ParseObject(before_json), after = ParseObject(after_json);
  std::vector<FieldChange> out;
  auto add = [&](const std::string& key) {
    // Bookkeeping a person did not change: ids, timestamps, nested records.
    if (key == "id" || (key.size() > 3 && key.compare(key.size() - 3, 3, "_at") == 0)) return;
    for (const json* side : {&before, &after}) {
      if (!side->contains(key)) continue;
      const json& v = (*side)[key];
      if (v.is_object() || (v.is_array() && !v.empty() && v.front().is_object())) return;
    }
    std::string was = before.contains(key) ? Show(before[key]) : "";
    std::string now = after.contains(key) ? Show(after[key]) : "";
    if (was != now) out.push_back({Label(key), was, now});
  };
  // nlohmann::json objects iterate in key order; the writers' order is not kept.
  for (const auto& [key, value] : after.items()) add(key);
  for (const auto& [key, value] : before.items()) {
    if (!after.contains(key)) add(key);
  }
  return out;
}

}  // namespace opsmerge::audit
