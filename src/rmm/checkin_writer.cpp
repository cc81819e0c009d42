#include "rmm/checkin_writer.h"

#include <soci/soci.h>

#include "rmm/store.h"

namespace opsmerge::rmm {

namespace {

void WriteOne(soci::session& sql, int64_t endpoint_id, int64_t now, const Metrics& m) {
  store::RecordHeartbeats(sql, {store::Heartbeat{endpoint_id, now, m}});
}

}  // namespace

CheckinWriter::CheckinWriter(db::Database& db, size_t max_batch)
    : db_(db), max_batch_(max_batch), thread_([this] { Loop(); }) {}

CheckinWriter::~CheckinWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  thread_.join();
}

void CheckinWriter::Write(int64_t endpoint_id, int64_t now, const Metrics& metrics) {
  Pending p{endpoint_id, now, metrics, false, nullptr, {}};
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&p);
  work_.notify_one();
  p.committed.wait(lock, [&] { return p.done; });
  if (p.error) std::rethrow_exception(p.error);
}

void CheckinWriter::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty() && stopping_) return;
    std::deque<Pending*> batch;
    while (!queue_.empty() && batch.size() < max_batch_) {
      batch.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    Commit(batch);
    lock.lock();
    for (Pending* p : batch) {
      p->done = true;
      p->committed.notify_one();
    }
  }
}

void CheckinWriter::Commit(std::deque<Pending*>& batch) {
  try {
    std::vector<store::Heartbeat> beats;
    beats.reserve(batch.size());
    for (Pending* p : batch) beats.push_back({p->endpoint_id, p->now, p->metrics});
    db_.Write([&](soci::session& sql) { store::RecordHeartbeats(sql, beats); });
    return;
  } catch (...) {
    if (batch.size() == 1) {
      batch.front()->error = std::current_exception();
      return;
    }
  }
  for (Pending* p : batch) {
    try {
      db_.Write([&](soci::session& sql) { WriteOne(sql, p->endpoint_id, p->now, p->metrics); });
    } catch (...) {
      p->error = std::current_exception();
    }
  }
}

}  // namespace opsmerge::rmm
