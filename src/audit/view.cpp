#include "audit/view.h"

#include <nlohmann/json.hpp>

#include "audit/changes.h"
#include "platform/page.h"

namespace opsmerge::audit {

nlohmann::json EntryView(const Row& row) {
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : FieldChanges(row.before_json, row.after_json)) {
    changes.push_back({{"field", c.field},
                       {"before", c.before},
                       {"after", c.after},
                       {"had_before", !c.before.empty()},
                       {"has_after", !c.after.empty()}});
  }
  return {{"at", TimeView(row.at)},
          {"who", row.actor_name},
          {"action", row.action},
          {"summary", row.summary},
          {"client_id", row.client_id.value_or(0)},
          {"client_name", row.client_name},
          {"has_client", row.client_id.has_value() && !row.client_name.empty()},
          {"changes", changes},
          {"has_changes", !changes.empty()}};
}

}  // namespace opsmerge::audit
