#include "platform/imap.h"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>

#include <Poco/URI.h>
#include <curl/curl.h>

#include "platform/http/request.h"

namespace opsmerge::imap {

namespace {

size_t Collect(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

// A mailbox name in the URL path: each level percent-encoded, the '/' between kept.
std::string EncodePath(const std::string& mailbox) {
  std::string out;
  size_t start = 0;
  for (size_t slash; (slash = mailbox.find('/', start)) != std::string::npos; start = slash + 1) {
    out += http::UrlEncode(mailbox.substr(start, slash - start)) + "/";
  }
  return out + http::UrlEncode(mailbox.substr(start));
}

}  // namespace

struct Client::Impl {
  CURL* curl = nullptr;
  std::string base;     // "imap://host:port/"
  std::string mailbox;  // "INBOX"
  std::string user;
  std::string password;
};

Client::Client(const Mailbox& m) : impl_(std::make_unique<Impl>()) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::string url = m.url;
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) throw std::runtime_error("imap_url is not a URL");
  size_t host_start = scheme + 3;
  size_t path = url.find('/', host_start);
  std::string authority =
      url.substr(host_start, path == std::string::npos ? path : path - host_start);
  if (size_t at = authority.rfind('@'); at != std::string::npos) {
    // Written percent-encoded in the URL ("help%40msp.example"); the server wants it plain.
    Poco::URI::decode(authority.substr(0, at), impl_->user);
    authority = authority.substr(at + 1);
  }
  impl_->base = url.substr(0, host_start) + authority + "/";
  std::string box = path == std::string::npos ? "" : url.substr(path + 1);
  while (!box.empty() && box.back() == '/') box.pop_back();
  impl_->mailbox = box.empty() ? "INBOX" : box;
  for (unsigned char c : impl_->mailbox) {
    if (c < 0x20 || c == 0x7F || c == '"' || c == '\\' || c == '%' || c == '*') {
      throw std::runtime_error("imap_url names a mailbox with characters IMAP needs quoted");
    }
  }
  impl_->password = m.password;
  impl_->curl = curl_easy_init();
  if (!impl_->curl) throw std::runtime_error("libcurl could not start");
}

Client::~Client() {
  if (impl_->curl) curl_easy_cleanup(impl_->curl);
}

std::string Client::Perform(const std::string& url, const std::string& command) {
  CURL* c = impl_->curl;
  std::string body;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "imap,imaps");
  if (!impl_->user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, impl_->user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, impl_->password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, command.empty() ? nullptr : command.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 300L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    throw std::runtime_error(std::string(curl_easy_strerror(rc)) +
                             (error[0] ? std::string(": ") + error : ""));
  }
  return body;
}

std::string Client::Custom(const std::string& command) {
  return Perform(impl_->base + EncodePath(impl_->mailbox), command);
}

int64_t Client::UidValidity() {
  std::string out = Perform(impl_->base, "STATUS \"" + impl_->mailbox + "\" (UIDVALIDITY)");
  size_t p = out.find("UIDVALIDITY ");
  if (p == std::string::npos) throw std::runtime_error("the server did not say the UIDVALIDITY");
  return std::stoll(out.substr(p + 12));
}

std::vector<int64_t> Client::Search(const std::string& criteria) {
  std::string out = Custom("UID SEARCH " + criteria);
  std::vector<int64_t> uids;
  size_t p = out.find("* SEARCH");
  if (p == std::string::npos) return uids;
  size_t end = out.find('\n', p);
  std::string line = out.substr(p + 8, end == std::string::npos ? end : end - p - 8);
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && !std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
    size_t j = i;
    while (j < line.size() && std::isdigit(static_cast<unsigned char>(line[j]))) ++j;
    if (j > i && j - i < 19) uids.push_back(std::stoll(line.substr(i, j - i)));
    i = j;
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

std::string Client::Fetch(int64_t uid) {
  return Perform(impl_->base + EncodePath(impl_->mailbox) + "/;UID=" + std::to_string(uid), "");
}

void Client::SetSeen(const std::vector<int64_t>& uids, bool on) {
  if (uids.empty()) return;
  std::string set;
  for (int64_t u : uids) set += (set.empty() ? "" : ",") + std::to_string(u);
  Custom("UID STORE " + set + (on ? " +" : " -") + "FLAGS.SILENT (\\Seen)");
}

}  // namespace opsmerge::imap
