#include <nlohmann/json.hpp>

#include "cipp/model.h"
#include "cipp/routes.h"
#include "clients/model.h"
#include "platform/errors.h"
#include "platform/http/json.h"
#include "platform/page.h"
#include "platform/text.h"

namespace opsmerge::cipp {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;

// "3 matched, 1 created, 2 ambiguous" (only what is not zero).
std::string Counts(const json& counts,
                   const std::vector<std::pair<std::string, std::string>>& names) {
  std::string out;
  for (const auto& [key, label] : names) {
    int64_t n = counts.value(key, int64_t{0});
    if (n == 0) continue;
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + label;
  }
  return out.empty() ? "no change" : out;
}

json ReportView(const StoredReport& s) {
  json r = json::parse(s.json, nullptr, false);
  if (!r.is_object()) r = json::object();
  json changes = json::array();
  for (const auto& c : r.value("changes", json::array())) {
    if (changes.size() >= 200) break;
    int64_t client =
        c.contains("client_id") && c["client_id"].is_number() ? c["client_id"].get<int64_t>() : 0;
    changes.push_back({{"action", c.value("action", "")},
                       {"detail", c.value("detail", "")},
                       {"client_url", client ? "/clients/" + std::to_string(client) : ""}});
  }
  json errors = r.value("errors", json::array());
  return {{"id", s.id},
          {"at", TimeView(s.started_at)},
          {"dry_run", s.dry_run},
          {"ok", s.ok},
          {"tenants", Counts(r.value("tenants", json::object()), {{"matched", "matched"},
                                                                  {"created", "created"},
                                                                  {"unmatched", "unmatched"},
                                                                  {"ambiguous", "ambiguous"},
                                                                  {"failed", "failed"}})},
          {"contacts", Counts(r.value("contacts", json::object()), {{"created", "created"},
                                                                    {"updated", "updated"},
                                                                    {"paired", "paired"},
                                                                    {"deactivated", "deactivated"},
                                                                    {"reactivated", "reactivated"},
                                                                    {"unchanged", "unchanged"}})},
          {"changes", changes},
          {"has_changes", !changes.empty()},
          {"errors", errors},
          {"has_errors", !errors.empty()}};
}

json FromForm(const Request& req) {
  json patch = json::object();
  for (const char* k : {"cipp_base_url", "cipp_token_url", "cipp_tenant_id", "cipp_client_id"}) {
    patch[k] = req.Form(k);
  }
  // A secret left empty keeps the secret.
  if (!req.Form("cipp_client_secret").empty()) {
    patch["cipp_client_secret"] = req.Form("cipp_client_secret");
  }
  std::string hours = text::Trim(req.Form("cipp_sync_hours", "0"));
  if (hours.empty() || hours.size() > 3 ||
      hours.find_first_not_of("0123456789") != std::string::npos) {
    throw ValidationError("cipp_sync_hours",
                          "Write a whole number of hours (0: only when you press Sync)");
  }
  patch["cipp_sync_hours"] = std::stoll(hours);
  patch["cipp_create_clients"] = req.HasForm("cipp_create_clients");
  patch["cipp_import"] =
      req.Form("cipp_import") == "all_enabled" ? "all_enabled" : "licensed_enabled";
  return patch;
}

}  // namespace

