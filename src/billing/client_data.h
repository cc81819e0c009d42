#pragma once

#include "clients/owners.h"

// What billing owns of a client: its contracts and invoices (counted, moved on merge so a merged
// client bills under its survivor, delete refused once any exist, C5/C6). Called
// once by app/ at start-up.
namespace opsmerge::billing {

void RegisterClientData(clients::ClientOwners& owners);

}  // namespace opsmerge::billing
