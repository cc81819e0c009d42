#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

// CIPP's API over HTTPS (libcurl): an Entra client-credentials token, cached until
// shortly before it expires, sent as Bearer on every call. A 401 fetches a new
// token once and retries; 429 and 5xx (and a dropped connection) are retried a
// bounded number of times with backoff (Retry-After honoured, capped). Anything
// else is a CippError naming what happened. Thread-safe.
namespace opsmerge::cipp {

struct Connection {
  std::string base_url;   // https://cipp.example (no trailing slash)
  std::string token_url;  // with the tenant filled in
  std::string client_id;
  std::string client_secret;
};

class HttpClient {
 public:
  // `timeout_seconds`: a whole call (CIPP allows itself 10 minutes); `sleep` waits
  // between retries (tests pass one that does not).
  explicit HttpClient(int64_t timeout_seconds = 600,
                      std::function<void(std::chrono::milliseconds)> sleep = nullptr);

  // GET {base_url}{path}: the body of a 200.
  std::string Get(const Connection& c, const std::string& path);

 private:
  std::string Token(const Connection& c, bool fresh);

  int64_t timeout_seconds_;
  std::function<void(std::chrono::milliseconds)> sleep_;
  std::mutex mu_;
  std::string token_key_;  // what the token is for: token URL, client, secret's hash
  std::string token_;
  std::chrono::steady_clock::time_point token_expires_{};
};

}  // namespace opsmerge::cipp
