#include <nlohmann/json.hpp>

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

json ClientView(const Client& c, const ClientCounts& n) {
  return {{"id", c.id},
          {"name", c.name},
          {"domain", c.domain},
          {"domains", c.domains},
          {"has_domains", !c.domains.empty()},
          {"contact_email", c.contact_email},
          {"notes", c.notes},
          {"archived", c.archived()},
          {"archived_at", c.archived_at},
          {"created_at", c.created_at},
          {"updated_at", c.updated_at},
          {"counts",
           {{"contacts", n.contacts},
            {"sites", n.sites},
            {"endpoints", n.endpoints},
            {"tickets", n.tickets},
            {"invoices", n.invoices}}}};
}

}  // namespace

// The client header and tabs shared by every client page.
json ClientPageView(const ClientDetail& d, const std::string& tab, const Request& req) {
  json view = {{"client", ClientView(d.client, d.counts)}, {"tab_" + tab, true}};
  json links = json::array();
  for (const auto& l : d.links) {
    links.push_back({{"id", l.id},
                     {"client_id", l.other_client_id},
                     {"name", l.other_name},
                     {"label", l.label}});
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
      {"site_deleted", "Site removed; its endpoints are back in the client's pool."},
      {"linked", "Clients linked."},
      {"unlinked", "Link removed."}};
  auto it = kNotices.find(req.Query("notice"));
  if (it != kNotices.end()) view["notice"] = it->second;
  return view;
}

