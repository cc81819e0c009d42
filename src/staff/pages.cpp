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
std::string SafeNext(const std::string& next) {
  return http::IsLocalPath(next) ? next : "/clients";
}

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
                     {"created_at", u.created_at}});
  }
  return users;
}

}  // namespace

void RegisterPages(http::Router& router, StaffService& service, const Templates& templates) {
  router.Add(
      "GET", "/login",
      [&service, &templates](Request& req) {
        if (req.principal) return Response::Redirect(SafeNext(req.Query("next")), 302);
        json view = {{"next", req.Query("next")}};
        if (req.Query("signed_out") == "1") view["notice"] = "You have signed out.";
        if (service.CountUsers() == 0) {
          view["error"] =
              "No staff account exists yet. Open the setup address that opsmerge serve printed.";
        }
        return RenderPage(templates, req, "staff/login", view, {"Sign in", "", 200});
      },
      http::Access::kPublic);

  router.Add(
      "POST", "/login",
      [&service, &templates](Request& req) {
        std::string email = req.Form("email");
        try {
          std::string token = service.SignIn(email, req.Form("password"), req.remote_ip);
          return WithSession(Response::Redirect(SafeNext(req.Form("next"))), req, token,
                             service.session_policy().absolute_seconds);
        } catch (const Unauthorized& e) {
          json view = {{"next", req.Form("next")}, {"email", email}, {"error", e.what()}};
          return RenderPage(templates, req, "staff/login", view, {"Sign in", "", 401});
        } catch (const TooManyRequests& e) {
          json view = {{"next", req.Form("next")}, {"email", email}, {"error", e.what()}};
          Response r = RenderPage(templates, req, "staff/login", view, {"Sign in", "", 429});
          r.SetHeader("Retry-After", std::to_string(e.retry_after()));
          return r;
        }
      },
      http::Access::kPublic);

  router.Add(
      "POST", "/logout",
      [&service](Request& req) {
        service.SignOut(req.session_token);
        return WithSession(Response::Redirect("/login?signed_out=1"), req, "", 0);
      },
      http::Access::kPublic);

  router.Add(
      "GET", "/setup",
      [&service, &templates](Request& req) {
        std::string token = req.Query("token");
        if (!service.SetupTokenValid(token)) {
          throw Forbidden(
              "This setup address is not valid. If no administrator exists yet, restart "
              "opsmerge serve and use the address it prints.");
        }
        return RenderPage(templates, req, "staff/setup", {{"token", token}},
                          {"Set up OpsMerge", "", 200});
      },
      http::Access::kPublic);

  router.Add(
      "POST", "/setup",
      [&service, &templates](Request& req) {
        std::string token = req.Form("token");
        json form = {{"name", req.Form("name")}, {"email", req.Form("email")}};
        try {
          std::string session = service.CompleteSetup(token, req.Form("email"), req.Form("name"),
                                                      req.Form("password"), req.remote_ip);
          return WithSession(Response::Redirect("/clients"), req, session,
                             service.session_policy().absolute_seconds);
        } catch (const ValidationError& e) {
          json view = {{"token", token}, {"form", form}, {"errors", {{e.field(), e.what()}}}};
          return RenderPage(templates, req, "staff/setup", view, {"Set up OpsMerge", "", 422});
        }
      },
      http::Access::kPublic);

  router.Add("GET", "/settings/staff", [&service, &templates](Request& req) {
    Actor actor = ActorFrom(req);
    json view = {{"users", UsersView(service, actor)}, {"created", req.Query("created")}};
    return RenderPage(templates, req, "staff/users", view, {"Staff", "settings", 200});
  });

  router.Add("POST", "/settings/staff", [&service, &templates](Request& req) {
    Actor actor = ActorFrom(req);
    try {
      User u = service.CreateUser(actor, req.Form("email"), req.Form("name"), req.Form("role"),
                                  req.Form("password"));
      return Response::Redirect("/settings/staff?created=" + http::UrlEncode(u.email));
    } catch (const ValidationError& e) {
      json view = {{"users", UsersView(service, actor)},
                   {"form", {{"name", req.Form("name")}, {"email", req.Form("email")}}},
                   {"errors", {{e.field(), e.what()}}}};
      return RenderPage(templates, req, "staff/users", view, {"Staff", "settings", 422});
    }
  });

  auto render_keys = [&service, &templates](Request& req, json extra, int status) {
    Actor actor = ActorFrom(req);
    json keys = json::array();
    for (const auto& k : service.ListApiKeys(actor)) {
      keys.push_back({{"id", k.id},
                      {"label", k.label},
                      {"prefix", k.prefix},
                      {"owner", k.owner_email},
                      {"created_at", k.created_at},
                      {"last_used_at", k.last_used_at},
                      {"revoked", !k.revoked_at.empty()}});
    }
    extra["keys"] = keys;
    return RenderPage(templates, req, "staff/api_keys", extra, {"API keys", "settings", status});
  };

  router.Add("GET", "/settings/api-keys",
             [render_keys](Request& req) { return render_keys(req, json::object(), 200); });

  router.Add("POST", "/settings/api-keys", [&service, render_keys](Request& req) {
    Actor actor = ActorFrom(req);
    try {
      IssuedApiKey key = service.CreateApiKey(actor, req.principal->email, req.Form("label"));
      // The secret is shown in this response only; it is never stored or shown again.
      return render_keys(req, {{"new_key", key.secret}, {"new_label", key.key.label}}, 201);
    } catch (const ValidationError& e) {
      return render_keys(req, {{"error", e.what()}}, 422);
    }
  });

  router.Add("POST", "/settings/api-keys/{id}/revoke", [&service](Request& req) {
    service.RevokeApiKey(ActorFrom(req), req.ParamId(0, "API key"));
    return Response::Redirect("/settings/api-keys");
  });
}

}  // namespace opsmerge::staff
