#pragma once

#include <nlohmann/json_fwd.hpp>

#include "audit/service.h"

namespace opsmerge::audit {

// One entry for the audit/_entry template (a client's History tab and the
// admin's audit page): when, who, the summary, and the field changes.
nlohmann::json EntryView(const Row& row);

}  // namespace opsmerge::audit
