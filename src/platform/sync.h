#pragma once

#include <condition_variable>
#include <mutex>

// A mutex and lock that clang's -Wthread-safety understands (libstdc++'s are not
// annotated). Members a mutex guards are marked OM_GUARDED_BY(mu_); functions that
// expect the lock held are OM_REQUIRES(mu_). Under GCC the annotations vanish and
// these are plain std::mutex / std::unique_lock.
#if defined(__clang__)
#define OM_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define OM_THREAD_ANNOTATION(x)
#endif

#define OM_CAPABILITY(x) OM_THREAD_ANNOTATION(capability(x))
#define OM_SCOPED_CAPABILITY OM_THREAD_ANNOTATION(scoped_lockable)
#define OM_GUARDED_BY(x) OM_THREAD_ANNOTATION(guarded_by(x))
#define OM_PT_GUARDED_BY(x) OM_THREAD_ANNOTATION(pt_guarded_by(x))
#define OM_REQUIRES(...) OM_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define OM_EXCLUDES(...) OM_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define OM_ACQUIRE(...) OM_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define OM_RELEASE(...) OM_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define OM_NO_THREAD_SAFETY_ANALYSIS OM_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace opsmerge {

class OM_CAPABILITY("mutex") Mutex {
 public:
  void lock() OM_ACQUIRE() { mu_.lock(); }
  void unlock() OM_RELEASE() { mu_.unlock(); }
  // For std::condition_variable; the analysis cannot follow a wait, so callers
  // of Wait() below keep the annotations honest instead.
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

// Holds `mu` for its lifetime; Wait() releases it while blocked, as
// std::condition_variable::wait does, and holds it again on return.
class OM_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) OM_ACQUIRE(mu) : lock_(mu.native()) {}
  ~MutexLock() OM_RELEASE() = default;
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  template <typename Predicate>
  void Wait(std::condition_variable& cv, Predicate ready) {
    cv.wait(lock_, ready);
  }
  template <typename Duration, typename Predicate>
  bool WaitFor(std::condition_variable& cv, Duration d, Predicate ready) {
    return cv.wait_for(lock_, d, ready);
  }
  template <typename TimePoint, typename Predicate>
  bool WaitUntil(std::condition_variable& cv, TimePoint t, Predicate ready) {
    return cv.wait_until(lock_, t, ready);
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

}  // namespace opsmerge
