#include <nlohmann/json.hpp>

#include "audit/view.h"
#include "home/routes.h"
#include "platform/errors.h"
#include "platform/http/json.h"
#include "platform/page.h"
#include "platform/text.h"
#include "staff/model.h"

namespace opsmerge::home {

namespace {

using http::Request;
using nlohmann::json;
using staff::ActorFrom;

constexpr int kPerKind = 8;        // results of each kind in the box's drop-down
constexpr int kPerKindPage = 50;   // and on the /search page
constexpr size_t kMaxQuery = 200;  // characters people type into a search box

struct Results {
  std::vector<clients::Client> clients;
  std::vector<clients::ContactHit> contacts;
  std::vector<rmm::Endpoint> endpoints;
  std::vector<tickets::Ticket> tickets;
};

struct Services {
  clients::ClientService& clients;
  rmm::RmmService& rmm;
  tickets::TicketService& tickets;
};

// The query of ?q=, checked: too long or not text is a clear 422, not a search.
std::string QueryOf(const Request& req) {
  std::string q = text::CollapseWhitespace(req.Query("q"));
  if (!text::IsValidUtf8(q)) throw ValidationError("q", "Search must be text");
  if (text::Utf8Length(q) > kMaxQuery) {
    throw ValidationError("q", "Search is too long (at most 200 characters)");
  }
  return q;
}

Results Find(const staff::Actor& actor, const std::string& q, int limit, const Services& s) {
  Results r;
  if (q.empty()) return r;
  r.clients = s.clients.SearchClients(actor, q, limit);
  r.contacts = s.clients.SearchContacts(actor, q, limit);
  r.endpoints = s.rmm.SearchEndpoints(actor, q, limit);
  r.tickets = s.tickets.Search(actor, q, limit);
  return r;
}

json ResultsView(const Results& r, rmm::RmmService& rmm) {
  json tickets = json::array();
  for (const auto& t : r.tickets) {
    json item = json::object();
    item["id"] = t.id;
    item["number"] = t.number;
    item["subject"] = t.subject;
    item["client_name"] = t.client_id ? t.client_name : std::string("Triage");
    item["status"] = tickets::StatusLabel(t.status);
    tickets.push_back(item);
  }
  json clients = json::array(), contacts = json::array(), endpoints = json::array();
  for (const auto& c : r.clients) {
    clients.push_back({{"id", c.id}, {"name", c.name}, {"domain", c.domain}});
  }
  for (const auto& h : r.contacts) {
    contacts.push_back({{"id", h.contact.id},
                        {"client_id", h.contact.client_id},
                        {"name", h.contact.name},
                        {"email", h.contact.email},
                        {"phone", h.contact.phone},
                        {"client_name", h.client_name},
                        {"client_archived", h.client_archived}});
  }
  for (const auto& e : r.endpoints) {
    endpoints.push_back({{"id", e.id},
                         {"hostname", e.hostname},
                         {"client_name", e.client_name},
                         {"ip", e.primary_ip},
                         {"serial", e.serial},
                         {"status", rmm::StatusName(rmm.StatusOf(e))},
                         {"retired", e.retired}});
  }
  bool any = !clients.empty() || !contacts.empty() || !endpoints.empty() || !tickets.empty();
  return {{"clients", clients},
          {"contacts", contacts},
          {"endpoints", endpoints},
          {"tickets", tickets},
          {"any", any},
          {"has_clients", !clients.empty()},
          {"has_contacts", !contacts.empty()},
          {"has_endpoints", !endpoints.empty()},
          {"has_tickets", !tickets.empty()}};
}

}  // namespace

void RegisterPages(http::Router& router, clients::ClientService& clients, rmm::RmmService& rmm,
                   tickets::TicketService& tickets, const Templates& templates) {
  Services services{clients, rmm, tickets};
  router.Add("GET", "/", [&clients, &rmm, &tickets, &templates](Request& req) {
    staff::Actor actor = ActorFrom(req);
    int64_t now = rmm.Now();
    rmm::RmmService::FleetStatus fleet = rmm.Fleet(actor, 10);
    json lost = json::array();
    for (const auto& e : fleet.latest_offline) {
      lost.push_back({{"id", e.id},
                      {"hostname", e.hostname},
                      {"client_id", e.client_id},
                      {"client_name", e.client_name},
                      {"seen", e.last_seen_at ? AgoView(*e.last_seen_at, now) : json(nullptr)},
                      {"never_seen", !e.last_seen_at}});
    }
    clients::ClientQuery client_q;
    client_q.limit = 1;
    int64_t client_count = clients.List(actor, client_q).total;
    tickets::TicketQuery open_q;
    open_q.status = "active";
    open_q.limit = 1;
    int64_t open = tickets.List(actor, open_q).total;
    open_q.sla = "breached";
    int64_t breached = tickets.List(actor, open_q).total;
    json changes = json::array();
    for (const auto& row : clients.RecentChanges(actor, 10))
      changes.push_back(audit::EntryView(row));
    json view = {
        {"clients_text", text::CountOf(client_count, "active client", "active clients")},
        {"open_tickets_text", text::CountOf(open, "open ticket", "open tickets")},
        {"breached_text", text::CountOf(breached, "ticket past its SLA", "tickets past their SLA")},
        {"any_breached", breached > 0},
        {"online_text", text::CountOf(fleet.online, "endpoint online", "endpoints online")},
        {"offline_text", text::CountOf(fleet.offline, "endpoint offline", "endpoints offline")},
        {"offline", lost},
        {"has_offline", !lost.empty()},
        {"more_offline", fleet.offline > static_cast<int64_t>(lost.size())},
        {"changes", changes},
    };
    return RenderPage(templates, req, "home/dashboard", view, {"Dashboard", "home", 200});
  });

  router.Add("GET", "/search", [services, &rmm, &templates](Request& req) {
    std::string q = QueryOf(req);
    // The box's drop-down asks for a fragment; the page (Enter, a link) for more.
    bool dropdown = req.htmx && req.Header("hx-target") == "global-search-results";
    Results r = Find(ActorFrom(req), q, dropdown ? kPerKind : kPerKindPage, services);
    json view = ResultsView(r, rmm);
    view["q"] = q;
    view["searched"] = !q.empty();
    if (dropdown) return RenderFragment(templates, req, "home/_search_results", view);
    return RenderPage(templates, req, "home/search", view, {"Search", "", 200});
  });
}

void RegisterApi(http::Router& router, clients::ClientService& clients, rmm::RmmService& rmm,
                 tickets::TicketService& tickets) {
  Services services{clients, rmm, tickets};
  router.Add("GET", "/api/v1/search", [services, &rmm](Request& req) {
    std::string q = QueryOf(req);
    json view = ResultsView(Find(ActorFrom(req), q, kPerKindPage, services), rmm);
    return http::JsonResponse({{"query", q},
                               {"clients", view["clients"]},
                               {"contacts", view["contacts"]},
                               {"endpoints", view["endpoints"]},
                               {"tickets", view["tickets"]}});
  });
}

}  // namespace opsmerge::home
