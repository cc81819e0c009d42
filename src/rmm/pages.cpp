#include <nlohmann/json.hpp>

#include "clients/routes.h"
#include "platform/errors.h"
#include "platform/page.h"
#include "platform/text.h"
#include "rmm/routes.h"
#include "staff/model.h"

namespace opsmerge::rmm {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;
using staff::ActorFrom;

std::string Pct(double v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", v);
  return buf;
}

std::string Bytes(int64_t b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

json EndpointRow(const Endpoint& e, Status status, int64_t now) {
  json row = {{"id", e.id},
              {"client_id", e.client_id},
              {"client_name", e.client_name},
              {"site_name", e.site_name},
              {"hostname", e.hostname},
              {"os", text::Trim(e.os_name)},
              {"online", status == Status::kOnline},
              {"status", StatusName(status)},
              {"last_seen", e.last_seen_at ? TimeView(*e.last_seen_at) : json("")},
              {"seen", e.last_seen_at ? AgoView(*e.last_seen_at, now) : json(nullptr)},
              {"never_seen", !e.last_seen_at},
              {"billable", e.billable},
              {"retired", e.retired},
              {"cpu", ""},
              {"memory", ""},
              {"disk", ""}};
  // An offline machine's last figures are not its current state: not shown as such.
  if (e.metrics && status == Status::kOnline) {
    row["cpu"] = Pct(e.metrics->cpu_percent);
    row["memory"] = Pct(e.metrics->memory_percent);
    row["disk"] = Pct(e.metrics->disk_percent);
  }
  // What tells machines apart in a list, kept from the last inventory.
  row["ip"] = e.primary_ip;
  row["serial"] = e.serial;
  row["user"] = e.signed_in;
  return row;
}

std::optional<int64_t> OptId(const std::string& v) {
  if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoll(v);
}

json SiteOptions(clients::ClientService& clients, const staff::Actor& actor, int64_t client_id,
                 std::optional<int64_t> selected) {
  json sites = json::array();
  for (const auto& s : clients.AllSites(actor, client_id)) {
    sites.push_back({{"id", s.id}, {"name", s.name}, {"selected", selected && *selected == s.id}});
  }
  return sites;
}

constexpr int64_t kEndpointsPerPage = 100;

// The query string of an endpoint list's filters, for its pager's links.
std::string FilterQuery(const Request& req) {
  std::string q;
  for (const char* name : {"client_id", "site_id", "status", "q", "client", "sort"}) {
    std::string v = req.Query(name);
    if (!v.empty()) q += std::string("&") + name + "=" + http::UrlEncode(v);
  }
  return q;
}

}  // namespace

void RegisterPages(http::Router& router, RmmService& service, clients::ClientService& clients,
                   const Templates& t, const AgentDownloads& downloads) {
  auto add_agent_page = [&service, &clients, &t, downloads](Request& req, int64_t id,
                                                            const json& extra, int status) {
    staff::Actor actor = ActorFrom(req);
    clients::ClientDetail d = clients.Get(actor, id);
    json view = clients::ClientPageView(d, "endpoints", req, clients.owners());
    view["sites"] =
        SiteOptions(clients, actor, id, OptId(req.Query("site_id", req.Form("site_id"))));
    json tokens = json::array();
    int64_t now = service.Now();
    for (const auto& tok : service.ListTokens(actor, id)) {
      TokenState state = StateOf(tok, now);
      std::string site_name;
      for (const auto& s : view["sites"]) {
        if (tok.site_id && s["id"] == *tok.site_id) site_name = s["name"];
      }
      tokens.push_back({{"id", tok.id},
                        {"prefix", tok.prefix},
                        {"site", site_name},
                        {"expires_at", TimeView(tok.expires_at)},
                        {"uses", tok.uses},
                        {"max_uses", tok.max_uses ? std::to_string(*tok.max_uses) : "unlimited"},
                        {"state", TokenStateName(state)},
                        {"usable", state == TokenState::kUsable},
                        {"created_by", tok.created_by}});
    }
    view["tokens"] = tokens;
    view["has_tokens"] = !tokens.empty();
    view["server"] = ServerBaseUrl(req, downloads);
    view["new_token"] = "";
    view["error"] = "";
    view.update(extra);
    return RenderPage(t, req, "rmm/add_agent", view,
                      {"Add agent · " + d.client.name, "clients", status});
  };

  router.Add("GET", "/clients/{id}/add-agent", [add_agent_page](Request& req) {
    staff::Require(ActorFrom(req), staff::Permission::kEditClients);
    return add_agent_page(req, req.ParamId(0, "Client"), json::object(), 200);
  });

  router.Add("POST", "/clients/{id}/add-agent",
             FormPost(
                 [&service, add_agent_page, downloads](Request& req) {
                   int64_t id = req.ParamId(0, "Client");
                   TokenRequest r;
                   r.site_id = OptId(req.Form("site_id"));
                   std::string days = text::Trim(req.Form("expires_in_days"));
                   std::string uses = text::Trim(req.Form("max_uses"));
                   if (!days.empty()) {
                     auto d = OptId(days);
                     if (!d) throw ValidationError("expires_in_days", "Enter a number of days");
                     r.expires_in_days = *d;
                   }
                   if (!uses.empty()) {
                     auto u = OptId(uses);
                     if (!u) {
                       throw ValidationError("max_uses",
                                             "Enter a number, or leave it empty for unlimited");
                     }
                     r.max_uses = *u;
                   }
                   IssuedToken issued = service.IssueToken(ActorFrom(req), id, r);
                   json extra = {
                       {"new_token", issued.secret},
                       {"install_linux",
                        LinuxInstallCommand(ServerBaseUrl(req, downloads), issued.secret)},
                       {"install_windows", WindowsInstallCommand(ServerBaseUrl(req, downloads))},
                       {"new_expires", TimeView(issued.token.expires_at)}};
                   return add_agent_page(req, id, extra, 201);
                 },
                 [add_agent_page](Request& req, const json& problem, int status) {
                   return add_agent_page(req, req.ParamId(0, "Client"),
                                         {{"error", problem["errors"].begin().value()}}, status);
                 }));

  router.Add("POST", "/clients/{id}/tokens/{token}/revoke", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    service.RevokeToken(ActorFrom(req), req.ParamId(1, "Enrolment token"), id);
    return Response::Redirect("/clients/" + std::to_string(id) + "/add-agent");
  });

