#include <map>

#include <nlohmann/json.hpp>

#include "billing/routes.h"
#include "clients/routes.h"
#include "platform/errors.h"
#include "platform/http/target.h"
#include "platform/page.h"
#include "platform/text.h"
#include "staff/model.h"

namespace opsmerge::billing {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;
using staff::ActorFrom;

constexpr int64_t kPerPage = 50;

const std::vector<std::pair<std::string, std::string>> kKinds = {
    {"fixed", "Fixed monthly fee"},
    {"unlimited", "Unlimited support"},
    {"hours_block", "Block of hours a month"},
    {"per_endpoint", "Price per endpoint"}};

const std::map<std::string, std::string> kNotices = {
    {"contract_added", "Contract added."},
    {"contract_saved", "Contract saved."},
    {"contract_deleted", "Contract deleted."},
    {"address_saved", "Billing address saved."},
    {"issued", "Invoice issued."},
    {"voided", "Invoice voided."},
    {"regenerated", "Draft worked out again from today's contracts, endpoints and time."},
    {"reissued", "A new draft was made for this month."},
    {"emailed", "Invoice queued to the billing recipients, with its PDF."}};

std::string Notice(const Request& req) {
  auto it = kNotices.find(req.Query("notice"));
  return it != kNotices.end() ? it->second : "";
}

std::string KindLabel(ContractKind k) {
  for (const auto& [v, label] : kKinds) {
    if (v == ContractKindName(k)) return label;
  }
  return "";
}

// "£17.99 a month; 12 hours included, £90.00 an hour over".
std::string Terms(const Contract& c) {
  std::string out = FormatMoney(c.monthly_fee_pence) + " a month";
  if (c.kind == ContractKind::kHoursBlock) {
    out += "; " + text::CountOf(c.included_hours, "hour", "hours") + " included, " +
           FormatMoney(c.overage_rate_pence) + " an hour over";
  }
  if (c.kind == ContractKind::kPerEndpoint) {
    out += " + " + FormatMoney(c.per_endpoint_pence) + " per endpoint";
  }
  return out;
}

json ContractRow(const Contract& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"kind", KindLabel(c.kind)},
          {"terms", Terms(c)},
          {"start", FormatDateForPeople(c.start)},
          {"end", c.end ? FormatDateForPeople(*c.end) : ""}};
}

json Options(const std::string& selected) {
  json out = json::array();
  for (const auto& [value, label] : kKinds) {
    out.push_back({{"value", value}, {"label", label}, {"selected", value == selected}});
  }
  return out;
}

// A money field of a form ("17.99") as pence; ValidationError naming it.
int64_t MoneyField(const Request& req, const std::string& field) {
  std::string v = text::Trim(req.Form(field));
  if (v.empty()) return 0;
  auto p = ParseMoney(v);
  if (!p) throw ValidationError(field, "Write an amount in pounds, like 17.99");
  return *p;
}

int64_t WholeField(const Request& req, const std::string& field) {
  std::string v = text::Trim(req.Form(field));
  if (v.empty()) return 0;
  if (v.size() > 6 || v.find_first_not_of("0123456789") != std::string::npos) {
    throw ValidationError(field, "Write a whole number of hours");
  }
  return std::stoll(v);
}

ContractInput FromForm(const Request& req) {
  ContractInput in;
  in.name = req.Form("name");
  in.kind = req.Form("kind");
  in.start_date = text::Trim(req.Form("start_date"));
  in.end_date = text::Trim(req.Form("end_date"));
  in.monthly_fee_pence = MoneyField(req, "monthly_fee_pence");
  in.included_hours = WholeField(req, "included_hours");
  in.overage_rate_pence = MoneyField(req, "overage_rate_pence");
  in.per_endpoint_pence = MoneyField(req, "per_endpoint_pence");
  return in;
}

json ContractFormValues(const Contract& c) {
  return {{"name", c.name},
          {"kind", ContractKindName(c.kind)},
          {"start_date", FormatDate(c.start)},
          {"end_date", c.end ? FormatDate(*c.end) : ""},
          {"monthly_fee_pence", MoneyInput(c.monthly_fee_pence)},
          {"included_hours", std::to_string(c.included_hours)},
          {"overage_rate_pence", MoneyInput(c.overage_rate_pence)},
          {"per_endpoint_pence", MoneyInput(c.per_endpoint_pence)}};
}

