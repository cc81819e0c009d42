#include <nlohmann/json.hpp>

#include "billing/routes.h"
#include "platform/errors.h"
#include "platform/http/json.h"
#include "staff/model.h"

namespace opsmerge::billing {

namespace {

using http::JsonResponse;
using http::Request;
using nlohmann::json;
using staff::ActorFrom;

json Quantity(int64_t milli) {
  if (milli % 1000 == 0) return milli / 1000;
  return static_cast<double>(milli) / 1000.0;
}

json OrNull(const std::string& s) { return s.empty() ? json() : json(s); }

// A contract's members from a request body (create: all; update: those present).
ContractPatch ReadContract(const json& body) {
  http::RejectUnknownFields(body, {"name", "kind", "start_date", "end_date", "monthly_fee_pence",
                                   "included_hours", "overage_rate_pence", "per_endpoint_pence"});
  ContractPatch p;
  p.name = http::OptString(body, "name", 1000);
  p.kind = http::OptString(body, "kind", 40);
  p.start_date = http::OptString(body, "start_date", 40);
  if (body.contains("end_date")) p.end_date = http::OptString(body, "end_date", 40).value_or("");
  p.monthly_fee_pence = http::OptInt(body, "monthly_fee_pence");
  p.included_hours = http::OptInt(body, "included_hours");
  p.overage_rate_pence = http::OptInt(body, "overage_rate_pence");
  p.per_endpoint_pence = http::OptInt(body, "per_endpoint_pence");
  return p;
}

Month RequiredMonth(const json& body) {
  auto m = http::OptString(body, "month", 20);
  if (!m) throw ValidationError("month", "month is required (YYYY-MM)");
  auto parsed = ParseMonth(*m);
  if (!parsed) throw ValidationError("month", "month must be YYYY-MM");
  return *parsed;
}

}  // namespace

json InvoiceToJson(const Invoice& i, bool with_lines) {
  json out = {{"id", i.id},
              {"client_id", i.client_id},
              {"client_name", i.client_name},
              {"month", FormatMonth(i.month)},
              {"status", InvoiceStatusName(i.status)},
              {"number", OrNull(i.number)},
              {"issue_date", OrNull(i.issue_date)},
              {"due_date", OrNull(i.due_date)},
              {"currency", i.currency},
              {"net_pence", i.net_pence},
              {"vat_pence", i.vat_pence},
              {"gross_pence", i.gross_pence},
              {"reissue_of", i.reissue_of ? json(*i.reissue_of) : json()},
              {"created_at", i.created_at},
              {"updated_at", i.updated_at}};
  if (i.status != InvoiceStatus::kDraft || !i.number.empty()) {
    out["supplier"] = {
        {"name", i.supplier_name}, {"address", i.supplier_address}, {"vat_number", i.vat_number}};
    out["customer"] = {{"name", i.customer_name}, {"address", i.customer_address}};
  }
  if (with_lines) {
    json lines = json::array();
    for (const auto& l : i.lines) {
      lines.push_back({{"kind", LineKindName(l.kind)},
                       {"contract_id", l.contract_id ? json(*l.contract_id) : json()},
                       {"description", l.description},
                       {"working", l.working},
                       {"quantity", Quantity(l.quantity_milli)},
                       {"unit_pence", l.unit_pence},
                       {"period_start", FormatDate(l.period_start)},
                       {"period_end", FormatDate(l.period_end)},
                       {"vat_rate_bp", l.vat_rate_bp},
                       {"net_pence", l.net_pence},
                       {"vat_pence", l.vat_pence}});
    }
    out["lines"] = lines;
  }
  return out;
}

void RegisterApi(http::Router& router, BillingService& service) {
  router.Add("GET", "/api/v1/clients/{id}/contracts", [&service](Request& req) {
    json items = json::array();
    for (const auto& c : service.Contracts(ActorFrom(req), req.ParamId(0, "Client"))) {
      items.push_back(ContractToJson(c));
    }
    return JsonResponse({{"items", items}, {"total", items.size()}});
  });
  router.Add("POST", "/api/v1/clients/{id}/contracts", [&service](Request& req) {
    json body = http::ParseJsonObject(req.body);
    ContractPatch p = ReadContract(body);
    ContractInput in;
    in.name = p.name.value_or("");
    in.kind = p.kind.value_or("");
    in.start_date = p.start_date.value_or("");
    in.end_date = p.end_date.value_or("");
    in.monthly_fee_pence = p.monthly_fee_pence.value_or(0);
    in.included_hours = p.included_hours.value_or(0);
    in.overage_rate_pence = p.overage_rate_pence.value_or(0);
    in.per_endpoint_pence = p.per_endpoint_pence.value_or(0);
    Contract c = service.CreateContract(ActorFrom(req), req.ParamId(0, "Client"), in);
    return JsonResponse(ContractToJson(c), 201);
  });
  router.Add("GET", "/api/v1/contracts/{id}", [&service](Request& req) {
    return JsonResponse(
        ContractToJson(service.GetContract(ActorFrom(req), req.ParamId(0, "Contract"))));
  });
  router.Add("PATCH", "/api/v1/contracts/{id}", [&service](Request& req) {
    json body = http::ParseJsonObject(req.body);
    Contract c =
        service.UpdateContract(ActorFrom(req), req.ParamId(0, "Contract"), ReadContract(body));
    return JsonResponse(ContractToJson(c));
  });
  router.Add("DELETE", "/api/v1/contracts/{id}", [&service](Request& req) {
    service.DeleteContract(ActorFrom(req), req.ParamId(0, "Contract"));
    return http::NoContent();
  });
  router.Add("GET", "/api/v1/clients/{id}/billing-address", [&service](Request& req) {
    return JsonResponse(
        {{"billing_address", service.BillingAddress(ActorFrom(req), req.ParamId(0, "Client"))}});
  });
  router.Add("PUT", "/api/v1/clients/{id}/billing-address", [&service](Request& req) {
    json body = http::ParseJsonObject(req.body);
    http::RejectUnknownFields(body, {"billing_address"});
    int64_t id = req.ParamId(0, "Client");
    service.SetBillingAddress(ActorFrom(req), id,
                              http::OptString(body, "billing_address", 8000).value_or(""));
    return JsonResponse({{"billing_address", service.BillingAddress(ActorFrom(req), id)}});
  });

  router.Add("POST", "/api/v1/billing/runs", [&service](Request& req) {
    json body = http::ParseJsonObject(req.body);
    http::RejectUnknownFields(body, {"month"});
    RunResult r = service.Run(ActorFrom(req), RequiredMonth(body));
    return JsonResponse({{"month", FormatMonth(r.month)},
                         {"created", r.created},
                         {"existing", r.existing},
                         {"failed", r.failed},
                         {"invoice_ids", r.invoice_ids}},
                        201);
  });
  router.Add("GET", "/api/v1/invoices", [&service](Request& req) {
    http::Paging paging = http::ParsePaging(req);
    InvoiceQuery q;
    q.client_id = http::QueryId(req, "client_id");
    q.month = req.Query("month").substr(0, 20);
    q.status = req.Query("status").substr(0, 20);
    q.offset = paging.Offset();
    q.limit = paging.per_page;
    InvoicePage page = service.ListInvoices(ActorFrom(req), q);
    json items = json::array();
    for (const auto& i : page.items) items.push_back(InvoiceToJson(i, false));
    return JsonResponse(http::ListEnvelope(items, page.total, paging));
  });
  router.Add("GET", "/api/v1/invoices/{id}", [&service](Request& req) {
    return JsonResponse(
        InvoiceToJson(service.GetInvoice(ActorFrom(req), req.ParamId(0, "Invoice"))));
  });
  router.Add("GET", "/api/v1/invoices/{id}/pdf", [&service](Request& req) {
    InvoicePdf pdf = service.Pdf(ActorFrom(req), req.ParamId(0, "Invoice"));
    return http::Response::Download(std::move(pdf.content), pdf.filename, "application/pdf");
  });
  router.Add("POST", "/api/v1/invoices/{id}/email", [&service](Request& req) {
    return JsonResponse({{"queued_to", service.Email(ActorFrom(req), req.ParamId(0, "Invoice"))}},
                        202);
  });
  router.Add("POST", "/api/v1/invoices/issue-all", [&service](Request& req) {
    json body = http::ParseJsonObject(req.body);
    http::RejectUnknownFields(body, {"month"});
    return JsonResponse({{"issued", service.IssueAll(ActorFrom(req), RequiredMonth(body))}});
  });
  router.Add("POST", "/api/v1/invoices/{id}/issue", [&service](Request& req) {
    return JsonResponse(InvoiceToJson(service.Issue(ActorFrom(req), req.ParamId(0, "Invoice"))));
  });
  router.Add("POST", "/api/v1/invoices/{id}/void", [&service](Request& req) {
    return JsonResponse(InvoiceToJson(service.Void(ActorFrom(req), req.ParamId(0, "Invoice"))));
  });
  router.Add("POST", "/api/v1/invoices/{id}/regenerate", [&service](Request& req) {
    return JsonResponse(
        InvoiceToJson(service.Regenerate(ActorFrom(req), req.ParamId(0, "Invoice"))));
  });
  router.Add("POST", "/api/v1/invoices/{id}/reissue", [&service](Request& req) {
    return JsonResponse(InvoiceToJson(service.Reissue(ActorFrom(req), req.ParamId(0, "Invoice"))),
                        201);
  });
}

}  // namespace opsmerge::billing
