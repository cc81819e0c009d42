// The admin's audit page (U2): every change across clients and settings, filtered
// by who, which client, what and when.
#include <nlohmann/json.hpp>

#include "audit/view.h"
#include "platform/errors.h"
#include "platform/http/request.h"
#include "platform/page.h"
#include "staff/routes.h"

namespace opsmerge::staff {

namespace {

using http::Request;
using nlohmann::json;

constexpr int64_t kPerPage = 50;

// "2026-12-01" as the start of that day (UTC); "" for anything else.
std::string DayStart(const std::string& day) {
  if (day.size() != 10 || day[4] != '-' || day[7] != '-') return "";
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (day[i] < '0' || day[i] > '9') return "";
  }
  return day + "T00:00:00Z";
}

}  // namespace

void RegisterAuditPage(http::Router& router, StaffService& service, const Templates& templates) {
  router.Add("GET", "/settings/audit", [&service, &templates](Request& req) {
    Actor actor = ActorFrom(req);
    audit::Filter filter;
    std::string who = req.Query("actor");
    if (who == "system") {
      filter.actor_id = 0;
    } else if (!who.empty()) {
      if (who.size() > 18 || who.find_first_not_of("0123456789") != std::string::npos) {
        throw ValidationError("actor", "Choose a person from the list");
      }
      filter.actor_id = std::stoll(who);
    }
    filter.client_search = req.Query("client");
    if (filter.client_search.size() > 200) throw ValidationError("client", "Client is too long");
    filter.action = req.Query("action");
    std::string from = req.Query("from"), to = req.Query("to");
    filter.from_iso = DayStart(from);
    if (!from.empty() && filter.from_iso.empty()) throw ValidationError("from", "From is a date");
    if (!to.empty()) {
      std::string start = DayStart(to);
      if (start.empty()) throw ValidationError("to", "To is a date");
      // Up to and including that day.
      filter.to_iso = FormatIsoUtc(ParseIsoUtc(start) + int64_t{24} * 3600);
    }
    int64_t page = PageNumber(req);
    StaffService::AuditPage result =
        service.SearchAudit(actor, filter, (page - 1) * kPerPage, kPerPage);

    json entries = json::array();
    for (const auto& r : result.items) entries.push_back(audit::EntryView(r));
    json people = json::array();
    people.push_back(
        {{"value", "system"}, {"label", "System (command line)"}, {"selected", who == "system"}});
    for (const auto& u : service.ListUsers(actor)) {
      std::string id = std::to_string(u.id);
      people.push_back(
          {{"value", id}, {"label", u.name + " (" + u.email + ")"}, {"selected", who == id}});
    }
    json actions = json::array();
    for (const auto& a : result.actions) {
      actions.push_back({{"value", a}, {"selected", a == filter.action}});
    }
    std::string query = "actor=" + http::UrlEncode(who) +
                        "&client=" + http::UrlEncode(filter.client_search) +
                        "&action=" + http::UrlEncode(filter.action) +
                        "&from=" + http::UrlEncode(from) + "&to=" + http::UrlEncode(to);
    json view = {{"entries", entries},
                 {"people", people},
                 {"actions", actions},
                 {"client", filter.client_search},
                 {"from", from},
                 {"to", to},
                 {"any_actor", who.empty()},
                 {"any_action", filter.action.empty()},
                 {"pager", PagerView(page, kPerPage, result.total, [&](int64_t n) {
                    return "/settings/audit?" + query + "&page=" + std::to_string(n);
                  })}};
    return RenderPage(templates, req, "staff/audit", view, {"Audit log", "settings", 200});
  });
}

}  // namespace opsmerge::staff
