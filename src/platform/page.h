#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "platform/http/request.h"
#include "platform/templates.h"

// Full HTML pages: a content template inside the shared layout (sidebar, header,
// the signed-in person, the CSRF token for forms and htmx).
namespace opsmerge {

struct PageOptions {
  std::string title;
  std::string section;  // sidebar entry to highlight: "clients", "settings"
  int status = 200;
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

}  // namespace opsmerge
