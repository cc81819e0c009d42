#include "platform/linux/curl_transport.h"

#include <curl/curl.h>

namespace opsmerge::agent {

namespace {

constexpr size_t kMaxReply = 1 << 20;

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  size_t bytes = size * n;
  if (out->size() + bytes > kMaxReply) return 0;  // aborts the transfer: bounded memory
  out->append(data, bytes);
  return bytes;
}

}  // namespace

CurlTransport::CurlTransport() {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl_ = curl_easy_init();
}

CurlTransport::~CurlTransport() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpReply CurlTransport::PostJson(const std::string& url, const std::string& body,
                                  const std::string& authorization) {
  HttpReply reply;
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) {
    reply.error = "libcurl failed to initialise";
    return reply;
  }
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  // No "Expect: 100-continue" wait on larger bodies (an inventory).
  headers = curl_slist_append(headers, "Expect:");
  if (!authorization.empty()) {
    headers = curl_slist_append(headers, ("Authorization: " + authorization).c_str());
  }
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "opsmerge-agent/1");
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  // Keep the connection between check-ins a minute or more apart.
  curl_easy_setopt(c, CURLOPT_MAXAGE_CONN, 3700L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    reply.error = curl_easy_strerror(rc);
    reply.body.clear();
    return reply;
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  curl_off_t retry = 0;
  if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry) == CURLE_OK && retry > 0) {
    reply.retry_after = static_cast<int64_t>(retry);
  }
  return reply;
}

}  // namespace opsmerge::agent
