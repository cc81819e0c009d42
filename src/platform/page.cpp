#include "platform/page.h"

#include "platform/clock.h"

namespace opsmerge {

namespace {

// Pages show times in the MSP's time zone; views carry them as ISO UTC strings
// (the API's form), converted here in one place.
void LocaliseTimes(nlohmann::json& v) {
  if (v.is_object() || v.is_array()) {
    for (auto& child : v) LocaliseTimes(child);
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.size() == 20 && s[4] == '-' && s[10] == 'T' && s[19] == 'Z') {
      int64_t t = ParseIsoUtc(s);
      if (t > 0) v = FormatForPeople(t);
    }
  }
}

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
  LocaliseTimes(view);
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
  LocaliseTimes(view);
  AddCommon(request, view);
  return http::Response::Html(templates.Render(template_name, view), status);
}

}  // namespace opsmerge
