#include "platform/page.h"

namespace opsmerge {

namespace {

void AddCommon(const http::Request& request, nlohmann::json& view) {
  view["csrf"] = request.csrf_token;
  if (request.principal) {
    view["me"] = {{"name", request.principal->name},
                  {"email", request.principal->email},
                  {"role", request.principal->role},
                  {"is_admin", request.principal->role == "admin"}};
  }
}

}  // namespace

http::Response RenderPage(const Templates& templates, const http::Request& request,
                          const std::string& content_template, nlohmann::json view,
                          const PageOptions& options) {
  AddCommon(request, view);
  nlohmann::json layout;
  AddCommon(request, layout);
  layout["title"] = options.title;
  layout["content_html"] = templates.Render(content_template, view);
  if (!options.section.empty()) layout["section_" + options.section] = true;
  return http::Response::Html(templates.Render("layout/base", layout), options.status);
}

http::Response RenderFragment(const Templates& templates, const http::Request& request,
                              const std::string& template_name, nlohmann::json view, int status) {
  AddCommon(request, view);
  return http::Response::Html(templates.Render(template_name, view), status);
}

}  // namespace opsmerge
