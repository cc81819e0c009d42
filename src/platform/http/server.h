#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "platform/http/router.h"

namespace Poco::Net {
class HTTPServer;
}

namespace opsmerge::http {

// Establishes who is calling. Implemented by staff/; the server knows no feature.
// Implementations are thread-safe.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual std::optional<Principal> FromSession(const std::string& session_token) = 0;
  virtual std::optional<Principal> FromApiKey(const std::string& api_key) = 0;
};

// Renders the full HTML page for an error status ("Not found", "Forbidden" ...).
using ErrorPage =
    std::function<std::string(int status, const std::string& message, const Request& request)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 picks a free port; see Server::port()
  int threads = 16;
  size_t max_body_bytes = 1 << 20;
  bool trust_proxy = false;  // honour X-Forwarded-For / X-Forwarded-Proto
};

// The HTTP front door. Every request goes through, in order: request id, body
// limit, routing, authentication (Bearer API key or session cookie), the sign-in
// requirement of the route, CSRF on unsafe methods (except API-key calls), the
// handler, the error mapping of platform/errors.h, security headers, access log.
// Thread-safe; handlers run on POCO's thread pool.
class Server {
 public:
  Server(ServerOptions options, const Router& router, Authenticator& auth, ErrorPage error_page);
  ~Server();
  void Start();
  void Stop();
  uint16_t port() const;

  // Applies everything but the socket: used by Start()'s handler and by tests.
  Response Handle(Request& request) const;

 private:
  ServerOptions options_;
  const Router& router_;
  Authenticator& auth_;
  ErrorPage error_page_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
};

// The CSRF token for a cookie value (the session or the pre-session cookie).
std::string CsrfTokenFor(const std::string& cookie_value);

// The cookie names the server uses.
inline constexpr const char* kSessionCookie = "om_session";
inline constexpr const char* kPreSessionCookie = "om_pre";

// "Set-Cookie" value with our attributes (HttpOnly, SameSite=Lax, Path=/, Secure
// when `secure`). max_age < 0 makes a session cookie; 0 deletes it.
std::string CookieHeader(const std::string& name, const std::string& value, bool secure,
                         int64_t max_age);

}  // namespace opsmerge::http
