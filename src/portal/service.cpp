#include "portal/service.h"

#include <algorithm>

#include <soci/soci.h>

#include "mail/model.h"
#include "platform/crypto.h"
#include "platform/errors.h"
#include "platform/log.h"
#include "platform/outbox.h"
#include "platform/rate_limit.h"
#include "platform/settings.h"
#include "platform/text.h"

namespace opsmerge::portal {

namespace {

// What the portal reads of a contact and its client. An active portal user: the
// tick is on, the contact is active (not gone from Microsoft 365), and the client
// is neither archived nor merged away (a merged-away
// client's row is gone; its contacts moved to the survivor).
constexpr const char* kActiveContact =
    "SELECT c.id, c.client_id, c.name, c.email, cl.name, c.vip, c.primary_technical, "
    "c.billing_recipient FROM contacts c JOIN clients cl ON cl.id = c.client_id "
    "WHERE c.portal_user = 1 AND c.active = 1 AND cl.archived_at IS NULL";

http::PortalPrincipal PrincipalFrom(const soci::row& r) {
  http::PortalPrincipal p;
  p.contact_id = db::RowInt(r, 0);
  p.client_id = db::RowInt(r, 1);
  p.name = db::RowText(r, 2);
  p.email = db::RowText(r, 3);
  p.client_name = db::RowText(r, 4);
  p.sees_all_tickets = db::RowInt(r, 5) != 0 || db::RowInt(r, 6) != 0;
  p.billing_recipient = db::RowInt(r, 7) != 0;
  return p;
}

std::optional<http::PortalPrincipal> ActiveContact(soci::session& sql, int64_t contact_id) {
  long long id = contact_id;
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kActiveContact) + " AND c.id = :id", soci::use(id));
  for (const auto& r : rs) return PrincipalFrom(r);
  return std::nullopt;
}

// Tokens we issue are 43 characters (32 random bytes); anything far off is not one.
bool Plausible(const std::string& token) { return token.size() >= 22 && token.size() <= 128; }

audit::Who Person(const http::PortalPrincipal& p) { return audit::Who{std::nullopt, p.name}; }

}  // namespace

PortalService::PortalService(db::Database& db, const audit::AuditLog& audit, const Clock& clock,
                             clients::ClientService& clients, tickets::TicketService& tickets,
                             billing::BillingService& billing)
    : db_(db),
      audit_(audit),
      clock_(clock),
      clients_(clients),
      tickets_(tickets),
      billing_(billing) {}

void PortalService::Send(soci::session& sql, const std::vector<Recipient>& to,
                         const std::string& base_url) {
  int64_t now = clock_.NowUnix();
  std::string base = settings::Get(sql, "public_url").value_or("");
  if (base.empty()) base = base_url;
  std::string from = settings::Get(sql, "mail_from").value_or("");
  std::string msp = settings::Get(sql, "supplier_name").value_or("");
  for (const Recipient& r : to) {
    long long contact = r.contact_id, created = now, expires = now + kLinkSeconds;
    // Only the newest link of a contact signs in: one row per contact, replaced in
    // one statement, also when two requests race.
    std::string token = crypto::RandomToken(32);
    std::string hash = crypto::HashToken(token);
    sql << "INSERT INTO portal_links (contact_id, token_hash, created_at, expires_at) "
           "VALUES (:c, :h, :t, :e) ON CONFLICT (contact_id) DO UPDATE SET token_hash = "
           "excluded.token_hash, created_at = excluded.created_at, expires_at = "
           "excluded.expires_at, used_at = NULL",
        soci::use(contact), soci::use(hash), soci::use(created), soci::use(expires);
    if (from.empty()) {
      log::Info("portal: no mail_from in settings, so no sign-in link can be emailed");
      continue;
    }
    outbox::Mail mail;
    mail.from = from;
    mail.to = {r.email};
    mail.subject = "Your sign-in link" + (msp.empty() ? std::string() : " for " + msp);
    mail.body = outbox::Fill(
        "Hello {{name}},\n\nTo sign in to the {{msp}} portal for {{client}}, open this link "
        "and press Sign in:\n\n{{link}}\n\nThe link works once, within 15 minutes. If you did "
        "not ask for it, you can ignore this email.\n",
        {{"name", r.name},
         {"msp", msp.empty() ? std::string("support") : msp},
         {"client", r.client_name},
         {"link", std::string(base).append("/portal/auth/").append(token)}});
    mail.ref = "portal:" + std::to_string(r.contact_id);
    outbox::Enqueue(sql, mail, now);
  }
}

