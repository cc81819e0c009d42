#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "platform/http/router.h"

namespace opsmerge::http {

class Listener;

// Establishes who is calling. Implemented by staff/; the server knows no feature.
// Implementations are thread-safe.
class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual std::optional<Principal> FromSession(const std::string& session_token) = 0;
  virtual std::optional<Principal> FromApiKey(const std::string& api_key) = 0;
};

// Establishes which client's person holds a portal session. Implemented by
// portal/. Thread-safe.
class PortalAuthenticator {
 public:
  virtual ~PortalAuthenticator() = default;
  virtual std::optional<PortalPrincipal> FromPortalSession(const std::string& token) = 0;
};

// Renders the full HTML page for an error status ("Not found", "Forbidden" ...).
using ErrorPage =
    std::function<std::string(int status, const std::string& message, const Request& request)>;

// Every limit of the connection layer. Defaults suit one node holding ~100k agents
// and its technicians on a 2-core machine; `opsmerge serve --help` and
// docs/operating.md name the flag for each.
struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;      // 0 picks a free port; see Server::port()
  bool trust_proxy = false;  // honour X-Forwarded-For / X-Forwarded-Proto
  // SO_REUSEPORT: several processes on one host share the port and the kernel
  // spreads connections over them (for hosts that cap open files per process).
  bool reuse_port = false;

  size_t io_threads = 0;      // 0: one per core
  size_t people_workers = 8;  // threads for pages and the staff API
  size_t people_queue = 256;  // requests that may wait for one; beyond: 503
  size_t agent_workers = 16;  // threads for the agent API
  size_t agent_queue = 4096;  // beyond: 503 with Retry-After, agents back off
  int64_t retry_after_seconds = 10;

  size_t max_connections = 120000;       // in total; beyond: 503 and close
  size_t max_connections_per_ip = 2000;  // by socket peer address; 0 = no cap
  size_t max_body_bytes = 1 << 20;       // a route may raise it (Router::AllowBody)
  // Bodies larger than max_body_bytes (uploads) being read or handled at once;
  // beyond: 503 with Retry-After, so uploads cannot take the memory of the node.
  size_t max_large_bodies = 8;
  size_t max_header_bytes = 16 << 10;
  int64_t header_timeout_seconds = 10;  // first byte to the end of the headers
  int64_t idle_timeout_seconds = 150;   // kept-alive connection with no request
  int64_t body_timeout_seconds = 15;    // plus body size / min_transfer_rate
  int64_t write_timeout_seconds = 15;   // plus response size / min_transfer_rate
  size_t min_transfer_rate = 4096;      // bytes per second a client must keep up
  // Kernel send buffer per connection (0: the OS's autotuning). Bounded, so a slow
  // reader pins at most this much kernel memory and copying, not the whole answer.
  size_t send_buffer_bytes = 64 << 10;
  int64_t drain_seconds = 5;  // Stop(): time to finish requests in flight
};

// The HTTP front door. Connections are asynchronous (Boost.Beast on Asio, one I/O
// thread per core); each request's handler runs on a bounded worker pool by its
// route's lane (kAgent routes on the agent pool, kInline on the I/O thread, the
// rest on the people pool), so slow database work never holds I/O and a fleet
// storm never starves a technician's page. Every connection has deadlines.
//
// Every request goes through, in order: target and header checks (400/413/431),
// request id, routing, authentication (Bearer API key or session cookie), the
// sign-in requirement of the route, CSRF on unsafe methods (except API-key calls),
// the handler, the error mapping of platform/errors.h, security headers, a check
// that no header carries CR or LF, access log.
// Thread-safe; Start/Stop from one thread.
class Server {
 public:
  Server(ServerOptions options, const Router& router, Authenticator& auth, ErrorPage error_page);
  ~Server();
  // Binds and starts serving; throws std::runtime_error if the address is taken.
  void Start();
  // Stops accepting, lets requests in flight finish (up to drain_seconds), closes
  // every connection. Idempotent.
  void Stop();
  uint16_t port() const;
  // Portal routes need one (before Start()); without it they answer as signed out.
  void SetPortalAuthenticator(PortalAuthenticator* portal) { portal_ = portal; }

  // Applies everything but the socket: used by the connection layer and by tests.
  Response Handle(Request& request) const;
  // Which lane a request runs on (decided on the I/O thread before queueing).
  Lane LaneOf(const std::string& method, const std::string& path) const;
  // The largest body this request's route takes, and the largest any route takes
  // (what the connection layer accepts before it knows the route).
  size_t BodyLimitOf(const std::string& method, const std::string& path) const;
  size_t LargestBodyLimit() const;
  const ServerOptions& options() const { return options_; }

 private:
  ServerOptions options_;
  const Router& router_;
  Authenticator& auth_;
  PortalAuthenticator* portal_ = nullptr;
  ErrorPage error_page_;
  std::unique_ptr<Listener> listener_;
};

// The CSRF token for a cookie value (the session or the pre-session cookie).
std::string CsrfTokenFor(const std::string& cookie_value);

// The cookie names the server uses.
inline constexpr const char* kSessionCookie = "om_session";
inline constexpr const char* kPreSessionCookie = "om_pre";
inline constexpr const char* kPortalCookie = "om_portal";

// "Set-Cookie" value with our attributes (HttpOnly, SameSite=Lax, Path=/, Secure
// when `secure`). max_age < 0 makes a session cookie; 0 deletes it.
std::string CookieHeader(const std::string& name, const std::string& value, bool secure,
                         int64_t max_age);

}  // namespace opsmerge::http
