#include "platform/smtp.h"

#include <cstring>
#include <mutex>
#include <stdexcept>

#include <Poco/URI.h>
#include <curl/curl.h>

namespace opsmerge::smtp {

namespace {

struct Reader {
  const std::string* text;
  size_t offset = 0;
};

size_t Read(char* buffer, size_t size, size_t count, void* user) {
  auto* r = static_cast<Reader*>(user);
  size_t n = std::min(size * count, r->text->size() - r->offset);
  std::memcpy(buffer, r->text->data() + r->offset, n);
  r->offset += n;
  return n;
}

}  // namespace

void Send(const Server& server, const std::string& from, const std::vector<std::string>& to,
          const std::string& message) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  // The user (if any) comes from the URL; libcurl takes it and the host from there.
  std::string url = server.url, user;
  if (size_t scheme = url.find("://"), at = url.find('@');
      at != std::string::npos && scheme != std::string::npos && at > scheme) {
    // Written percent-encoded in the URL ("help%40msp.example"); the server wants it plain.
    Poco::URI::decode(url.substr(scheme + 3, at - scheme - 3), user);
    url = url.substr(0, scheme + 3) + url.substr(at + 1);
  }
  CURL* curl = curl_easy_init();
  if (!curl) throw std::runtime_error("libcurl could not start");
  struct curl_slist* rcpt = nullptr;
  for (const auto& r : to) rcpt = curl_slist_append(rcpt, ("<" + r + ">").c_str());
  Reader reader{&message};
  char error[CURL_ERROR_SIZE] = {0};
  std::string mail_from = "<" + from + ">";
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  if (!user.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERNAME, user.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, server.password.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, Read);
  curl_easy_setopt(curl, CURLOPT_READDATA, &reader);
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    throw std::runtime_error(std::string(curl_easy_strerror(rc)) +
                             (error[0] ? std::string(": ") + error : ""));
  }
}

}  // namespace opsmerge::smtp
