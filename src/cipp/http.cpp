#include "cipp/http.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "cipp/model.h"
#include "platform/crypto.h"
#include "platform/http/request.h"
#include "platform/text.h"

namespace opsmerge::cipp {

namespace {

constexpr size_t kMaxAnswerBytes = size_t{256} << 20;  // a very large tenant's users
constexpr int kAttempts = 4;                           // 429 / 5xx / dropped: 3 retries

struct Answer {
  long status = 0;
  std::string body;
  int64_t retry_after = -1;  // seconds, -1 when not given
  std::string transport_error;
  bool timed_out = false;
};

size_t Collect(char* data, size_t size, size_t n, void* out) {
  auto* a = static_cast<Answer*>(out);
  if (a->body.size() + size * n > kMaxAnswerBytes) return 0;  // aborts the transfer
  a->body.append(data, size * n);
  return size * n;
}

size_t Header(char* data, size_t size, size_t n, void* out) {
  auto* a = static_cast<Answer*>(out);
  std::string line(data, size * n);
  if (line.size() > 12 && text::FoldCase(line.substr(0, 12)) == "retry-after:") {
    std::string v = text::Trim(line.substr(12));
    if (!v.empty() && v.size() < 6 && v.find_first_not_of("0123456789") == std::string::npos) {
      a->retry_after = std::stoll(v);
    }
  }
  return size * n;
}

// One request: GET with `bearer`, or POST of the form `post`.
Answer Call(const std::string& url, const std::string& bearer, const std::string* post,
            int64_t timeout_seconds) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  Answer a;
  CURL* curl = curl_easy_init();
  if (!curl) throw CippError("libcurl could not start");
  struct curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  std::string auth = "Authorization: Bearer " + bearer;
  if (!bearer.empty()) headers = curl_slist_append(headers, auth.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, Header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &a);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 15L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(timeout_seconds));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "OpsMerge");
  if (post) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post->c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(post->size()));
  }
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &a.status);
  } else {
    a.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    a.transport_error = rc == CURLE_WRITE_ERROR ? "the answer was larger than 256 MB"
                        : rc == CURLE_OPERATION_TIMEDOUT
                            ? "no answer within " + std::to_string(timeout_seconds) + " s"
                            : curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return a;
}

// What an error answer says, for people: Entra's error_description, CIPP's
// Results or message, else the start of the body.
std::string Said(const Answer& a) {
  nlohmann::json doc = nlohmann::json::parse(a.body, nullptr, false);
  if (doc.is_object()) {
    for (const char* k : {"error_description", "Results", "message", "error"}) {
      if (doc.contains(k) && doc[k].is_string()) {
        return text::Utf8Prefix(doc[k].get<std::string>(), 300);
      }
    }
  }
  std::string body = text::CollapseWhitespace(a.body);
  return body.empty() ? "no details" : text::Utf8Prefix(body, 200);
}

// A slow answer already had its (long) time: asking again would only double it.
bool Retryable(const Answer& a) {
  return (!a.transport_error.empty() && !a.timed_out) || a.status == 429 || a.status >= 500;
}

}  // namespace

HttpClient::HttpClient(int64_t timeout_seconds,
                       std::function<void(std::chrono::milliseconds)> sleep)
    : timeout_seconds_(timeout_seconds), sleep_(std::move(sleep)) {
  if (!sleep_) sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

std::string HttpClient::Token(const Connection& c, bool fresh) {
  std::lock_guard<std::mutex> lock(mu_);
  // A changed secret (or client, or token URL) needs a token of its own: Test
  // connection must test what is saved now.
  std::string key = c.token_url + "\n" + c.client_id + "\n" + crypto::HashToken(c.client_secret);
  if (!fresh && key == token_key_ && !token_.empty() &&
      std::chrono::steady_clock::now() < token_expires_) {
    return token_;
  }
  std::string form = "grant_type=client_credentials&client_id=" + http::UrlEncode(c.client_id) +
                     "&client_secret=" + http::UrlEncode(c.client_secret) +
                     "&scope=" + http::UrlEncode("api://" + c.client_id + "/.default");
  Answer a;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    a = Call(c.token_url, "", &form, std::min<int64_t>(timeout_seconds_, 60));
    if (!Retryable(a) || attempt == kAttempts) break;
    sleep_(std::chrono::milliseconds(500 << attempt));
  }
  if (!a.transport_error.empty()) {
    throw CippError("The token endpoint could not be reached: " + a.transport_error);
  }
  if (a.status != 200) {
    throw CippError("The token endpoint answered " + std::to_string(a.status) + ": " + Said(a));
  }
  nlohmann::json doc = nlohmann::json::parse(a.body, nullptr, false);
  if (!doc.is_object() || !doc.contains("access_token") || !doc["access_token"].is_string()) {
    throw CippError("The token endpoint's answer has no access_token");
  }
  int64_t expires_in = 3600;
  if (doc.contains("expires_in")) {
    if (doc["expires_in"].is_number_integer()) expires_in = doc["expires_in"].get<int64_t>();
    if (doc["expires_in"].is_string())
      expires_in = std::atoll(doc["expires_in"].get<std::string>().c_str());
  }
  // Renewed five minutes early (or halfway through a short life).
  int64_t keep = expires_in > 600 ? expires_in - 300 : expires_in / 2;
  token_key_ = key;
  token_ = doc["access_token"].get<std::string>();
  token_expires_ = std::chrono::steady_clock::now() + std::chrono::seconds(keep);
  return token_;
}

std::string HttpClient::Get(const Connection& c, const std::string& path) {
  std::string url = c.base_url + path;
  bool renewed = false;
  Answer a;
  for (int attempt = 1;; ++attempt) {
    a = Call(url, Token(c, false), nullptr, timeout_seconds_);
    if (a.status == 401 && !renewed) {
      // The token expired (or was revoked) mid-sync: one new token, once.
      renewed = true;
      Token(c, true);
      --attempt;
      continue;
    }
    if (!Retryable(a) || attempt >= kAttempts) break;
    int64_t wait_ms =
        a.retry_after >= 0 ? std::min<int64_t>(a.retry_after, 30) * 1000 : int64_t{500} << attempt;
    sleep_(std::chrono::milliseconds(wait_ms));
  }
  std::string what = path.substr(0, path.find('?'));
  if (!a.transport_error.empty()) {
    throw CippError("CIPP " + what + " failed: " + a.transport_error);
  }
  if (a.status != 200) {
    throw CippError("CIPP " + what + " answered " + std::to_string(a.status) + ": " + Said(a));
  }
  return std::move(a.body);
}

}  // namespace opsmerge::cipp
