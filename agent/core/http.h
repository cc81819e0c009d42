#pragma once

#include <memory>
#include <string>

// HTTPS (or HTTP) POSTs of JSON to the server, over one kept-alive connection.
// Not thread-safe: one per thread. Never throws.
namespace opsmerge::agent {

struct HttpReply {
  long status = 0;    // 0: no answer (network error, timeout)
  std::string body;   // capped at 1 MiB
  std::string error;  // libcurl's message when status is 0
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;
  HttpReply PostJson(const std::string& url, const std::string& body,
                     const std::string& authorization);

 private:
  void* curl_;  // CURL*
};

}  // namespace opsmerge::agent