namespace {

Response ShowPage(const Templates& t, const Request& req, const std::string& tmpl, json view,
                  const std::string& title, int status = 200) {
  return RenderPage(t, req, tmpl, std::move(view), {title, "clients", status});
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
  std::string sort = req.Query("sort");
  q.descending = req.Query("dir") == "desc";
  q.sort = ParseClientSort(sort).value_or(ClientSort::kName);
  q.offset = (page - 1) * kPerPage;
  q.limit = kPerPage;
  return q;
}

json ListView(const Request& req, ClientService& service) {
  int64_t page = 1;
  std::string p = req.Query("page");
  if (!p.empty() && p.size() < 7 && p.find_first_not_of("0123456789") == std::string::npos) {
    page = std::max<int64_t>(1, std::stoll(p));
  }
  ClientQuery q = ListQuery(req, page);
  auto result = service.List(ActorFrom(req), q);
  json rows = json::array();
  for (const auto& r : result.items) rows.push_back(ClientView(r.client, r.counts));
  const std::string archived = req.Query("archived", "active");
  const std::string sort = req.Query("sort", "name");
  const std::string dir = req.Query("dir", "asc");
  auto url = [&](int64_t to_page, const std::string& to_sort, const std::string& to_dir) {
    return "/clients?q=" + http::UrlEncode(q.search) + "&archived=" + http::UrlEncode(archived) +
           "&sort=" + http::UrlEncode(to_sort) + "&dir=" + to_dir +
           "&page=" + std::to_string(to_page);
  };
  int64_t pages = std::max<int64_t>(1, (result.total + kPerPage - 1) / kPerPage);
  json sorts = json::object();
  for (const char* s : {"name", "domain", "created"}) {
    bool active = sort == s;
    std::string next_dir = active && dir == "asc" ? "desc" : "asc";
    sorts[s] = {{"url", url(1, s, next_dir)},
                {"active", active},
                {"arrow", active ? (dir == "desc" ? "↓" : "↑") : ""}};
  }
  return {{"rows", rows},
          {"has_rows", !rows.empty()},
          {"q", q.search},
          {"archived_" + (archived == "archived" || archived == "all" ? archived : "active"), true},
          {"show_archived", archived == "all" || archived == "archived"},
          {"total", result.total},
          {"page", page},
          {"pages", pages},
          {"from", result.total == 0 ? 0 : q.offset + 1},
          {"to", q.offset + static_cast<int64_t>(rows.size())},
          {"has_prev", page > 1},
          {"prev_url", url(page - 1, sort, dir)},
          {"has_next", page < pages},
          {"next_url", url(page + 1, sort, dir)},
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
    std::string all = req.Form("domains");
    std::string cur;
    for (char c : all + "\n") {
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

json ClientFormValues(const Request& req) {
  return {{"name", req.Form("name")},
          {"domain", req.Form("domain")},
          {"contact_email", req.Form("contact_email")},
          {"domains", req.Form("domains")},
          {"notes", req.Form("notes")}};
}

// Renders a form again with the error next to its field (and, for a duplicate,
// a link to the client it clashes with).
json FormError(const std::string& field, const std::string& message, int64_t existing_id,
               const std::string& existing_kind) {
  json view = {{"errors", {{field.empty() ? "form" : field, message}}}};
  if (existing_id > 0) {
    view["existing"] = {{"id", existing_id}, {"url", existing_kind + std::to_string(existing_id)}};
  }
  return view;
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

json ContactFormValues(const Request& req) {
  return {{"name", req.Form("name")},
          {"email", req.Form("email")},
          {"phone", req.Form("phone")},
          {"job_title", req.Form("job_title")},
          {"vip", req.HasForm("vip")},
          {"portal_user", req.HasForm("portal_user")},
          {"billing_recipient", req.HasForm("billing_recipient")},
          {"primary_technical", req.HasForm("primary_technical")}};
}

json SiteView(const Site& s) {
  return {{"id", s.id},           {"client_id", s.client_id}, {"name", s.name},
          {"address", s.address}, {"notes", s.notes},         {"endpoints", s.endpoints}};
}

SiteInput FormSiteInput(const Request& req) {
  SiteInput in;
  in.name = req.Form("name");
  in.address = req.Form("address");
  in.notes = req.Form("notes");
  return in;
}

// The path's contact/site must belong to the path's client.
template <typename T>
const T& OwnedBy(const T& item, int64_t client_id, const char* what) {
  if (item.client_id != client_id) throw NotFound(what);
  return item;
}

int64_t PageNumber(const Request& req) {
  std::string p = req.Query("page");
  if (p.empty() || p.size() > 6 || p.find_first_not_of("0123456789") != std::string::npos) return 1;
  return std::max<int64_t>(1, std::stoll(p));
}

}  // namespace

void RegisterPages(http::Router& router, ClientService& service, const Templates& templates) {
  const Templates& t = templates;

  router.Add("GET", "/", [](Request&) { return Response::Redirect("/clients", 302); });

  router.Add("GET", "/clients", [&service, &t](Request& req) {
    json view = ListView(req, service);
    static const std::map<std::string, std::string> kNotices = {
        {"archived", "Selected clients archived."}, {"deleted", "Client deleted."}};
    auto it = kNotices.find(req.Query("notice"));
    if (it != kNotices.end()) view["notice"] = it->second;
    if (req.htmx && req.Header("hx-target") == "client-results") {
      return RenderFragment(t, req, "clients/_results", view);
    }
    return ShowPage(t, req, "clients/list", view, "Clients");
  });

  router.Add("GET", "/clients/suggest", [&service, &t](Request& req) {
    ClientQuery q;
    q.search = text::Trim(req.Query("other")).substr(0, 200);
    q.limit = 10;
    json options = json::array();
    if (!q.search.empty()) {
      for (const auto& r : service.List(ActorFrom(req), q).items) {
        options.push_back({{"name", r.client.name}});
      }
    }
    return RenderFragment(t, req, "clients/_suggest", {{"options", options}});
  });

  router.Add("GET", "/clients/new", [&t](Request& req) {
    staff::Require(ActorFrom(req), staff::Permission::kEditClients);
    return ShowPage(t, req, "clients/form", {{"new", true}, {"form", json::object()}},
                    "New client");
  });

  router.Add("POST", "/clients", [&service, &t](Request& req) {
    try {
      ClientDetail d = service.Create(ActorFrom(req), FormClientInput(req),
                                      req.Form("confirm_duplicate_name") == "1");
      return Response::Redirect(ClientUrl(d.client.id, "?notice=created"));
    } catch (const ValidationError& e) {
      json view = FormError(e.field(), e.what(), 0, "");
      view["new"] = true;
      view["form"] = ClientFormValues(req);
      return ShowPage(t, req, "clients/form", view, "New client", 422);
    } catch (const Conflict& e) {
      json view = FormError(e.field(), e.what(), e.existing_id(), "/clients/");
      view["new"] = true;
      view["form"] = ClientFormValues(req);
      view["confirm_name"] = e.field() == "name";
      return ShowPage(t, req, "clients/form", view, "New client", 409);
    }
  });

  router.Add("GET", "/clients/duplicates", [&service, &t](Request& req) {
    json groups = json::array();
    static const std::map<std::string, std::string> kReasons = {{"same_name", "Same name"},
                                                                {"same_domain", "Same domain"},
                                                                {"similar_name", "Similar names"}};
    for (const auto& g : service.DuplicatesWithClients(ActorFrom(req))) {
      json clients = json::array();
      for (const auto& c : g.clients) clients.push_back(ClientView(c, {}));
      groups.push_back({{"reason", kReasons.at(g.reason)}, {"clients", clients}});
    }
    json view = {
        {"groups", groups},
        {"has_groups", !groups.empty()},
        {"can_merge", staff::Allows(ActorFrom(req).role, staff::Permission::kMergeClients)}};
    return ShowPage(t, req, "clients/duplicates", view, "Possible duplicates");
  });

  // The list's selection: "Merge" shows the review page, "Archive" archives.
  router.Add("POST", "/clients/selection", [&service, &t](Request& req) {
    std::vector<int64_t> ids = ParseIds(req.FormAll("ids"), "ids");
    if (req.Form("action") == "archive") {
      service.ArchiveMany(ActorFrom(req), ids);
      return Response::Redirect("/clients?notice=archived");
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
      } catch (const ClientMerged&) {
        continue;
      }
      json v = ClientView(d.client, d.counts);
      v["checked"] = first;
      first = false;
      clients.push_back(v);
    }
    return ShowPage(t, req, "clients/merge", {{"clients", clients}}, "Merge clients");
  });

  router.Add("POST", "/clients/merge", [&service](Request& req) {
    std::vector<int64_t> ids = ParseIds(req.FormAll("ids"), "ids");
    std::vector<int64_t> survivor = ParseIds({req.Form("survivor_id")}, "survivor_id");
    std::vector<int64_t> merged;
    for (int64_t id : ids) {
      if (id != survivor[0]) merged.push_back(id);
    }
    ClientDetail d = service.Merge(ActorFrom(req), survivor[0], merged);
    return Response::Redirect(ClientUrl(d.client.id, "?notice=merged"));
  });

  router.Add("GET", "/clients/{id}", [&service, &t](Request& req) {
    ClientDetail d = service.Get(ActorFrom(req), req.ParamId(0, "Client"));
    json view = ClientPageView(d, "overview", req);
    return ShowPage(t, req, "clients/show", view, d.client.name);
  });

  router.Add("GET", "/clients/{id}/edit", [&service, &t](Request& req) {
    ClientDetail d = service.Get(ActorFrom(req), req.ParamId(0, "Client"));
    staff::Require(ActorFrom(req), staff::Permission::kEditClients);
    std::string extra;
    for (const auto& x : d.client.domains) extra += (extra.empty() ? "" : "\n") + x;
    json view = ClientPageView(d, "overview", req);
    view["form"] = {{"name", d.client.name},
                    {"domain", d.client.domain},
                    {"contact_email", d.client.contact_email},
                    {"domains", extra},
                    {"notes", d.client.notes}};
    return ShowPage(t, req, "clients/form", view, "Edit " + d.client.name);
  });

  router.Add("POST", "/clients/{id}", [&service, &t](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    try {
      service.Update(ActorFrom(req), id, FormClientInput(req),
                     req.Form("confirm_duplicate_name") == "1");
      return Response::Redirect(ClientUrl(id, "?notice=updated"));
    } catch (const ValidationError& e) {
      json view = ClientPageView(service.Get(ActorFrom(req), id), "overview", req);
      view.update(FormError(e.field(), e.what(), 0, ""));
      view["form"] = ClientFormValues(req);
      return ShowPage(t, req, "clients/form", view, "Edit client", 422);
    } catch (const Conflict& e) {
      json view = ClientPageView(service.Get(ActorFrom(req), id), "overview", req);
      view.update(FormError(e.field(), e.what(), e.existing_id(), "/clients/"));
      view["form"] = ClientFormValues(req);
      view["confirm_name"] = e.field() == "name";
      return ShowPage(t, req, "clients/form", view, "Edit client", 409);
    }
  });

  router.Add("POST", "/clients/{id}/archive", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    service.Archive(ActorFrom(req), id);
    return Response::Redirect(ClientUrl(id, "?notice=archived"));
  });

  router.Add("POST", "/clients/{id}/unarchive", [&service, &t](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    try {
      service.Unarchive(ActorFrom(req), id);
    } catch (const Conflict& e) {
      json view = ClientPageView(service.Get(ActorFrom(req), id), "overview", req);
      view["error"] = e.what();
      return ShowPage(t, req, "clients/show", view, "Client", 409);
    }
    return Response::Redirect(ClientUrl(id, "?notice=unarchived"));
  });

  router.Add("GET", "/clients/{id}/delete", [&service, &t](Request& req) {
    ClientDetail d = service.Get(ActorFrom(req), req.ParamId(0, "Client"));
    staff::Require(ActorFrom(req), staff::Permission::kDeleteClients);
    json view = ClientPageView(d, "overview", req);
    const ClientCounts& n = d.counts;
    view["blocked"] = n.tickets + n.invoices + n.endpoints > 0;
    return ShowPage(t, req, "clients/delete", view, "Delete " + d.client.name);
  });

  router.Add("POST", "/clients/{id}/delete", [&service, &t](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    try {
      service.Delete(ActorFrom(req), id);
    } catch (const Conflict& e) {
      json view = ClientPageView(service.Get(ActorFrom(req), id), "overview", req);
      view["error"] = e.what();
      view["blocked"] = true;
      return ShowPage(t, req, "clients/delete", view, "Delete client", 409);
    }
    return Response::Redirect("/clients?notice=deleted");
  });

  router.Add("POST", "/clients/{id}/links", [&service, &t](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    std::string other_text = text::Trim(req.Form("other"));
    try {
      int64_t other_id = 0;
      ClientQuery q;
      q.search = other_text;
      q.archived = ArchivedFilter::kAll;
      q.limit = 50;
      if (!other_text.empty()) {
        for (const auto& r : service.List(ActorFrom(req), q).items) {
          if (NameKey(r.client.name) == NameKey(other_text)) {
            if (other_id != 0) {
              throw ValidationError("other", "Several clients are called " + other_text +
                                                 ": link from the other client's page");
            }
            other_id = r.client.id;
          }
        }
      }
      if (other_id == 0) {
        throw ValidationError("other", "No client is called \"" + other_text + "\"");
      }
      service.AddLink(ActorFrom(req), id, other_id, req.Form("label"));
      return Response::Redirect(ClientUrl(id, "?notice=linked"));
    } catch (const ValidationError& e) {
      json view = ClientPageView(service.Get(ActorFrom(req), id), "overview", req);
      view["link_error"] = e.what();
      view["link_form"] = {{"other", other_text}, {"label", req.Form("label")}};
      return ShowPage(t, req, "clients/show", view, "Client", 422);
    } catch (const Conflict& e) {
      json view = ClientPageView(service.Get(ActorFrom(req), id), "overview", req);
      view["link_error"] = e.what();
      return ShowPage(t, req, "clients/show", view, "Client", 409);
    }
  });

  router.Add("POST", "/clients/{id}/links/{link}/delete", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    service.RemoveLink(ActorFrom(req), req.ParamId(1, "Link"), id);
    return Response::Redirect(ClientUrl(id, "?notice=unlinked"));
  });

  // ---- Contacts tab
  auto contacts_page = [&service, &t](Request& req, int64_t id, json extra, int status) {
    ClientDetail d = service.Get(ActorFrom(req), id);
    int64_t page = PageNumber(req);
    auto contacts = service.ListContacts(ActorFrom(req), id, (page - 1) * 50, 50);
    json view = ClientPageView(d, "contacts", req);
    json rows = json::array();
    for (const auto& c : contacts.items) rows.push_back(ContactJson(c));
    view["contacts"] = rows;
    view["has_contacts"] = !rows.empty();
    view["has_next"] = page * 50 < contacts.total;
    view["next_page"] = page + 1;
    view["has_prev"] = page > 1;
    view["prev_page"] = page - 1;
    view.update(extra);
    return ShowPage(t, req, "clients/contacts", view, "Contacts · " + d.client.name, status);
  };

  router.Add("GET", "/clients/{id}/contacts", [contacts_page](Request& req) {
    return contacts_page(req, req.ParamId(0, "Client"), json::object(), 200);
  });

  auto contact_form = [&service, &t](Request& req, int64_t id, json extra, int status) {
    ClientDetail d = service.Get(ActorFrom(req), id);
    staff::Require(ActorFrom(req), staff::Permission::kEditClients);
    json view = ClientPageView(d, "contacts", req);
    view.update(extra);
    return ShowPage(t, req, "clients/contact_form", view, "Contact · " + d.client.name, status);
  };

  router.Add("GET", "/clients/{id}/contacts/new", [contact_form](Request& req) {
    return contact_form(req, req.ParamId(0, "Client"), {{"new", true}, {"form", json::object()}},
                        200);
  });

  router.Add("POST", "/clients/{id}/contacts", [&service, contact_form](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    try {
      service.CreateContact(ActorFrom(req), id, FormContactInput(req));
      return Response::Redirect(ClientUrl(id, "/contacts?notice=contact_saved"));
    } catch (const ValidationError& e) {
      json view = FormError(e.field(), e.what(), 0, "");
      view["new"] = true;
      view["form"] = ContactFormValues(req);
      return contact_form(req, id, view, 422);
    } catch (const Conflict& e) {
      json view = FormError(e.field(), e.what(), 0, "");
      view["new"] = true;
      view["form"] = ContactFormValues(req);
      return contact_form(req, id, view, 409);
    }
  });

  router.Add(
      "GET", "/clients/{id}/contacts/{contact}/edit", [&service, contact_form](Request& req) {
        int64_t id = req.ParamId(0, "Client");
        Contact c =
            OwnedBy(service.GetContact(ActorFrom(req), req.ParamId(1, "Contact")), id, "Contact");
        return contact_form(req, id, {{"form", ContactJson(c)}, {"contact_id", c.id}}, 200);
      });

  router.Add("POST", "/clients/{id}/contacts/{contact}", [&service, contact_form](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    int64_t cid =
        OwnedBy(service.GetContact(ActorFrom(req), req.ParamId(1, "Contact")), id, "Contact").id;
    try {
      service.UpdateContact(ActorFrom(req), cid, FormContactInput(req));
      return Response::Redirect(ClientUrl(id, "/contacts?notice=contact_saved"));
    } catch (const ValidationError& e) {
      json view = FormError(e.field(), e.what(), 0, "");
      view["form"] = ContactFormValues(req);
      view["contact_id"] = cid;
      return contact_form(req, id, view, 422);
    } catch (const Conflict& e) {
      json view = FormError(e.field(), e.what(), 0, "");
      view["form"] = ContactFormValues(req);
      view["contact_id"] = cid;
      return contact_form(req, id, view, 409);
    }
  });

  router.Add("POST", "/clients/{id}/contacts/{contact}/delete", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    Contact c =
        OwnedBy(service.GetContact(ActorFrom(req), req.ParamId(1, "Contact")), id, "Contact");
    service.DeleteContact(ActorFrom(req), c.id);
    return Response::Redirect(ClientUrl(id, "/contacts?notice=contact_deleted"));
  });

