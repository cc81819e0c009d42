#pragma once

#include <string>
#include <vector>

// An audit entry's before and after, as people read them: one line per field that
// changed ("Name: Acme → Acme Corp"), not two JSON documents. Pure, thread-safe.
namespace opsmerge::audit {

struct FieldChange {
  std::string field;   // "Contact email" (from "contact_email")
  std::string before;  // "" when the field was empty or absent
  std::string after;
};

// The fields whose values differ between the two JSON objects, by field name;
// ids, timestamps ("..._at") and nested records are bookkeeping and left out. A creation (no
// before) lists what was set; a deletion (no after) lists what was removed. Text that is not a JSON
// object yields nothing.
std::vector<FieldChange> FieldChanges(const std::string& before_json,
                                      const std::string& after_json);

}  // namespace opsmerge::audit
