#include "platform/http/server.h"

#include <algorithm>
#include <optional>

#include <nlohmann/json.hpp>

#include "platform/crypto.h"
#include "platform/errors.h"
#include "platform/http/json.h"
#include "platform/http/listener.h"
#include "platform/http/multipart.h"
#include "platform/log.h"
#include "platform/text.h"

namespace opsmerge::http {

namespace {

bool IsUnsafe(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'";

void AddSecurityHeaders(Response& r, bool secure, bool is_static) {
  r.SetHeader("Content-Security-Policy", kCsp);
  r.SetHeader("X-Content-Type-Options", "nosniff");
  r.SetHeader("X-Frame-Options", "DENY");
  bool has_referrer = false;  // a page may ask for less ("no-referrer" on a secret link)
  for (const auto& [k, v] : r.headers) has_referrer = has_referrer || k == "Referrer-Policy";
  if (!has_referrer) r.SetHeader("Referrer-Policy", "same-origin");
  r.SetHeader("Cross-Origin-Opener-Policy", "same-origin");
  r.SetHeader("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
  if (secure) r.SetHeader("Strict-Transport-Security", "max-age=31536000");
  bool has_cache = false;
  for (const auto& [k, v] : r.headers) has_cache = has_cache || k == "Cache-Control";
  if (!has_cache && !is_static) r.SetHeader("Cache-Control", "no-store");
}

// The request's address with `moved`'s old id put right: in the first path
// segment that is exactly the id, or else in query values that are. nullopt when
// the id appears in neither (it came from somewhere a redirect cannot fix).
std::optional<std::string> MovedLocation(const Request& req, const Moved& moved) {
  const std::string old_id = std::to_string(moved.old_id());
  const std::string new_id = std::to_string(moved.new_id());
  bool replaced = false;
  std::string path;
  for (const auto& seg : SplitPath(req.path)) {
    path += "/";
    if (!replaced && seg == old_id) {
      path += new_id;
      replaced = true;
    } else {
      path += UrlEncode(seg);
    }
  }
  std::string query;
  for (const auto& [k, v] : req.query) {
    query += (query.empty() ? "" : "&") + UrlEncode(k) + "=";
    if (!replaced && v == old_id) {
      query += new_id;
      replaced = true;
    } else {
      query += UrlEncode(v);
    }
  }
  if (!replaced) return std::nullopt;
  return path + (query.empty() ? "" : "?" + query);
}

}  // namespace

std::string CsrfTokenFor(const std::string& cookie_value) {
  return crypto::HashToken("csrf:" + cookie_value);
}

std::string CookieHeader(const std::string& name, const std::string& value, bool secure,
                         int64_t max_age) {
  std::string h = name + "=" + value + "; Path=/; HttpOnly; SameSite=Lax";
  if (secure) h += "; Secure";
  if (max_age >= 0) h += "; Max-Age=" + std::to_string(max_age);
  return h;
}

Server::Server(ServerOptions options, const Router& router, Authenticator& auth,
               ErrorPage error_page)
    : options_(std::move(options)),
      router_(router),
      auth_(auth),
      error_page_(std::move(error_page)) {}

Server::~Server() { Stop(); }

void Server::Start() {
  listener_ = std::make_unique<Listener>(options_, *this);
  listener_->Start();
}

void Server::Stop() {
  if (listener_) {
    listener_->Stop();
    listener_.reset();
  }
}

uint16_t Server::port() const { return listener_ ? listener_->port() : options_.port; }

Lane Server::LaneOf(const std::string& method, const std::string& path) const {
  Router::Match match = router_.Find(method, path);
  if (match.route) return match.route->lane;
  return path.rfind("/agent/", 0) == 0 ? Lane::kAgent : Lane::kPeople;
}

size_t Server::BodyLimitOf(const std::string& method, const std::string& path) const {
  Router::Match match = router_.Find(method, path);
  if (match.route && match.route->max_body > 0) return match.route->max_body;
  return options_.max_body_bytes;
}

size_t Server::LargestBodyLimit() const {
  return std::max(options_.max_body_bytes, router_.LargestBody());
}

Response Server::Handle(Request& req) const {
  req.request_id = crypto::RandomHex(8);
  req.htmx = !req.Header("hx-request").empty();
  std::string content_type = req.Header("content-type");
  if (content_type.rfind("application/x-www-form-urlencoded", 0) == 0) {
    req.form = ParseUrlEncoded(req.body);
  }
  req.cookies = ParseCookies(req.Header("cookie"));
  const bool is_static = req.path.rfind("/static/", 0) == 0;

  auto error_response = [&](int status, const std::string& message, const std::string& code,
                            const std::string& field, int64_t existing_id) {
    if (req.IsApi()) {
      nlohmann::json err = {{"code", code}, {"message", message}};
      if (!field.empty()) err["field"] = field;
      if (existing_id > 0) err["existing_id"] = existing_id;
      return JsonResponse({{"error", err}}, status);
    }
    return Response::Html(error_page_(status, message, req), status);
  };

  Response resp;
  std::string pre_cookie_to_set;
  try {
    if (content_type.rfind("multipart/form-data", 0) == 0) {
      ParseMultipartForm(content_type, req.body, req.form, req.files);
    }
    // Text from a browser must be UTF-8 before anything stores, logs or audits it.
    for (const Pairs* pairs : {&req.query, &req.form}) {
      for (const auto& [name, value] : *pairs) {
        if (!text::IsValidUtf8(name) || !text::IsValidUtf8(value)) {
          throw ValidationError(text::IsValidUtf8(name) ? name : "form",
                                "This field is not valid text (UTF-8)");
        }
      }
    }
    Router::Match match = router_.Find(req.method, req.path);
    if (!match.route) {
      if (match.path_known) {
        resp = error_response(405, "Method not allowed", "method_not_allowed", "", 0);
      } else {
        resp = error_response(404, "Page not found", "not_found", "", 0);
      }
    } else {
      req.params = match.params;
      if (match.route->access == Access::kAgent || match.route->lane == Lane::kInline) {
        // Agents carry their own credentials; inline routes are public and must
        // never block on a session lookup.
        resp = match.route->handler(req);
        AddSecurityHeaders(resp, req.secure, false);
        return resp;
      }
      std::string auth_header = req.Header("authorization");
      bool bearer = auth_header.rfind("Bearer ", 0) == 0;
      const bool portal_route = match.route->access == Access::kPortal;
      if (portal_route) {
        // The portal's own cookie only: a staff session or an API key is no
        // client's person.
        bearer = false;
        auto it = req.cookies.find(kPortalCookie);
        if (portal_ && it != req.cookies.end() && !it->second.empty()) {
          req.portal = portal_->FromPortalSession(it->second);
          if (req.portal) req.portal_token = it->second;
        }
      } else if (bearer) {
        req.principal = auth_.FromApiKey(auth_header.substr(7));
        if (!req.principal) throw Unauthorized("Invalid or revoked API key");
        req.principal->via_api_key = true;
      } else if (!is_static) {
        auto it = req.cookies.find(kSessionCookie);
        if (it != req.cookies.end() && !it->second.empty()) {
          req.principal = auth_.FromSession(it->second);
          if (req.principal) req.session_token = it->second;
        }
      }
      if (!is_static && !bearer) {
        if (!req.portal_token.empty()) {
          req.csrf_token = CsrfTokenFor(req.portal_token);
        } else if (!req.session_token.empty()) {
          req.csrf_token = CsrfTokenFor(req.session_token);
        } else {
          auto pre = req.cookies.find(kPreSessionCookie);
          std::string value = pre != req.cookies.end() ? pre->second : "";
          if (value.size() < 22) {
            value = crypto::RandomToken(32);
            pre_cookie_to_set = value;
          }
          req.csrf_token = CsrfTokenFor(value);
        }
      }
      // A portal session reaching a staff page or the API: as if it did not
      // exist (404), so nothing of the staff side shows through the portal.
      auto portal_cookie = req.cookies.find(kPortalCookie);
      if (match.route->access == Access::kStaff && !req.principal && portal_ &&
          portal_cookie != req.cookies.end() && !portal_cookie->second.empty() &&
          portal_->FromPortalSession(portal_cookie->second)) {
        throw NotFound("Page");
      }
      if (portal_route && !req.portal) {
        // Signed out (or never signed in): the portal's sign-in page.
        resp = Response::Redirect("/portal", 303);
        if (req.htmx) resp.SetHeader("HX-Redirect", "/portal");
      } else if (match.route->access == Access::kStaff && !req.principal) {
        if (req.IsApi()) throw Unauthorized("Send Authorization: Bearer <API key>");
        if (req.method == "GET" || req.method == "HEAD") {
          std::string next = req.path + (req.query_string.empty() ? "" : "?" + req.query_string);
          resp = Response::Redirect("/login?next=" + UrlEncode(next), 302);
          if (req.htmx) resp.SetHeader("HX-Redirect", "/login");
        } else {
          throw Unauthorized("Your session has ended: sign in again");
        }
      } else {
        if (IsUnsafe(req.method) && !bearer) {
          std::string sent = req.Header("x-csrf-token");
          if (sent.empty()) sent = req.Form("_csrf");
          if (sent.empty() || !crypto::ConstantTimeEquals(sent, req.csrf_token)) {
            throw Forbidden(
                "The form has expired or did not come from OpsMerge: reload the page and try "
                "again");
          }
        }
        resp = match.route->handler(req);
      }
    }
  } catch (const ValidationError& e) {
    resp = error_response(422, e.what(), "validation", e.field(), 0);
  } catch (const NotFound& e) {
    resp = error_response(404, e.what(), "not_found", "", 0);
  } catch (const Conflict& e) {
    resp = error_response(409, e.what(), e.code(), e.field(), e.existing_id());
  } catch (const Forbidden& e) {
    resp = error_response(403, e.what(), e.code(), "", 0);
  } catch (const Unauthorized& e) {
    resp = error_response(401, e.what(), "unauthorized", "", 0);
    if (req.IsApi()) resp.SetHeader("WWW-Authenticate", "Bearer");
  } catch (const TooManyRequests& e) {
    resp = error_response(429, e.what(), "rate_limited", "", 0);
    resp.SetHeader("Retry-After", std::to_string(e.retry_after()));
  } catch (const MovedPermanently& e) {
    resp = Response::Redirect(e.location(), 301);
  } catch (const Moved& e) {
    std::optional<std::string> location;
    if (req.method == "GET" || req.method == "HEAD") location = MovedLocation(req, e);
    if (location) {
      resp = Response::Redirect(*location, 301);
    } else {
      resp = error_response(409, e.what(), "merged", "", e.new_id());
    }
  } catch (const std::exception& e) {
    log::Error("request " + req.request_id + " " + req.method + " " + req.path +
               " failed: " + e.what());
    resp = error_response(500, "Something went wrong on our side (request " + req.request_id + ")",
                          "internal", "", 0);
  }
  if (!pre_cookie_to_set.empty()) {
    resp.headers.emplace_back("Set-Cookie",
                              CookieHeader(kPreSessionCookie, pre_cookie_to_set, req.secure, -1));
  }
  AddSecurityHeaders(resp, req.secure, is_static);
  return resp;
}

}  // namespace opsmerge::http
