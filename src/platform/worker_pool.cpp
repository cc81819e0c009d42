#include "platform/worker_pool.h"

#include <exception>

#include "platform/log.h"

namespace opsmerge {

WorkerPool::WorkerPool(std::string name, size_t threads, size_t max_queued)
    : name_(std::move(name)), max_queued_(max_queued < 1 ? 1 : max_queued) {
  if (threads < 1) threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkerPool::~WorkerPool() { Stop(); }

bool WorkerPool::TrySubmit(std::function<void()> job) {
  {
    MutexLock lock(mu_);
    if (stopping_ || jobs_.size() >= max_queued_) return false;
    jobs_.push_back(std::move(job));
  }
  ready_.notify_one();
  return true;
}

size_t WorkerPool::queued() {
  MutexLock lock(mu_);
  return jobs_.size();
}

void WorkerPool::Stop() {
  {
    MutexLock lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  ready_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void WorkerPool::Loop() {
  while (true) {
    std::function<void()> job;
    {
      MutexLock lock(mu_);
      lock.Wait(ready_,
                [this]() OM_NO_THREAD_SAFETY_ANALYSIS { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and nothing left to run
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      log::Error("worker pool " + name_ + ": a job failed: " + e.what());
    } catch (...) {
      log::Error("worker pool " + name_ + ": a job failed");
    }
  }
}

}  // namespace opsmerge
