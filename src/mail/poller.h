#pragma once

#include <cstdint>
#include <string>

#include "mail/gateway.h"
#include "platform/db.h"
#include "platform/secret_box.h"

// The IMAP poller (E1): the scheduler's "mail-poll" job reads the mailbox the
// settings name (imap_url, imap_password) every imap_poll_seconds, on one node at
// a time. Messages come in batches (one IMAP command each, the next on its way
// while one is stored) and go through the gateway in one transaction per batch, a
// savepoint per message; the UID cursor commits with them, and only then are they
// marked \Seen. A message whose ingest fails stays unseen and is read again next
// time; the ones before it in its batch are kept. Thread-safe.
namespace opsmerge::mail {

// Returns a line for the log, "" when it was not time to poll or no mailbox is set.
// Takes messages for at most `budget_seconds` (within the scheduler's lease); a
// backlog beyond that waits for the next poll.
std::string PollImap(db::Database& db, Gateway& gateway, const SecretBox& secrets, int64_t now,
                     int budget_seconds = 20);

}  // namespace opsmerge::mail