  router.Add("GET", "/clients/{id}/endpoints", [&service, &clients, &t](Request& req) {
    staff::Actor actor = ActorFrom(req);
    int64_t id = req.ParamId(0, "Client");
    clients::ClientDetail d = clients.Get(actor, id);
    EndpointQuery q;
    q.client_id = id;
    std::string site = req.Query("site_id");
    if (site == "pool") {
      q.pool_only = true;
    } else {
      q.site_id = OptId(site);
    }
    q.status = req.Query("status");
    if (q.status != "online" && q.status != "offline") q.status.clear();
    q.search = text::Trim(req.Query("q")).substr(0, 200);
    int64_t page = PageNumber(req);
    q.offset = (page - 1) * kEndpointsPerPage;
    q.limit = kEndpointsPerPage;
    EndpointPage result = service.ListEndpoints(actor, q);
    json view = clients::ClientPageView(d, "endpoints", req, clients.owners());
    json rows = json::array();
    for (const auto& e : result.items)
      rows.push_back(EndpointRow(e, service.StatusOf(e), service.Now()));
    view["endpoints"] = rows;
    view["has_endpoints"] = !rows.empty();
    view["total"] = result.total;
    view["total_text"] = text::CountOf(result.total, "endpoint", "endpoints");
    view["sites"] = SiteOptions(clients, actor, id, q.site_id);
    view["filter_pool"] = q.pool_only;
    view["q"] = q.search;
    view["status_online"] = q.status == "online";
    view["status_offline"] = q.status == "offline";
    view["billable"] = service.CountBillable(actor, id);
    std::string filters = FilterQuery(req);
    view["pager"] = PagerView(page, kEndpointsPerPage, result.total, [&](int64_t n) {
      return "/clients/" + std::to_string(id) + "/endpoints?page=" + std::to_string(n) + filters;
    });
    static const std::map<std::string, std::string> kNotices = {{"moved", "Endpoints moved."},
                                                                {"deleted", "Endpoint deleted."}};
    auto it = kNotices.find(req.Query("notice"));
    view["notice"] = it != kNotices.end() ? it->second : "";
    return RenderPage(t, req, "rmm/client_endpoints", view,
                      {"Endpoints · " + d.client.name, "clients", 200});
  });

