#include <nlohmann/json.hpp>

#include "admin/routes.h"
#include "billing/model.h"
#include "platform/crypto.h"
#include "platform/errors.h"
#include "platform/http/json.h"
#include "platform/page.h"
#include "platform/text.h"

namespace opsmerge::admin {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;
using staff::ActorFrom;

const std::vector<std::pair<std::string, std::string>> kPriorities = {
    {"low", "Low"}, {"normal", "Normal"}, {"high", "High"}, {"urgent", "Urgent"}};

// The form's fields as the settings' values (text as typed; numbers checked here so
// an error names the field).
json FromForm(const Request& req, const json& current) {
  json patch = json::object();
  for (const char* k : {"public_url", "mail_from", "smtp_url", "imap_url", "time_zone",
                        "ack_template", "reply_template"}) {
    patch[k] = req.Form(k);
  }
  // A password field left empty keeps the password.
  for (const char* k : {"smtp_password", "imap_password"}) {
    if (!req.Form(k).empty()) patch[k] = req.Form(k);
  }
  auto number = [&](const std::string& field) -> json {
    std::string v = text::Trim(req.Form(field));
    if (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
      throw ValidationError(field, "Write a whole number");
    }
    return std::stoll(v);
  };
  patch["imap_poll_seconds"] = number("imap_poll_seconds");
  // Billing: sent by the form's Billing section (a form without it changes none).
  for (const char* k :
       {"supplier_name", "supplier_address", "vat_number", "invoice_number_format"}) {
    if (req.HasForm(k)) patch[k] = req.Form(k);
  }
  for (const char* k : {"billing_day", "payment_terms_days"}) {
    if (req.HasForm(k)) patch[k] = number(k);
  }
  if (req.HasForm("hourly_rate")) {
    auto p = billing::ParseMoney(req.Form("hourly_rate"));
    if (!p) throw ValidationError("hourly_rate", "Write an amount in pounds, like 85.00");
    patch["hourly_rate_pence"] = *p;
  }
  if (req.HasForm("vat_rate")) {
    // A percentage with up to two decimals ("20", "17.5") in basis points.
    auto p = billing::ParseMoney(req.Form("vat_rate"));
    if (!p || *p > 10000) throw ValidationError("vat_rate", "Write a percentage, like 20");
    patch["vat_rate_bp"] = *p;
  }
  patch["auto_close_days"] = number("auto_close_days");
  json sla = current["sla"];
  for (const auto& [name, label] : kPriorities) {
    (void)label;
    try {
      sla[name]["first_response_minutes"] = number("sla_" + name + "_first");
      sla[name]["resolution_minutes"] = number("sla_" + name + "_resolution");
    } catch (const ValidationError& e) {
      throw ValidationError("sla", "SLA " + name + ": " + e.what());
    }
  }
  patch["sla"] = sla;
  if (req.HasForm("business_hours_on")) {
    json days = json::array();
    for (const char* d : {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}) {
      if (req.HasForm(std::string("bh_") + d)) days.push_back(d);
    }
    patch["business_hours"] = {
        {"days", days}, {"start", req.Form("bh_start")}, {"end", req.Form("bh_end")}};
  } else {
    patch["business_hours"] = nullptr;
  }
  return patch;
}

}  // namespace

