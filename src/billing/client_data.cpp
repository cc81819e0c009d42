#include "billing/client_data.h"

#include <soci/soci.h>

namespace opsmerge::billing {

namespace {

constexpr const char* kCountByClient =
    "SELECT client_id, COUNT(*) FROM invoices WHERE client_id IN ($ids) GROUP BY client_id";
constexpr const char* kContractsByClient =
    "SELECT client_id, COUNT(*) FROM contracts WHERE client_id IN ($ids) GROUP BY client_id";

}  // namespace

void RegisterClientData(clients::ClientOwners& owners) {
  clients::ClientOwner c;
  c.key = "contracts";
  c.singular = "contract";
  c.plural = "contracts";
  c.blocks_delete = true;
  c.count_many = [](soci::session& sql, const std::vector<int64_t>& ids) {
    return db::CountIn(sql, kContractsByClient, ids);
  };
  c.tab = clients::ClientTab{"Contracts", "/contracts", 40};
  c.move = [](db::Tx& tx, int64_t from, int64_t to) {
    long long f = from, d = to;
    tx.sql() << "UPDATE contracts SET client_id = :t WHERE client_id = :f", soci::use(d),
        soci::use(f);
  };
  owners.Register(std::move(c));

  clients::ClientOwner i;
  i.key = "invoices";
  i.singular = "invoice";
  i.plural = "invoices";
  i.blocks_delete = true;
  i.count_many = [](soci::session& sql, const std::vector<int64_t>& ids) {
    return db::CountIn(sql, kCountByClient, ids);
  };
  i.tab = clients::ClientTab{"Invoices", "/invoices", 45};
  // The invoice keeps billing_client_id (its client-month key): a merged client's
  // invoices show under the survivor, and the run never makes a second one for them.
  i.move = [](db::Tx& tx, int64_t from, int64_t to) {
    long long f = from, d = to;
    tx.sql() << "UPDATE invoices SET client_id = :t WHERE client_id = :f", soci::use(d),
        soci::use(f);
  };
  owners.Register(std::move(i));
}

}  // namespace opsmerge::billing
