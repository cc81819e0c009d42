#pragma once

#include "clients/service.h"
#include "platform/http/router.h"
#include "platform/templates.h"
#include "rmm/service.h"
#include "tickets/service.h"

// The home page (a dashboard of what needs attention and what changed) and the
// global search over clients, contacts, endpoints and tickets: the box at the top of every
// page, its page /search, and GET /api/v1/search. Built on the features' service
// headers only; tickets and alerts add their panels and results here later.
namespace opsmerge::home {

void RegisterPages(http::Router& router, clients::ClientService& clients, rmm::RmmService& rmm,
                   tickets::TicketService& tickets, const Templates& templates);
void RegisterApi(http::Router& router, clients::ClientService& clients, rmm::RmmService& rmm,
                 tickets::TicketService& tickets);

}  // namespace opsmerge::home
