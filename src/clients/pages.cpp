#include <ctime>

#include <nlohmann/json.hpp>

#include "audit/view.h"
#include "clients/json.h"
#include "clients/routes.h"
#include "platform/errors.h"
#include "platform/page.h"
#include "platform/text.h"
#include "staff/model.h"

namespace opsmerge::clients {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;
using staff::ActorFrom;

constexpr int64_t kPerPage = 25;
constexpr int64_t kContactsPerPage = 50;
constexpr int64_t kSitesPerPage = 50;
constexpr int64_t kHistoryPerPage = 50;

// "tickets" -> "Tickets", for a label.
std::string Capitalised(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

json ClientView(const Client& c, const ClientCounts& n, const ClientOwners& owners) {
  json owned = json::array();
  for (const ClientOwner& o : owners.all()) {
    if (!o.counted) continue;
    int64_t count = n.Owned(o.key);
    owned.push_back({{"key", o.key},
                     {"count", count},
                     {"text", text::CountOf(count, o.singular, o.plural)},
                     {"label", o.tab ? o.tab->label : Capitalised(o.plural)},
                     {"blocks_delete", o.blocks_delete && count > 0}});
  }
  return {{"id", c.id},
          {"name", c.name},
          {"domain", c.domain},
          {"domains", c.domains},
          {"has_domains", !c.domains.empty()},
          {"contact_email", c.contact_email},
          {"notes", c.notes},
          {"archived", c.archived()},
          {"archived_at", TimeView(c.archived_at)},
          {"created_at", TimeView(c.created_at)},
          {"updated_at", TimeView(c.updated_at)},
          {"m365_tenant_id", c.m365_tenant_id},
          {"m365_synced_at", TimeView(c.m365_synced_at)},
          {"counts", CountsJson(n)},
          {"contacts_text", text::CountOf(n.contacts, "contact", "contacts")},
          {"sites_text", text::CountOf(n.sites, "site", "sites")},
          {"owned", owned}};
}

std::string ClientUrl(int64_t id, const std::string& suffix = "") {
  return "/clients/" + std::to_string(id) + suffix;
}

std::vector<int64_t> ParseIds(const std::vector<std::string>& values, const std::string& field) {
  std::vector<int64_t> ids;
  for (const auto& v : values) {
    if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
      throw ValidationError(field, "Select clients from the list");
    }
    ids.push_back(std::stoll(v));
  }
  return ids;
}

ClientQuery ListQuery(const Request& req, int64_t page) {
  ClientQuery q;
  q.search = text::Trim(req.Query("q")).substr(0, 200);
  q.archived = ParseArchivedFilter(req.Query("archived")).value_or(ArchivedFilter::kActive);
  q.descending = req.Query("dir") == "desc";
  q.sort = ParseClientSort(req.Query("sort")).value_or(ClientSort::kName);
  q.offset = (page - 1) * kPerPage;
  q.limit = kPerPage;
  return q;
}

json ListView(const Request& req, ClientService& service) {
  int64_t page = PageNumber(req);
  ClientQuery q = ListQuery(req, page);
  auto result = service.List(ActorFrom(req), q);
  json rows = json::array();
  for (const auto& r : result.items)
    rows.push_back(ClientView(r.client, r.counts, service.owners()));
  const std::string archived = req.Query("archived", "active");
  const std::string sort = req.Query("sort", "name");
  const std::string dir = req.Query("dir", "asc");
  auto url = [&](int64_t to_page, const std::string& to_sort, const std::string& to_dir) {
    return "/clients?q=" + http::UrlEncode(q.search) + "&archived=" + http::UrlEncode(archived) +
           "&sort=" + http::UrlEncode(to_sort) + "&dir=" + to_dir +
           "&page=" + std::to_string(to_page);
  };
  json sorts = json::object();
  for (const char* s : {"name", "domain", "created"}) {
    bool active = sort == s;
    std::string next_dir = active && dir == "asc" ? "desc" : "asc";
    sorts[s] = {{"url", url(1, s, next_dir)},
                {"active", active},
                {"arrow", active ? (dir == "desc" ? "↓" : "↑") : ""}};
  }
  std::string filter = archived == "archived" || archived == "all" ? archived : "active";
  return {{"rows", rows},
          {"has_rows", !rows.empty()},
          {"q", q.search},
          {"archived_active", filter == "active"},
          {"archived_archived", filter == "archived"},
          {"archived_all", filter == "all"},
          {"show_archived", filter != "active"},
          {"total", result.total},
          {"total_text", text::CountOf(result.total, "client", "clients")},
          {"pager",
           PagerView(page, kPerPage, result.total, [&](int64_t n) { return url(n, sort, dir); })},
          {"sort", sorts},
          {"can_edit", staff::Allows(ActorFrom(req).role, staff::Permission::kEditClients)},
          {"can_merge", staff::Allows(ActorFrom(req).role, staff::Permission::kMergeClients)}};
}

ClientInput FormClientInput(const Request& req) {
  ClientInput in;
  in.name = req.Form("name");
  in.domain = req.Form("domain");
  in.contact_email = req.Form("contact_email");
  if (req.HasForm("domains")) {
    std::vector<std::string> extra;
    std::string cur;
    for (char c : req.Form("domains") + "\n") {
      if (c == '\n' || c == ',' || c == ' ' || c == '\r') {
        if (!text::Trim(cur).empty()) extra.push_back(text::Trim(cur));
        cur.clear();
      } else {
        cur += c;
      }
    }
    in.domains = extra;
  }
  if (req.HasForm("notes")) in.notes = req.Form("notes");
  return in;
}

ContactInput FormContactInput(const Request& req) {
  ContactInput in;
  in.name = req.Form("name");
  in.email = req.Form("email");
  in.phone = req.Form("phone");
  in.job_title = req.Form("job_title");
  // Unticked boxes are absent from a form post: absent means false here.
  in.vip = req.HasForm("vip");
  in.portal_user = req.HasForm("portal_user");
  in.billing_recipient = req.HasForm("billing_recipient");
  in.primary_technical = req.HasForm("primary_technical");
  return in;
}

SiteInput FormSiteInput(const Request& req) {
  SiteInput in;
  in.name = req.Form("name");
  in.address = req.Form("address");
  in.notes = req.Form("notes");
  return in;
}

json SiteView(const Site& s, const ClientOwners& owners) {
  json owned = json::array();
  for (const ClientOwner& o : owners.all()) {
    if (!o.count_per_site) continue;
    auto it = s.owned.find(o.key);
    owned.push_back({{"key", o.key}, {"count", it == s.owned.end() ? 0 : it->second}});
  }
  return {{"id", s.id},           {"client_id", s.client_id}, {"name", s.name},
          {"address", s.address}, {"notes", s.notes},         {"owned", owned}};
}

// The path's contact/site must belong to the path's client.
template <typename T>
const T& OwnedBy(const T& item, int64_t client_id, const char* what) {
  if (item.client_id != client_id) throw NotFound(what);
  return item;
}

// A CSV file to save: a fixed name with today's date (nothing from the request
// reaches the header).
Response CsvDownload(std::string body, const std::string& what) {
  Response r;
  r.content_type = "text/csv; charset=utf-8";
  r.body = std::move(body);
  std::string day = FormatIsoUtc(static_cast<int64_t>(std::time(nullptr))).substr(0, 10);
  r.SetHeader("Content-Disposition",
              "attachment; filename=\"opsmerge-" + what + "-" + day + ".csv\"");
  return r;
}

// Every form view starts from these, so a template finds each name it may use.
json FormView(const json& problem, const json& values) {
  json view = {{"errors", OpenMap(json::object())},
               {"existing", false},
               {"confirm_name", false},
               {"form", OpenMap(values)}};
  if (problem.contains("errors")) view["errors"] = OpenMap(problem["errors"]);
  if (problem.contains("existing")) {
    view["existing"] = {{"url", ClientUrl(problem["existing"]["id"].get<int64_t>())}};
  }
  view["confirm_name"] =
      problem.value("code", "") == "duplicate" && problem.value("conflict_field", "") == "name";
  return view;
}

}  // namespace