  // ---- Sites tab
  router.Add("GET", "/clients/{id}/sites", [&service, &t](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    ClientDetail d = service.Get(ActorFrom(req), id);
    auto sites = service.ListSites(ActorFrom(req), id, 0, 500);
    json view = ClientPageView(d, "sites", req);
    json rows = json::array();
    for (const auto& s : sites.items) rows.push_back(SiteView(s));
    view["sites"] = rows;
    view["has_sites"] = !rows.empty();
    return ShowPage(t, req, "clients/sites", view, "Sites · " + d.client.name);
  });

  auto site_form = [&service, &t](Request& req, int64_t id, json extra, int status) {
    ClientDetail d = service.Get(ActorFrom(req), id);
    staff::Require(ActorFrom(req), staff::Permission::kEditClients);
    json view = ClientPageView(d, "sites", req);
    view.update(extra);
    return ShowPage(t, req, "clients/site_form", view, "Site · " + d.client.name, status);
  };

  router.Add("GET", "/clients/{id}/sites/new", [site_form](Request& req) {
    return site_form(req, req.ParamId(0, "Client"), {{"new", true}, {"form", json::object()}}, 200);
  });

  router.Add("POST", "/clients/{id}/sites", [&service, site_form](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    json form = {
        {"name", req.Form("name")}, {"address", req.Form("address")}, {"notes", req.Form("notes")}};
    try {
      service.CreateSite(ActorFrom(req), id, FormSiteInput(req));
      return Response::Redirect(ClientUrl(id, "/sites?notice=site_saved"));
    } catch (const ValidationError& e) {
      json view = FormError(e.field(), e.what(), 0, "");
      view["new"] = true;
      view["form"] = form;
      return site_form(req, id, view, 422);
    } catch (const Conflict& e) {
      json view = FormError(e.field(), e.what(), 0, "");
      view["new"] = true;
      view["form"] = form;
      return site_form(req, id, view, 409);
    }
  });

