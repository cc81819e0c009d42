#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "platform/http/request.h"
#include "platform/http/router.h"
#include "platform/templates.h"

// Full HTML pages: a content template inside the shared layout (sidebar, header,
// the signed-in person, the CSRF token for forms and htmx), and the few things
// every page needs done the same way: forms shown again with their errors, paging,
// times. Thread-safe (pure functions of their arguments).
namespace opsmerge {

struct PageOptions {
  std::string title;
  std::string section;  // sidebar entry to highlight: "clients", "settings"
  int status = 200;
  std::string layout = "layout/base";                     // the client portal has its own
  nlohmann::json layout_view = nlohmann::json::object();  // more for the layout
};

// Renders `content_template` with `view` plus "csrf" and "me" (the signed-in
// person), and wraps it in layout/base. Plain requests and htmx requests both get
// the whole page, so every address works by direct link.
http::Response RenderPage(const Templates& templates, const http::Request& request,
                          const std::string& content_template, nlohmann::json view,
                          const PageOptions& options);

// Just one template (a fragment for htmx), with the same "csrf" and "me".
http::Response RenderFragment(const Templates& templates, const http::Request& request,
                              const std::string& template_name, nlohmann::json view,
                              int status = 200);

// ---- Times -------------------------------------------------------------------------
// A time in a view is marked as a time, and only marked values are shown in the
// MSP's time zone; text that merely looks like a time (a note, a name) is left as
// typed. RenderPage turns each marker into "25 Nov 2026 06:55 GMT".
nlohmann::json TimeView(int64_t unix_seconds);
// From the stored ISO form ("2026-11-25T06:55:08Z"); "" stays "" (no time).
nlohmann::json TimeView(const std::string& iso_utc);
// How long ago, as people say it ("just now", "4 min ago", "3 h ago", "2 days ago"),
// with the exact time for a tooltip: {"ago": ..., "exact": TimeView}.
nlohmann::json AgoView(int64_t unix_seconds, int64_t now);

// ---- Forms ---------------------------------------------------------------------------
// Draws a form page. `problem` is empty for a fresh form (GET), or holds what went
// wrong with a submission: {"errors": {field: message}, "existing": {"id"},
// "conflict_field", "code"}; `status` is the answer's status (200, 422, 409).
using FormPage = std::function<http::Response(http::Request& request, const nlohmann::json& problem,
                                              int status)>;
// The handler of a form's POST: runs `submit`; when it throws ValidationError,
// Conflict, Unauthorized or TooManyRequests, draws `page` again with the error
// beside its field (422, 409, 401, or 429 with Retry-After) and the values the
// person typed (FormValues). Handlers never catch these themselves.
http::Handler FormPost(std::function<http::Response(http::Request&)> submit, FormPage page);
// The submitted fields by name (the last of repeated names), for a form shown
// again: without the CSRF token and without any password field.
nlohmann::json FormValues(const http::Request& request);

// ---- Paging ----------------------------------------------------------------------------
// The page number a list page asks for (?page=N); 1 for anything else.
int64_t PageNumber(const http::Request& request);
// The pager of a list (layout/_pager): {"page", "pages", "from", "to", "total",
// "has_prev", "prev_url", "has_next", "next_url"}; `url(n)` is the address of page n.
nlohmann::json PagerView(int64_t page, int64_t per_page, int64_t total,
                         const std::function<std::string(int64_t)>& url);

}  // namespace opsmerge
