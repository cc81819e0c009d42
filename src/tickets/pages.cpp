#include <nlohmann/json.hpp>

#include "clients/routes.h"
#include "platform/errors.h"
#include "platform/page.h"
#include "platform/text.h"
#include "staff/model.h"
#include "tickets/routes.h"

namespace opsmerge::tickets {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;
using staff::ActorFrom;

constexpr int64_t kPerPage = 50;

std::string TicketUrl(int64_t id) { return "/tickets/" + std::to_string(id); }

json SlaView(const Ticket& t, int64_t now) {
  SlaState s = SlaStateOf(t, now);
  return {{"breached", s == SlaState::kBreached}, {"due_soon", s == SlaState::kDueSoon}};
}

json TicketRow(const Ticket& t, int64_t now) {
  return {{"id", t.id},
          {"number", t.number},
          {"subject", t.subject},
          {"client_name", t.client_id ? t.client_name : ""},
          {"triage", !t.client_id},
          {"contact_name", t.contact_name},
          {"status", StatusLabel(t.status)},
          {"priority", PriorityLabel(t.priority)},
          {"urgent", t.priority == Priority::kUrgent || t.priority == Priority::kHigh},
          {"vip", t.vip},
          {"assignee_name", t.assignee_name},
          {"sla", SlaView(t, now)},
          {"updated", AgoView(ParseIsoUtc(t.updated_at), now)}};
}

json Options(const std::vector<std::pair<std::string, std::string>>& values,
             const std::string& selected) {
  json out = json::array();
  for (const auto& [value, label] : values) {
    out.push_back({{"value", value}, {"label", label}, {"selected", value == selected}});
  }
  return out;
}

const std::vector<std::pair<std::string, std::string>> kStatusFilter = {
    {"active", "Open tickets"},
    {"", "All tickets"},
    {"new", "New"},
    {"open", "Open"},
    {"waiting_on_client", "Waiting on client"},
    {"resolved", "Resolved"},
    {"closed", "Closed"}};
const std::vector<std::pair<std::string, std::string>> kViews = {{"", "Anyone's"},
                                                                 {"mine", "Mine"},
                                                                 {"unassigned", "Unassigned"},
                                                                 {"triage", "Triage (no client)"}};
const std::vector<std::pair<std::string, std::string>> kSlaFilter = {
    {"", "Any SLA"}, {"breached", "SLA breached"}, {"due_soon", "Due within an hour"}};
const std::vector<std::pair<std::string, std::string>> kPriorities = {
    {"low", "Low"}, {"normal", "Normal"}, {"high", "High"}, {"urgent", "Urgent"}};
const std::vector<std::pair<std::string, std::string>> kStatuses = {
    {"new", "New"},
    {"open", "Open"},
    {"waiting_on_client", "Waiting on client"},
    {"resolved", "Resolved"},
    {"closed", "Closed"}};

// The queue's view of a list request (shared by /tickets and a client's tab).
json QueueView(const Request& req, TicketService& service, std::optional<int64_t> client_id,
               const std::string& base, std::optional<int64_t> endpoint_id = std::nullopt) {
  staff::Actor actor = ActorFrom(req);
  TicketQuery q;
  q.client_id = client_id;
  q.endpoint_id = endpoint_id;
  q.status = req.Query("status", "active");
  std::string view_name = req.Query("view");
  q.mine = view_name == "mine";
  if (view_name == "unassigned") q.assignee_id = 0;
  q.triage = view_name == "triage" && !client_id;
  q.priority = req.Query("priority");
  q.sla = req.Query("sla");
  q.q = text::Trim(req.Query("q")).substr(0, 200);
  int64_t page = PageNumber(req);
  q.offset = (page - 1) * kPerPage;
  q.limit = kPerPage;
  TicketPage result = service.List(actor, q);
  int64_t now = service.Now();
  json rows = json::array();
  for (const auto& t : result.items) rows.push_back(TicketRow(t, now));
  std::string filters = "&status=" + http::UrlEncode(q.status) +
                        "&view=" + http::UrlEncode(view_name) +
                        "&priority=" + http::UrlEncode(q.priority) +
                        "&sla=" + http::UrlEncode(q.sla) + "&q=" + http::UrlEncode(q.q);
  std::vector<std::pair<std::string, std::string>> priorities = {{"", "Any priority"}};
  priorities.insert(priorities.end(), kPriorities.begin(), kPriorities.end());
  // A capped search total pages on while pages are full.
  int64_t pager_total = result.total;
  if (result.total > kSearchCountCap) {
    pager_total = std::max<int64_t>(
        result.total, q.offset + static_cast<int64_t>(result.items.size()) +
                          (static_cast<int64_t>(result.items.size()) == q.limit ? 1 : 0));
  }
  std::vector<std::pair<std::string, std::string>> bulk_assignees = {{"", "Assignee: keep"},
                                                                     {"none", "Nobody"}};
  bool can_work = staff::Allows(actor.role, staff::Permission::kWorkTickets);
  if (can_work) {
    for (const auto& [sid, name] : service.Assignees(actor)) {
      bulk_assignees.emplace_back(std::to_string(sid), name);
    }
  }
  std::vector<std::pair<std::string, std::string>> bulk_statuses = {{"", "Status: keep"}};
  bulk_statuses.insert(bulk_statuses.end(), kStatuses.begin(), kStatuses.end());
  return {{"tickets", rows},
          {"bulk_assignees", Options(bulk_assignees, "")},
          {"bulk_statuses", Options(bulk_statuses, "")},
          {"has_tickets", !rows.empty()},
          {"total_text", result.total > kSearchCountCap
                             ? "More than " + std::to_string(kSearchCountCap) + " tickets"
                             : text::CountOf(result.total, "ticket", "tickets")},
          {"base", base},
          {"q", q.q},
          {"statuses", Options(kStatusFilter, q.status)},
          {"views", Options(kViews, view_name)},
          {"priorities", Options(priorities, q.priority)},
          {"slas", Options(kSlaFilter, q.sla)},
          {"refresh_url", base + "?page=" + std::to_string(page) + filters},
          {"can_work", staff::Allows(actor.role, staff::Permission::kWorkTickets)},
          {"pager", PagerView(page, kPerPage, pager_total, [&](int64_t n) {
             return base + "?page=" + std::to_string(n) + filters;
           })}};
}

std::optional<int64_t> FormId(const Request& req, const std::string& field) {
  std::string v = req.Form(field);
  if (v.empty()) return std::nullopt;
  if (v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
    throw ValidationError(field, "Choose from the list");
  }
  return std::stoll(v);
}

}  // namespace

