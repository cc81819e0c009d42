#include "platform/page.h"

#include <algorithm>

#include "platform/clock.h"
#include "platform/errors.h"

namespace opsmerge {

namespace {

constexpr const char* kTimeMarker = "$time";

// Replaces every TimeView marker with the time as people read it.
void LocaliseTimes(nlohmann::json& v) {
  if (v.is_object()) {
    if (v.size() == 1 && v.contains(kTimeMarker)) {
      const auto& t = v[kTimeMarker];
      v = t.is_number_integer() ? nlohmann::json(FormatForPeople(t.get<int64_t>()))
                                : nlohmann::json("");
      return;
    }
    for (auto& [key, child] : v.items()) LocaliseTimes(child);
  } else if (v.is_array()) {
    for (auto& child : v) LocaliseTimes(child);
  }
}

void AddCommon(const http::Request& request, nlohmann::json& view) {
  view["csrf"] = request.csrf_token;
  if (request.principal) {
    view["me"] = {
        {"name", request.principal->name},
        {"email", request.principal->email},
        {"role", request.principal->role},
        {"is_admin", request.principal->role == "admin"},
        {"can_bill", request.principal->role == "admin" || request.principal->role == "billing"}};
  } else {
    view["me"] = false;
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
  layout.update(options.layout_view);
  layout["title"] = options.title;
  layout["content_html"] = templates.Render(content_template, view);
  layout["section"] = options.section;
  for (const char* s :
       {"home", "clients", "tickets", "endpoints", "invoices", "settings", "account"}) {
    layout[std::string("section_") + s] = options.section == s;
  }
  return http::Response::Html(templates.Render(options.layout, layout), options.status);
}

http::Response RenderFragment(const Templates& templates, const http::Request& request,
                              const std::string& template_name, nlohmann::json view, int status) {
  LocaliseTimes(view);
  AddCommon(request, view);
  return http::Response::Html(templates.Render(template_name, view), status);
}

nlohmann::json TimeView(int64_t unix_seconds) { return {{kTimeMarker, unix_seconds}}; }

nlohmann::json AgoView(int64_t unix_seconds, int64_t now) {
  int64_t d = std::max<int64_t>(0, now - unix_seconds);
  std::string ago;
  if (d < 60) {
    ago = "just now";
  } else if (d < 3600) {
    ago = std::to_string(d / 60) + " min ago";
  } else if (d < 86400) {
    ago = std::to_string(d / 3600) + " h ago";
  } else {
    int64_t days = d / 86400;
    ago = std::to_string(days) + (days == 1 ? " day ago" : " days ago");
  }
  return {{"ago", ago}, {"exact", TimeView(unix_seconds)}};
}

nlohmann::json TimeView(const std::string& iso_utc) {
  if (iso_utc.empty()) return "";
  int64_t t = ParseIsoUtc(iso_utc);
  return t > 0 ? TimeView(t) : nlohmann::json(iso_utc);
}

http::Handler FormPost(std::function<http::Response(http::Request&)> submit, FormPage page) {
  return [submit = std::move(submit), page = std::move(page)](http::Request& req) {
    try {
      return submit(req);
    } catch (const ValidationError& e) {
      nlohmann::json problem = {{"errors", {{e.field().empty() ? "form" : e.field(), e.what()}}}};
      return page(req, problem, 422);
    } catch (const Conflict& e) {
      nlohmann::json problem = {{"errors", {{e.field().empty() ? "form" : e.field(), e.what()}}},
                                {"code", e.code()},
                                {"conflict_field", e.field()}};
      if (e.existing_id() > 0) problem["existing"] = {{"id", e.existing_id()}};
      return page(req, problem, 409);
    } catch (const Unauthorized& e) {
      return page(req, {{"errors", {{"form", e.what()}}}}, 401);
    } catch (const TooManyRequests& e) {
      http::Response r = page(req, {{"errors", {{"form", e.what()}}}}, 429);
      r.SetHeader("Retry-After", std::to_string(e.retry_after()));
      return r;
    }
  };
}

nlohmann::json FormValues(const http::Request& request) {
  nlohmann::json values = nlohmann::json::object();
  for (const auto& [k, v] : request.form) {
    // A secret typed into a form is never sent back in the page.
    if (k != "_csrf" && k.find("password") == std::string::npos) values[k] = v;
  }
  return OpenMap(std::move(values));
}

int64_t PageNumber(const http::Request& request) {
  std::string p = request.Query("page");
  if (p.empty() || p.size() > 6 || p.find_first_not_of("0123456789") != std::string::npos) return 1;
  return std::max<int64_t>(1, std::stoll(p));
}

nlohmann::json PagerView(int64_t page, int64_t per_page, int64_t total,
                         const std::function<std::string(int64_t)>& url) {
  int64_t pages = std::max<int64_t>(1, (total + per_page - 1) / per_page);
  int64_t from = total == 0 ? 0 : std::min(total, (page - 1) * per_page + 1);
  int64_t to = std::min(total, page * per_page);
  return {{"page", page},
          {"pages", pages},
          {"from", from},
          {"to", to},
          {"total", total},
          {"has_prev", page > 1},
          {"prev_url", page > 1 ? url(page - 1) : ""},
          {"has_next", page < pages},
          {"next_url", page < pages ? url(page + 1) : ""},
          {"several", pages > 1}};
}

}  // namespace opsmerge
