#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "platform/sync.h"

// A fixed set of threads running queued jobs, with a bounded queue. The HTTP layer
// runs handlers here so that slow database work never holds an I/O thread, and
// keeps one pool per kind of caller (agents, people) so that a storm of one never
// starves the other. When the queue is full TrySubmit refuses at once: the caller
// answers 503 with Retry-After instead of letting latency grow without bound.
// Thread-safe. Jobs must not throw (an escaping exception is logged and dropped).
namespace opsmerge {

class WorkerPool {
 public:
  // `threads` >= 1; `max_queued` >= 1 jobs may wait beyond those running.
  WorkerPool(std::string name, size_t threads, size_t max_queued);
  ~WorkerPool();  // Stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `job`; false (and `job` dropped) when the queue is full or stopping.
  bool TrySubmit(std::function<void()> job) OM_EXCLUDES(mu_);
  // Runs what is queued, then joins the threads. Idempotent.
  void Stop() OM_EXCLUDES(mu_);

  size_t queued() OM_EXCLUDES(mu_);
  const std::string& name() const { return name_; }

 private:
  void Loop() OM_EXCLUDES(mu_);

  const std::string name_;
  const size_t max_queued_;
  Mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> jobs_ OM_GUARDED_BY(mu_);
  bool stopping_ OM_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace opsmerge
