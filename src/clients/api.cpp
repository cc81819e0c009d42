#include <nlohmann/json.hpp>

#include "clients/json.h"
#include "clients/routes.h"
#include "platform/errors.h"
#include "platform/http/json.h"
#include "staff/model.h"

namespace opsmerge::clients {

namespace {

using http::JsonResponse;
using http::Request;
using http::Response;
using nlohmann::json;

// Read-only members of our own objects: accepted in a body (so a GET result can
// be sent back with changes) and ignored.
const std::vector<std::string> kReadOnly = {"id",         "client_id",  "archived", "archived_at",
                                            "created_at", "updated_at", "links",    "counts"};

std::vector<std::string> Allowed(std::vector<std::string> fields) {
  fields.insert(fields.end(), kReadOnly.begin(), kReadOnly.end());
  return fields;
}

// A text member; an explicit null clears the field (read as "").
std::optional<std::string> Text(const json& body, const char* field, size_t max_len) {
  auto it = body.find(field);
  if (it != body.end() && it->is_null()) return std::string();
  return http::OptString(body, field, max_len);
}

ClientInput ReadClientInput(const json& body) {
  http::RejectUnknownFields(body, Allowed({"name", "domain", "contact_email", "domains", "notes",
                                           "m365_tenant_id", "confirm_duplicate_name"}));
  ClientInput in;
  in.name = http::OptString(body, "name", kMaxName * 4);
  in.domain = Text(body, "domain", 253);
  in.contact_email = Text(body, "contact_email", kMaxShort);
  in.domains = http::OptStringList(body, "domains", kMaxDomains, 253);
  if (body.contains("domains") && body["domains"].is_null()) in.domains.emplace();
  in.notes = Text(body, "notes", kMaxNotes * 4);
  in.m365_tenant_id = Text(body, "m365_tenant_id", 100);
  return in;
}

ContactInput ReadContactInput(const json& body) {
  http::RejectUnknownFields(body,
                            Allowed({"name", "email", "phone", "job_title", "vip", "portal_user",
                                     "billing_recipient", "primary_technical"}));
  ContactInput in;
  in.name = http::OptString(body, "name", kMaxName * 4);
  in.email = http::OptString(body, "email", kMaxShort);
  in.phone = Text(body, "phone", 200);
  in.job_title = Text(body, "job_title", kMaxName * 4);
  in.vip = http::OptBool(body, "vip");
  in.portal_user = http::OptBool(body, "portal_user");
  in.billing_recipient = http::OptBool(body, "billing_recipient");
  in.primary_technical = http::OptBool(body, "primary_technical");
  return in;
}

SiteInput ReadSiteInput(const json& body) {
  http::RejectUnknownFields(body, Allowed({"name", "address", "notes"}));
  SiteInput in;
  in.name = http::OptString(body, "name", kMaxName * 4);
  in.address = Text(body, "address", kMaxAddress * 4);
  in.notes = Text(body, "notes", kMaxNotes * 4);
  return in;
}

ClientQuery ReadClientQuery(const Request& req, const http::Paging& paging) {
  ClientQuery q;
  q.search = req.Query("q");
  if (q.search.size() > 200) throw ValidationError("q", "Search text is too long");
  auto archived = ParseArchivedFilter(req.Query("archived"));
  if (!archived) throw ValidationError("archived", "archived must be false, true or all");
  q.archived = *archived;
  std::string sort = req.Query("sort");
  bool desc = !sort.empty() && sort[0] == '-';
  auto s = ParseClientSort(desc ? sort.substr(1) : sort);
  if (!s)
    throw ValidationError("sort",
                          "sort must be name, created, updated or domain (- for descending)");
  q.sort = *s;
  q.descending = desc || req.Query("dir") == "desc";
  q.offset = paging.Offset();
  q.limit = paging.per_page;
  return q;
}

}  // namespace

void RegisterApi(http::Router& router, ClientService& service) {
  using staff::ActorFrom;
  router.Add("GET", "/api/v1/clients", [&service](Request& req) {
    http::Paging paging = http::ParsePaging(req);
    auto page = service.List(ActorFrom(req), ReadClientQuery(req, paging));
    json items = json::array();
    for (const auto& row : page.items) {
      items.push_back(ClientJson(row.client, row.links, row.counts));
    }
    return JsonResponse(http::ListEnvelope(items, page.total, paging));
  });
  router.Add("POST", "/api/v1/clients", [&service](Request& req) {
    json body = http::ParseJsonObject(req.body);
    bool confirm = http::OptBool(body, "confirm_duplicate_name").value_or(false);
    return JsonResponse(ClientJson(service.Create(ActorFrom(req), ReadClientInput(body), confirm)),
                        201);
  });
  // CSV import: {"csv": "...", "write": false} previews, true imports (only when
  // no row has an error). 200 with the report either way.
  for (const std::string kind : {"clients", "contacts"}) {
    router.Add("POST", "/api/v1/import/" + kind, [&service, kind](Request& req) {
      json body = http::ParseJsonObject(req.body);
      auto text = body.find("csv");
      if (text == body.end() || !text->is_string()) {
        throw ValidationError("csv", "csv must be the file's text");
      }
      bool write = http::OptBool(body, "write").value_or(false);
      ImportReport report = kind == "clients"
                                ? service.ImportClients(ActorFrom(req), *text, write)
                                : service.ImportContacts(ActorFrom(req), *text, write);
      return JsonResponse(ImportReportJson(report));
    });
  }
  router.Add("GET", "/api/v1/clients/duplicates", [&service](Request& req) {
    json groups = json::array();
    for (const auto& g : service.Duplicates(ActorFrom(req))) {
      groups.push_back(
          {{"reason", g.reason}, {"reasons", g.reasons}, {"client_ids", g.client_ids}});
    }
    return JsonResponse({{"groups", groups}});
  });
  router.Add("POST", "/api/v1/clients/duplicates/dismiss", [&service](Request& req) {
    json body = http::ParseJsonObject(req.body);
    http::RejectUnknownFields(body, {"client_ids"});
    auto ids = http::OptIntList(body, "client_ids", 50);
    if (!ids) throw ValidationError("client_ids", "client_ids is required");
    service.DismissDuplicates(ActorFrom(req), *ids);
    return JsonResponse({{"dismissed", *ids}});
  });
  router.Add("POST", "/api/v1/clients/merge", [&service](Request& req) {
    json body = http::ParseJsonObject(req.body);
    http::RejectUnknownFields(body, {"survivor_id", "merged_ids"});
    auto survivor = http::OptInt(body, "survivor_id");
    if (!survivor) throw ValidationError("survivor_id", "survivor_id is required");
    auto merged = http::OptIntList(body, "merged_ids", 100);
    if (!merged) throw ValidationError("merged_ids", "merged_ids is required");
    return JsonResponse(ClientJson(service.Merge(ActorFrom(req), *survivor, *merged)));
  });
  router.Add("GET", "/api/v1/clients/{id}", [&service](Request& req) {
    return JsonResponse(ClientJson(service.Get(ActorFrom(req), req.ParamId(0, "Client"))));
  });
  router.Add("PATCH", "/api/v1/clients/{id}", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    json body = http::ParseJsonObject(req.body);
    bool confirm = http::OptBool(body, "confirm_duplicate_name").value_or(false);
    return JsonResponse(
        ClientJson(service.Update(ActorFrom(req), id, ReadClientInput(body), confirm)));
  });
  router.Add("DELETE", "/api/v1/clients/{id}", [&service](Request& req) {
    service.Delete(ActorFrom(req), req.ParamId(0, "Client"));
    return http::NoContent();
  });
  router.Add("POST", "/api/v1/clients/{id}/archive", [&service](Request& req) {
    return JsonResponse(ClientJson(service.Archive(ActorFrom(req), req.ParamId(0, "Client"))));
  });
  router.Add("POST", "/api/v1/clients/{id}/unarchive", [&service](Request& req) {
    return JsonResponse(ClientJson(service.Unarchive(ActorFrom(req), req.ParamId(0, "Client"))));
  });
  router.Add("POST", "/api/v1/clients/{id}/links", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    json body = http::ParseJsonObject(req.body);
    http::RejectUnknownFields(body, {"other_client_id", "label", "inverse_label"});
    auto other = http::OptInt(body, "other_client_id");
    if (!other) throw ValidationError("other_client_id", "other_client_id is required");
    auto label = http::OptString(body, "label", kMaxLabel * 4);
    auto inverse = http::OptString(body, "inverse_label", kMaxLabel * 4);
    return JsonResponse(LinkJson(service.AddLink(ActorFrom(req), id, *other, label.value_or(""),
                                                 inverse.value_or(""))),
                        201);
  });
  router.Add("DELETE", "/api/v1/client-links/{id}", [&service](Request& req) {
    service.RemoveLink(ActorFrom(req), req.ParamId(0, "Link"));
    return http::NoContent();
  });

  router.Add("GET", "/api/v1/clients/{id}/contacts", [&service](Request& req) {
    http::Paging paging = http::ParsePaging(req);
    auto page = service.ListContacts(ActorFrom(req), req.ParamId(0, "Client"), paging.Offset(),
                                     paging.per_page);
    json items = json::array();
    for (const auto& c : page.items) items.push_back(ContactJson(c));
    return JsonResponse(http::ListEnvelope(items, page.total, paging));
  });
  router.Add("POST", "/api/v1/clients/{id}/contacts", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    json body = http::ParseJsonObject(req.body);
    return JsonResponse(
        ContactJson(service.CreateContact(ActorFrom(req), id, ReadContactInput(body))), 201);
  });
  router.Add("GET", "/api/v1/contacts/{id}", [&service](Request& req) {
    return JsonResponse(ContactJson(service.GetContact(ActorFrom(req), req.ParamId(0, "Contact"))));
  });
  router.Add("PATCH", "/api/v1/contacts/{id}", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Contact");
    json body = http::ParseJsonObject(req.body);
    return JsonResponse(
        ContactJson(service.UpdateContact(ActorFrom(req), id, ReadContactInput(body))));
  });
  router.Add("DELETE", "/api/v1/contacts/{id}", [&service](Request& req) {
    service.DeleteContact(ActorFrom(req), req.ParamId(0, "Contact"));
    return http::NoContent();
  });

  router.Add("GET", "/api/v1/clients/{id}/sites", [&service](Request& req) {
    http::Paging paging = http::ParsePaging(req);
    auto page = service.ListSites(ActorFrom(req), req.ParamId(0, "Client"), paging.Offset(),
                                  paging.per_page);
    json items = json::array();
    for (const auto& s : page.items) items.push_back(SiteJson(s));
    return JsonResponse(http::ListEnvelope(items, page.total, paging));
  });
  router.Add("POST", "/api/v1/clients/{id}/sites", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    json body = http::ParseJsonObject(req.body);
    return JsonResponse(SiteJson(service.CreateSite(ActorFrom(req), id, ReadSiteInput(body))), 201);
  });
  router.Add("GET", "/api/v1/sites/{id}", [&service](Request& req) {
    return JsonResponse(SiteJson(service.GetSite(ActorFrom(req), req.ParamId(0, "Site"))));
  });
  router.Add("PATCH", "/api/v1/sites/{id}", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Site");
    json body = http::ParseJsonObject(req.body);
    return JsonResponse(SiteJson(service.UpdateSite(ActorFrom(req), id, ReadSiteInput(body))));
  });
  router.Add("DELETE", "/api/v1/sites/{id}", [&service](Request& req) {
    service.DeleteSite(ActorFrom(req), req.ParamId(0, "Site"));
    return http::NoContent();
  });

  router.Add("GET", "/api/v1/audit", [&service](Request& req) {
    http::Paging paging = http::ParsePaging(req);
    std::string cid = req.Query("client_id");
    if (cid.empty() || cid.size() > 18 ||
        cid.find_first_not_of("0123456789") != std::string::npos) {
      throw ValidationError("client_id", "client_id is required and must be a client id");
    }
    auto page = service.History(ActorFrom(req), std::stoll(cid), paging.Offset(), paging.per_page);
    json items = json::array();
    for (const auto& r : page.items) {
      auto parse = [](const std::string& s) {
        return s.empty() ? json() : json::parse(s, nullptr, false);
      };
      items.push_back({{"id", r.id},
                       {"at", r.at},
                       {"actor_id", r.actor_id ? json(*r.actor_id) : json()},
                       {"actor_name", r.actor_name},
                       {"action", r.action},
                       {"entity_type", r.entity_type},
                       {"entity_id", r.entity_id ? json(*r.entity_id) : json()},
                       {"client_id", r.client_id ? json(*r.client_id) : json()},
                       {"summary", r.summary},
                       {"before", parse(r.before_json)},
                       {"after", parse(r.after_json)}});
    }
    return JsonResponse(http::ListEnvelope(items, page.total, paging));
  });
}

}  // namespace opsmerge::clients
