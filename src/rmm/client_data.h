#pragma once

#include "clients/owners.h"

// What the RMM owns of a client: its endpoints (counted, an Endpoints tab, per-site
// counts, delete refused while any exist) and its enrolment tokens (moved on merge,
// deleted with the client). Called once by app/ at start-up.
namespace opsmerge::rmm {

void RegisterClientData(clients::ClientOwners& owners);

}  // namespace opsmerge::rmm