void RegisterRoutes(http::Router& router, CippService& cipp, admin::SettingsService& settings,
                    clients::ClientService& clients, const Templates& templates) {
  // The page; `notice`: the outcome of Test connection, shown above the form.
  auto render = [&cipp, &settings, &templates](Request& req, const json& problem, int status,
                                               const json& notice) {
    staff::Actor actor = staff::ActorFrom(req);
    json current = settings.Get(actor);
    const bool posted = req.method != "GET" && req.path == "/settings/m365";
    json values = json::object();
    for (const char* k : {"cipp_base_url", "cipp_token_url", "cipp_tenant_id", "cipp_client_id",
                          "cipp_sync_hours", "cipp_import"}) {
      values[k] = posted ? json(req.Form(k)) : current[k];
      if (values[k].is_number()) values[k] = values[k].dump();
    }
    bool create =
        posted ? req.HasForm("cipp_create_clients") : current["cipp_create_clients"].get<bool>();
    json pending = json::array();
    for (const PendingTenant& p : cipp.Pending(actor)) {
      pending.push_back({{"tenant_id", p.tenant_id},
                         {"name", p.display_name},
                         {"domain", p.default_domain},
                         {"ambiguous", p.state == "ambiguous"},
                         {"detail", p.detail}});
    }
    std::vector<StoredReport> reports = cipp.Reports(actor, 10);
    json rows = json::array();
    json shown;
    int64_t wanted = 0;
    if (std::string r = req.Query("report");
        !r.empty() && r.size() < 19 && r.find_first_not_of("0123456789") == std::string::npos) {
      wanted = std::stoll(r);
    }
    for (const StoredReport& s : reports) {
      json v = ReportView(s);
      if (shown.is_null() && (wanted == 0 || wanted == s.id)) shown = v;
      rows.push_back(v);
    }
    json view = {{"form", OpenMap(values)},
                 {"errors", OpenMap(problem.value("errors", json::object()))},
                 {"create_clients", create},
                 {"import_all", values["cipp_import"] == "all_enabled"},
                 {"secret_set", !current["cipp_client_secret"].is_null()},
                 {"notice", notice.is_null() ? json(false) : notice},
                 {"saved", req.Query("saved") == "1"},
                 {"running", cipp.Running()},
                 {"pending", pending},
                 {"has_pending", !pending.empty()},
                 {"reports", rows},
                 {"has_reports", !rows.empty()},
                 {"report", shown.is_null() ? json(false) : shown}};
    return RenderPage(templates, req, "admin/m365", view, {"Microsoft 365", "settings", status});
  };
  FormPage page = [render](Request& req, const json& problem, int status) {
    return render(req, problem, status, json());
  };
  router.Add("GET", "/settings/m365", [page, &cipp](Request& req) {
    // The running notice polls (htmx); once the sync is done, the whole page is
    // loaded again with its report.
    if (req.htmx && req.Header("hx-target") == "sync-running" && !cipp.Running()) {
      Response r = Response::Text("");
      r.SetHeader("HX-Refresh", "true");
      return r;
    }
    return page(req, json::object(), 200);
  });
  router.Add("POST", "/settings/m365",
             FormPost(
                 [&settings](Request& req) {
                   settings.Update(staff::ActorFrom(req), FromForm(req));
                   return Response::Redirect("/settings/m365?saved=1");
                 },
                 page));
  // Test, Dry run and Sync now post the form: what was typed is saved first, so
  // it is what they use.
  router.Add("POST", "/settings/m365/test",
             FormPost(
                 [&cipp, &settings, render](Request& req) {
                   settings.Update(staff::ActorFrom(req), FromForm(req));
                   json notice;
                   try {
                     int64_t n = cipp.TestConnection(staff::ActorFrom(req));
                     notice = {{"ok", true},
                               {"message", "Connected: CIPP lists " +
                                               text::CountOf(n, "tenant", "tenants") + "."}};
                   } catch (const CippError& e) {
                     notice = {{"ok", false}, {"message", e.what()}};
                   }
                   return render(req, json::object(), 200, notice);
                 },
                 page));
  router.Add("POST", "/settings/m365/sync",
             FormPost(
                 [&cipp, &settings](Request& req) {
                   settings.Update(staff::ActorFrom(req), FromForm(req));
                   // A sync of many tenants takes minutes: it runs on, the page
                   // says so and shows the report when it is done.
                   cipp.StartSync(staff::ActorFrom(req), req.HasForm("dry_run"));
                   return Response::Redirect("/settings/m365?running=1");
                 },
                 page));
  router.Add("POST", "/settings/m365/tenants/{tenant}/create",
             FormPost(
                 [&cipp](Request& req) {
                   int64_t id = cipp.CreateClientFor(staff::ActorFrom(req), req.params.at(0));
                   return Response::Redirect("/clients/" + std::to_string(id));
                 },
                 page));
  router.Add("POST", "/settings/m365/tenants/{tenant}/link",
             FormPost(
                 [&cipp, &clients](Request& req) {
                   staff::Actor actor = staff::ActorFrom(req);
                   // The client as a person types its name (C3 folding) or domain.
                   std::string name = text::Trim(req.Form("client"));
                   clients::ClientQuery q;
                   q.search = name;
                   q.limit = 50;
                   int64_t match = 0, count = 0;
                   for (const auto& row : clients.List(actor, q).items) {
                     if (clients::NameKey(row.client.name) == clients::NameKey(name) ||
                         row.client.domain == text::FoldCase(name)) {
                       match = row.client.id;
                       ++count;
                     }
                   }
                   if (count != 1) {
                     throw ValidationError(
                         "client", count == 0
                                       ? "No client has that name or domain"
                                       : "More than one client has that name: use its domain");
                   }
                   cipp.LinkTenant(actor, req.params.at(0), match);
                   return Response::Redirect("/clients/" + std::to_string(match));
                 },
                 page));

  // The API.
  router.Add("POST", "/api/v1/integrations/cipp/sync", [&cipp](Request& req) {
    json body = req.body.empty() ? json::object() : http::ParseJsonObject(req.body);
    http::RejectUnknownFields(body, {"dry_run"});
    bool dry = http::OptBool(body, "dry_run").value_or(false);
    return http::JsonResponse(cipp.Sync(staff::ActorFrom(req), dry));
  });
  router.Add("POST", "/api/v1/integrations/cipp/test", [&cipp](Request& req) {
    try {
      return http::JsonResponse({{"tenants", cipp.TestConnection(staff::ActorFrom(req))}});
    } catch (const CippError& e) {
      return http::JsonResponse({{"error", {{"code", "cipp"}, {"message", e.what()}}}}, 502);
    }
  });
  router.Add("GET", "/api/v1/integrations/cipp/reports", [&cipp](Request& req) {
    json items = json::array();
    for (const StoredReport& s : cipp.Reports(staff::ActorFrom(req), 50)) {
      json r = json::parse(s.json, nullptr, false);
      items.push_back({{"id", s.id}, {"started_at", s.started_at}, {"report", r}});
    }
    return http::JsonResponse({{"items", items}});
  });
}

}  // namespace opsmerge::cipp