json InvoiceRow(const Invoice& i) {
  return {{"id", i.id},
          {"client_name", i.client_name},
          {"month", FormatMonthForPeople(i.month)},
          {"status", InvoiceStatusName(i.status)},
          {"draft", i.status == InvoiceStatus::kDraft},
          {"issued", i.status == InvoiceStatus::kIssued},
          {"void", i.status == InvoiceStatus::kVoid},
          {"number", i.number},
          {"issue_date", i.issue_date.empty() ? "" : FormatDateForPeople(*ParseDate(i.issue_date))},
          {"net", FormatMoney(i.net_pence)},
          {"gross", FormatMoney(i.gross_pence)}};
}

std::string ThisMonth(int64_t now) {
  auto t = static_cast<time_t>(now);
  struct tm tm {};
  localtime_r(&t, &tm);
  return FormatMonth(Month{tm.tm_year + 1900, tm.tm_mon + 1});
}

json InvoiceListView(const Request& req, BillingService& service, std::optional<int64_t> client_id,
                     const std::string& base) {
  InvoiceQuery q;
  q.client_id = client_id;
  q.month = text::Trim(req.Query("month")).substr(0, 7);
  if (!ParseMonth(q.month)) q.month = "";
  q.status = req.Query("status");
  if (!ParseInvoiceStatus(q.status)) q.status = "";
  int64_t page = PageNumber(req);
  q.offset = (page - 1) * kPerPage;
  q.limit = kPerPage;
  InvoicePage result = service.ListInvoices(ActorFrom(req), q);
  json rows = json::array();
  for (const auto& i : result.items) rows.push_back(InvoiceRow(i));
  json statuses = json::array();
  for (const auto& [v, label] : std::vector<std::pair<std::string, std::string>>{
           {"", "Any status"}, {"draft", "Drafts"}, {"issued", "Issued"}, {"void", "Void"}}) {
    statuses.push_back({{"value", v}, {"label", label}, {"selected", v == q.status}});
  }
  std::string filters =
      "&month=" + http::UrlEncode(q.month) + "&status=" + http::UrlEncode(q.status);
  return {{"invoices", rows},
          {"has_invoices", !rows.empty()},
          {"total_text", text::CountOf(result.total, "invoice", "invoices")},
          {"month", q.month},
          {"statuses", statuses},
          {"base", base},
          {"pager", PagerView(page, kPerPage, result.total, [&](int64_t n) {
             return base + "?page=" + std::to_string(n) + filters;
           })}};
}

}  // namespace

