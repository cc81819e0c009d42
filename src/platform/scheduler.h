#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "platform/clock.h"
#include "platform/db.h"

// Periodic work that runs once per period across every node sharing the database
// (ARCHITECTURE: "Scheduled work takes a lease row"). It is the only way jobs are
// scheduled. Each job has a lease "job:<name>": the node holding it runs the job when
// due and renews the lease every tick; if that node dies the lease lapses and another
// node takes over within one lease period. Due-ness is claimed with a conditional
// UPDATE of job_state in the same database, so even two nodes that both believe they
// hold the lease cannot run one period twice.
// Thread-safety: Add() before Start(); Start/Stop from one thread; Tick() is what
// the background thread calls and is safe to call from tests instead.
namespace opsmerge {

class Scheduler {
 public:
  struct Job {
    std::string name;
    int64_t period_seconds = 3600;
    // Returns a one-line result for the job_runs log. Exceptions are logged.
    std::function<std::string()> run;
  };

  // Ticks every `tick` of real time (0: a third of the lease, 0.2-5 s), so a
  // holder renews well inside its lease; due-ness is judged by `clock`.
  Scheduler(db::Database& db, const Clock& clock, std::string node_id, int64_t lease_seconds,
            std::chrono::milliseconds tick = std::chrono::milliseconds(0));
  ~Scheduler();

  void Add(Job job);
  void Start();
  void Stop();
  // One pass over the jobs. Passes never overlap within a process: a Tick called
  // while the background loop's pass runs waits for it, so when Tick returns every
  // job that was due has finished (the test build's /__test__/tick relies on it).
  void Tick();
  // A pass over only the jobs RunSoon asked for (what the background loop runs when
  // a request wakes it between two full passes).
  void TickRequested();
  // Between two passes (never during one), calls `set_clock` and forgets when
  // each job last ran, so the next tick runs them all: the test build, when a
  // test sets the clock back. A pass that read the old clock cannot claim a
  // period after the reset.
  void ResetClock(const std::function<void()>& set_clock);
  // Asks for the job `name` to run in a pass that starts now, whether or not its
  // period is over: work that arrived and should not wait for the period, such as
  // mail just queued. Still only on the node holding the job's lease, so never on
  // two nodes at once; on another node the job runs at its period there. Requests
  // before the pass starts are merged into one run. Thread-safe, cheap, and
  // harmless after Stop.
  void RunSoon(const std::string& name);

  const std::string& node_id() const { return node_id_; }

 private:
  bool ClaimPeriod(const Job& job, int64_t now);
  void Pass(bool all);  // all jobs, or only those requested

  db::Database& db_;
  const Clock& clock_;
  const std::string node_id_;
  const int64_t lease_seconds_;
  const std::chrono::milliseconds tick_;
  std::vector<Job> jobs_;
  std::thread thread_;
  std::mutex mu_;    // guards stopping_ and soon_
  std::mutex pass_;  // one Tick at a time
  std::condition_variable wake_;
  bool stopping_ = false;
  std::set<std::string> soon_;  // jobs RunSoon asked for, taken by the next pass
};

// "host:pid:random": unique per process, readable in job_runs.
std::string MakeNodeId();

}  // namespace opsmerge
