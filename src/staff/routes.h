#pragma once

#include "platform/http/router.h"
#include "platform/templates.h"
#include "staff/service.h"

// Sign-in, sign-out, first-run setup, and the settings pages for staff users and
// API keys.
namespace opsmerge::staff {

void RegisterPages(http::Router& router, StaffService& service, const Templates& templates);

}  // namespace opsmerge::staff
