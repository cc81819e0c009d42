#pragma once

#include "admin/settings_service.h"
#include "cipp/service.h"
#include "clients/service.h"
#include "platform/http/router.h"
#include "platform/templates.h"

namespace opsmerge::cipp {

// Settings -> Microsoft 365 (CIPP) (admin only): the connection, Test connection,
// Dry run, Sync now, the last reports and the tenants waiting for a decision; and
// the API: POST /api/v1/integrations/cipp/sync {"dry_run"}, POST
// /api/v1/integrations/cipp/test, GET /api/v1/integrations/cipp/reports.
void RegisterRoutes(http::Router& router, CippService& cipp, admin::SettingsService& settings,
                    clients::ClientService& clients, const Templates& templates);

}  // namespace opsmerge::cipp