  router.Add("GET", "/clients/{id}/sites/{site}/edit", [&service, site_form](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    Site s = OwnedBy(service.GetSite(ActorFrom(req), req.ParamId(1, "Site")), id, "Site");
    return site_form(req, id, {{"form", SiteView(s)}, {"site_id", s.id}}, 200);
  });

  router.Add("POST", "/clients/{id}/sites/{site}", [&service, site_form](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    int64_t sid = OwnedBy(service.GetSite(ActorFrom(req), req.ParamId(1, "Site")), id, "Site").id;
    json form = {
        {"name", req.Form("name")}, {"address", req.Form("address")}, {"notes", req.Form("notes")}};
    try {
      service.UpdateSite(ActorFrom(req), sid, FormSiteInput(req));
      return Response::Redirect(ClientUrl(id, "/sites?notice=site_saved"));
    } catch (const ValidationError& e) {
      json view = FormError(e.field(), e.what(), 0, "");
      view["form"] = form;
      view["site_id"] = sid;
      return site_form(req, id, view, 422);
    } catch (const Conflict& e) {
      json view = FormError(e.field(), e.what(), 0, "");
      view["form"] = form;
      view["site_id"] = sid;
      return site_form(req, id, view, 409);
    }
  });

  router.Add("POST", "/clients/{id}/sites/{site}/delete", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    Site s = OwnedBy(service.GetSite(ActorFrom(req), req.ParamId(1, "Site")), id, "Site");
    service.DeleteSite(ActorFrom(req), s.id);
    return Response::Redirect(ClientUrl(id, "/sites?notice=site_deleted"));
  });

  // ---- History tab
  router.Add("GET", "/clients/{id}/history", [&service, &t](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    ClientDetail d = service.Get(ActorFrom(req), id);
    int64_t page = PageNumber(req);
    auto history = service.History(ActorFrom(req), id, (page - 1) * 50, 50);
    json view = ClientPageView(d, "history", req);
    json rows = json::array();
    for (const auto& r : history.items) {
      rows.push_back({{"at", r.at},
                      {"who", r.actor_name},
                      {"action", r.action},
                      {"what", r.entity_type},
                      {"summary", r.summary},
                      {"before", r.before_json},
                      {"after", r.after_json},
                      {"has_detail", !r.before_json.empty() || !r.after_json.empty()}});
    }
    view["entries"] = rows;
    view["has_next"] = page * 50 < history.total;
    view["next_page"] = page + 1;
    view["has_prev"] = page > 1;
    view["prev_page"] = page - 1;
    return ShowPage(t, req, "clients/history", view, "History · " + d.client.name);
  });
}

}  // namespace opsmerge::clients
