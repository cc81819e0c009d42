#pragma once

#include "clients/owners.h"

// What tickets own of a client: its tickets (counted, moved on merge, delete
// refused while any exist, C5/C6). Called once by app/ at start-up.
namespace opsmerge::tickets {

void RegisterClientData(clients::ClientOwners& owners);

}  // namespace opsmerge::tickets
