#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace soci {
class session;
}

// The email gateway's SQL, nothing else. Runs on the caller's session.
namespace opsmerge::mail::store {

struct Record {
  std::string message_id;
  std::string sender;
  std::string subject;
  std::string outcome;  // "ticket", "reply", "note", "dropped"
  std::string reason;
  std::optional<int64_t> ticket_id;
  std::optional<int64_t> entry_id;
  std::string raw;
  std::string received_at;
};

// Whether this Message-ID from this sender was stored already.
bool Exists(soci::session& sql, const std::string& message_id, const std::string& sender);
// Throws soci_error on a duplicate Message-ID and sender (a concurrent delivery of the same
// message): the caller's transaction rolls back and the retry sees it stored.
void Insert(soci::session& sql, const Record& r);
// The ticket a message we received and kept on a ticket belongs to.
std::optional<int64_t> TicketOfReceived(soci::session& sql, const std::string& message_id);
// The raw bytes kept for an entry, with the entry's ticket.
std::optional<std::pair<int64_t, std::string>> RawOfEntry(soci::session& sql, int64_t entry_id);
// Auto-replies sent to `recipient` since `since`; and one more recorded.
int64_t AutoRepliesSince(soci::session& sql, const std::string& recipient, int64_t since);
void RecordAutoReply(soci::session& sql, const std::string& recipient, int64_t at);

}  // namespace opsmerge::mail::store
