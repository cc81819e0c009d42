#include "tickets/client_data.h"

#include <soci/soci.h>

namespace opsmerge::tickets {

namespace {

constexpr const char* kCountByClient =
    "SELECT client_id, COUNT(*) FROM tickets WHERE client_id IN ($ids) GROUP BY client_id";

}  // namespace

void RegisterClientData(clients::ClientOwners& owners) {
  clients::ClientOwner t;
  t.key = "tickets";
  t.singular = "ticket";
  t.plural = "tickets";
  t.blocks_delete = true;
  t.count_many = [](soci::session& sql, const std::vector<int64_t>& ids) {
    return db::CountIn(sql, kCountByClient, ids);
  };
  t.tab = clients::ClientTab{"Tickets", "/tickets", 25};
  t.move = [](db::Tx& tx, int64_t from, int64_t to) {
    long long f = from, d = to;
    tx.sql() << "UPDATE tickets SET client_id = :t WHERE client_id = :f", soci::use(d),
        soci::use(f);
  };
  owners.Register(std::move(t));
}

}  // namespace opsmerge::tickets
