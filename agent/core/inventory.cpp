#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/collector.h"
#include "protocol/agent_wire.h"

namespace opsmerge::agent {

std::string InventoryHash(const nlohmann::json& inventory) {
  nlohmann::json stable = inventory;
  if (stable.is_object()) stable.erase(wire::kUptimeSeconds);
  std::string text = stable.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace opsmerge::agent