  router.Add("POST", "/endpoints/move", [&service](Request& req) {
    std::vector<int64_t> ids;
    for (const auto& v : req.FormAll("ids")) {
      auto id = OptId(v);
      if (!id) throw ValidationError("ids", "Select endpoints from the list");
      ids.push_back(*id);
    }
    std::string site = req.Form("site_id");
    service.MoveEndpoints(ActorFrom(req), ids, site == "pool" ? std::nullopt : OptId(site));
    auto client = OptId(req.Form("client_id"));
    return Response::Redirect(
        client ? "/clients/" + std::to_string(*client) + "/endpoints?notice=moved" : "/endpoints");
  });

  router.Add("GET", "/endpoints", [&service, &clients, &t](Request& req) {
    EndpointQuery q;
    q.client_id = OptId(req.Query("client_id"));
    if (req.Query("site_id") == "pool") {
      q.pool_only = true;
    } else {
      q.site_id = OptId(req.Query("site_id"));
    }
    q.status = req.Query("status");
    if (q.status != "online" && q.status != "offline") q.status.clear();
    q.search = text::Trim(req.Query("q")).substr(0, 200);
    q.client_search = text::Trim(req.Query("client")).substr(0, 200);
    q.sort = req.Query("sort");
    int64_t page = PageNumber(req);
    q.offset = (page - 1) * kEndpointsPerPage;
    q.limit = kEndpointsPerPage;
    EndpointPage result = service.ListEndpoints(ActorFrom(req), q);
    json rows = json::array();
    for (const auto& e : result.items)
      rows.push_back(EndpointRow(e, service.StatusOf(e), service.Now()));
    std::string filters = FilterQuery(req);
    // Column headings sort; the active one again reverses.
    std::string no_sort;
    for (const char* name : {"client_id", "site_id", "status", "q", "client"}) {
      std::string v = req.Query(name);
      if (!v.empty()) no_sort += std::string("&") + name + "=" + http::UrlEncode(v);
    }
    json sorts = json::object();
    for (const char* key : {"hostname", "client", "os", "last_seen"}) {
      bool active = q.sort == key || q.sort == std::string("-") + key;
      bool desc = q.sort == std::string("-") + key;
      std::string next = active && !desc ? std::string("-") + key : key;
      std::string url = "/endpoints?sort=";
      url.append(next).append(no_sort);
      sorts[key] = {{"url", url},
                    {"arrow", active ? (desc ? "↓" : "↑") : ""},
                    {"aria", active ? (desc ? "descending" : "ascending") : "none"}};
    }
    json view = {{"endpoints", rows},
                 {"sort", sorts},
                 {"client", q.client_search},
                 {"refresh_url", "/endpoints?page=" + std::to_string(page) + filters},
                 {"has_endpoints", !rows.empty()},
                 {"total", result.total},
                 {"total_text", text::CountOf(result.total, "endpoint", "endpoints")},
                 {"q", q.search},
                 {"client_id", req.Query("client_id")},
                 {"site_id", req.Query("site_id")},
                 {"status_online", q.status == "online"},
                 {"status_offline", q.status == "offline"},
                 {"filter_client", ""},
                 {"pager", PagerView(page, kEndpointsPerPage, result.total, [&](int64_t n) {
                    return "/endpoints?page=" + std::to_string(n) + filters;
                  })}};
    if (q.client_id) {
      clients::ClientDetail d = clients.Get(ActorFrom(req), *q.client_id);
      view["filter_client"] = d.client.name;
      view["sites"] = SiteOptions(clients, ActorFrom(req), *q.client_id, q.site_id);
      view["filter_pool"] = q.pool_only;
    }
    return RenderPage(t, req, "rmm/endpoints", view, {"Endpoints", "endpoints", 200});
  });

