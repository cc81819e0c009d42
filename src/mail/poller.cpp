#include "mail/poller.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <vector>

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
// Messages stored in one transaction, each in its own savepoint: few enough that
// other writers wait at most a fraction of a second, many enough that a backlog
// moves at the speed of the database rather than of its commits.
constexpr size_t kBatchMessages = 50;
constexpr size_t kBatchBytes = 16u << 20;

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
  if (uids.empty()) return "";

  // One batch as read and parsed: the UIDs it took from the list, and those still
  // in the mailbox with their message or why it is not one.
  struct Item {
    int64_t uid = 0;
    std::string raw;
    std::optional<Gateway::Parsed> parsed;
    std::string not_a_message;
  };
  struct Batch {
    std::vector<int64_t> uids;
    std::vector<Item> items;
  };
  const std::vector<int64_t> wanted(uids.begin(), uids.end());
  size_t next_uid = 0;  // into `wanted`; moved only by the task that reads
  // A message over the gateway's limit is fetched only as far as the gateway keeps it.
  const size_t max_bytes = gateway.limits().max_message_bytes + 1;
  auto mark_seen = [&](const std::vector<int64_t>& committed) {
    try {
      client.SetSeen(committed, true);
    } catch (const std::exception& e) {
      // Stored but still unseen: the next poll finds them stored (duplicates) and
      // marks them then.
      log::Info(std::string("mail: IMAP could not mark messages seen: ") + e.what());
    }
  };
  // Marks the messages committed so far \Seen (only once committed), then reads the
  // next batch: up to kBatchMessages messages and kBatchBytes bytes (at least one
  // message). The client is this task's alone while it runs.
  auto read = [&](const std::vector<int64_t>& seen) {
    mark_seen(seen);
    std::vector<int64_t> ask(wanted.begin() + static_cast<std::ptrdiff_t>(next_uid),
                             wanted.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                  wanted.size(), next_uid + kBatchMessages)));
    std::map<int64_t, int64_t> sizes = client.Sizes(ask);
    Batch batch;
    std::vector<int64_t> fetch;
    size_t bytes = 0;
    for (int64_t uid : ask) {
      auto size = sizes.find(uid);
      if (size != sizes.end()) {
        size_t b = std::min(static_cast<size_t>(std::max<int64_t>(size->second, 0)), max_bytes);
        if (!fetch.empty() && bytes + b > kBatchBytes) break;
        fetch.push_back(uid);
        bytes += b;
      }  // else gone from the mailbox meanwhile
      batch.uids.push_back(uid);
    }
    next_uid += batch.uids.size();
    std::map<int64_t, std::string> bodies = client.Fetch(fetch, max_bytes);
    for (int64_t uid : fetch) {
      auto it = bodies.find(uid);
      if (it == bodies.end()) continue;  // gone meanwhile
      Item item{uid, std::move(it->second), std::nullopt, ""};
      try {
        item.parsed = gateway.Parse(item.raw);
      } catch (const NotAMessage& e) {
        item.not_a_message = e.what();
      }
      batch.items.push_back(std::move(item));
    }
    return batch;
  };

  size_t stored = 0, dropped = 0, failed = 0;
  auto out_of_time = [&] {
    return std::chrono::steady_clock::now() - started > std::chrono::seconds(budget_seconds);
  };
  std::vector<int64_t> to_mark;  // committed, not yet marked \Seen
  std::future<Batch> next = std::async(std::launch::async, read, std::vector<int64_t>());
  while (next.valid()) {
    Batch batch;
    try {
      batch = next.get();
    } catch (const std::exception& e) {
      log::Info(std::string("mail: IMAP could not read messages, will retry: ") + e.what());
      ++failed;
      break;
    }
    // The next batch is read and parsed on another thread while this one is stored.
    if (next_uid < wanted.size() && !out_of_time()) {
      next = std::async(std::launch::async, read, std::move(to_mark));
      to_mark.clear();
    }
    const std::vector<Item>& items = batch.items;
    std::vector<int64_t> taken;
    size_t batch_stored = 0, batch_dropped = 0;
    bool stop = false;
    int64_t high = after;
    try {
      db.Write([&](db::Tx& tx) {
        for (const Item& item : items) {
          if (item.parsed) {
            try {
              gateway.Ingest(*item.parsed, item.raw);  // a savepoint: a failure leaves the others
              ++batch_stored;
            } catch (const std::exception& e) {
              // Not stored: still unseen, so the next poll (on any node) reads it again.
              log::Info("mail: IMAP UID " + std::to_string(item.uid) +
                        " not stored, will retry: " + e.what());
              stop = true;  // the database is failing: stop this poll
              break;
            }
          } else {
            // Deliberately dropped: nothing to keep, nothing to try again.
            log::Info("mail: IMAP UID " + std::to_string(item.uid) + " is not a message (" +
                      item.not_a_message + "); skipped");
            ++batch_dropped;
          }
          taken.push_back(item.uid);
          high = std::max(high, item.uid);
        }
        // Past the batch's messages that are gone from the mailbox too, unless one
        // is to be read again.
        if (!stop && !batch.uids.empty()) high = std::max(high, batch.uids.back());
        if (high > after) {
          settings::Set(tx.sql(), kCursor, std::to_string(validity) + ":" + std::to_string(high),
                        FormatIsoUtc(now));
        }
      });
    } catch (const std::exception& e) {
      // The batch did not commit: none of it is stored, all of it stays unseen.
      log::Info(std::string("mail: IMAP batch not stored, will retry: ") + e.what());
      failed += items.size();
      break;
    }
    after = high;
    stored += batch_stored;
    dropped += batch_dropped;
    to_mark.insert(to_mark.end(), taken.begin(), taken.end());
    if (stop) {
      ++failed;
      break;
    }
  }
  if (next.valid()) {
    try {
      next.get();  // the client is free again
    } catch (const std::exception&) {
      // Read again next time.
    }
  }
  if (!to_mark.empty()) mark_seen(to_mark);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  char took[32];
  std::snprintf(took, sizeof took, "%.2f", secs);
  return "IMAP: " + std::to_string(stored) + " messages taken, " + std::to_string(dropped) +
         " not messages, " + std::to_string(failed) + " to retry, in " + took + " s";
}

}  // namespace opsmerge::mail
