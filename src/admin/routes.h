#pragma once

#include "admin/settings_service.h"
#include "platform/http/router.h"
#include "platform/templates.h"

// Settings → General (/settings/general) and GET|PATCH /api/v1/settings.
namespace opsmerge::admin {

void RegisterSettings(http::Router& router, SettingsService& service, const Templates& templates);

}  // namespace opsmerge::admin
