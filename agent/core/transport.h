#pragma once

#include <cstdint>
#include <string>

// How the agent reaches the server: HTTPS POSTs of JSON over one kept-alive
// connection. libcurl on Linux, WinHTTP on Windows, a fake in tests. An
// implementation never throws and is used by one thread at a time.
namespace opsmerge::agent {

struct HttpReply {
  long status = 0;          // 0: no answer (network error, timeout)
  std::string body;         // capped at 1 MiB
  std::string error;        // why, when status is 0
  int64_t retry_after = 0;  // seconds the server asked us to wait (503/429), 0 if none
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual HttpReply PostJson(const std::string& url, const std::string& body,
                             const std::string& authorization) = 0;
};

}  // namespace opsmerge::agent
