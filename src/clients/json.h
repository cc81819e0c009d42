#pragma once

#include <nlohmann/json.hpp>

#include "clients/model.h"

// The JSON shapes of the API (v1) for clients, contacts, sites and links. The
// same shapes are stored as the audit log's before/after, so history shows what
// an integration would have seen. Pure functions.
namespace opsmerge::clients {

nlohmann::json ClientJson(const Client& client, const std::vector<ClientLink>& links,
                          const ClientCounts& counts);
nlohmann::json ClientJson(const ClientDetail& detail);
// {"contacts", "sites", and one member per counted owner ("endpoints", "tickets" ...)}.
nlohmann::json CountsJson(const ClientCounts& counts);
nlohmann::json LinkJson(const ClientLink& link);
nlohmann::json ContactJson(const Contact& contact);
// What an import did or would do: {"kind", "columns", "ignored", "rows": [{"line",
// "values", "outcome" (new, skipped, error), "field", "message"}], "created",
// "skipped", "errors", "written"}.
nlohmann::json ImportReportJson(const ImportReport& report);
nlohmann::json SiteJson(const Site& site);

}  // namespace opsmerge::clients
