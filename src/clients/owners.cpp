#include "clients/owners.h"

#include <stdexcept>

namespace opsmerge::clients {

void ClientOwners::Register(ClientOwner owner) {
  for (const auto& o : owners_) {
    if (o.key == owner.key)
      throw std::logic_error("client owner " + owner.key + " registered twice");
  }
  if (!owner.count_many || !owner.move) {
    throw std::logic_error("client owner " + owner.key + " needs count_many and move");
  }
  owners_.push_back(std::move(owner));
}

std::map<int64_t, std::map<std::string, int64_t>> ClientOwners::CountFor(
    soci::session& sql, const std::vector<int64_t>& client_ids) const {
  std::map<int64_t, std::map<std::string, int64_t>> out;
  for (int64_t id : client_ids) out[id];
  if (client_ids.empty()) return out;
  for (const auto& o : owners_) {
    if (!o.counted && !o.blocks_delete) continue;
    std::map<int64_t, int64_t> counts = o.count_many(sql, client_ids);
    for (int64_t id : client_ids) {
      auto it = counts.find(id);
      out[id][o.key] = it == counts.end() ? 0 : it->second;
    }
  }
  return out;
}

std::map<int64_t, std::map<std::string, int64_t>> ClientOwners::CountPerSite(
    soci::session& sql, const std::vector<int64_t>& site_ids) const {
  std::map<int64_t, std::map<std::string, int64_t>> out;
  for (int64_t id : site_ids) out[id];
  if (site_ids.empty()) return out;
  for (const auto& o : owners_) {
    if (!o.count_per_site) continue;
    std::map<int64_t, int64_t> counts = o.count_per_site(sql, site_ids);
    for (int64_t id : site_ids) {
      auto it = counts.find(id);
      out[id][o.key] = it == counts.end() ? 0 : it->second;
    }
  }
  return out;
}

}  // namespace opsmerge::clients
