#include "billing/client_data.h"

#include <soci/soci.h>

namespace opsmerge::billing {

namespace {

constexpr const char* kCountByClient =
    "SELECT client_id, COUNT(*) FROM invoices WHERE client_id IN ($ids) GROUP BY client_id";

}  // namespace

void RegisterClientData(clients::ClientOwners& owners) {
  clients::ClientOwner i;
  i.key = "invoices";
  i.singular = "invoice";
  i.plural = "invoices";
  i.blocks_delete = true;
  i.count_many = [](soci::session& sql, const std::vector<int64_t>& ids) {
    return db::CountIn(sql, kCountByClient, ids);
  };
  i.move = [](db::Tx& tx, int64_t from, int64_t to) {
    long long f = from, d = to;
    tx.sql() << "UPDATE invoices SET client_id = :t WHERE client_id = :f", soci::use(d),
        soci::use(f);
  };
  owners.Register(std::move(i));
}

}  // namespace opsmerge::billing
