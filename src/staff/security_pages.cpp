// Staff security pages (U1): the second step of sign-in, "My account" (password,
// two-factor, recovery codes, sign out everywhere), the admin's actions on staff,
// and the one-time password reset page.
#include <nlohmann/json.hpp>

#include "platform/errors.h"
#include "platform/http/server.h"
#include "platform/http/target.h"
#include "platform/page.h"
#include "platform/totp.h"
#include "staff/routes.h"

namespace opsmerge::staff {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;

std::string FirstError(const json& problem) {
  return problem.contains("errors") ? problem["errors"].begin().value().get<std::string>() : "";
}

json SetupView(const TotpSetup& setup) {
  // Groups of four, as authenticator apps show a typed key.
  std::string grouped;
  for (size_t i = 0; i < setup.secret.size(); ++i) {
    if (i > 0 && i % 4 == 0) grouped += ' ';
    grouped += setup.secret[i];
  }
  return {{"secret", grouped}, {"qr_src", totp::QrDataUri(setup.uri)}};
}

Response WithSession(Response r, const Request& req, const std::string& token, int64_t max_age) {
  r.headers.emplace_back("Set-Cookie",
                         http::CookieHeader(http::kSessionCookie, token, req.secure, max_age));
  return r;
}

}  // namespace

http::Response SecondStepPage(StaffService& service, const Templates& templates, http::Request& req,
                              const SignInStep& step, const std::string& next,
                              const std::string& error, int status) {
  json view = {{"challenge", step.challenge}, {"next", next}, {"error", error}};
  if (!step.enrol) {
    return RenderPage(templates, req, "staff/two_factor", view, {"Two-factor sign-in", "", status});
  }
  view.update(SetupView(service.EnrolmentSecret(step.challenge)));
  return RenderPage(templates, req, "staff/enrol", view, {"Set up two-factor sign-in", "", status});
}