// The client header and tabs shared by every client page.
json ClientPageView(const ClientDetail& d, const std::string& tab, const Request& req,
                    const ClientOwners& owners) {
  json view = {{"client", ClientView(d.client, d.counts, owners)}};
  struct Tab {
    std::string key, label, suffix;
    int order;
    bool counted;
    int64_t count;
  };
  std::vector<Tab> tabs = {{"overview", "Overview", "", 0, false, 0},
                           {"contacts", "Contacts", "/contacts", 10, true, d.counts.contacts},
                           {"sites", "Sites", "/sites", 20, true, d.counts.sites},
                           {"history", "History", "/history", 100, false, 0}};
  for (const ClientOwner& o : owners.all()) {
    if (o.tab)
      tabs.push_back(
          {o.key, o.tab->label, o.tab->suffix, o.tab->order, o.counted, d.counts.Owned(o.key)});
  }
  std::stable_sort(tabs.begin(), tabs.end(),
                   [](const Tab& a, const Tab& b) { return a.order < b.order; });
  json tab_views = json::array();
  for (const Tab& t : tabs) {
    tab_views.push_back({{"label", t.label},
                         {"url", ClientUrl(d.client.id, t.suffix)},
                         {"active", t.key == tab},
                         {"counted", t.counted},
                         {"count", t.count}});
  }
  view["tabs"] = tab_views;
  json links = json::array();
  for (const auto& l : d.links) {
    // "Subsidiary of Acme Holdings" on one side, "Parent of Acme Corp" on the other;
    // without a known inverse the other side says which way it reads.
    std::string relation = l.shown_label();
    std::string reverse = l.direction == "incoming" && relation.empty() ? l.label : "";
    links.push_back({{"id", l.id},
                     {"client_id", l.other_client_id},
                     {"name", l.other_name},
                     {"label", l.label},
                     {"relation", relation},
                     {"has_relation", !relation.empty()},
                     {"reverse", reverse},
                     {"has_reverse", !reverse.empty()}});
  }
  view["links"] = links;
  view["can_edit"] = staff::Allows(ActorFrom(req).role, staff::Permission::kEditClients);
  view["can_delete"] = staff::Allows(ActorFrom(req).role, staff::Permission::kDeleteClients);
  static const std::map<std::string, std::string> kNotices = {
      {"created", "Client created."},
      {"updated", "Saved."},
      {"archived", "Client archived. It is hidden from lists until you unarchive it."},
      {"unarchived", "Client unarchived."},
      {"merged", "Clients merged."},
      {"contact_saved", "Contact saved."},
      {"contact_deleted", "Contact removed."},
      {"site_saved", "Site saved."},
      {"site_deleted", "Site removed; what it held is back in the client's pool."},
      {"linked", "Clients linked."},
      {"unlinked", "Link removed."}};
  auto it = kNotices.find(req.Query("notice"));
  view["notice"] = it != kNotices.end() ? it->second : "";
  view["error"] = "";
  return view;
}

