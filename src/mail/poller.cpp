#include "mail/poller.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

#include <soci/soci.h>

#include "mail/mime.h"
#include "platform/clock.h"
#include "platform/imap.h"
#include "platform/log.h"
#include "platform/settings.h"

namespace opsmerge::mail {

namespace {

constexpr const char* kPolledAt = "mail.imap_polled_at";
// "UIDVALIDITY:UID" of the last message committed from the mailbox.
constexpr const char* kCursor = "mail.imap_cursor";

int64_t Number(const std::optional<std::string>& v, int64_t fallback) {
  if (!v || v->empty() || v->size() > 18 ||
      v->find_first_not_of("0123456789") != std::string::npos) {
    return fallback;
  }
  return std::stoll(*v);
}

}  // namespace

std::string PollImap(db::Database& db, Gateway& gateway, const SecretBox& secrets, int64_t now,
                     int budget_seconds) {
  auto started = std::chrono::steady_clock::now();
  imap::Mailbox box;
  std::string cursor;
  bool due = false;
  // Read first: the job runs every few seconds on every node, and most runs find no
  // mailbox set or its time not come, which needs no write lock.
  db.Read([&](soci::session& sql) {
    box.url = settings::Get(sql, "imap_url").value_or("");
    if (box.url.empty()) return;
    int64_t every = Number(settings::Get(sql, "imap_poll_seconds"), 60);
    int64_t last = Number(settings::Get(sql, kPolledAt), 0);
    if (now - last < every) return;
    due = true;
    if (auto sealed = settings::Get(sql, "imap_password")) {
      box.password = secrets.Open(*sealed).value_or("");
    }
    cursor = settings::Get(sql, kCursor).value_or("");
  });
  if (!due) return "";
  db.Write([&](soci::session& sql) {
    settings::Set(sql, kPolledAt, std::to_string(now), FormatIsoUtc(now));
  });

  imap::Client client(box);
  int64_t validity = client.UidValidity();
  // New mail: what nobody has read yet, and everything after the last message we
  // committed (a crash after the server marked one seen cannot lose it).
  std::set<int64_t> uids;
  for (int64_t u : client.Search("UNSEEN")) uids.insert(u);
  int64_t after = 0;
  if (size_t colon = cursor.find(':');
      colon != std::string::npos && Number(cursor.substr(0, colon), -1) == validity) {
    after = Number(cursor.substr(colon + 1), 0);
    for (int64_t u : client.Search("UID " + std::to_string(after + 1) + ":*")) {
      if (u > after) uids.insert(u);
    }
  }
  size_t stored = 0, dropped = 0, failed = 0;
  // Committed messages are marked seen in batches: one command per 100, never
  // before their commit.
  std::vector<int64_t> committed;
  auto mark_seen = [&] {
    client.SetSeen(committed, true);
    committed.clear();
  };
  for (int64_t uid : uids) {
    if (std::chrono::steady_clock::now() - started > std::chrono::seconds(budget_seconds)) break;
    int64_t high = std::max(after, uid);
    auto advance = [&](db::Tx& tx) {
      settings::Set(tx.sql(), kCursor, std::to_string(validity) + ":" + std::to_string(high),
                    FormatIsoUtc(now));
    };
    try {
      std::string raw = client.Fetch(uid);
      try {
        gateway.Ingest(raw, advance);
        ++stored;
      } catch (const NotAMessage& e) {
        // Deliberately dropped: nothing to keep, nothing to try again.
        db.Write(std::function<void(db::Tx&)>(advance));
        log::Info("mail: IMAP UID " + std::to_string(uid) + " is not a message (" + e.what() +
                  "); skipped");
        ++dropped;
      }
      after = high;
      committed.push_back(uid);
      if (committed.size() >= 100) mark_seen();
    } catch (const std::exception& e) {
      // Not stored: unseen again, so the next poll (on any node) reads it again.
      ++failed;
      log::Info("mail: IMAP UID " + std::to_string(uid) + " not stored, will retry: " + e.what());
      try {
        client.SetSeen({uid}, false);
      } catch (const std::exception&) {
      }
      break;  // the database or the mailbox is failing: stop this poll
    }
  }
  try {
    mark_seen();
  } catch (const std::exception& e) {
    // Stored but still unseen: the next poll finds them stored (duplicates) and
    // marks them then.
    log::Info(std::string("mail: IMAP could not mark messages seen: ") + e.what());
  }
  if (uids.empty()) return "";
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  char took[32];
  std::snprintf(took, sizeof took, "%.2f", secs);
  return "IMAP: " + std::to_string(stored) + " messages taken, " + std::to_string(dropped) +
         " not messages, " + std::to_string(failed) + " to retry, in " + took + " s";
}

}  // namespace opsmerge::mail