void RegisterPages(http::Router& router, TicketService& service, clients::ClientService& clients,
                   rmm::RmmService& rmm, const Templates& templates) {
  const Templates& t = templates;

  router.Add("GET", "/tickets", [&service, &t](Request& req) {
    json view = QueueView(req, service, std::nullopt, "/tickets");
    view["in_client"] = false;
    view["endpoint"] = false;
    view["new_url"] = "/tickets/new";
    return RenderPage(t, req, "tickets/list", view, {"Tickets", "tickets", 200});
  });

  router.Add("GET", "/clients/{id}/tickets", [&service, &clients, &t](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    clients::ClientDetail d = clients.Get(ActorFrom(req), id);
    json view = clients::ClientPageView(d, "tickets", req, clients.owners());
    view.update(QueueView(req, service, id, "/clients/" + std::to_string(id) + "/tickets"));
    view["in_client"] = true;
    view["endpoint"] = false;
    view["new_url"] = "/tickets/new?client_id=" + std::to_string(id);
    return RenderPage(t, req, "tickets/list", view, {"Tickets · " + d.client.name, "clients", 200});
  });

  router.Add("GET", "/endpoints/{id}/tickets", [&service, &rmm, &t](Request& req) {
    rmm::Endpoint e = rmm.GetEndpoint(ActorFrom(req), req.ParamId(0, "Endpoint"));
    std::string base = "/endpoints/" + std::to_string(e.id) + "/tickets";
    json view = QueueView(req, service, std::nullopt, base, e.id);
    view["in_client"] = false;
    view["endpoint"] = {{"id", e.id}, {"hostname", e.hostname}};
    view["new_url"] = "/tickets/new?client_id=" + std::to_string(e.client_id) +
                      "&endpoint_id=" + std::to_string(e.id);
    return RenderPage(t, req, "tickets/list", view, {"Tickets · " + e.hostname, "endpoints", 200});
  });

  FormPage new_page = [&clients, &rmm, &t](Request& req, const json& problem, int status) {
    staff::Actor actor = ActorFrom(req);
    staff::Require(actor, staff::Permission::kWorkTickets);
    json values = FormValues(req);
    std::string client_param = req.method == "GET" ? req.Query("client_id") : req.Form("client_id");
    json view = {{"errors", OpenMap(problem.value("errors", json::object()))},
                 {"form", OpenMap(values)},
                 {"has_client", false},
                 {"client_id", ""},
                 {"client_name", ""},
                 {"contacts", json::array()},
                 {"priorities", Options(kPriorities, values.value("priority", "normal"))}};
    if (!client_param.empty() &&
        client_param.find_first_not_of("0123456789") == std::string::npos &&
        client_param.size() < 18) {
      clients::ClientDetail d = clients.Get(actor, std::stoll(client_param));
      view["has_client"] = true;
      view["client_id"] = client_param;
      view["client_name"] = d.client.name;
      json contacts = json::array();
      std::string chosen = values.value("contact_id", "");
      for (const auto& c : clients.ListContacts(actor, d.client.id, 0, 500).items) {
        contacts.push_back({{"id", c.id},
                            {"name", c.name + (c.roles.vip ? " (VIP)" : "")},
                            {"selected", std::to_string(c.id) == chosen}});
      }
      view["contacts"] = contacts;
      // From an endpoint's page: that endpoint (of this client only).
      std::string endpoint_param =
          req.method == "GET" ? req.Query("endpoint_id") : req.Form("endpoint_id");
      if (!endpoint_param.empty() && endpoint_param.size() < 18 &&
          endpoint_param.find_first_not_of("0123456789") == std::string::npos) {
        rmm::Endpoint e = rmm.GetEndpoint(actor, std::stoll(endpoint_param));
        if (e.client_id == d.client.id) {
          view["endpoint"] = {{"id", e.id}, {"hostname", e.hostname}};
        }
      }
    }
    if (!view.contains("endpoint")) view["endpoint"] = false;
    return RenderPage(t, req, "tickets/new", view, {"New ticket", "tickets", status});
  };
  router.Add("GET", "/tickets/new",
             [new_page](Request& req) { return new_page(req, json::object(), 200); });
  router.Add("POST", "/tickets",
             FormPost(
                 [&service, &clients](Request& req) {
                   staff::Actor actor = ActorFrom(req);
                   NewTicket in;
                   in.client_id = FormId(req, "client_id");
                   if (!in.client_id) {
                     // Typed: an active client of exactly that name.
                     std::string name = text::CollapseWhitespace(req.Form("client"));
                     if (!name.empty()) {
                       for (const auto& c : clients.SearchClients(actor, name, 20)) {
                         if (text::FoldCase(c.name) == text::FoldCase(name)) in.client_id = c.id;
                       }
                       if (!in.client_id) {
                         throw ValidationError("client", "No active client is named " + name);
                       }
                     }
                   }
                   in.subject = req.Form("subject");
                   in.description = req.Form("description");
                   in.contact_id = FormId(req, "contact_id");
                   in.endpoint_id = FormId(req, "endpoint_id");
                   in.priority = req.Form("priority", "normal");
                   in.source = Source::kStaff;
                   Ticket created = service.Create(actor, in);
                   return Response::Redirect(TicketUrl(created.id));
                 },
                 new_page));

  FormPage show_page = [&service, &clients, &t](Request& req, const json& problem, int status) {
    staff::Actor actor = ActorFrom(req);
    int64_t id = req.ParamId(0, "Ticket");
    Ticket tk = service.Get(actor, id);
    int64_t now = service.Now();
    json entries = json::array();
    for (const auto& e : service.Entries(actor, id)) {
      json files = json::array();
      for (const auto& a : e.attachments) {
        files.push_back({{"url", TicketUrl(id) + "/attachments/" + std::to_string(a.id)},
                         {"filename", a.filename},
                         {"size", text::SizeText(a.size)}});
      }
      entries.push_back(
          {{"kind", EntryKindName(e.kind)},
           {"files", files},
           {"original",
            e.from_mail ? TicketUrl(id) + "/entries/" + std::to_string(e.id) + "/original" : ""},
           {"public", e.kind == EntryKind::kPublic},
           {"internal", e.kind == EntryKind::kInternal},
           {"system", e.kind == EntryKind::kSystem},
           {"body", e.body},
           {"from", e.from},
           {"at", TimeView(e.created_at)}});
    }
    json times = json::array();
    int64_t minutes = 0;
    for (const auto& e : service.TimeEntries(actor, id)) {
      minutes += e.minutes;
      times.push_back({{"who", e.staff_name},
                       {"minutes", e.minutes},
                       {"date", e.date},
                       {"billable", e.billable},
                       {"note", e.note}});
    }
    // The client's contacts and sites to choose from (a ticket with a client).
    std::vector<std::pair<std::string, std::string>> contact_options = {{"", "Nobody"}},
                                                     site_options = {{"", "None"}};
    if (tk.client_id) {
      for (const auto& c : clients.ListContacts(actor, *tk.client_id, 0, 500).items) {
        contact_options.emplace_back(std::to_string(c.id), c.name + " <" + c.email + ">");
      }
      for (const auto& st : clients.AllSites(actor, *tk.client_id)) {
        site_options.emplace_back(std::to_string(st.id), st.name);
      }
    }
    std::vector<std::string> participants = service.Participants(actor, id);
    std::string triage_sender = tk.client_id ? "" : service.MailSender(actor, id);

    std::vector<std::pair<std::string, std::string>> assignees = {{"", "Nobody"}};
    for (const auto& [sid, name] : service.Assignees(actor)) {
      assignees.emplace_back(std::to_string(sid), name);
    }
    json view = {
        {"ticket", TicketRow(tk, now)},
        {"description", tk.description},
        {"client_id", tk.client_id ? std::to_string(*tk.client_id) : ""},
        {"contact_email", tk.contact_email},
        {"triage_sender", triage_sender},
        {"triage_domain",
         triage_sender.empty() ? "" : triage_sender.substr(triage_sender.find('@') + 1)},
        {"can_triage", !tk.client_id && staff::Allows(actor.role, staff::Permission::kWorkTickets)},
        {"participants", participants},
        {"has_participants", !participants.empty()},
        {"endpoint_name", tk.endpoint_name},
        {"endpoint_id", tk.endpoint_id ? std::to_string(*tk.endpoint_id) : ""},
        {"site_name", tk.site_name},
        {"source", SourceName(tk.source)},
        {"opened", TimeView(tk.created_at)},
        {"first_response_due", tk.first_response_due_at && !tk.first_responded_at
                                   ? TimeView(*tk.first_response_due_at)
                                   : json("")},
        {"resolution_due",
         tk.resolution_due_at && !IsDone(tk.status) ? TimeView(*tk.resolution_due_at) : json("")},
        {"entries", entries},
        {"times", times},
        {"has_times", !times.empty()},
        {"time_total",
         std::to_string(minutes / 60) + " h " + std::to_string(minutes % 60) + " min"},
        {"has_client", tk.client_id.has_value()},
        {"contact_options",
         Options(contact_options, tk.contact_id ? std::to_string(*tk.contact_id) : "")},
        {"site_options", Options(site_options, tk.site_id ? std::to_string(*tk.site_id) : "")},
        {"statuses", Options(kStatuses, StatusName(tk.status))},
        {"priorities", Options(kPriorities, PriorityName(tk.priority))},
        {"assignees", Options(assignees, tk.assignee_id ? std::to_string(*tk.assignee_id) : "")},
        {"today", FormatIsoUtc(now).substr(0, 10)},
        {"errors", OpenMap(problem.value("errors", json::object()))},
        {"form", OpenMap(FormValues(req))},
        {"can_work", staff::Allows(actor.role, staff::Permission::kWorkTickets)},
    };
    return RenderPage(t, req, "tickets/show", view,
                      {"#" + std::to_string(tk.number) + " " + tk.subject, "tickets", status});
  };
  router.Add("GET", "/tickets/{id}",
             [show_page](Request& req) { return show_page(req, json::object(), 200); });
  router.Add("POST", "/tickets/bulk",
             FormPost(
                 [&service](Request& req) {
                   std::vector<int64_t> ids;
                   for (const auto& v : req.FormAll("ids")) {
                     if (v.empty() || v.size() > 18 ||
                         v.find_first_not_of("0123456789") != std::string::npos) {
                       throw ValidationError("ids", "Tick tickets from the list");
                     }
                     ids.push_back(std::stoll(v));
                   }
                   TicketPatch p;
                   if (!req.Form("status").empty()) p.status = req.Form("status");
                   std::string who = req.Form("assignee_id");
                   if (who == "none") {
                     p.assignee_id = std::optional<int64_t>();
                   } else if (!who.empty()) {
                     p.assignee_id = FormId(req, "assignee_id");
                   }
                   service.UpdateMany(ActorFrom(req), ids, p);
                   // Back to the list as it was filtered (a path of ours only).
                   std::string back = req.Form("back");
                   bool list = back.rfind("/tickets", 0) == 0 || back.rfind("/clients/", 0) == 0 ||
                               back.rfind("/endpoints/", 0) == 0;
                   bool one_line = back.find_first_of("\r\n\\") == std::string::npos;
                   return Response::Redirect(list && one_line ? back : "/tickets");
                 },
                 [&t](Request& req, const json& problem, int status) {
                   json view = {
                       {"heading", "Please check your input"},
                       {"message", problem.value("message", std::string("Nothing changed"))}};
                   return RenderPage(t, req, "layout/error", view, {"Tickets", "tickets", status});
                 }));
  router.Add(
      "POST", "/tickets/{id}",
      FormPost(
          [&service, &clients, &rmm](Request& req) {
            int64_t id = req.ParamId(0, "Ticket");
            if (req.HasForm("triage")) {
              // Triage: a client by exact name, and what to learn from the sender.
              staff::Actor actor = ActorFrom(req);
              std::string name = text::CollapseWhitespace(req.Form("client"));
              std::optional<int64_t> client_id;
              for (const auto& c : clients.SearchClients(actor, name, 20)) {
                if (!name.empty() && text::FoldCase(c.name) == text::FoldCase(name)) {
                  client_id = c.id;
                }
              }
              if (!client_id) {
                throw ValidationError("client", name.empty() ? "Type the client's name"
                                                             : "No active client is named " + name);
              }
              TicketPatch p;
              p.client_id = client_id;
              p.add_sender_contact = req.HasForm("add_sender_contact");
              p.add_sender_domain = req.HasForm("add_sender_domain");
              service.Update(actor, id, p);
              return Response::Redirect(TicketUrl(id));
            }
            TicketPatch p;
            p.status = req.Form("status");
            p.priority = req.Form("priority");
            p.assignee_id = FormId(req, "assignee_id");
            if (req.HasForm("contact_id")) p.contact_id = FormId(req, "contact_id");
            if (req.HasForm("site_id")) p.site_id = FormId(req, "site_id");
            if (req.HasForm("endpoint")) {
              // Typed: a hostname of one of the ticket's client's endpoints.
              std::string host = text::Trim(req.Form("endpoint"));
              p.endpoint_id = std::optional<int64_t>();
              if (!host.empty()) {
                staff::Actor actor = ActorFrom(req);
                rmm::EndpointQuery eq;
                eq.client_id = service.Get(actor, id).client_id;
                eq.search = host;
                eq.limit = 50;
                for (const auto& e : rmm.ListEndpoints(actor, eq).items) {
                  if (text::FoldCase(e.hostname) == text::FoldCase(host)) {
                    p.endpoint_id = e.id;
                  }
                }
                if (!*p.endpoint_id) {
                  throw ValidationError("endpoint", "This client has no endpoint named " + host);
                }
              }
            }
            service.Update(ActorFrom(req), id, p);
            return Response::Redirect(TicketUrl(id));
          },
          show_page));
  router.Add("POST", "/tickets/{id}/entries",
             FormPost(
                 [&service](Request& req) {
                   int64_t id = req.ParamId(0, "Ticket");
                   if (req.Form("kind") == "note") {
                     service.Note(ActorFrom(req), id, req.Form("body"));
                   } else {
                     service.Reply(ActorFrom(req), id, req.Form("body"));
                   }
                   return Response::Redirect(TicketUrl(id) + "#latest");
                 },
                 show_page));
  router.Add("GET", "/tickets/{id}/attachments/{attachment}", [&service](Request& req) {
    AttachmentFile f = service.GetAttachment(ActorFrom(req), req.ParamId(0, "Ticket"),
                                             req.ParamId(1, "Attachment"));
    return Response::Download(std::move(f.content), f.meta.filename, f.meta.content_type);
  });
  router.Add("POST", "/tickets/{id}/time",
             FormPost(
                 [&service](Request& req) {
                   int64_t id = req.ParamId(0, "Ticket");
                   TimeEntryInput in;
                   std::string minutes = text::Trim(req.Form("minutes"));
                   if (minutes.empty() || minutes.size() > 6 ||
                       minutes.find_first_not_of("0123456789") != std::string::npos) {
                     throw ValidationError("minutes", "Minutes must be a whole number");
                   }
                   in.minutes = std::stoll(minutes);
                   in.date = req.Form("date");
                   in.billable = req.HasForm("billable");
                   in.note = req.Form("note");
                   service.LogTime(ActorFrom(req), id, in);
                   return Response::Redirect(TicketUrl(id) + "#time");
                 },
                 show_page));
}

}  // namespace opsmerge::tickets
