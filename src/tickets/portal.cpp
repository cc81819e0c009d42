// The client portal's side of tickets (M2): what a client's person may see of
// their organisation's tickets, and the tickets and replies they write. The
// rules live here, beside the tickets; portal/ only says who is asking.
#include <soci/soci.h>

#include "platform/clock.h"
#include "platform/errors.h"
#include "platform/outbox.h"
#include "platform/settings.h"
#include "platform/text.h"
#include "tickets/service.h"
#include "tickets/store.h"

namespace opsmerge::tickets {

namespace {

bool MaySee(soci::session& sql, const TicketService::PortalViewer& v, const Ticket& t) {
  if (!t.client_id || *t.client_id != v.client_id) return false;
  if (v.sees_all) return true;
  if (t.contact_id && *t.contact_id == v.contact_id) return true;
  std::string me = text::FoldCase(v.email);
  if (!t.contact_email.empty() && text::FoldCase(t.contact_email) == me) return true;
  for (const auto& p : store::Participants(sql, t.id)) {
    if (text::FoldCase(p) == me) return true;
  }
  return false;
}

// The ticket, if `v` may see it; NotFound (never Forbidden) otherwise, so an id
// of another client's ticket tells nothing.
Ticket Visible(soci::session& sql, const TicketService::PortalViewer& v, int64_t id) {
  auto t = store::FindTicket(sql, id);
  if (!t || !MaySee(sql, v, *t)) throw NotFound("Ticket");
  return *t;
}

InboundMail FromViewer(const TicketService::PortalViewer& v, const std::string& subject,
                       const std::string& body, std::vector<MailFile> files) {
  InboundMail m;
  m.attachments = std::move(files);
  m.from = v.email;
  m.from_display = v.name;
  m.subject = subject;
  m.body = body;
  return m;
}

}  // namespace

std::vector<Ticket> TicketService::PortalTickets(const PortalViewer& v, int64_t limit) {
  std::vector<Ticket> out;
  db_.Read([&](soci::session& sql) {
    store::Filter f;
    f.client_id = v.client_id;
    f.sort = "-updated";
    // The client's tickets, newest activity first; a person who does not see all
    // of them sees those they raised or are on (MaySee's rule, in the query).
    if (!v.sees_all) {
      f.on_contact_id = v.contact_id;
      f.on_email = text::FoldCase(v.email);
    }
    out = store::ListTickets(sql, f, 0, limit);
  });
  return out;
}

std::pair<Ticket, std::vector<Entry>> TicketService::PortalTicket(const PortalViewer& v,
                                                                  int64_t id) {
  std::pair<Ticket, std::vector<Entry>> out;
  db_.Read([&](soci::session& sql) {
    out.first = Visible(sql, v, id);
    for (Entry& e : store::ListEntriesWithFiles(sql, id)) {
      if (e.kind == EntryKind::kPublic) out.second.push_back(std::move(e));
    }
  });
  return out;
}

Ticket TicketService::OpenFromPortal(const PortalViewer& v, const std::string& subject,
                                     const std::string& description, std::vector<MailFile> files) {
  InboundMail m =
      FromViewer(v, ValidSubject(subject), ValidBody(description, "description"), std::move(files));
  Ticket t;
  db_.Write([&](db::Tx& tx) {
    t = OpenFromMailIn(tx, m, v.client_id, v.contact_id, "Raised in the portal by " + v.name,
                       Source::kPortal)
            .first;
  });
  return t;
}

Entry TicketService::ReplyFromPortal(const PortalViewer& v, int64_t id, const std::string& body,
                                     std::vector<MailFile> files) {
  InboundMail m = FromViewer(v, "", ValidBody(body, "body"), std::move(files));
  Entry e;
  db_.Write([&](db::Tx& tx) {
    soci::session& sql = tx.sql();
    Ticket t = Visible(sql, v, id);
    e = AddMailReplyIn(tx, id, m, true);
    // The assignee hears of it by email, in the same transaction.
    std::string from = settings::Get(sql, "mail_from").value_or("");
    if (!t.assignee_id || from.empty()) return;
    std::optional<std::string> to = store::ActiveStaffEmail(sql, *t.assignee_id);
    if (!to || to->empty()) return;
    outbox::Mail mail;
    mail.from = from;
    mail.to = {*to};
    mail.subject =
        "[#" + std::to_string(t.number) + "] New reply from " + v.name + ": " + t.subject;
    mail.body = v.name + " <" + v.email + "> replied in the client portal:\n\n" + e.body +
                "\n\n-- \nOpsMerge, ticket #" + std::to_string(t.number) + "\n";
    mail.auto_reply = true;  // a notification: no auto-answer should come back
    outbox::Enqueue(sql, mail, clock_.NowUnix());
  });
  return e;
}

AttachmentFile TicketService::PortalAttachment(const PortalViewer& v, int64_t ticket_id,
                                               int64_t attachment_id) {
  std::optional<std::pair<Attachment, std::string>> found;
  db_.Read([&](soci::session& sql) {
    Visible(sql, v, ticket_id);
    found = store::FindAttachment(sql, attachment_id);
    if (!found || found->first.ticket_id != ticket_id) {
      found.reset();
      return;
    }
    // Only what the person can see on the ticket: files of its public entries.
    for (const Entry& e : store::ListEntries(sql, ticket_id)) {
      if (e.id == found->first.entry_id && e.kind == EntryKind::kPublic) return;
    }
    found.reset();
  });
  if (!found) throw NotFound("Attachment");
  return {found->first, std::move(found->second)};
}

}  // namespace opsmerge::tickets
