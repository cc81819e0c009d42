#include <nlohmann/json.hpp>

#include "platform/clock.h"
#include "platform/errors.h"
#include "platform/http/json.h"
#include "staff/model.h"
#include "tickets/routes.h"

namespace opsmerge::tickets {

namespace {

using http::JsonResponse;
using http::Request;
using nlohmann::json;
using staff::ActorFrom;

json Opt(const std::optional<int64_t>& v) { return v ? json(*v) : json(); }
json OptTime(const std::optional<int64_t>& v) { return v ? json(FormatIsoUtc(*v)) : json(); }

const char* SlaName(SlaState s) {
  switch (s) {
    case SlaState::kOk:
      return "ok";
    case SlaState::kDueSoon:
      return "due_soon";
    case SlaState::kBreached:
      return "breached";
  }
  return "ok";
}

json EntryJson(const Entry& e) {
  json files = json::array();
  for (const auto& a : e.attachments) {
    files.push_back({{"id", a.id},
                     {"filename", a.filename},
                     {"content_type", a.content_type},
                     {"size", a.size}});
  }
  return {{"id", e.id},     {"kind", EntryKindName(e.kind)}, {"body", e.body},
          {"from", e.from}, {"created_at", e.created_at},    {"attachments", files}};
}

json TimeEntryJson(const TimeEntry& e) {
  return {{"id", e.id},
          {"ticket_id", e.ticket_id},
          {"staff_id", Opt(e.staff_id)},
          {"staff_name", e.staff_name},
          {"minutes", e.minutes},
          {"date", e.date},
          {"billable", e.billable},
          {"note", e.note},
          {"created_at", e.created_at}};
}

}  // namespace

json TicketJson(const Ticket& t, int64_t now) {
  return {{"id", t.id},
          {"number", t.number},
          {"subject", t.subject},
          {"description", t.description},
          {"client_id", Opt(t.client_id)},
          {"client_name", t.client_id ? json(t.client_name) : json()},
          {"contact_id", Opt(t.contact_id)},
          {"status", StatusName(t.status)},
          {"priority", PriorityName(t.priority)},
          {"vip", t.vip},
          {"assignee_id", Opt(t.assignee_id)},
          {"endpoint_id", Opt(t.endpoint_id)},
          {"site_id", Opt(t.site_id)},
          {"source", SourceName(t.source)},
          {"created_at", t.created_at},
          {"updated_at", t.updated_at},
          {"first_response_due_at", OptTime(t.first_response_due_at)},
          {"resolution_due_at", OptTime(t.resolution_due_at)},
          {"first_responded_at", OptTime(t.first_responded_at)},
          {"sla", SlaName(SlaStateOf(t, now))}};
}

void RegisterApi(http::Router& router, TicketService& service) {
  router.Add("GET", "/api/v1/tickets", [&service](Request& req) {
    http::Paging paging = http::ParsePaging(req);
    TicketQuery q;
    q.client_id = http::QueryId(req, "client_id");
    q.triage = req.Query("triage") == "true";
    q.status = req.Query("status");
    q.priority = req.Query("priority");
    if (req.Query("assignee_id") == "none") {
      q.assignee_id = 0;
    } else {
      q.assignee_id = http::QueryId(req, "assignee_id");
    }
    q.mine = req.Query("mine") == "true";
    q.q = req.Query("q").substr(0, 200);
    q.sla = req.Query("sla");
    q.sort = req.Query("sort");
    q.offset = paging.Offset();
    q.limit = paging.per_page;
    TicketPage page = service.List(ActorFrom(req), q);
    json items = json::array();
    int64_t now = service.Now();
    for (const auto& t : page.items) items.push_back(TicketJson(t, now));
    return JsonResponse(http::ListEnvelope(items, page.total, paging));
  });
  router.Add("POST", "/api/v1/tickets", [&service](Request& req) {
    json body = http::ParseJsonObject(req.body);
    http::RejectUnknownFields(body, {"client_id", "subject", "description", "contact_id",
                                     "priority", "endpoint_id", "site_id", "assignee_id"});
    NewTicket in;
    auto client = http::OptNullableInt(body, "client_id");
    if (client) in.client_id = *client;
    in.subject = http::OptString(body, "subject", 1000).value_or("");
    in.description = http::OptString(body, "description", 400000).value_or("");
    if (auto v = http::OptNullableInt(body, "contact_id")) in.contact_id = *v;
    in.priority = http::OptString(body, "priority", 20);
    if (auto v = http::OptNullableInt(body, "endpoint_id")) in.endpoint_id = *v;
    if (auto v = http::OptNullableInt(body, "site_id")) in.site_id = *v;
    if (auto v = http::OptNullableInt(body, "assignee_id")) in.assignee_id = *v;
    in.source = Source::kApi;
    return JsonResponse(TicketJson(service.Create(ActorFrom(req), in), service.Now()), 201);
  });
  router.Add("GET", "/api/v1/tickets/{id}", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Ticket");
    json out = TicketJson(service.Get(ActorFrom(req), id), service.Now());
    json entries = json::array();
    for (const auto& e : service.Entries(ActorFrom(req), id)) entries.push_back(EntryJson(e));
    out["entries"] = entries;
    out["participants"] = service.Participants(ActorFrom(req), id);
    return JsonResponse(out);
  });
  router.Add("POST", "/api/v1/tickets/bulk", [&service](Request& req) {
    json body = http::ParseJsonObject(req.body);
    if (!body.contains("ids") || !body["ids"].is_array()) {
      throw ValidationError("ids", "ids must be a list of ticket ids");
    }
    std::vector<int64_t> ids;
    for (const auto& v : body["ids"]) {
      if (!v.is_number_integer()) throw ValidationError("ids", "ids must be a list of ticket ids");
      ids.push_back(v.get<int64_t>());
    }
    TicketPatch p;
    if (body.contains("status")) {
      if (!body["status"].is_string()) throw ValidationError("status", "status must be text");
      p.status = body["status"].get<std::string>();
    }
    if (auto v = http::OptNullableInt(body, "assignee_id")) p.assignee_id = *v;
    int64_t n = service.UpdateMany(ActorFrom(req), ids, p);
    return JsonResponse(json{{"updated", n}});
  });
  router.Add("GET", "/api/v1/tickets/{id}/attachments/{attachment}", [&service](Request& req) {
    AttachmentFile f = service.GetAttachment(ActorFrom(req), req.ParamId(0, "Ticket"),
                                             req.ParamId(1, "Attachment"));
    return http::Response::Download(std::move(f.content), f.meta.filename, f.meta.content_type);
  });
  router.Add("PATCH", "/api/v1/tickets/{id}", [&service](Request& req) {
    json body = http::ParseJsonObject(req.body);
    http::RejectUnknownFields(body, {"subject", "status", "priority", "client_id", "contact_id",
                                     "assignee_id", "endpoint_id", "site_id"});
    TicketPatch p;
    p.subject = http::OptString(body, "subject", 1000);
    p.status = http::OptString(body, "status", 40);
    p.priority = http::OptString(body, "priority", 20);
    p.client_id = http::OptNullableInt(body, "client_id");
    p.contact_id = http::OptNullableInt(body, "contact_id");
    p.assignee_id = http::OptNullableInt(body, "assignee_id");
    p.endpoint_id = http::OptNullableInt(body, "endpoint_id");
    p.site_id = http::OptNullableInt(body, "site_id");
    Ticket t = service.Update(ActorFrom(req), req.ParamId(0, "Ticket"), p);
    return JsonResponse(TicketJson(t, service.Now()));
  });
  for (const std::string kind : {"replies", "notes"}) {
    router.Add("POST", "/api/v1/tickets/{id}/" + kind, [&service, kind](Request& req) {
      json body = http::ParseJsonObject(req.body);
      http::RejectUnknownFields(body, {"body"});
      std::string text = http::OptString(body, "body", 400000).value_or("");
      int64_t id = req.ParamId(0, "Ticket");
      Entry e = kind == "replies" ? service.Reply(ActorFrom(req), id, text)
                                  : service.Note(ActorFrom(req), id, text);
      return JsonResponse(EntryJson(e), 201);
    });
  }
  router.Add("GET", "/api/v1/tickets/{id}/time-entries", [&service](Request& req) {
    json items = json::array();
    for (const auto& e : service.TimeEntries(ActorFrom(req), req.ParamId(0, "Ticket"))) {
      items.push_back(TimeEntryJson(e));
    }
    return JsonResponse({{"items", items}});
  });
  router.Add("POST", "/api/v1/tickets/{id}/time-entries", [&service](Request& req) {
    json body = http::ParseJsonObject(req.body);
    http::RejectUnknownFields(body, {"minutes", "date", "billable", "note"});
    TimeEntryInput in;
    auto minutes = http::OptInt(body, "minutes");
    if (!minutes) throw ValidationError("minutes", "minutes is required");
    in.minutes = *minutes;
    in.date = http::OptString(body, "date", 20).value_or("");
    in.billable = http::OptBool(body, "billable").value_or(true);
    in.note = http::OptString(body, "note", 10000).value_or("");
    return JsonResponse(
        TimeEntryJson(service.LogTime(ActorFrom(req), req.ParamId(0, "Ticket"), in)), 201);
  });
}

}  // namespace opsmerge::tickets
