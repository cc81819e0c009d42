#include <nlohmann/json.hpp>

#include "billing/model.h"
#include "platform/clock.h"
#include "platform/errors.h"
#include "platform/http/server.h"
#include "platform/log.h"
#include "platform/page.h"
#include "platform/text.h"
#include "portal/routes.h"
#include "staff/model.h"

namespace opsmerge::portal {

namespace {

using http::Request;
using http::Response;
using nlohmann::json;

// Every portal page: the portal's layout with the MSP's name, and who is signed in.
Response Page(const Templates& t, PortalService& portal, const Request& req, const std::string& tpl,
              json view, const std::string& title, int status = 200) {
  PortalService::Brand brand = portal.GetBrand();
  json layout = {
      {"msp_name", brand.name.empty() ? "Support portal" : brand.name},
      {"logo_url", brand.logo_version.empty() ? "" : "/portal/logo?v=" + brand.logo_version},
      {"person", false},
      {"section_tickets", tpl.rfind("portal/ticket", 0) == 0 || tpl == "portal/new_ticket"},
      {"section_invoices", tpl == "portal/invoices"}};
  if (req.portal) {
    layout["person"] = {{"name", req.portal->name},
                        {"email", req.portal->email},
                        {"client_name", req.portal->client_name},
                        {"billing", req.portal->billing_recipient}};
  }
  PageOptions options{title, "", status};
  options.layout = "portal/layout";
  options.layout_view = layout;
  return RenderPage(t, req, tpl, std::move(view), options);
}

Response WithPortalCookie(Response r, const Request& req, const std::string& token,
                          int64_t max_age) {
  r.headers.emplace_back("Set-Cookie",
                         http::CookieHeader(http::kPortalCookie, token, req.secure, max_age));
  return r;
}

json TicketRow(const tickets::Ticket& t) {
  return {{"id", t.id},
          {"number", t.number},
          {"subject", t.subject},
          {"status", tickets::StatusLabel(t.status)},
          {"status_name", tickets::StatusName(t.status)},
          {"priority", tickets::PriorityLabel(t.priority)},
          {"raised_by", t.contact_name},
          {"updated_at", TimeView(t.updated_at)}};
}

// The sign-in page of a link: GET and HEAD never consume it (mail scanners open
// links before people do); the button POSTs.
Response LinkPage(const Templates& t, PortalService& portal, const Request& req,
                  const std::string& token, bool usable, int status) {
  json view = {
      {"usable", usable}, {"action", "/portal/auth/" + token}, {"email", ""}, {"error", ""}};
  Response r = Page(t, portal, req, usable ? "portal/link" : "portal/link_used", view,
                    usable ? "Sign in" : "Link no longer valid", status);
  // The token must not leave in a Referer, nor stay in a cache.
  r.SetHeader("Referrer-Policy", "no-referrer");
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

}  // namespace

void RegisterPages(http::Router& router, PortalService& portal, const Templates& t,
                   const std::string& public_url) {
  log::RedactPathsUnder("/portal/auth/");

  auto login_page = [&portal, &t](Request& req, const json& problem, int status) {
    json errors = problem.is_object() && problem.contains("errors") ? problem["errors"] : json();
    json view = {
        {"email", req.Form("email")},
        {"error", errors.is_object() && errors.contains("email") ? errors["email"] : json("")}};
    return Page(t, portal, req, "portal/login", view, "Sign in", status);
  };
  router.Add(
      "GET", "/portal",
      [&portal, login_page](Request& req) {
        auto c = req.cookies.find(http::kPortalCookie);
        if (c != req.cookies.end() && portal.FromPortalSession(c->second)) {
          return Response::Redirect("/portal/tickets", 303);
        }
        return login_page(req, json::object(), 200);
      },
      http::Access::kPublic);
  router.Add("POST", "/portal/login",
             FormPost(
                 [&portal, &t, public_url](Request& req) {
                   std::string email = text::Trim(req.Form("email"));
                   portal.RequestLink(email, req.remote_ip, http::BaseUrl(req, public_url));
                   // The same page whether or not the address is a portal user's.
                   return Page(t, portal, req, "portal/login_sent", {{"email", email}},
                               "Check your email");
                 },
                 login_page),
             http::Access::kPublic);

  router.Add(
      "GET", "/portal/logo",
      [&portal](Request&) {
        auto logo = portal.Logo();
        if (!logo) throw NotFound("Logo");
        Response r;
        r.content_type = logo->first;  // checked by its bytes when it was set
        r.body = std::move(logo->second);
        // Its address changes with it (?v=), so it may be kept.
        r.SetHeader("Cache-Control", "public, max-age=86400");
        return r;
      },
      http::Access::kPublic);
  router.Add(
      "GET", "/portal/auth/{token}",
      [&portal, &t](Request& req) {
        std::string token = req.params.at(0);
        bool usable = portal.LinkUsable(token);
        return LinkPage(t, portal, req, token, usable, usable ? 200 : 410);
      },
      http::Access::kPublic);
  router.Add(
      "POST", "/portal/auth/{token}",
      [&portal, &t](Request& req) {
        std::string token = req.params.at(0);
        auto session = portal.SignIn(token);
        if (!session) return LinkPage(t, portal, req, token, false, 410);
        // A fresh session id, in the portal's own cookie.
        return WithPortalCookie(Response::Redirect("/portal/tickets", 303), req, *session,
                                kSessionSeconds);
      },
      http::Access::kPublic);
  router.Add(
      "POST", "/portal/logout",
      [&portal](Request& req) {
        portal.SignOut(req.portal_token);
        return WithPortalCookie(Response::Redirect("/portal", 303), req, "", 0);
      },
      http::Access::kPortal);

  router.Add(
      "GET", "/portal/tickets",
      [&portal, &t](Request& req) {
        json rows = json::array();
        for (const auto& ticket : portal.Tickets(*req.portal)) rows.push_back(TicketRow(ticket));
        return Page(t, portal, req, "portal/tickets",
                    {{"tickets", rows}, {"has_tickets", !rows.empty()}}, "Tickets");
      },
      http::Access::kPortal);
  auto new_ticket_page = [&portal, &t](Request& req, const json& problem, int status) {
    json errors = problem.is_object() && problem.contains("errors") ? problem["errors"] : json();
    auto error = [&](const char* f) {
      return errors.is_object() && errors.contains(f) ? errors[f] : json("");
    };
    json view = {{"subject", req.Form("subject")},
                 {"description", req.Form("description")},
                 {"subject_error", error("subject")},
                 {"description_error", error("description")},
                 {"attachments_error", error("attachments")}};
    return Page(t, portal, req, "portal/new_ticket", view, "New ticket", status);
  };
  router.Add(
      "GET", "/portal/tickets/new",
      [new_ticket_page](Request& req) { return new_ticket_page(req, json::object(), 200); },
      http::Access::kPortal);
  router.Add("POST", "/portal/tickets",
             FormPost(
                 [&portal](Request& req) {
                   tickets::Ticket ticket =
                       portal.Raise(*req.portal, req.Form("subject"), req.Form("description"),
                                    std::move(req.files));
                   return Response::Redirect("/portal/tickets/" + std::to_string(ticket.id), 303);
                 },
                 new_ticket_page),
             http::Access::kPortal);

  auto ticket_page = [&portal, &t](Request& req, const json& problem, int status) {
    int64_t id = req.ParamId(0, "Ticket");
    auto [ticket, entries] = portal.Ticket(*req.portal, id);
    json items = json::array();
    for (const auto& e : entries) {
      json files = json::array();
      for (const auto& a : e.attachments) {
        files.push_back({{"url", "/portal/tickets/" + std::to_string(id) + "/attachments/" +
                                     std::to_string(a.id)},
                         {"filename", a.filename},
                         {"size", text::SizeText(a.size)}});
      }
      items.push_back(
          {{"from", e.from}, {"body", e.body}, {"at", TimeView(e.created_at)}, {"files", files}});
    }
    json errors = problem.is_object() && problem.contains("errors") ? problem["errors"] : json();
    json view = TicketRow(ticket);
    view["entries"] = items;
    view["body"] = status == 200 ? "" : req.Form("body");
    auto error = [&](const char* f) {
      return errors.is_object() && errors.contains(f) ? errors[f] : json("");
    };
    view["body_error"] = error("body");
    view["attachments_error"] = error("attachments");
    return Page(t, portal, req, "portal/ticket", view,
                "#" + std::to_string(ticket.number) + " " + ticket.subject, status);
  };
  router.Add(
      "GET", "/portal/tickets/{id}",
      [ticket_page](Request& req) { return ticket_page(req, json::object(), 200); },
      http::Access::kPortal);
  router.Add("POST", "/portal/tickets/{id}/replies",
             FormPost(
                 [&portal](Request& req) {
                   int64_t id = req.ParamId(0, "Ticket");
                   portal.Reply(*req.portal, id, req.Form("body"), std::move(req.files));
                   return Response::Redirect("/portal/tickets/" + std::to_string(id), 303);
                 },
                 ticket_page),
             http::Access::kPortal);

  router.Add(
      "GET", "/portal/tickets/{id}/attachments/{attachment}",
      [&portal](Request& req) {
        tickets::AttachmentFile f =
            portal.Attachment(*req.portal, req.ParamId(0, "Ticket"), req.ParamId(1, "Attachment"));
        return Response::Download(std::move(f.content), f.meta.filename, f.meta.content_type);
      },
      http::Access::kPortal);
  // Forms with files: the email gateway's caps (40 MiB of files) and the text.
  for (const char* path : {"/portal/tickets", "/portal/tickets/{id}/replies"}) {
    router.AllowBody("POST", path, kUploadBodyBytes);
  }

  router.Add(
      "GET", "/portal/invoices",
      [&portal, &t](Request& req) {
        json rows = json::array();
        for (const auto& inv : portal.Invoices(*req.portal)) {
          rows.push_back({{"id", inv.id},
                          {"number", inv.number},
                          {"month", billing::FormatMonthForPeople(inv.month)},
                          {"issue_date", inv.issue_date},
                          {"due_date", inv.due_date},
                          {"gross", billing::FormatMoney(inv.gross_pence)},
                          {"void", inv.status == billing::InvoiceStatus::kVoid}});
        }
        return Page(t, portal, req, "portal/invoices",
                    {{"invoices", rows}, {"has_invoices", !rows.empty()}}, "Invoices");
      },
      http::Access::kPortal);
  router.Add(
      "GET", "/portal/invoices/{id}/pdf",
      [&portal](Request& req) {
        billing::InvoicePdf pdf = portal.InvoicePdf(*req.portal, req.ParamId(0, "Invoice"));
        Response r;
        r.content_type = "application/pdf";
        r.body = std::move(pdf.content);
        r.SetHeader("Content-Disposition", "attachment; filename=\"" + pdf.filename + "\"");
        return r;
      },
      http::Access::kPortal);

  // Staff: "Send portal link" on a contact's page.
  router.Add(
      "POST", "/clients/{id}/contacts/{contact}/portal-link", [&portal, public_url](Request& req) {
        int64_t client = req.ParamId(0, "Client");
        int64_t contact = req.ParamId(1, "Contact");
        portal.SendLink(staff::ActorFrom(req), client, contact, http::BaseUrl(req, public_url));
        return Response::Redirect("/clients/" + std::to_string(client) + "/contacts/" +
                                      std::to_string(contact) + "?portal_link=sent",
                                  303);
      });
}

}  // namespace opsmerge::portal
