// The email gateway's writes into tickets (E1-E3): a new ticket from a message, a
// message joining a ticket, a delivery report as a note. Each runs in the
// gateway's transaction, so the message's record, the ticket, its entries, files
// and the acknowledgement commit together or not at all.
#include <soci/soci.h>

#include "platform/clock.h"
#include "platform/errors.h"
#include "platform/text.h"
#include "tickets/service.h"
#include "tickets/store.h"

namespace opsmerge::tickets {

namespace {

const staff::Actor& Gateway() {
  static const staff::Actor kGateway{0, "Email gateway", staff::Role::kAdmin};
  return kGateway;
}

std::string Who(const InboundMail& m) { return m.from.empty() ? m.from_display : m.from; }

// An entry that came by mail (its original is kept by the gateway) or from the
// portal (`from_mail` false: there is no original), written now.
Entry AddMailEntry(soci::session& sql, int64_t ticket_id, EntryKind kind, const std::string& body,
                   const std::string& from, const std::string& now, bool from_mail = true) {
  Entry e;
  e.kind = kind;
  e.body = body;
  e.from = from;
  e.created_at = now;
  e.from_mail = from_mail;
  e.id = store::InsertEntry(sql, ticket_id, e);
  return e;
}

}  // namespace

void TicketService::StoreMailFiles(soci::session& sql, const Ticket& t, int64_t entry_id,
                                   const InboundMail& m, const std::string& now) {
  for (const MailFile& f : m.attachments) {
    Attachment a;
    a.ticket_id = t.id;
    a.entry_id = entry_id;
    a.filename = f.filename;
    a.content_type = f.content_type;
    store::InsertAttachment(sql, a, f.content, now);
  }
  if (!m.left_out.empty()) {
    std::string text = "Left out of the message from " + Who(m) + ":";
    for (const auto& l : m.left_out) text += "\n- " + l;
    System(sql, t, text, now);
  }
}

std::pair<Ticket, Entry> TicketService::OpenFromMailIn(db::Tx& tx, const InboundMail& m,
                                                       std::optional<int64_t> client_id,
                                                       std::optional<int64_t> contact_id,
                                                       const std::string& how, Source source) {
  soci::session& sql = tx.sql();
  int64_t now = clock_.NowUnix();
  std::string now_iso = FormatIsoUtc(now);
  Ticket t;
  t.subject = m.subject;
  t.client_id = client_id;
  t.contact_id = contact_id;
  t.source = source;
  if (contact_id) {
    clients::Contact c = clients_.GetContact(Gateway(), *contact_id);
    t.contact_name = c.name;
    t.contact_email = c.email;
    if (c.roles.vip) {
      t.vip = true;  // P3
      t.priority = VipPriority(t.priority);
    }
  }
  if (client_id) t.client_name = store::ClientName(sql, *client_id);
  DueTimes due = DueFor(now, t.priority, StoredSla(sql));
  t.first_response_due_at = due.first_response;
  t.resolution_due_at = due.resolution;
  t.number = store::NextNumber(sql);
  t.id = store::InsertTicket(sql, t, now_iso);
  System(sql, t, how, now_iso);
  Entry e = AddMailEntry(sql, t.id, EntryKind::kPublic, m.body, Who(m), now_iso,
                         source == Source::kEmail);
  StoreMailFiles(sql, t, e.id, m, now_iso);
  for (const auto& p : m.participants) store::AddParticipant(sql, t.id, p);
  audit_.Write(
      sql, Gateway().Who(),
      {"create", "ticket", t.id, t.client_id,
       "Opened ticket #" + std::to_string(t.number) + " " + t.subject + " from " + e.from, "", ""});
  t.created_at = t.updated_at = now_iso;
  return {t, e};
}

Entry TicketService::AddMailReplyIn(db::Tx& tx, int64_t id, const InboundMail& m, bool via_portal) {
  soci::session& sql = tx.sql();
  std::string now_iso = FormatIsoUtc(clock_.NowUnix());
  auto t = store::FindTicket(sql, id);
  if (!t) throw NotFound("Ticket");
  Entry e = AddMailEntry(sql, id, EntryKind::kPublic, m.body, Who(m), now_iso, !via_portal);
  StoreMailFiles(sql, *t, e.id, m, now_iso);
  if (!m.from.empty() && text::FoldCase(m.from) != text::FoldCase(t->contact_email)) {
    store::AddParticipant(sql, id, m.from);
  }
  for (const auto& p : m.participants) {
    if (text::FoldCase(p) != text::FoldCase(t->contact_email)) store::AddParticipant(sql, id, p);
  }
  Status before = t->status;
  if (before == Status::kResolved || before == Status::kWaitingOnClient) {
    // T2: the client answered: the ticket is theirs to act on again.
    t->status = Status::kOpen;
    t->resolved_at.reset();
    System(sql, *t,
           std::string(before == Status::kResolved ? "Reopened" : "Opened again") +
               " by a reply from " + e.from,
           now_iso);
  }
  store::UpdateTicket(sql, *t, now_iso);
  return e;
}

Entry TicketService::AddMailNoteIn(db::Tx& tx, int64_t id, const std::string& body) {
  soci::session& sql = tx.sql();
  std::string now_iso = FormatIsoUtc(clock_.NowUnix());
  auto t = store::FindTicket(sql, id);
  if (!t) throw NotFound("Ticket");
  Entry e = AddMailEntry(sql, id, EntryKind::kInternal, body, Gateway().name, now_iso);
  store::UpdateTicket(sql, *t, now_iso);
  return e;
}

std::optional<Ticket> TicketService::FindIn(db::Tx& tx, int64_t id) {
  return store::FindTicket(tx.sql(), id);
}

std::optional<int64_t> TicketService::IdOfNumberIn(db::Tx& tx, int64_t number) {
  return store::TicketIdByNumber(tx.sql(), number);
}

bool TicketService::IsOnTicketIn(db::Tx& tx, int64_t id, const std::string& email) {
  auto t = store::FindTicket(tx.sql(), id);
  if (!t) return false;
  std::string key = text::FoldCase(email);
  if (!t->contact_email.empty() && text::FoldCase(t->contact_email) == key) return true;
  for (const auto& p : store::Participants(tx.sql(), id)) {
    if (text::FoldCase(p) == key) return true;
  }
  return false;
}

}  // namespace opsmerge::tickets