void RegisterSecurityPages(http::Router& router, StaffService& service,
                           const Templates& templates) {
  // ---- The second step of sign-in -------------------------------------------------
  FormPage code_page = [&service, &templates](Request& req, const json& problem, int status) {
    return SecondStepPage(service, templates, req, {"", req.Form("challenge"), false},
                          req.Form("next"), FirstError(problem), status);
  };
  router.Add("POST", "/login/two-factor",
             FormPost(
                 [&service](Request& req) {
                   std::string token = service.CompleteTwoFactor(req.Form("challenge"),
                                                                 req.Form("code"), req.remote_ip);
                   std::string next = req.Form("next");
                   return WithSession(Response::Redirect(http::IsLocalPath(next) ? next : "/"), req,
                                      token, service.session_policy().absolute_seconds);
                 },
                 code_page),
             http::Access::kPublic);

  FormPage enrol_page = [&service, &templates](Request& req, const json& problem, int status) {
    return SecondStepPage(service, templates, req, {"", req.Form("challenge"), true},
                          req.Form("next"), FirstError(problem), status);
  };
  router.Add(
      "POST", "/login/enrol",
      [&service, &templates, enrol_page](Request& req) {
        try {
          auto [token, codes] =
              service.CompleteEnrolment(req.Form("challenge"), req.Form("code"), req.remote_ip);
          std::string next = req.Form("next");
          json view = {{"codes", codes}, {"next", http::IsLocalPath(next) ? next : "/"}};
          // Like every page, sent with Cache-Control: no-store (platform/http).
          return WithSession(RenderPage(templates, req, "staff/recovery_codes", view,
                                        {"Your recovery codes", "", 200}),
                             req, token, service.session_policy().absolute_seconds);
        } catch (const ValidationError& e) {
          return enrol_page(req, {{"errors", {{"code", e.what()}}}}, 422);
        }
      },
      http::Access::kPublic);

  // ---- My account -------------------------------------------------------------------
  FormPage account_page = [&service, &templates](Request& req, const json& problem, int status) {
    AccountSecurity security = service.Security(ActorFrom(req));
    json view = {
        {"two_factor", security.two_factor},
        {"required", security.required},
        {"recovery_codes_left", security.recovery_codes_left},
        {"setup", false},
        {"codes", json::array()},
        {"notice", req.Query("notice") == "password"         ? "Your password is changed. "
                                                               "Your other sessions are signed out."
                   : req.Query("notice") == "two_factor_off" ? "Two-factor sign-in is off."
                                                             : ""},
        {"errors", OpenMap(problem.value("errors", json::object()))}};
    if (security.setting_up || problem.value("errors", json::object()).contains("code")) {
      if (!security.two_factor) {
        json setup = SetupView(service.BeginTwoFactor(ActorFrom(req)));
        view["setup"] = true;
        view["secret"] = setup["secret"];
        view["qr_src"] = setup["qr_src"];
      }
    }
    return RenderPage(templates, req, "staff/account", view, {"My account", "account", status});
  };
  router.Add("GET", "/account",
             [account_page](Request& req) { return account_page(req, json::object(), 200); });
  router.Add("POST", "/account/password",
             FormPost(
                 [&service](Request& req) {
                   service.ChangePassword(ActorFrom(req), req.Form("current_password"),
                                          req.Form("password"), req.session_token);
                   return Response::Redirect("/account?notice=password");
                 },
                 account_page));
  router.Add("POST", "/account/two-factor/begin", [&service](Request& req) {
    service.BeginTwoFactor(ActorFrom(req));
    return Response::Redirect("/account#two-factor");
  });
  auto codes_page = [&templates](Request& req, const std::vector<std::string>& codes) {
    json view = {{"codes", codes}, {"next", "/account"}};
    return RenderPage(templates, req, "staff/recovery_codes", view,
                      {"Your recovery codes", "account", 200});
  };
  router.Add("POST", "/account/two-factor/confirm",
             FormPost(
                 [&service, codes_page](Request& req) {
                   return codes_page(req,
                                     service.ConfirmTwoFactor(ActorFrom(req), req.Form("code")));
                 },
                 account_page));
  router.Add("POST", "/account/two-factor/disable",
             FormPost(
                 [&service](Request& req) {
                   service.DisableTwoFactor(ActorFrom(req), req.Form("current_password"));
                   return Response::Redirect("/account?notice=two_factor_off");
                 },
                 account_page));
  router.Add("POST", "/account/recovery-codes",
             FormPost(
                 [&service, codes_page](Request& req) {
                   return codes_page(req, service.RegenerateRecoveryCodes(
                                              ActorFrom(req), req.Form("current_password")));
                 },
                 account_page));
  router.Add("POST", "/account/sign-out-everywhere", [&service](Request& req) {
    service.SignOutEverywhere(ActorFrom(req));
    return WithSession(Response::Redirect("/login?signed_out=1"), req, "", 0);
  });

  // ---- The reset link ---------------------------------------------------------------
  // GET shows the form and never consumes the link; the POST does, atomically.
  FormPage reset_page = [&service, &templates](Request& req, const json& problem, int status) {
    std::string token = req.params.at(0);
    auto user = service.PasswordResetFor(token);
    if (!user) {
      throw Forbidden("This reset link is not valid any more. Ask an administrator for a new one.");
    }
    json view = {{"token", token},
                 {"email", user->email},
                 {"errors", OpenMap(problem.value("errors", json::object()))}};
    Response r = RenderPage(templates, req, "staff/reset_password", view,
                            {"Choose a new password", "", status});
    r.SetHeader("Referrer-Policy", "no-referrer");
    return r;
  };
  router.Add(
      "GET", "/reset-password/{token}",
      [reset_page](Request& req) { return reset_page(req, json::object(), 200); },
      http::Access::kPublic);
  router.Add("POST", "/reset-password/{token}",
             FormPost(
                 [&service](Request& req) {
                   service.CompletePasswordReset(req.params.at(0), req.Form("password"));
                   return Response::Redirect("/login?reset=1");
                 },
                 reset_page),
             http::Access::kPublic);
}

}  // namespace opsmerge::staff
