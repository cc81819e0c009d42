#pragma once

#include <nlohmann/json.hpp>

#include "clients/service.h"
#include "platform/http/router.h"
#include "platform/templates.h"

// Registers the clients feature's HTTP handlers. The JSON API and the pages call
// the same ClientService methods.
namespace opsmerge::clients {

void RegisterApi(http::Router& router, ClientService& service);
void RegisterPages(http::Router& router, ClientService& service, const Templates& templates);

// The view of the client header and tabs (clients/_header) for a page of the
// client; `tab` is "overview", "contacts", "sites", "history" or a registered
// owner's key ("endpoints"). Tabs come from the clients' own and `owners`'.
nlohmann::json ClientPageView(const ClientDetail& detail, const std::string& tab,
                              const http::Request& request, const ClientOwners& owners);

}  // namespace opsmerge::clients
