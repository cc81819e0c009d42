#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "platform/db.h"
#include "rmm/model.h"

// Group commit for agent heartbeats. Each check-in's handler calls Write() and
// blocks until its heartbeat is committed; one writer thread commits whatever has
// queued meanwhile in a single transaction, so a thousand check-ins cost one
// commit instead of a thousand. A batch that fails is retried one heartbeat at a
// time, so one bad row cannot fail the others. Thread-safe.
namespace opsmerge::rmm {

class CheckinWriter {
 public:
  explicit CheckinWriter(db::Database& db, size_t max_batch = 1000);
  ~CheckinWriter();  // commits what is queued, then stops
  CheckinWriter(const CheckinWriter&) = delete;
  CheckinWriter& operator=(const CheckinWriter&) = delete;

  // Records last_seen_at and metrics (and a per-minute metrics sample). Rethrows
  // the database's error if the heartbeat could not be written.
  void Write(int64_t endpoint_id, int64_t now, const Metrics& metrics);

 private:
  struct Pending {
    int64_t endpoint_id;
    int64_t now;
    Metrics metrics;
    bool done = false;
    std::exception_ptr error;
    std::condition_variable committed;  // wakes exactly this caller
  };
  void Loop();
  void Commit(std::deque<Pending*>& batch);

  db::Database& db_;
  const size_t max_batch_;
  std::mutex mu_;  // guards queue_ and stopping_, and each Pending's done/error
  std::condition_variable work_;
  std::deque<Pending*> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace opsmerge::rmm
