#include "platform/scheduler.h"

#include <algorithm>
#include <chrono>

#include <soci/soci.h>
#include <unistd.h>

#include "platform/crypto.h"
#include "platform/log.h"

namespace opsmerge {

Scheduler::Scheduler(db::Database& db, const Clock& clock, std::string node_id,
                     int64_t lease_seconds, std::chrono::milliseconds tick)
    : db_(db),
      clock_(clock),
      node_id_(std::move(node_id)),
      lease_seconds_(lease_seconds),
      tick_(tick.count() > 0 ? tick
                             : std::chrono::milliseconds(
                                   std::clamp<int64_t>(lease_seconds * 1000 / 3, 200, 5000))) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Add(Job job) { jobs_.push_back(std::move(job)); }

void Scheduler::Start() {
  thread_ = std::thread([this] {
    // A full pass every tick_; a request (RunSoon) in between wakes a pass over the
    // requested jobs alone, so a stream of mail neither renews every lease per
    // message nor puts off the next full pass.
    auto next_full = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      bool full = std::chrono::steady_clock::now() >= next_full;
      lock.unlock();
      try {
        Pass(full);
      } catch (const std::exception& e) {
        log::Error(std::string("scheduler: ") + e.what());
      }
      lock.lock();
      if (full) next_full = std::chrono::steady_clock::now() + tick_;
      wake_.wait_until(lock, next_full, [this] { return stopping_ || !soon_.empty(); });
    }
  });
}

void Scheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    // Hand the work over at once instead of after the lease lapses.
    for (const Job& job : jobs_) {
      try {
        db_.ReleaseLease("job:" + job.name, node_id_);
      } catch (const std::exception&) {
        // The database may already be gone at shutdown; the lease just lapses.
      }
    }
  }
}

bool Scheduler::ClaimPeriod(const Job& job, int64_t now) {
  bool claimed = false;
  db_.Write([&](soci::session& sql) {
    long long at = now, due_before = now - job.period_seconds;
    soci::statement claim =
        (sql.prepare << "INSERT INTO job_state (name, last_run_at) VALUES (:n, :at) ON CONFLICT "
                        "(name) DO UPDATE SET last_run_at = excluded.last_run_at "
                        "WHERE job_state.last_run_at <= :due",
         soci::use(job.name), soci::use(at), soci::use(due_before));
    claim.execute(true);
    // Zero rows when the period is not over yet (the conflict's WHERE was false).
    claimed = claim.get_affected_rows() == 1;
    if (claimed) {
      sql << "INSERT INTO job_runs (job, node, started_at) VALUES (:j, :n, :at)",
          soci::use(job.name), soci::use(node_id_), soci::use(at);
    }
  });
  return claimed;
}

void Scheduler::ResetClock(const std::function<void()>& set_clock) {
  std::lock_guard<std::mutex> pass(pass_);
  set_clock();
  db_.Write([](soci::session& sql) { sql << "DELETE FROM job_state"; });
}

void Scheduler::RunSoon(const std::string& name) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    soon_.insert(name);
  }
  wake_.notify_all();
}

void Scheduler::Tick() { Pass(true); }

void Scheduler::TickRequested() { Pass(false); }

void Scheduler::Pass(bool all) {
  std::lock_guard<std::mutex> pass(pass_);
  // Taken inside the pass: a request made before a Tick returns has run by then.
  std::set<std::string> soon;
  {
    std::lock_guard<std::mutex> lock(mu_);
    soon.swap(soon_);
  }
  for (const Job& job : jobs_) {
    bool requested = soon.count(job.name) > 0;
    if (!all && !requested) continue;
    int64_t now = clock_.NowUnix();
    if (!db_.TryLease("job:" + job.name, node_id_, now, lease_seconds_)) continue;
    // A run asked for now leaves the period's own run (and its job_runs row) as it was.
    if (!requested && !ClaimPeriod(job, now)) continue;
    try {
      std::string result = job.run();
      // A frequent job with nothing to do (the mail queue) says so with "".
      if (!result.empty()) log::Info("job " + job.name + " ran on " + node_id_ + ": " + result);
    } catch (const std::exception& e) {
      log::Error("job " + job.name + " failed on " + node_id_ + ": " + e.what());
    }
  }
}

std::string MakeNodeId() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + crypto::RandomHex(4);
}

}  // namespace opsmerge