void PortalService::RequestLink(const std::string& email, const std::string& ip,
                                const std::string& base_url) {
  auto address = text::NormalizeEmail(text::EmailFromPasted(email));
  if (!address) throw ValidationError("email", "Enter your email address");
  int64_t now = clock_.NowUnix();
  // Counted (and committed) first, known address or not, so the limit tells nothing.
  ratelimit::Window by_ip, by_address;
  db_.Write([&](soci::session& sql) {
    by_ip = ratelimit::Hit(sql, "portal-link-ip:" + ip, now, kLimitWindowSeconds);
    by_address =
        ratelimit::Hit(sql, "portal-link:" + text::FoldCase(*address), now, kLimitWindowSeconds);
  });
  if (by_ip.count > kLinksPerIp || by_address.count > kLinksPerAddress) {
    int64_t wait = std::max(
        by_ip.count > kLinksPerIp ? by_ip.RetryAfter(now, kLimitWindowSeconds) : 0,
        by_address.count > kLinksPerAddress ? by_address.RetryAfter(now, kLimitWindowSeconds) : 0);
    throw TooManyRequests("Too many sign-in links asked for: try again later", wait);
  }
  db_.Write([&](db::Tx& tx) {
    std::vector<Recipient> to;
    for (const auto& [contact_id, client_id] : clients_.MatchSenderIn(tx, *address).contacts) {
      if (auto p = ActiveContact(tx.sql(), contact_id)) {
        to.push_back({p->contact_id, p->name, p->email, p->client_name});
      }
    }
    Send(tx.sql(), to, base_url);
  });
}

void PortalService::SendLink(const staff::Actor& actor, int64_t client_id, int64_t contact_id,
                             const std::string& base_url) {
  staff::Require(actor, staff::Permission::kEditClients);
  clients::Contact c = clients_.GetContact(actor, contact_id);  // NotFound for no such contact
  if (c.client_id != client_id) throw NotFound("Contact");
  if (!c.roles.portal_user) {
    throw ValidationError("portal_user", "Tick Portal user on this contact first");
  }
  db_.Write([&](soci::session& sql) {
    auto p = ActiveContact(sql, contact_id);
    if (!p) throw ValidationError("portal_user", "The contact's client is archived");
    Send(sql, {{p->contact_id, p->name, p->email, p->client_name}}, base_url);
    audit_.Write(sql, actor.Who(),
                 {"send_link", "contact", p->contact_id, p->client_id,
                  "Sent a portal sign-in link to " + p->name, "", ""});
  });
}

bool PortalService::LinkUsable(const std::string& token) {
  if (!Plausible(token)) return false;
  std::string hash = crypto::HashToken(token);
  long long now = clock_.NowUnix();
  bool usable = false;
  db_.Read([&](soci::session& sql) {
    soci::rowset<soci::row> rs =
        (sql.prepare << std::string(kActiveContact) +
                            " AND c.id = (SELECT contact_id FROM portal_links WHERE token_hash = "
                            ":h AND used_at IS NULL AND expires_at > :n)",
         soci::use(hash), soci::use(now));
    for (const auto& r : rs) {
      (void)r;
      usable = true;
    }
  });
  return usable;
}

