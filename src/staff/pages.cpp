#include <nlohmann/json.hpp>

#include "platform/errors.h"
#include "platform/http/server.h"
#include "platform/http/target.h"
#include "platform/page.h"
#include "staff/routes.h"

namespace opsmerge::staff {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;

// Only our own paths are followed after sign-in, never another host.
std::string SafeNext(const std::string& next) { return http::IsLocalPath(next) ? next : "/"; }

Response WithSession(Response r, const Request& req, const std::string& token, int64_t max_age) {
  r.headers.emplace_back("Set-Cookie",
                         http::CookieHeader(http::kSessionCookie, token, req.secure, max_age));
  return r;
}

json UsersView(StaffService& service, const Actor& actor) {
  json users = json::array();
  for (const auto& u : service.ListUsers(actor)) {
    users.push_back({{"id", u.id},
                     {"name", u.name},
                     {"email", u.email},
                     {"role", RoleName(u.role)},
                     {"disabled", u.disabled},
                     {"two_factor", u.two_factor},
                     {"is_me", u.id == actor.user_id},
                     {"created_at", TimeView(u.created_at)}});
  }
  return users;
}

std::string StaffNotice(const std::string& notice) {
  if (notice == "disabled") return "Disabled. Their sessions and API keys have ended.";
  if (notice == "enabled") return "Enabled. They can sign in again (with new API keys).";
  if (notice == "removed") return "Removed. Their history stays in the audit log.";
  if (notice == "two_factor_reset") return "Two-factor sign-in reset: they set it up again.";
  if (notice == "policy") return "Two-factor setting saved.";
  return "";
}

}  // namespace

