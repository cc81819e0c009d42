#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/service.h"
#include "billing/service.h"
#include "clients/service.h"
#include "platform/clock.h"
#include "platform/db.h"
#include "platform/http/server.h"
#include "tickets/service.h"

// The client portal (M1-M2): a client's person signs in with a link sent by email
// (no password), and sees their organisation's tickets and invoices. Also the
// server's PortalAuthenticator. Throws the errors of platform/errors.h.
// Thread-safe: all state is in the database.
namespace opsmerge::portal {

inline constexpr int64_t kLinkSeconds = int64_t{15} * 60;
inline constexpr int64_t kSessionSeconds = int64_t{7} * 86400;
// Link requests per address and per IP address in a window.
inline constexpr int64_t kLimitWindowSeconds = int64_t{15} * 60;
inline constexpr int64_t kLinksPerAddress = 5;
inline constexpr int64_t kLinksPerIp = 30;
// The largest ticket form with files the portal takes: the email gateway's 40 MiB
// of attachments, their multipart framing, and the text.
inline constexpr size_t kUploadBodyBytes = size_t{41} << 20;

class PortalService final : public http::PortalAuthenticator {
 public:
  PortalService(db::Database& db, const audit::AuditLog& audit, const Clock& clock,
                clients::ClientService& clients, tickets::TicketService& tickets,
                billing::BillingService& billing);

  // M1. Sends a sign-in link to `email` if it is an active portal user's of an
  // active client (one link per such contact); does the same work and says
  // nothing either way. TooManyRequests past the limits, known address or not.
  // `base_url`: where links point (settings public_url wins).
  void RequestLink(const std::string& email, const std::string& ip, const std::string& base_url);
  // Staff: "Send portal link" on contact `contact_id` of client `client_id` (checked
  // by the contact's own client; the contact must be a portal user).
  void SendLink(const staff::Actor& actor, int64_t client_id, int64_t contact_id,
                const std::string& base_url);
  // Whether a link can still sign in (GET and HEAD of the link: never consumes it).
  bool LinkUsable(const std::string& token);
  // Consumes the link, at most once even under concurrent requests, and starts a
  // session: its token, or nullopt (used, expired, superseded, or the contact
  // lost access).
  std::optional<std::string> SignIn(const std::string& token);
  void SignOut(const std::string& session_token);
  std::optional<http::PortalPrincipal> FromPortalSession(const std::string& token) override;

  // M2, for the signed-in person `p`.
  std::vector<tickets::Ticket> Tickets(const http::PortalPrincipal& p);
  std::pair<tickets::Ticket, std::vector<tickets::Entry>> Ticket(const http::PortalPrincipal& p,
                                                                 int64_t id);
  // `files`: the form's "attachments", held to the email gateway's caps (a file
  // over them is a ValidationError on "attachments"; nothing is stored then).
  tickets::Ticket Raise(const http::PortalPrincipal& p, const std::string& subject,
                        const std::string& description, std::vector<http::UploadedFile> files = {});
  tickets::Entry Reply(const http::PortalPrincipal& p, int64_t id, const std::string& body,
                       std::vector<http::UploadedFile> files = {});
  // A file of a public entry of a ticket `p` may see; NotFound otherwise.
  tickets::AttachmentFile Attachment(const http::PortalPrincipal& p, int64_t ticket_id,
                                     int64_t attachment_id);
  // Issued and void invoices (never drafts) of the client, for billing recipients;
  // NotFound for anyone else.
  std::vector<billing::Invoice> Invoices(const http::PortalPrincipal& p);
  billing::InvoicePdf InvoicePdf(const http::PortalPrincipal& p, int64_t id);

  // The scheduler's job: removes expired sessions and links; a line for the log,
  // "" when there was nothing to remove.
  std::string PurgeExpired();

  // What heads every portal page: the MSP's name (settings supplier_name, or "")
  // and, when a logo is set (settings portal_logo), a version of it for its URL.
  struct Brand {
    std::string name;
    std::string logo_version;  // "" when there is no logo
  };
  Brand GetBrand();
  // The logo's type and bytes, if one is set.
  std::optional<std::pair<std::string, std::string>> Logo();
  // When the contact last signed in to the portal (Unix seconds), if ever.
  std::optional<int64_t> LastSignIn(int64_t contact_id);

 private:
  struct Recipient {
    int64_t contact_id = 0;
    std::string name;
    std::string email;
    std::string client_name;
  };
  // Queues a new link for each recipient (older links of theirs stop working).
  void Send(soci::session& sql, const std::vector<Recipient>& to, const std::string& base_url);
  tickets::TicketService::PortalViewer Viewer(const http::PortalPrincipal& p) const;

  db::Database& db_;
  const audit::AuditLog& audit_;
  const Clock& clock_;
  clients::ClientService& clients_;
  tickets::TicketService& tickets_;
  billing::BillingService& billing_;
};

}  // namespace opsmerge::portal
