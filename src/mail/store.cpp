#include "mail/store.h"

#include <soci/soci.h>

#include "platform/crypto.h"
#include "platform/db.h"
#include "platform/text.h"

namespace opsmerge::mail::store {

bool Exists(soci::session& sql, const std::string& message_id, const std::string& sender) {
  long long id = 0;
  sql << "SELECT id FROM mail_messages WHERE message_id = :m AND sender = :s",
      soci::use(message_id), soci::use(sender), soci::into(id);
  return sql.got_data();
}

void Insert(soci::session& sql, const Record& r) {
  long long tid = r.ticket_id.value_or(0), eid = r.entry_id.value_or(0),
            size = static_cast<long long>(r.raw.size());
  soci::indicator ti = r.ticket_id ? soci::i_ok : soci::i_null;
  soci::indicator ei = r.entry_id ? soci::i_ok : soci::i_null;
  // Text as it came (both databases keep any valid UTF-8 without NUL); else base64.
  const bool text = r.raw.find('\0') == std::string::npos && text::IsValidUtf8(r.raw);
  const std::string encoded = text ? std::string() : crypto::Base64(r.raw);
  const std::string encoding = text ? "text" : "base64";
  sql << "INSERT INTO mail_messages (message_id, sender, subject, outcome, reason, ticket_id, "
         "entry_id, size, raw, raw_encoding, received_at) VALUES (:m, :s, :sub, :o, :r, :t, :e, "
         ":size, :raw, :enc, :at)",
      soci::use(r.message_id), soci::use(r.sender), soci::use(r.subject), soci::use(r.outcome),
      soci::use(r.reason), soci::use(tid, ti), soci::use(eid, ei), soci::use(size),
      soci::use(text ? r.raw : encoded), soci::use(encoding), soci::use(r.received_at);
}

std::optional<int64_t> TicketOfReceived(soci::session& sql, const std::string& message_id) {
  soci::indicator ind = soci::i_null;
  long long tid = 0;
  sql << "SELECT ticket_id FROM mail_messages WHERE message_id = :m AND outcome IN ('ticket', "
         "'reply') ORDER BY id LIMIT 1",
      soci::use(message_id), soci::into(tid, ind);
  if (!sql.got_data() || ind != soci::i_ok) return std::nullopt;
  return tid;
}

std::optional<std::pair<int64_t, std::string>> RawOfEntry(soci::session& sql, int64_t entry_id) {
  long long eid = entry_id;
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT ticket_id, raw, raw_encoding FROM mail_messages WHERE entry_id = :e",
       soci::use(eid));
  for (const auto& r : rs) {
    std::string raw = db::RowText(r, 1);
    return std::make_pair(db::RowInt(r, 0),
                          db::RowText(r, 2) == "text" ? raw : crypto::FromBase64(raw));
  }
  return std::nullopt;
}

int64_t AutoRepliesSince(soci::session& sql, const std::string& recipient, int64_t since) {
  long long n = 0, s = since;
  sql << "SELECT COUNT(*) FROM mail_autoreplies WHERE recipient = :r AND sent_at > :s",
      soci::use(recipient), soci::use(s), soci::into(n);
  return n;
}

void RecordAutoReply(soci::session& sql, const std::string& recipient, int64_t at) {
  long long a = at;
  sql << "INSERT INTO mail_autoreplies (recipient, sent_at) VALUES (:r, :a)", soci::use(recipient),
      soci::use(a);
}

}  // namespace opsmerge::mail::store