void RegisterPages(http::Router& router, StaffService& service, const Templates& templates,
                   const std::string& public_url) {
  RegisterSecurityPages(router, service, templates);
  RegisterAuditPage(router, service, templates);
  FormPage login_page = [&service, &templates](Request& req, const json& problem, int status) {
    json view = {
        {"next", req.method == "POST" ? req.Form("next") : req.Query("next")},
        {"email", req.Form("email")},
        {"notice", req.Query("signed_out") == "1" ? "You have signed out."
                   : req.Query("reset") == "1"    ? "Your password is set. Sign in with it."
                                                  : ""},
        {"error", problem.contains("errors") ? problem["errors"].begin().value() : json("")}};
    if (service.CountUsers() == 0) {
      view["error"] =
          "No staff account exists yet. Open the setup address that opsmerge serve printed.";
    }
    return RenderPage(templates, req, "staff/login", view, {"Sign in", "", status});
  };
  router.Add(
      "GET", "/login",
      [login_page](Request& req) {
        if (req.principal) return Response::Redirect(SafeNext(req.Query("next")), 302);
        return login_page(req, json::object(), 200);
      },
      http::Access::kPublic);
  router.Add("POST", "/login",
             FormPost(
                 [&service, &templates](Request& req) {
                   SignInStep step =
                       service.SignIn(req.Form("email"), req.Form("password"), req.remote_ip);
                   if (step.session.empty()) {
                     return SecondStepPage(service, templates, req, step,
                                           SafeNext(req.Form("next")), "", 200);
                   }
                   return WithSession(Response::Redirect(SafeNext(req.Form("next"))), req,
                                      step.session, service.session_policy().absolute_seconds);
                 },
                 login_page),
             http::Access::kPublic);

  router.Add(
      "POST", "/logout",
      [&service](Request& req) {
        service.SignOut(req.session_token);
        return WithSession(Response::Redirect("/login?signed_out=1"), req, "", 0);
      },
      http::Access::kPublic);

  FormPage setup_page = [&templates](Request& req, const json& problem, int status) {
    json view = {{"token", req.method == "GET" ? req.Query("token") : req.Form("token")},
                 {"form", FormValues(req)},
                 {"errors", OpenMap(problem.value("errors", json::object()))},
                 {"error", ""}};
    return RenderPage(templates, req, "staff/setup", view, {"Set up OpsMerge", "", status});
  };
  router.Add(
      "GET", "/setup",
      [&service, setup_page](Request& req) {
        if (!service.SetupTokenValid(req.Query("token"))) {
          throw Forbidden(
              "This setup address is not valid. If no administrator exists yet, restart "
              "opsmerge serve and use the address it prints.");
        }
        return setup_page(req, json::object(), 200);
      },
      http::Access::kPublic);
  router.Add("POST", "/setup",
             FormPost(
                 [&service](Request& req) {
                   std::string session =
                       service.CompleteSetup(req.Form("token"), req.Form("email"), req.Form("name"),
                                             req.Form("password"), req.remote_ip);
                   return WithSession(Response::Redirect("/"), req, session,
                                      service.session_policy().absolute_seconds);
                 },
                 setup_page),
             http::Access::kPublic);

  FormPage users_page = [&service, &templates](Request& req, const json& problem, int status) {
    // An action refused on a row (not the add form) is reported above the table.
    json view = {{"users", UsersView(service, ActorFrom(req))},
                 {"created", req.Query("created")},
                 {"notice", StaffNotice(req.Query("notice"))},
                 {"error", problem.contains("errors") && problem["errors"].contains("form")
                               ? problem["errors"]["form"]
                               : json("")},
                 {"require_two_factor", service.TwoFactorRequired()},
                 {"form", FormValues(req)},
                 {"errors", OpenMap(problem.value("errors", json::object()))}};
    return RenderPage(templates, req, "staff/users", view, {"Staff", "settings", status});
  };
  router.Add("GET", "/settings/staff",
             [users_page](Request& req) { return users_page(req, json::object(), 200); });
  router.Add("POST", "/settings/staff",
             FormPost(
                 [&service](Request& req) {
                   User u = service.CreateUser(ActorFrom(req), req.Form("email"), req.Form("name"),
                                               req.Form("role"), req.Form("password"));
                   return Response::Redirect("/settings/staff?created=" + http::UrlEncode(u.email));
                 },
                 users_page));

  // ---- The admin's actions on staff (refusals are shown on the Staff page) -----
  // The row actions of the staff list: one shape, a service call and a notice.
  struct RowAction {
    const char* path;
    const char* notice;
    void (*run)(StaffService&, const Actor&, int64_t);
  };
  static constexpr RowAction kRowActions[] = {
      {"disable", "disabled",
       [](StaffService& s, const Actor& a, int64_t id) { s.SetDisabled(a, id, true); }},
      {"enable", "enabled",
       [](StaffService& s, const Actor& a, int64_t id) { s.SetDisabled(a, id, false); }},
      {"remove", "removed",
       [](StaffService& s, const Actor& a, int64_t id) { s.RemoveUser(a, id); }},
      {"reset-two-factor", "two_factor_reset",
       [](StaffService& s, const Actor& a, int64_t id) { s.ResetTwoFactor(a, id); }},
  };
  for (const RowAction& action : kRowActions) {
    router.Add(
        "POST", std::string("/settings/staff/{id}/") + action.path,
        FormPost(
            [&service, &action](Request& req) {
              action.run(service, ActorFrom(req), req.ParamId(0, "Staff user"));
              return Response::Redirect(std::string("/settings/staff?notice=") + action.notice);
            },
            users_page));
  }
  router.Add(
      "POST", "/settings/staff/{id}/reset-password",
      FormPost(
          [&service, &templates, public_url](Request& req) {
            int64_t id = req.ParamId(0, "Staff user");
            std::string token = service.IssuePasswordReset(ActorFrom(req), id);
            json view = {{"link", http::BaseUrl(req, public_url) + "/reset-password/" + token}};
            // Shown once: no cache keeps it.
            return RenderPage(templates, req, "staff/reset_link", view,
                              {"Password reset link", "settings", 200});
          },
          users_page));
  router.Add("POST", "/settings/staff/two-factor-policy",
             FormPost(
                 [&service](Request& req) {
                   service.SetTwoFactorRequired(ActorFrom(req), req.Form("required") == "1");
                   return Response::Redirect("/settings/staff?notice=policy");
                 },
                 users_page));

  auto render_keys = [&service, &templates](Request& req, json extra, int status) {
    Actor actor = ActorFrom(req);
    json keys = json::array();
    for (const auto& k : service.ListApiKeys(actor)) {
      keys.push_back({{"id", k.id},
                      {"label", k.label},
                      {"prefix", k.prefix},
                      {"owner", k.owner_email},
                      {"created_at", TimeView(k.created_at)},
                      {"last_used_at", TimeView(k.last_used_at)},
                      {"revoked", !k.revoked_at.empty()}});
    }
    extra["keys"] = keys;
    if (!extra.contains("new_key")) extra["new_key"] = "";
    if (!extra.contains("error")) extra["error"] = "";
    return RenderPage(templates, req, "staff/api_keys", extra, {"API keys", "settings", status});
  };

  router.Add("GET", "/settings/api-keys",
             [render_keys](Request& req) { return render_keys(req, json::object(), 200); });

  router.Add(
      "POST", "/settings/api-keys",
      FormPost(
          [&service, render_keys](Request& req) {
            IssuedApiKey key =
                service.CreateApiKey(ActorFrom(req), req.principal->email, req.Form("label"));
            // The secret is shown in this response only; never stored or shown again.
            return render_keys(req, {{"new_key", key.secret}, {"new_label", key.key.label}}, 201);
          },
          [render_keys](Request& req, const json& problem, int status) {
            return render_keys(req, {{"error", problem["errors"].begin().value()}}, status);
          }));

  router.Add("POST", "/settings/api-keys/{id}/revoke", [&service](Request& req) {
    service.RevokeApiKey(ActorFrom(req), req.ParamId(0, "API key"));
    return Response::Redirect("/settings/api-keys");
  });
}

}  // namespace opsmerge::staff
