#include "rmm/client_data.h"

#include "rmm/store.h"

namespace opsmerge::rmm {

void RegisterClientData(clients::ClientOwners& owners) {
  clients::ClientOwner endpoints;
  endpoints.key = "endpoints";
  endpoints.singular = "endpoint";
  endpoints.plural = "endpoints";
  endpoints.blocks_delete = true;
  endpoints.count_many = store::CountEndpointsByClient;
  endpoints.count_per_site = store::CountEndpointsBySite;
  endpoints.move = [](db::Tx& tx, int64_t from, int64_t to) {
    store::MoveEndpointsToClient(tx.sql(), from, to);
  };
  endpoints.tab = clients::ClientTab{"Endpoints", "/endpoints", 30};
  owners.Register(std::move(endpoints));

  clients::ClientOwner tokens;
  tokens.key = "enrollment_tokens";
  tokens.singular = "enrolment token";
  tokens.plural = "enrolment tokens";
  tokens.counted = false;
  tokens.count_many = store::CountTokensByClient;
  // A merged client's tokens keep working and now enrol into the survivor.
  tokens.move = [](db::Tx& tx, int64_t from, int64_t to) {
    store::MoveTokensToClient(tx.sql(), from, to);
  };
  owners.Register(std::move(tokens));
}

}  // namespace opsmerge::rmm
