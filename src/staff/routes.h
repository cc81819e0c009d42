#pragma once

#include "platform/http/router.h"
#include "platform/templates.h"
#include "staff/service.h"

// Sign-in (with two-factor), sign-out, first-run setup, My account, and the settings
// pages for staff users and API keys.
namespace opsmerge::staff {

// `public_url` is the base of links people are given ("" = the request's host).
void RegisterPages(http::Router& router, StaffService& service, const Templates& templates,
                   const std::string& public_url);
// Part of RegisterPages: the second step of sign-in, My account, the admin's actions
// on staff, password reset links.
void RegisterSecurityPages(http::Router& router, StaffService& service, const Templates& templates);
// Part of RegisterPages: the admin's audit log page.
void RegisterAuditPage(http::Router& router, StaffService& service, const Templates& templates);
// The page asking for a sign-in's second step (a code, or setting two-factor up).
http::Response SecondStepPage(StaffService& service, const Templates& templates, http::Request& req,
                              const SignInStep& step, const std::string& next,
                              const std::string& error, int status);

}  // namespace opsmerge::staff