void RegisterPages(http::Router& router, ClientService& service, const Templates& templates) {
  const Templates& t = templates;
  const ClientOwners& owners = service.owners();
  auto show = [&t](const Request& req, const std::string& tmpl, json view, const std::string& title,
                   int status = 200) {
    return RenderPage(t, req, tmpl, std::move(view), {title, "clients", status});
  };
  auto client_page = [&service, &owners](const Request& req, int64_t id, const std::string& tab) {
    ClientDetail d = service.Get(ActorFrom(req), id);
    return std::make_pair(d, ClientPageView(d, tab, req, owners));
  };

  router.Add("GET", "/clients", [&service, &t, show](Request& req) {
    json view = ListView(req, service);
    static const std::map<std::string, std::string> kNotices = {
        {"archived", "Selected clients archived."}, {"deleted", "Client deleted."}};
    auto it = kNotices.find(req.Query("notice"));
    view["notice"] = it != kNotices.end() ? it->second : "";
    if (req.htmx && req.Header("hx-target") == "client-results") {
      return RenderFragment(t, req, "clients/_results", view);
    }
    return show(req, "clients/list", view, "Clients");
  });

  // ---- Import (a preview first) and export, CSV
  auto import_view = [](const Request& req, const std::string& kind) {
    json view;
    view["kind_contacts"] = kind != "clients";
    view["kind_clients"] = kind == "clients";
    view["kind"] = kind == "clients" ? "clients" : "contacts";
    view["csv"] = req.Form("csv");
    view["done"] = "";
    view["report"] = false;
    return view;
  };
  FormPage import_page = [&t, import_view](Request& req, const json& problem, int status) {
    staff::Require(ActorFrom(req), staff::Permission::kEditClients);
    json view = import_view(req, req.method == "GET" ? req.Query("kind") : req.Form("kind"));
    view["errors"] = OpenMap(problem.value("errors", json::object()));
    std::string imported = req.Query("imported"), skipped = req.Query("skipped");
    auto number = [](const std::string& v) {
      return !v.empty() && v.size() < 10 && v.find_first_not_of("0123456789") == std::string::npos;
    };
    if (number(imported) && number(skipped)) {
      std::string noun = view["kind"] == "clients" ? "client" : "contact";
      view["done"] =
          "Imported " + text::CountOf(std::stoll(imported), noun, noun + "s") + "." +
          (skipped == "0" ? "" : " " + skipped + " already there were left as they were.");
    }
    return RenderPage(t, req, "clients/import", view, {"Import", "clients", status});
  };
  router.Add("GET", "/clients/import",
             [import_page](Request& req) { return import_page(req, json::object(), 200); });
  router.Add("POST", "/clients/import",
             FormPost(
                 [&service, &t, import_view](Request& req) {
                   std::string kind = req.Form("kind") == "clients" ? "clients" : "contacts";
                   bool write = req.Form("step") == "import";
                   std::string text = req.Form("csv");
                   if (text::Trim(text).empty()) {
                     throw ValidationError("csv", "Paste the CSV or choose a file first");
                   }
                   ImportReport report = kind == "clients"
                                             ? service.ImportClients(ActorFrom(req), text, write)
                                             : service.ImportContacts(ActorFrom(req), text, write);
                   if (report.written) {
                     return Response::Redirect("/clients/import?kind=" + kind +
                                               "&imported=" + std::to_string(report.created) +
                                               "&skipped=" + std::to_string(report.skipped));
                   }
                   json view = import_view(req, kind);
                   view["errors"] = OpenMap(json::object());
                   view["report"] = ImportReportJson(report);
                   view["can_import"] = report.errors == 0 && report.created > 0;
                   return RenderPage(t, req, "clients/import", view, {"Import", "clients", 200});
                 },
                 import_page));
  router.Add("GET", "/clients/export.csv", [&service](Request& req) {
    ArchivedFilter archived =
        ParseArchivedFilter(req.Query("archived")).value_or(ArchivedFilter::kActive);
    return CsvDownload(service.ExportClients(ActorFrom(req), archived), "clients");
  });
  router.Add("GET", "/contacts/export.csv", [&service](Request& req) {
    return CsvDownload(service.ExportContacts(ActorFrom(req)), "contacts");
  });

  router.Add("GET", "/clients/suggest", [&service, &t](Request& req) {
    ClientQuery q;
    // The link form names its field "other", the endpoint filter "client".
    std::string typed = req.Query("other").empty() ? req.Query("client") : req.Query("other");
    q.search = text::Trim(typed).substr(0, 200);
    q.limit = 10;
    json options = json::array();
    if (!q.search.empty()) {
      for (const auto& r : service.List(ActorFrom(req), q).items) {
        options.push_back({{"name", r.client.name}});
      }
    }
    return RenderFragment(t, req, "clients/_suggest", {{"options", options}});
  });

  // ---- New client / edit client
  FormPage new_client = [show](Request& req, const json& problem, int status) {
    staff::Require(ActorFrom(req), staff::Permission::kEditClients);
    json view = FormView(problem, FormValues(req));
    view["new"] = true;
    return show(req, "clients/form", view, "New client", status);
  };
  router.Add("GET", "/clients/new",
             [new_client](Request& req) { return new_client(req, json::object(), 200); });
  router.Add("POST", "/clients",
             FormPost(
                 [&service](Request& req) {
                   ClientDetail d = service.Create(ActorFrom(req), FormClientInput(req),
                                                   req.Form("confirm_duplicate_name") == "1");
                   return Response::Redirect(ClientUrl(d.client.id, "?notice=created"));
                 },
                 new_client));

  FormPage edit_client = [client_page, show](Request& req, const json& problem, int status) {
    int64_t id = req.ParamId(0, "Client");
    auto [d, header] = client_page(req, id, "overview");
    staff::Require(ActorFrom(req), staff::Permission::kEditClients);
    json values = FormValues(req);
    if (req.method == "GET") {
      std::string extra;
      for (const auto& x : d.client.domains) extra += (extra.empty() ? "" : "\n") + x;
      values = {{"name", d.client.name},
                {"domain", d.client.domain},
                {"contact_email", d.client.contact_email},
                {"domains", extra},
                {"notes", d.client.notes}};
    }
    json view = FormView(problem, values);
    view.update(header);
    view["new"] = false;
    return show(req, "clients/form", view, "Edit " + d.client.name, status);
  };
  router.Add("GET", "/clients/{id}/edit",
             [edit_client](Request& req) { return edit_client(req, json::object(), 200); });
  router.Add("POST", "/clients/{id}",
             FormPost(
                 [&service](Request& req) {
                   int64_t id = req.ParamId(0, "Client");
                   service.Update(ActorFrom(req), id, FormClientInput(req),
                                  req.Form("confirm_duplicate_name") == "1");
                   return Response::Redirect(ClientUrl(id, "?notice=updated"));
                 },
                 edit_client));

  router.Add("GET", "/clients/duplicates", [&service, &owners, show](Request& req) {
    json groups = json::array();
    static const std::map<std::string, std::string> kReasons = {{"same_name", "Same name"},
                                                                {"same_domain", "Same domain"},
                                                                {"similar_name", "Similar names"}};
    for (const auto& g : service.DuplicatesWithClients(ActorFrom(req))) {
      json clients = json::array();
      for (const auto& c : g.clients) clients.push_back(ClientView(c, {}, owners));
      std::string reason;
      for (const auto& r : g.reasons) reason += (reason.empty() ? "" : " · ") + kReasons.at(r);
      groups.push_back(
          {{"reason", reason.empty() ? kReasons.at(g.reason) : reason}, {"clients", clients}});
    }
    json view = {
        {"groups", groups},
        {"has_groups", !groups.empty()},
        {"notice", req.Query("notice") == "dismissed" ? "Marked as different organisations: "
                                                        "they are not suggested together again."
                                                      : ""},
        {"can_edit", staff::Allows(ActorFrom(req).role, staff::Permission::kEditClients)},
        {"can_merge", staff::Allows(ActorFrom(req).role, staff::Permission::kMergeClients)}};
    return show(req, "clients/duplicates", view, "Possible duplicates");
  });

  // "Not duplicates" on a group: the ticked clients if two or more, else the group.
  router.Add("POST", "/clients/duplicates/dismiss", [&service](Request& req) {
    std::vector<int64_t> ids = ParseIds(req.FormAll("ids"), "ids");
    if (ids.size() < 2) ids = ParseIds(req.FormAll("group"), "group");
    service.DismissDuplicates(ActorFrom(req), ids);
    return Response::Redirect("/clients/duplicates?notice=dismissed");
  });

  // The list's selection: "Merge" shows the review page, "Archive" archives.
  router.Add("POST", "/clients/selection", [&service, &owners, show](Request& req) {
    std::vector<int64_t> ids = ParseIds(req.FormAll("ids"), "ids");
    if (req.Form("action") == "archive") {
      service.ArchiveMany(ActorFrom(req), ids);
      // Back to the list as it was searched.
      std::string q = req.Form("q");
      return Response::Redirect("/clients?notice=archived" +
                                (q.empty() ? "" : "&q=" + http::UrlEncode(q)));
    }
    staff::Require(ActorFrom(req), staff::Permission::kMergeClients);
    if (ids.size() < 2) throw ValidationError("ids", "Select two or more clients to merge");
    json clients = json::array();
    bool first = true;
    for (int64_t id : ids) {
      // The review shows each client's counts; one deleted or merged away since the
      // list was shown is left out, as it can no longer be merged.
      ClientDetail d;
      try {
        d = service.Get(ActorFrom(req), id);
      } catch (const NotFound&) {
        continue;
      } catch (const Moved&) {
        continue;
      }
      json v = ClientView(d.client, d.counts, owners);
      v["checked"] = first;
      first = false;
      clients.push_back(v);
    }
    return show(req, "clients/merge", {{"clients", clients}}, "Merge clients");
  });

  router.Add("POST", "/clients/merge", [&service](Request& req) {
    std::vector<int64_t> ids = ParseIds(req.FormAll("ids"), "ids");
    std::vector<int64_t> survivor = ParseIds({req.Form("survivor_id")}, "survivor_id");
    if (survivor.size() != 1) throw ValidationError("survivor_id", "Choose the client to keep");
    std::vector<int64_t> merged;
    for (int64_t id : ids) {
      if (id != survivor[0]) merged.push_back(id);
    }
    ClientDetail d = service.Merge(ActorFrom(req), survivor[0], merged);
    return Response::Redirect(ClientUrl(d.client.id, "?notice=merged"));
  });

  // ---- Overview, with the link form
  FormPage overview = [client_page, show](Request& req, const json& problem, int status) {
    auto [d, view] = client_page(req, req.ParamId(0, "Client"), "overview");
    view["link_error"] = problem.contains("errors") ? problem["errors"].begin().value() : json("");
    view["link_form"] = FormValues(req);
    return show(req, "clients/show", view, d.client.name, status);
  };
  router.Add("GET", "/clients/{id}",
             [overview](Request& req) { return overview(req, json::object(), 200); });
  router.Add("POST", "/clients/{id}/links",
             FormPost(
                 [&service](Request& req) {
                   int64_t id = req.ParamId(0, "Client");
                   service.AddLinkByName(ActorFrom(req), id, req.Form("other"), req.Form("label"),
                                         req.Form("inverse_label"));
                   return Response::Redirect(ClientUrl(id, "?notice=linked"));
                 },
                 overview));
  router.Add("POST", "/clients/{id}/links/{link}/delete", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    service.RemoveLink(ActorFrom(req), req.ParamId(1, "Link"), id);
    return Response::Redirect(ClientUrl(id, "?notice=unlinked"));
  });

  router.Add("POST", "/clients/{id}/archive", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    service.Archive(ActorFrom(req), id);
    return Response::Redirect(ClientUrl(id, "?notice=archived"));
  });
  router.Add("POST", "/clients/{id}/unarchive",
             FormPost(
                 [&service](Request& req) {
                   int64_t id = req.ParamId(0, "Client");
                   service.Unarchive(ActorFrom(req), id);
                   return Response::Redirect(ClientUrl(id, "?notice=unarchived"));
                 },
                 [client_page, show](Request& req, const json& problem, int status) {
                   auto [d, view] = client_page(req, req.ParamId(0, "Client"), "overview");
                   view["error"] = problem["errors"].begin().value();
                   view["link_error"] = "";
                   view["link_form"] = OpenMap({});
                   return show(req, "clients/show", view, d.client.name, status);
                 }));

  // ---- Delete
  FormPage delete_page = [client_page, show](Request& req, const json& problem, int status) {
    auto [d, view] = client_page(req, req.ParamId(0, "Client"), "overview");
    staff::Require(ActorFrom(req), staff::Permission::kDeleteClients);
    bool blocked = false;
    json blockers = json::array();
    for (const auto& o : view["client"]["owned"]) {
      if (o["blocks_delete"].get<bool>()) {
        blocked = true;
        blockers.push_back(o["text"]);
      }
    }
    view["blocked"] = blocked;
    view["blockers"] = blockers;
    if (problem.contains("errors")) view["error"] = problem["errors"].begin().value();
    return show(req, "clients/delete", view, "Delete " + d.client.name, status);
  };
  router.Add("GET", "/clients/{id}/delete",
             [delete_page](Request& req) { return delete_page(req, json::object(), 200); });
  router.Add("POST", "/clients/{id}/delete",
             FormPost(
                 [&service](Request& req) {
                   service.Delete(ActorFrom(req), req.ParamId(0, "Client"));
                   return Response::Redirect("/clients?notice=deleted");
                 },
                 delete_page));

  // ---- Contacts tab
  router.Add("GET", "/clients/{id}/contacts", [&service, client_page, show](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    auto [d, view] = client_page(req, id, "contacts");
    int64_t page = PageNumber(req);
    auto contacts =
        service.ListContacts(ActorFrom(req), id, (page - 1) * kContactsPerPage, kContactsPerPage);
    json rows = json::array();
    for (const auto& c : contacts.items) rows.push_back(ContactJson(c));
    view["contacts"] = rows;
    view["has_contacts"] = !rows.empty();
    view["pager"] = PagerView(page, kContactsPerPage, contacts.total, [id](int64_t n) {
      return ClientUrl(id, "/contacts?page=" + std::to_string(n));
    });
    return show(req, "clients/contacts", view, "Contacts · " + d.client.name);
  });

  FormPage contact_form = [&service, client_page, show](Request& req, const json& problem,
                                                        int status) {
    int64_t id = req.ParamId(0, "Client");
    auto [d, header] = client_page(req, id, "contacts");
    staff::Require(ActorFrom(req), staff::Permission::kEditClients);
    bool is_new = req.params.size() < 2;
    json values = FormValues(req);
    json view;
    if (is_new) {
      view = FormView(problem, values);
      view["contact_id"] = 0;
    } else {
      Contact c =
          OwnedBy(service.GetContact(ActorFrom(req), req.ParamId(1, "Contact")), id, "Contact");
      view = FormView(problem, req.method == "GET" ? ContactJson(c) : values);
      view["contact_id"] = c.id;
    }
    view.update(header);
    view["new"] = is_new;
    return show(req, "clients/contact_form", view, "Contact · " + d.client.name, status);
  };
  router.Add("GET", "/clients/{id}/contacts/new",
             [contact_form](Request& req) { return contact_form(req, json::object(), 200); });
  router.Add("POST", "/clients/{id}/contacts",
             FormPost(
                 [&service](Request& req) {
                   int64_t id = req.ParamId(0, "Client");
                   service.CreateContact(ActorFrom(req), id, FormContactInput(req));
                   return Response::Redirect(ClientUrl(id, "/contacts?notice=contact_saved"));
                 },
                 contact_form));
  // A contact's own page: how to reach them, their roles, what changed.
  router.Add(
      "GET", "/clients/{id}/contacts/{contact}", [&service, client_page, show](Request& req) {
        int64_t id = req.ParamId(0, "Client");
        auto [d, view] = client_page(req, id, "contacts");
        // Checked against the contact's own client, not the address's.
        Contact c =
            OwnedBy(service.GetContact(ActorFrom(req), req.ParamId(1, "Contact")), id, "Contact");
        view["contact"] = ContactJson(c);
        view["contact"]["last_portal_sign_in"] =
            c.last_portal_sign_in ? TimeView(*c.last_portal_sign_in) : json("");
        view["portal_link_sent"] = req.Query("portal_link") == "sent";
        json history = json::array();
        for (const auto& row : service.ContactHistory(ActorFrom(req), c.id, 20)) {
          history.push_back(audit::EntryView(row));
        }
        view["history"] = history;
        return show(req, "clients/contact", view, c.name + " · " + d.client.name);
      });
  router.Add("GET", "/clients/{id}/contacts/{contact}/edit",
             [contact_form](Request& req) { return contact_form(req, json::object(), 200); });
  router.Add("POST", "/clients/{id}/contacts/{contact}",
             FormPost(
                 [&service](Request& req) {
                   int64_t id = req.ParamId(0, "Client");
                   Contact c =
                       OwnedBy(service.GetContact(ActorFrom(req), req.ParamId(1, "Contact")), id,
                               "Contact");
                   service.UpdateContact(ActorFrom(req), c.id, FormContactInput(req));
                   return Response::Redirect(ClientUrl(id, "/contacts?notice=contact_saved"));
                 },
                 contact_form));
  router.Add("POST", "/clients/{id}/contacts/{contact}/delete", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    Contact c =
        OwnedBy(service.GetContact(ActorFrom(req), req.ParamId(1, "Contact")), id, "Contact");
    service.DeleteContact(ActorFrom(req), c.id);
    return Response::Redirect(ClientUrl(id, "/contacts?notice=contact_deleted"));
  });

  // ---- Sites tab
  router.Add("GET", "/clients/{id}/sites", [&service, &owners, client_page, show](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    auto [d, view] = client_page(req, id, "sites");
    int64_t page = PageNumber(req);
    auto sites = service.ListSites(ActorFrom(req), id, (page - 1) * kSitesPerPage, kSitesPerPage);
    json rows = json::array();
    for (const auto& s : sites.items) rows.push_back(SiteView(s, owners));
    json columns = json::array();
    for (const ClientOwner& o : owners.all()) {
      if (o.count_per_site) columns.push_back({{"label", o.tab ? o.tab->label : o.plural}});
    }
    view["sites"] = rows;
    view["has_sites"] = !rows.empty();
    view["columns"] = columns;
    view["pager"] = PagerView(page, kSitesPerPage, sites.total, [id](int64_t n) {
      return ClientUrl(id, "/sites?page=" + std::to_string(n));
    });
    return show(req, "clients/sites", view, "Sites · " + d.client.name);
  });

  FormPage site_form = [&service, &owners, client_page, show](Request& req, const json& problem,
                                                              int status) {
    int64_t id = req.ParamId(0, "Client");
    auto [d, header] = client_page(req, id, "sites");
    staff::Require(ActorFrom(req), staff::Permission::kEditClients);
    bool is_new = req.params.size() < 2;
    json view;
    if (is_new) {
      view = FormView(problem, FormValues(req));
      view["site_id"] = 0;
    } else {
      Site s = OwnedBy(service.GetSite(ActorFrom(req), req.ParamId(1, "Site")), id, "Site");
      view = FormView(problem, req.method == "GET" ? SiteView(s, owners) : FormValues(req));
      view["site_id"] = s.id;
    }
    view.update(header);
    view["new"] = is_new;
    return show(req, "clients/site_form", view, "Site · " + d.client.name, status);
  };
  router.Add("GET", "/clients/{id}/sites/new",
             [site_form](Request& req) { return site_form(req, json::object(), 200); });
  router.Add("POST", "/clients/{id}/sites",
             FormPost(
                 [&service](Request& req) {
                   int64_t id = req.ParamId(0, "Client");
                   service.CreateSite(ActorFrom(req), id, FormSiteInput(req));
                   return Response::Redirect(ClientUrl(id, "/sites?notice=site_saved"));
                 },
                 site_form));
  router.Add("GET", "/clients/{id}/sites/{site}/edit",
             [site_form](Request& req) { return site_form(req, json::object(), 200); });
  router.Add("POST", "/clients/{id}/sites/{site}",
             FormPost(
                 [&service](Request& req) {
                   int64_t id = req.ParamId(0, "Client");
                   Site s =
                       OwnedBy(service.GetSite(ActorFrom(req), req.ParamId(1, "Site")), id, "Site");
                   service.UpdateSite(ActorFrom(req), s.id, FormSiteInput(req));
                   return Response::Redirect(ClientUrl(id, "/sites?notice=site_saved"));
                 },
                 site_form));
  router.Add("POST", "/clients/{id}/sites/{site}/delete", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    Site s = OwnedBy(service.GetSite(ActorFrom(req), req.ParamId(1, "Site")), id, "Site");
    service.DeleteSite(ActorFrom(req), s.id);
    return Response::Redirect(ClientUrl(id, "/sites?notice=site_deleted"));
  });

  // ---- History tab
  router.Add("GET", "/clients/{id}/history", [&service, client_page, show](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    auto [d, view] = client_page(req, id, "history");
    int64_t page = PageNumber(req);
    auto history =
        service.History(ActorFrom(req), id, (page - 1) * kHistoryPerPage, kHistoryPerPage);
    json rows = json::array();
    for (const auto& r : history.items) {
      json entry = audit::EntryView(r);
      entry["has_client"] = false;  // this tab is the client's own
      rows.push_back(std::move(entry));
    }
    view["entries"] = rows;
    view["pager"] = PagerView(page, kHistoryPerPage, history.total, [id](int64_t n) {
      return ClientUrl(id, "/history?page=" + std::to_string(n));
    });
    return show(req, "clients/history", view, "History · " + d.client.name);
  });
}

}  // namespace opsmerge::clients
