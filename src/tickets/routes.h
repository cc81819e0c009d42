#pragma once

#include <nlohmann/json_fwd.hpp>

#include "platform/http/router.h"
#include "platform/templates.h"
#include "tickets/service.h"

// The tickets feature's HTTP handlers: the JSON API (pages and API call the same
// TicketService methods).
namespace opsmerge::tickets {

void RegisterApi(http::Router& router, TicketService& service);
// The Tickets queue (/tickets), a client's and an endpoint's Tickets tab, a
// ticket's page and the new-ticket form.
void RegisterPages(http::Router& router, TicketService& service, clients::ClientService& clients,
                   rmm::RmmService& rmm, const Templates& templates);

// The API's form of a ticket: {"id","number","subject","client_id" (null in
// triage),"contact_id","status","priority","vip","assignee_id","endpoint_id",
// "site_id","source","created_at","updated_at","first_response_due_at",
// "resolution_due_at"} plus "sla" ("ok", "due_soon", "breached") at `now`.
nlohmann::json TicketJson(const Ticket& t, int64_t now);

}  // namespace opsmerge::tickets