std::optional<std::string> PortalService::SignIn(const std::string& token) {
  if (!Plausible(token)) return std::nullopt;
  std::string hash = crypto::HashToken(token);
  long long now = clock_.NowUnix();
  std::optional<std::string> session;
  db_.Write([&](soci::session& sql) {
    // One statement claims the link: of two requests at once (a scanner racing
    // the person), exactly one changes the row.
    soci::statement claim =
        (sql.prepare << "UPDATE portal_links SET used_at = :n WHERE token_hash = :h AND "
                        "used_at IS NULL AND expires_at > :n2",
         soci::use(now), soci::use(hash), soci::use(now));
    claim.execute(true);
    if (claim.get_affected_rows() != 1) return;
    long long contact = 0;
    sql << "SELECT contact_id FROM portal_links WHERE token_hash = :h", soci::into(contact),
        soci::use(hash);
    auto p = ActiveContact(sql, contact);
    if (!p) return;
    std::string fresh = crypto::RandomToken(32);
    std::string fresh_hash = crypto::HashToken(fresh);
    long long expires = now + kSessionSeconds;
    sql << "INSERT INTO portal_sessions (token_hash, contact_id, created_at, expires_at) "
           "VALUES (:h, :c, :n, :e)",
        soci::use(fresh_hash), soci::use(contact), soci::use(now), soci::use(expires);
    sql << "UPDATE contacts SET last_portal_sign_in_at = :n WHERE id = :c", soci::use(now),
        soci::use(contact);
    audit_.Write(sql, Person(*p),
                 {"sign_in", "contact", p->contact_id, p->client_id,
                  p->name + " signed in to the portal", "", ""});
    session = fresh;
  });
  return session;
}

void PortalService::SignOut(const std::string& session_token) {
  if (!Plausible(session_token)) return;
  std::string hash = crypto::HashToken(session_token);
  db_.Write([&](soci::session& sql) {
    sql << "DELETE FROM portal_sessions WHERE token_hash = :h", soci::use(hash);
  });
}

std::optional<http::PortalPrincipal> PortalService::FromPortalSession(const std::string& token) {
  if (!Plausible(token)) return std::nullopt;
  std::string hash = crypto::HashToken(token);
  long long now = clock_.NowUnix();
  std::optional<http::PortalPrincipal> p;
  db_.Read([&](soci::session& sql) {
    soci::rowset<soci::row> rs =
        (sql.prepare << std::string(kActiveContact) +
                            " AND c.id = (SELECT contact_id FROM portal_sessions WHERE "
                            "token_hash = :h AND expires_at > :n)",
         soci::use(hash), soci::use(now));
    for (const auto& r : rs) p = PrincipalFrom(r);
  });
  return p;
}

tickets::TicketService::PortalViewer PortalService::Viewer(const http::PortalPrincipal& p) const {
  return {p.client_id, p.contact_id, p.name, p.email, p.sees_all_tickets};
}

std::vector<tickets::Ticket> PortalService::Tickets(const http::PortalPrincipal& p) {
  return tickets_.PortalTickets(Viewer(p), 200);
}

std::pair<tickets::Ticket, std::vector<tickets::Entry>> PortalService::Ticket(
    const http::PortalPrincipal& p, int64_t id) {
  return tickets_.PortalTicket(Viewer(p), id);
}

