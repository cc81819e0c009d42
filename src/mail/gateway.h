#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "audit/service.h"
#include "clients/service.h"
#include "mail/model.h"
#include "platform/clock.h"
#include "platform/db.h"
#include "tickets/service.h"

// The email gateway (E1-E4): one message in, stored once, routed to a client by
// its sender, threaded onto the ticket it answers, or dropped with a logged reason
// when it is a robot's. Every message's raw bytes are kept. Thread-safe.
namespace opsmerge::mail {

struct Outcome {
  enum class Kind { kTicket, kReply, kNote, kDropped, kDuplicate } kind = Kind::kDropped;
  std::optional<int64_t> ticket_id;
  std::optional<int64_t> ticket_number;
  std::string detail;  // for the log: "new ticket #12 for Acme Corp (by domain)", a reason
};
const char* OutcomeName(Outcome::Kind k);  // "ticket", "reply", "note", "dropped", "duplicate"

class Gateway {
 public:
  Gateway(db::Database& db, const Clock& clock, clients::ClientService& clients,
          tickets::TicketService& tickets, Limits limits = {})
      : db_(db), clock_(clock), clients_(clients), tickets_(tickets), limits_(limits) {}

  // Takes one RFC 5322 message: stores it (the same Message-ID again is a
  // duplicate, not a second entry) and does what E1-E4 say, in one transaction.
  // Throws NotAMessage (mime.h) for input that is not a message; a database error
  // propagates (the caller answers "try again later": nothing was written). Called
  // inside a caller's transaction (the IMAP poller's batch), it is a savepoint of
  // it: a message that fails leaves the others; its log line waits for the commit.
  Outcome Ingest(const std::string& raw);

  // Ingest in two steps, so that a batch's parsing (no database) can run on
  // another thread while the batch before is stored.
  struct Parsed {
    Message message;
    std::string id;      // its Message-ID, or one derived from its bytes
    std::string sender;  // as stored
  };
  Parsed Parse(const std::string& raw) const;  // throws NotAMessage
  Outcome Ingest(const Parsed& parsed, const std::string& raw);

  const Limits& limits() const { return limits_; }

  // The original message behind a ticket entry, for download ("" when none).
  std::string Original(const staff::Actor& actor, int64_t ticket_id, int64_t entry_id);

 private:
  // The use case's writes; `out` says what became of the message.
  void Store(db::Tx& tx, const Message& m, const std::string& raw, const std::string& id,
             const std::string& sender, Outcome& out);

  db::Database& db_;
  const Clock& clock_;
  clients::ClientService& clients_;
  tickets::TicketService& tickets_;
  Limits limits_;
};

}  // namespace opsmerge::mail
