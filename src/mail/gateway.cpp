#include "mail/gateway.h"

#include <algorithm>
#include <set>

#include <soci/soci.h>

#include "mail/mime.h"
#include "mail/store.h"
#include "platform/errors.h"
#include "platform/log.h"
#include "platform/outbox.h"
#include "platform/settings.h"
#include "platform/text.h"

namespace opsmerge::mail {

namespace {

// Acknowledgements one address gets per hour at most (E4), whatever it sends.
constexpr int64_t kAutoRepliesPerHour = 5;

const staff::Actor& GatewayActor() {
  static const staff::Actor kActor{0, "Email gateway", staff::Role::kAdmin};
  return kActor;
}

std::string DomainOf(const std::string& address) {
  size_t at = address.rfind('@');
  return at == std::string::npos ? "" : text::FoldCase(address.substr(at + 1));
}

// The ticket a message we sent belongs to ("ticket:12" in the queue), or one we
// received and kept on a ticket: only ids we really hold count, whatever they look like.
std::optional<int64_t> ThreadOf(soci::session& sql, const std::vector<std::string>& ids) {
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
    if (auto ref = outbox::RefOf(sql, "<" + *it + ">")) {
      if (ref->rfind("ticket:", 0) == 0) {
        try {
          return std::stoll(ref->substr(7));
        } catch (const std::exception&) {
          continue;
        }
      }
    }
    if (auto t = store::TicketOfReceived(sql, *it)) return t;
  }
  return std::nullopt;
}

std::string Clip(const std::string& text, size_t max_chars, std::vector<std::string>& left_out) {
  if (text::Utf8Length(text) <= max_chars) return text;
  left_out.push_back("the text after its first " + std::to_string(max_chars) +
                     " characters (the original message is kept whole)");
  return text::Utf8Prefix(text, max_chars);
}

}  // namespace

const char* OutcomeName(Outcome::Kind k) {
  switch (k) {
    case Outcome::Kind::kTicket:
      return "ticket";
    case Outcome::Kind::kReply:
      return "reply";
    case Outcome::Kind::kNote:
      return "note";
    case Outcome::Kind::kDropped:
      return "dropped";
    case Outcome::Kind::kDuplicate:
      return "duplicate";
  }
  return "dropped";
}

Gateway::Parsed Gateway::Parse(const std::string& raw) const {
  Parsed p;
  p.message = ParseMessage(raw, limits_);
  const Message& m = p.message;
  p.id = m.message_id.empty() ? DerivedMessageId(raw) : m.message_id;
  p.sender = m.from.size() == 1 && !m.from_malformed ? m.from[0] : m.from_header;
  return p;
}

Outcome Gateway::Ingest(const std::string& raw) { return Ingest(Parse(raw), raw); }

Outcome Gateway::Ingest(const Parsed& parsed, const std::string& raw) {
  const Message& m = parsed.message;
  const std::string& id = parsed.id;
  const std::string& sender = parsed.sender;
  Outcome out;
  // Two deliveries of one message at once (a backup MX): the second's insert
  // meets the first's row; once more, it finds it stored and is a duplicate.
  for (int attempt = 0;; ++attempt) {
    try {
      db_.Write([&](db::Tx& tx) {
        Store(tx, m, raw, id, sender, out);
        std::string line = "mail <" + text::CollapseWhitespace(CleanText(id)) + "> from " +
                           text::CollapseWhitespace(sender) + ": " + OutcomeName(out.kind) + ": " +
                           out.detail;
        tx.AfterCommit([line = std::move(line)] { log::Info(line); });
      });
      break;
    } catch (const soci::soci_error& e) {
      if (attempt > 0 || !db::IsUniqueViolation(e)) throw;
    }
  }
  return out;
}