namespace {

std::string MiB(size_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// The form's files as the ticket stores them: safe names and types, within the
// email gateway's caps (the same limits, whichever way a file comes in).
std::vector<tickets::MailFile> CheckedFiles(std::vector<http::UploadedFile> files) {
  const mail::Limits limits;
  std::vector<tickets::MailFile> out;
  size_t total = 0;
  for (http::UploadedFile& f : files) {
    if (f.field != "attachments") continue;
    std::string name = mail::SafeFilename(f.filename);
    if (out.size() >= limits.max_attachments) {
      throw ValidationError("attachments",
                            "Attach at most " + std::to_string(limits.max_attachments) + " files");
    }
    if (f.content.size() > limits.max_attachment_bytes) {
      throw ValidationError("attachments", name + " is larger than " +
                                               MiB(limits.max_attachment_bytes) +
                                               ": send a smaller file or a link to it");
    }
    total += f.content.size();
    if (total > limits.max_total_attachment_bytes) {
      throw ValidationError("attachments", "The files together are larger than " +
                                               MiB(limits.max_total_attachment_bytes));
    }
    out.push_back({name, mail::SafeContentType(f.content_type), std::move(f.content)});
  }
  return out;
}

}  // namespace

tickets::Ticket PortalService::Raise(const http::PortalPrincipal& p, const std::string& subject,
                                     const std::string& description,
                                     std::vector<http::UploadedFile> files) {
  return tickets_.OpenFromPortal(Viewer(p), subject, description, CheckedFiles(std::move(files)));
}

tickets::Entry PortalService::Reply(const http::PortalPrincipal& p, int64_t id,
                                    const std::string& body,
                                    std::vector<http::UploadedFile> files) {
  return tickets_.ReplyFromPortal(Viewer(p), id, body, CheckedFiles(std::move(files)));
}

tickets::AttachmentFile PortalService::Attachment(const http::PortalPrincipal& p, int64_t ticket_id,
                                                  int64_t attachment_id) {
  return tickets_.PortalAttachment(Viewer(p), ticket_id, attachment_id);
}

std::vector<billing::Invoice> PortalService::Invoices(const http::PortalPrincipal& p) {
  if (!p.billing_recipient) throw NotFound("Page");
  std::vector<billing::Invoice> out;
  for (const char* status : {"issued", "void"}) {
    billing::InvoiceQuery q;
    q.client_id = p.client_id;
    q.status = status;
    q.limit = 200;
    for (auto& inv : billing_.ListInvoices(staff::Actor::System(), q).items) {
      out.push_back(std::move(inv));
    }
  }
  std::sort(out.begin(), out.end(), [](const billing::Invoice& a, const billing::Invoice& b) {
    return a.issue_date != b.issue_date ? a.issue_date > b.issue_date : a.id > b.id;
  });
  return out;
}

billing::InvoicePdf PortalService::InvoicePdf(const http::PortalPrincipal& p, int64_t id) {
  if (!p.billing_recipient) throw NotFound("Invoice");
  billing::Invoice inv;
  try {
    inv = billing_.GetInvoice(staff::Actor::System(), id);
  } catch (const NotFound&) {
    throw NotFound("Invoice");
  }
  // Another client's invoice, or a draft: as if there were none.
  if (inv.client_id != p.client_id || inv.status == billing::InvoiceStatus::kDraft) {
    throw NotFound("Invoice");
  }
  return billing_.Pdf(staff::Actor::System(), id);
}

std::string PortalService::PurgeExpired() {
  long long now = clock_.NowUnix();
  int64_t sessions = 0, links = 0;
  db_.Write([&](soci::session& sql) {
    soci::statement s =
        (sql.prepare << "DELETE FROM portal_sessions WHERE expires_at <= :n", soci::use(now));
    s.execute(true);
    sessions = s.get_affected_rows();
    soci::statement l =
        (sql.prepare << "DELETE FROM portal_links WHERE expires_at <= :n", soci::use(now));
    l.execute(true);
    links = l.get_affected_rows();
  });
  if (sessions == 0 && links == 0) return "";
  return std::to_string(sessions) + " portal sessions, " + std::to_string(links) +
         " sign-in links removed";
}

PortalService::Brand PortalService::GetBrand() {
  Brand b;
  db_.Read([&](soci::session& sql) {
    b.name = settings::Get(sql, "supplier_name").value_or("");
    std::string logo = settings::Get(sql, "portal_logo").value_or("");
    if (!logo.empty()) b.logo_version = crypto::HashToken(logo).substr(0, 16);
  });
  return b;
}

std::optional<std::pair<std::string, std::string>> PortalService::Logo() {
  std::string logo;
  db_.Read([&](soci::session& sql) { logo = settings::Get(sql, "portal_logo").value_or(""); });
  // "<type>;base64,<data>", as the settings checked it.
  size_t sep = logo.find(";base64,");
  if (sep == std::string::npos) return std::nullopt;
  return std::make_pair(logo.substr(0, sep), crypto::FromBase64(logo.substr(sep + 8)));
}

std::optional<int64_t> PortalService::LastSignIn(int64_t contact_id) {
  std::optional<int64_t> at;
  db_.Read([&](soci::session& sql) {
    long long id = contact_id, value = 0;
    soci::indicator ind = soci::i_null;
    sql << "SELECT last_portal_sign_in_at FROM contacts WHERE id = :id", soci::into(value, ind),
        soci::use(id);
    if (ind == soci::i_ok) at = value;
  });
  return at;
}

}  // namespace opsmerge::portal
