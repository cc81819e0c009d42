#pragma once

#include <cstdint>
#include <memory>

#include "platform/http/server.h"

// The connection layer behind http::Server (Boost.Beast on Asio). Internal to
// platform/http: only server.cpp includes this, and nothing here includes Beast.
namespace opsmerge::http {

// Accepts connections, reads requests under deadlines, runs each on its lane and
// writes the answer. Holds the I/O threads and the two worker pools.
// Thread-safety: Start/Stop from one thread; everything else is internal.
class Listener {
 public:
  Listener(const ServerOptions& options, const Server& server);
  ~Listener();  // Stop()
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds (throws std::runtime_error naming the address on failure) and starts the
  // I/O threads.
  void Start();
  void Stop();
  uint16_t port() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsmerge::http