void RegisterSettings(http::Router& router, SettingsService& service, const Templates& templates) {
  FormPage page = [&service, &templates](Request& req, const json& problem, int status) {
    json current = service.Get(ActorFrom(req));
    // The values typed, when this form was posted (the logo's own form is not it).
    const bool posted = req.method != "GET" && req.path == "/settings/general";
    json values = posted ? FormValues(req) : current;
    for (const char* k : {"smtp_password", "imap_password"}) values.erase(k);
    json rows = json::array();
    for (const auto& [name, label] : kPriorities) {
      rows.push_back({{"name", name},
                      {"label", label},
                      {"first", !posted ? current["sla"][name]["first_response_minutes"].dump()
                                        : req.Form("sla_" + name + "_first")},
                      {"resolution", !posted ? current["sla"][name]["resolution_minutes"].dump()
                                             : req.Form("sla_" + name + "_resolution")}});
    }
    if (!posted) {
      values["vat_rate"] = billing::FormatQuantity(current["vat_rate_bp"].get<int64_t>() * 10);
      values["hourly_rate"] = billing::MoneyInput(current["hourly_rate_pence"].get<int64_t>());
    }
    for (const char* k :
         {"imap_poll_seconds", "auto_close_days", "billing_day", "payment_terms_days"}) {
      if (values.contains(k) && values[k].is_number()) values[k] = values[k].dump();
    }
    values.erase("sla");
    // Business hours: on/off, the days ticked, start and end.
    json hours = current["business_hours"];
    json bh = {{"on", posted ? req.HasForm("business_hours_on") : !hours.is_null()},
               {"start", posted ? req.Form("bh_start")
                                : (hours.is_null() ? "09:00" : hours["start"].get<std::string>())},
               {"end", posted ? req.Form("bh_end")
                              : (hours.is_null() ? "17:30" : hours["end"].get<std::string>())}};
    json day_rows = json::array();
    for (const auto& [d, label] :
         std::vector<std::pair<std::string, std::string>>{{"mon", "Mon"},
                                                          {"tue", "Tue"},
                                                          {"wed", "Wed"},
                                                          {"thu", "Thu"},
                                                          {"fri", "Fri"},
                                                          {"sat", "Sat"},
                                                          {"sun", "Sun"}}) {
      bool on = false;
      if (posted) {
        on = req.HasForm("bh_" + d);
      } else if (hours.is_null()) {
        on = d != "sat" && d != "sun";
      } else {
        for (const auto& x : hours["days"]) on = on || x == d;
      }
      day_rows.push_back({{"day", d}, {"label", label}, {"on", on}});
    }
    bh["days"] = day_rows;
    values.erase("business_hours");
    json view = {{"form", OpenMap(values)},
                 {"errors", OpenMap(problem.value("errors", json::object()))},
                 {"sla_rows", rows},
                 {"bh", bh},
                 {"smtp_password_set", !current["smtp_password"].is_null()},
                 {"imap_password_set", !current["imap_password"].is_null()},
                 {"saved", req.Query("saved") == "1"},
                 {"logo", current["portal_logo"].is_string() ? current["portal_logo"] : json("")}};
    return RenderPage(templates, req, "admin/general", view, {"Settings", "settings", status});
  };
  router.Add("GET", "/settings/general",
             [page](Request& req) { return page(req, json::object(), 200); });
  router.Add("POST", "/settings/general",
             FormPost(
                 [&service](Request& req) {
                   json current = service.Get(ActorFrom(req));
                   service.Update(ActorFrom(req), FromForm(req, current));
                   return Response::Redirect("/settings/general?saved=1");
                 },
                 page));
  // The portal's logo: its own form, since a file needs multipart/form-data.
  router.Add("POST", "/settings/portal-logo",
             FormPost(
                 [&service](Request& req) {
                   json logo = nullptr;  // "Remove logo"
                   if (!req.HasForm("remove")) {
                     const http::UploadedFile* file = nullptr;
                     for (const auto& f : req.files) {
                       if (f.field == "logo") file = &f;
                     }
                     if (!file) throw ValidationError("portal_logo", "Choose an image file");
                     // Named by its first bytes, whatever the browser called it; the
                     // service checks it again.
                     const std::string& b = file->content;
                     std::string type = b.rfind("\xff\xd8\xff", 0) == 0 ? "image/jpeg"
                                        : b.rfind("GIF8", 0) == 0       ? "image/gif"
                                        : b.rfind("RIFF", 0) == 0       ? "image/webp"
                                        : b.rfind("\x89PNG", 0) == 0    ? "image/png"
                                                                        : "";
                     if (type.empty()) {
                       throw ValidationError("portal_logo",
                                             "The logo must be a PNG, JPEG, GIF or WebP image");
                     }
                     logo = "data:" + type + ";base64," + crypto::Base64(b);
                   }
                   service.Update(ActorFrom(req), {{"portal_logo", logo}});
                   return Response::Redirect("/settings/general?saved=1#portal");
                 },
                 page));
  router.Add("GET", "/api/v1/settings",
             [&service](Request& req) { return http::JsonResponse(service.Get(ActorFrom(req))); });
  router.Add("PATCH", "/api/v1/settings", [&service](Request& req) {
    return http::JsonResponse(service.Update(ActorFrom(req), http::ParseJsonObject(req.body)));
  });
}

}  // namespace opsmerge::admin