  auto endpoint_page = [&service, &clients, &t](Request& req, int64_t id, const json& extra,
                                                int status) {
    staff::Actor actor = ActorFrom(req);
    Endpoint e = service.GetEndpoint(actor, id);
    json view = EndpointRow(e, service.StatusOf(e), service.Now());
    view["notes"] = e.notes;
    view["site_id"] = e.site_id ? *e.site_id : 0;
    view["sites"] = SiteOptions(clients, actor, e.client_id, e.site_id);
    view["in_pool"] = !e.site_id;
    view["can_edit"] = staff::Allows(actor.role, staff::Permission::kEditClients);
    json inv = json::parse(e.inventory_json, nullptr, false);
    // Before its first inventory an endpoint has none to show (not an empty one).
    view["inventory"] = {{"inventory_at", "Waiting for the first inventory"},
                         {"disks", json::array()},
                         {"network", json::array()},
                         {"software", json::array()},
                         {"software_count", ""}};
    view["no_inventory"] = true;
    if (inv.is_object() && !inv.empty()) {
      view["no_inventory"] = false;
      json v = inv;
      v["memory"] = Bytes(inv.value("memory_bytes", int64_t{0}));
      int64_t up = inv.value("uptime_seconds", int64_t{0});
      v["uptime"] = std::to_string(up / 86400) + "d " + std::to_string(up % 86400 / 3600) + "h";
      json disks = json::array();
      for (auto d : inv.value("disks", json::array())) {
        d["size"] = Bytes(d.value("size_bytes", int64_t{0}));
        d["free"] = Bytes(d.value("free_bytes", int64_t{0}));
        disks.push_back(d);
      }
      v["disks"] = disks;
      v["software_count"] = text::CountOf(
          static_cast<int64_t>(inv.value("software", json::array()).size()), "package", "packages");
      v["updates_known"] = inv.contains("pending_updates") && !inv["pending_updates"].is_null();
      v["inventory_at"] = e.inventory_at ? TimeView(*e.inventory_at) : json("");
      view["inventory"] = v;
    }
    json metrics = json::array();
    for (const auto& m : service.RecentMetrics(actor, id, 30)) {
      metrics.push_back({{"at", TimeView(m.at)},
                         {"cpu", Pct(m.metrics.cpu_percent)},
                         {"memory", Pct(m.metrics.memory_percent)},
                         {"disk", Pct(m.metrics.disk_percent)}});
    }
    view["metrics"] = metrics;
    view["notice"] = "";
    view["error"] = "";
    view.update(extra);
    return RenderPage(t, req, "rmm/endpoint", view, {e.hostname, "endpoints", status});
  };

  router.Add("GET", "/endpoints/{id}", [endpoint_page](Request& req) {
    json extra = json::object();
    if (req.Query("notice") == "saved") extra["notice"] = "Saved.";
    if (req.Query("notice") == "revoked") {
      extra["notice"] = "Agent revoked: it is refused on every server from now on.";
    }
    return endpoint_page(req, req.ParamId(0, "Endpoint"), extra, 200);
  });

  router.Add("POST", "/endpoints/{id}/revoke-agent", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Endpoint");
    service.RevokeAgent(ActorFrom(req), id);
    return Response::Redirect("/endpoints/" + std::to_string(id) + "?notice=revoked");
  });

  router.Add("POST", "/endpoints/{id}/delete", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Endpoint");
    int64_t client_id = service.GetEndpoint(ActorFrom(req), id).client_id;
    service.DeleteEndpoint(ActorFrom(req), id);
    return Response::Redirect("/clients/" + std::to_string(client_id) +
                              "/endpoints?notice=deleted");
  });

  router.Add("POST", "/endpoints/{id}",
             FormPost(
                 [&service](Request& req) {
                   int64_t id = req.ParamId(0, "Endpoint");
                   EndpointPatch p;
                   p.billable = req.HasForm("billable");
                   p.retired = req.HasForm("retired");
                   p.notes = req.Form("notes");
                   std::string site = req.Form("site_id");
                   p.site_id =
                       site == "pool" || site.empty() ? std::optional<int64_t>() : OptId(site);
                   service.UpdateEndpoint(ActorFrom(req), id, p);
                   return Response::Redirect("/endpoints/" + std::to_string(id) + "?notice=saved");
                 },
                 [endpoint_page](Request& req, const json& problem, int status) {
                   return endpoint_page(req, req.ParamId(0, "Endpoint"),
                                        {{"error", problem["errors"].begin().value()}}, status);
                 }));
}

}  // namespace opsmerge::rmm
