#pragma once

#include "platform/http/router.h"
#include "platform/templates.h"
#include "portal/service.h"

// The client portal's pages (/portal/...): sign-in by link, tickets, invoices; and
// the staff side's "Send portal link" on a contact.
namespace opsmerge::portal {

// `public_url`: the address links point to when the settings name none.
void RegisterPages(http::Router& router, PortalService& portal, const Templates& templates,
                   const std::string& public_url);

}  // namespace opsmerge::portal