void Gateway::Store(db::Tx& tx, const Message& m, const std::string& raw, const std::string& id,
                    const std::string& sender, Outcome& out) {
  soci::session& sql = tx.sql();
  out = Outcome{};
  int64_t now = clock_.NowUnix();
  store::Record rec;
  rec.message_id = id;
  rec.sender = sender;
  rec.subject = m.subject;
  rec.raw = raw.size() > limits_.max_message_bytes ? raw.substr(0, limits_.max_message_bytes) : raw;
  rec.received_at = FormatIsoUtc(now);
  if (store::Exists(sql, id, sender)) {
    out.kind = Outcome::Kind::kDuplicate;
    out.detail = "already received";
    return;
  }
  auto finish = [&](Outcome::Kind kind, const std::string& detail) {
    out.kind = kind;
    out.detail = detail;
    rec.outcome = OutcomeName(kind);
    rec.reason = kind == Outcome::Kind::kDropped ? detail : "";
    rec.ticket_id = out.ticket_id;
    store::Insert(sql, rec);
  };

  // A delivery report for mail we sent is a note on its ticket, never a ticket.
  std::string local = m.from.empty() ? "" : m.from[0].substr(0, m.from[0].find('@'));
  bool daemon = local == "mailer-daemon" || local == "postmaster";
  if (m.is_dsn || (daemon && !m.dsn_original_id.empty())) {
    std::vector<std::string> ids = m.references;
    ids.insert(ids.end(), m.in_reply_to.begin(), m.in_reply_to.end());
    if (!m.dsn_original_id.empty()) ids.push_back(m.dsn_original_id);
    auto tid = ThreadOf(sql, ids);
    std::optional<tickets::Ticket> reported = tid ? tickets_.FindIn(tx, *tid) : std::nullopt;
    if (!reported) {
      finish(Outcome::Kind::kDropped, "a delivery report about mail we did not send");
      return;
    }
    std::vector<std::string> ignored;
    std::string note = "Delivery report: mail from this ticket could not be delivered.";
    if (!m.dsn_text.empty()) note += "\n\n" + CleanText(m.dsn_text);
    if (!m.text.empty()) note += "\n\n" + Clip(m.text, 20000, ignored);
    tickets::Entry e = tickets_.AddMailNoteIn(tx, *tid, note);
    rec.entry_id = e.id;
    out.ticket_id = tid;
    out.ticket_number = reported->number;
    finish(Outcome::Kind::kNote,
           "delivery report noted on ticket #" + std::to_string(*out.ticket_number));
    return;
  }
  if (std::string why = LoopReason(m); !why.empty()) {
    finish(Outcome::Kind::kDropped, why);
    return;
  }

  const std::string mail_from = settings::Get(sql, "mail_from").value_or("");
  std::string our_address = text::FoldCase(mail_from);
  std::string our_domain = DomainOf(our_address);
  tickets::InboundMail in;
  in.from = m.from_malformed ? "" : m.from[0];
  in.from_display = m.from_header.empty() ? "(no sender)" : m.from_header;
  in.subject = m.subject;
  in.left_out = m.left_out;
  std::string body = TrimQuoted(m.text);
  in.body = Clip(body.empty() ? "(no text)" : body, limits_.max_text_characters, in.left_out);
  for (auto& f : m.files) in.attachments.push_back({f.filename, f.content_type, f.content});
  for (const auto& a : m.to_cc) {
    // Our own addresses are not participants; neither is the sender.
    if (a == in.from || a == our_address || (!our_domain.empty() && DomainOf(a) == our_domain)) {
      continue;
    }
    in.participants.push_back(a);
  }

  // E3: a reply to mail we sent (or to a message on a ticket); else a tag, from
  // someone already on that ticket; else a new ticket.
  std::vector<std::string> ids = m.references;
  ids.insert(ids.end(), m.in_reply_to.begin(), m.in_reply_to.end());
  std::optional<int64_t> tid = ThreadOf(sql, ids);
  std::string threaded = "replies to our mail";
  if (!tid && !in.from.empty()) {
    if (auto n = SubjectTag(m.subject)) {
      if (auto t = tickets_.IdOfNumberIn(tx, *n); t && tickets_.IsOnTicketIn(tx, *t, in.from)) {
        tid = t;
        threaded = "subject tag from someone on the ticket";
      }
    }
  }
  std::string follow_up;
  std::optional<tickets::Ticket> joined = tid ? tickets_.FindIn(tx, *tid) : std::nullopt;
  if (joined && joined->status == tickets::Status::kClosed) {
    follow_up = " It follows up closed ticket #" + std::to_string(joined->number) + ".";
    joined.reset();
  }
  if (joined) {
    tickets::Entry e = tickets_.AddMailReplyIn(tx, joined->id, in);
    rec.entry_id = e.id;
    out.ticket_id = joined->id;
    out.ticket_number = joined->number;
    finish(Outcome::Kind::kReply,
           "added to ticket #" + std::to_string(*out.ticket_number) + " (" + threaded + ")");
    return;
  }

  // E2: the sender decides the client: a known contact, else the exact domain of
  // an active client, else triage. Nothing else in the message does.
  std::optional<int64_t> client_id, contact_id;
  std::string how;
  if (in.from.empty()) {
    how = "In triage: the From (" + in.from_display + ") is not one valid address";
  } else {
    clients::ClientService::SenderMatch match = clients_.MatchSenderIn(tx, in.from);
    std::set<int64_t> clients_of_contact;
    for (const auto& [contact, client] : match.contacts) clients_of_contact.insert(client);
    if (clients_of_contact.size() == 1) {
      client_id = match.contacts[0].second;
      contact_id = match.contacts[0].first;
      how = "Routed to " + match.client_names[*client_id] + ": " + in.from + " is a contact there";
    } else if (clients_of_contact.size() > 1) {
      how = "In triage: " + in.from + " is a contact at " +
            std::to_string(clients_of_contact.size()) + " clients";
    } else if (match.domain_client) {
      // AddMailContactIn cleans the display name so the contact rules always take
      // it (tested with hostile names): a refusal here would be retried for ever.
      client_id = match.domain_client;
      contact_id =
          clients_.AddMailContactIn(tx, GatewayActor(), *client_id, m.from_name, in.from).id;
      how = "Routed to " + match.client_names[*client_id] + " by domain " + DomainOf(in.from) +
            "; " + in.from + " added as a contact";
    } else {
      how = "In triage: no contact or active client's domain matches " + in.from;
    }
  }
  auto [ticket, entry] = tickets_.OpenFromMailIn(tx, in, client_id, contact_id, how + follow_up);
  rec.entry_id = entry.id;
  out.ticket_id = ticket.id;
  out.ticket_number = ticket.number;

  // The acknowledgement: only to a sender we routed (never to triage, where
  // unknown and forged senders land), capped per recipient per hour.
  std::string ack;
  if (client_id && !our_address.empty() && in.from != our_address) {
    if (store::AutoRepliesSince(sql, in.from, now - 3600) < kAutoRepliesPerHour) {
      outbox::Mail mail;
      mail.from = mail_from;
      mail.to = {in.from};
      mail.subject = "[#" + std::to_string(ticket.number) + "] " + ticket.subject;
      mail.body = outbox::Fill(
          settings::Get(sql, "ack_template").value_or(std::string(outbox::kAckTemplate)),
          {{"name", ticket.contact_name},
           {"number", std::to_string(ticket.number)},
           {"subject", ticket.subject}});
      mail.auto_reply = true;
      mail.ref = "ticket:" + std::to_string(ticket.id);
      if (!m.message_id.empty()) {
        mail.in_reply_to = "<" + m.message_id + ">";
        mail.references = {mail.in_reply_to};
      }
      outbox::Enqueue(sql, mail, now);
      store::RecordAutoReply(sql, in.from, now);
      ack = ", acknowledged";
    } else {
      ack = ", not acknowledged (hourly cap for " + in.from + ")";
    }
  }
  finish(Outcome::Kind::kTicket,
         "new ticket #" + std::to_string(ticket.number) + ": " + how + follow_up + ack);
}

std::string Gateway::Original(const staff::Actor& actor, int64_t ticket_id, int64_t entry_id) {
  tickets_.Get(actor, ticket_id);  // permission, and NotFound for another ticket
  std::optional<std::pair<int64_t, std::string>> found;
  db_.Read([&](soci::session& sql) { found = store::RawOfEntry(sql, entry_id); });
  if (!found || found->first != ticket_id) throw NotFound("Message");
  return found->second;
}

}  // namespace opsmerge::mail
