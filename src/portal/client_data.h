#pragma once

#include "clients/owners.h"

// What the portal keeps of a client's contacts: their sign-in links and sessions.
// Not counted and no tab; on a merge (C5) a contact folded into the survivor's
// contact with the same email keeps its sessions under that contact, so a merged
// contact keeps access under the survivor. Called once by app/ at start-up.
namespace opsmerge::portal {

void RegisterClientData(clients::ClientOwners& owners);

}  // namespace opsmerge::portal
