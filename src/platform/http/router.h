#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "platform/http/request.h"

namespace opsmerge::http {

using Handler = std::function<Response(Request&)>;

// Who may reach a route. kStaff: a valid session or API key; signed-out browsers
// are sent to /login, API callers get 401. kAgent: machine-to-machine calls that
// carry their own credentials (checked by the handler): no cookies, no CSRF.
// kPortal: a client's person with a portal session (its own cookie; staff
// sessions and API keys do not count); others are sent to /portal.
enum class Access { kPublic, kStaff, kAgent, kPortal };

// Where a route's handler runs. kPeople and kAgent: on that bounded worker pool
// (kAgent is implied by Access::kAgent). kInline: on the I/O thread itself, for
// public handlers that never block (static files, /healthz), so they answer even
// when every worker is busy.
enum class Lane { kPeople, kAgent, kInline };

// Method + path pattern -> handler. Patterns are literal segments and `{name}`
// captures ("/clients/{id}/contacts"); a literal segment wins over a capture.
// Built once at start-up, then read-only and thread-safe.
class Router {
 public:
  void Add(const std::string& method, const std::string& pattern, Handler handler,
           Access access = Access::kStaff);
  // A public route whose handler never blocks: it runs on the I/O thread.
  void AddInline(const std::string& method, const std::string& pattern, Handler handler);
  // Lets the route `method` `pattern` (added before) take a body of up to
  // `max_bytes` instead of the server's max_body_bytes: uploads.
  void AllowBody(const std::string& method, const std::string& pattern, size_t max_bytes);
  // The largest body any route takes (0 when none was raised).
  size_t LargestBody() const;

  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
    Access access;
    Lane lane;
    size_t max_body = 0;  // 0: the server's max_body_bytes
  };
  struct Match {
    const Route* route = nullptr;
    std::vector<std::string> params;
    bool path_known = false;  // some route has this path under another method
  };
  Match Find(const std::string& method, const std::string& path) const;

 private:
  std::vector<Route> routes_;
};

std::vector<std::string> SplitPath(const std::string& path);

}  // namespace opsmerge::http