void RegisterPages(http::Router& router, BillingService& service, clients::ClientService& clients,
                   const Templates& t) {
  // A client's Contracts tab: its contracts, the new-contract form and the address
  // its invoices carry.
  FormPage contracts_page = [&service, &clients, &t](Request& req, const json& problem,
                                                     int status) {
    staff::Actor actor = ActorFrom(req);
    int64_t id = req.ParamId(0, "Client");
    clients::ClientDetail d = clients.Get(actor, id);
    json view = clients::ClientPageView(d, "contracts", req, clients.owners());
    view["notice"] = Notice(req);
    json rows = json::array();
    for (const auto& c : service.Contracts(actor, id)) rows.push_back(ContractRow(c));
    view["contracts"] = rows;
    view["has_contracts"] = !rows.empty();
    view["can_edit"] = staff::Allows(actor.role, staff::Permission::kManageBilling);
    bool address_form = req.path.ends_with("/billing-address");
    json values = req.method == "POST" && !address_form ? FormValues(req) : json::object();
    std::string kind = values.value("kind", "fixed");
    view["kinds"] = Options(kind);
    if (!values.contains("start_date")) values["start_date"] = "";
    view["form"] = OpenMap(values);
    view["errors"] = OpenMap(problem.value("errors", json::object()));
    view["billing_address"] =
        address_form ? req.Form("billing_address") : service.BillingAddress(actor, id);
    return RenderPage(t, req, "billing/contracts", view,
                      {"Contracts · " + d.client.name, "clients", status});
  };
  router.Add("GET", "/clients/{id}/contracts",
             [contracts_page](Request& req) { return contracts_page(req, json::object(), 200); });
  router.Add("POST", "/clients/{id}/contracts",
             FormPost(
                 [&service](Request& req) {
                   int64_t id = req.ParamId(0, "Client");
                   service.CreateContract(ActorFrom(req), id, FromForm(req));
                   return Response::Redirect("/clients/" + std::to_string(id) +
                                             "/contracts?notice=contract_added");
                 },
                 contracts_page));
  router.Add("POST", "/clients/{id}/billing-address",
             FormPost(
                 [&service](Request& req) {
                   int64_t id = req.ParamId(0, "Client");
                   service.SetBillingAddress(ActorFrom(req), id, req.Form("billing_address"));
                   return Response::Redirect("/clients/" + std::to_string(id) +
                                             "/contracts?notice=address_saved");
                 },
                 contracts_page));

  FormPage contract_page = [&service, &t](Request& req, const json& problem, int status) {
    staff::Actor actor = ActorFrom(req);
    Contract c = service.GetContract(actor, req.ParamId(0, "Contract"));
    json values = req.method == "POST" ? FormValues(req) : ContractFormValues(c);
    json view = {{"contract", ContractRow(c)},
                 {"client_id", c.client_id},
                 {"kinds", Options(values.value("kind", ContractKindName(c.kind)))},
                 {"form", OpenMap(values)},
                 {"errors", OpenMap(problem.value("errors", json::object()))},
                 {"can_edit", staff::Allows(actor.role, staff::Permission::kManageBilling)}};
    return RenderPage(t, req, "billing/contract", view,
                      {"Contract · " + c.name, "clients", status});
  };
  router.Add("GET", "/contracts/{id}",
             [contract_page](Request& req) { return contract_page(req, json::object(), 200); });
  router.Add("POST", "/contracts/{id}",
             FormPost(
                 [&service](Request& req) {
                   ContractInput in = FromForm(req);
                   ContractPatch p;
                   p.name = in.name;
                   p.kind = in.kind;
                   p.start_date = in.start_date;
                   p.end_date = in.end_date;
                   p.monthly_fee_pence = in.monthly_fee_pence;
                   p.included_hours = in.included_hours;
                   p.overage_rate_pence = in.overage_rate_pence;
                   p.per_endpoint_pence = in.per_endpoint_pence;
                   Contract c =
                       service.UpdateContract(ActorFrom(req), req.ParamId(0, "Contract"), p);
                   return Response::Redirect("/clients/" + std::to_string(c.client_id) +
                                             "/contracts?notice=contract_saved");
                 },
                 contract_page));
  router.Add("POST", "/contracts/{id}/delete",
             FormPost(
                 [&service](Request& req) {
                   staff::Actor actor = ActorFrom(req);
                   Contract c = service.GetContract(actor, req.ParamId(0, "Contract"));
                   service.DeleteContract(actor, c.id);
                   return Response::Redirect("/clients/" + std::to_string(c.client_id) +
                                             "/contracts?notice=contract_deleted");
                 },
                 contract_page));

  // Invoices: the sidebar's list (with the month's run) and a client's tab.
  FormPage list_page = [&service, &t](Request& req, const json& problem, int status) {
    json view = InvoiceListView(req, service, std::nullopt, "/invoices");
    view["in_client"] = false;
    view["run_month"] = req.method == "POST" ? req.Form("month") : ThisMonth(service.Now());
    view["errors"] = OpenMap(problem.value("errors", json::object()));
    view["ran"] = req.Query("ran");
    return RenderPage(t, req, "billing/invoices", view, {"Invoices", "invoices", status});
  };
  router.Add("GET", "/invoices",
             [list_page](Request& req) { return list_page(req, json::object(), 200); });
  router.Add("GET", "/clients/{id}/invoices", [&service, &clients, &t](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    clients::ClientDetail d = clients.Get(ActorFrom(req), id);
    json view = clients::ClientPageView(d, "invoices", req, clients.owners());
    view.update(InvoiceListView(req, service, id, "/clients/" + std::to_string(id) + "/invoices"));
    view["in_client"] = true;
    view["run_month"] = "";
    view["errors"] = OpenMap(json::object());
    view["ran"] = "";
    return RenderPage(t, req, "billing/invoices", view,
                      {"Invoices · " + d.client.name, "clients", 200});
  });
  auto month_of = [](const Request& req) {
    auto m = ParseMonth(text::Trim(req.Form("month")));
    if (!m) throw ValidationError("month", "Choose a month");
    return *m;
  };
  router.Add("POST", "/invoices/run",
             FormPost(
                 [&service, month_of](Request& req) {
                   Month m = month_of(req);
                   RunResult r = service.Run(ActorFrom(req), m);
                   return Response::Redirect("/invoices?month=" + FormatMonth(m) +
                                             "&ran=" + http::UrlEncode(r.Summary()));
                 },
                 list_page));
  router.Add("POST", "/invoices/issue-all",
             FormPost(
                 [&service, month_of](Request& req) {
                   Month m = month_of(req);
                   int64_t n = service.IssueAll(ActorFrom(req), m);
                   return Response::Redirect(
                       "/invoices?month=" + FormatMonth(m) + "&ran=" +
                       http::UrlEncode(text::CountOf(n, "invoice", "invoices") + " issued"));
                 },
                 list_page));

  FormPage invoice_page = [&service, &t](Request& req, const json& problem, int status) {
    Invoice i = service.GetInvoice(ActorFrom(req), req.ParamId(0, "Invoice"));
    json lines = json::array();
    for (const auto& l : i.lines) {
      lines.push_back({{"description", l.description},
                       {"working", l.working},
                       {"quantity", FormatQuantity(l.quantity_milli)},
                       {"unit", FormatMoney(l.unit_pence)},
                       {"vat_rate", FormatQuantity(l.vat_rate_bp * 10) + "%"},
                       {"net", FormatMoney(l.net_pence)},
                       {"vat", FormatMoney(l.vat_pence)}});
    }
    json view = InvoiceRow(i);
    view["lines"] = lines;
    view["has_lines"] = !lines.empty();
    view["vat_total"] = FormatMoney(i.vat_pence);
    view["client_id"] = i.client_id;
    view["due_date"] = i.due_date.empty() ? "" : FormatDateForPeople(*ParseDate(i.due_date));
    view["supplier_name"] = i.supplier_name;
    view["supplier_address"] = i.supplier_address;
    view["vat_number"] = i.vat_number;
    view["customer_name"] = i.customer_name;
    view["customer_address"] = i.customer_address;
    view["notice"] = Notice(req);
    view["error"] = problem.value("errors", json::object()).value("form", "");
    // A draft says what a VAT invoice would lack if it were issued now.
    std::string missing;
    if (i.status == InvoiceStatus::kDraft) {
      BillingSettings s = service.Settings(ActorFrom(req));
      for (const auto& [value, label] : std::vector<std::pair<std::string, std::string>>{
               {s.supplier_name, "your company's name"},
               {s.supplier_address, "your address"},
               {s.vat_number, "your VAT number"}}) {
        if (value.empty()) missing += (missing.empty() ? "" : ", ") + label;
      }
    }
    view["missing"] = missing;
    return RenderPage(
        t, req, "billing/invoice", view,
        {(i.number.empty() ? "Draft" : i.number) + " · " + i.client_name, "invoices", status});
  };
  router.Add("GET", "/invoices/{id}",
             [invoice_page](Request& req) { return invoice_page(req, json::object(), 200); });
  router.Add("GET", "/invoices/{id}/pdf", [&service](Request& req) {
    InvoicePdf pdf = service.Pdf(ActorFrom(req), req.ParamId(0, "Invoice"));
    return Response::Download(std::move(pdf.content), pdf.filename, "application/pdf");
  });
  for (const std::string action : {"issue", "void", "regenerate", "reissue", "email"}) {
    router.Add(
        "POST", "/invoices/{id}/" + action,
        FormPost(
            [&service, action](Request& req) {
              staff::Actor actor = ActorFrom(req);
              int64_t id = req.ParamId(0, "Invoice");
              if (action == "issue") {
                service.Issue(actor, id);
                return Response::Redirect("/invoices/" + std::to_string(id) + "?notice=issued");
              }
              if (action == "void") {
                service.Void(actor, id);
                return Response::Redirect("/invoices/" + std::to_string(id) + "?notice=voided");
              }
              if (action == "regenerate") {
                service.Regenerate(actor, id);
                return Response::Redirect("/invoices/" + std::to_string(id) +
                                          "?notice=regenerated");
              }
              Invoice made = service.Reissue(actor, id);
              return Response::Redirect("/invoices/" + std::to_string(made.id) +
                                        "?notice=reissued");
            },
            invoice_page));
  }
}

}  // namespace opsmerge::billing
