#include "portal/client_data.h"

#include <soci/soci.h>

namespace opsmerge::portal {

void RegisterClientData(clients::ClientOwners& owners) {
  clients::ClientOwner o;
  o.key = "portal_sessions";
  o.singular = "portal session";
  o.plural = "portal sessions";
  o.counted = false;
  o.count_many = [](soci::session&, const std::vector<int64_t>&) {
    return std::map<int64_t, int64_t>{};
  };
  // Sessions and links hang on contacts, which move with the merge by themselves.
  o.move = [](db::Tx&, int64_t, int64_t) {};
  o.fold_contact = [](db::Tx& tx, int64_t gone, int64_t kept) {
    long long g = gone, k = kept;
    tx.sql() << "UPDATE portal_sessions SET contact_id = :k WHERE contact_id = :g", soci::use(k),
        soci::use(g);
  };
  owners.Register(std::move(o));
}

}  // namespace opsmerge::portal
