#pragma once

#include "core/transport.h"

// Transport over libcurl: one easy handle, so its connection is kept alive across
// check-ins (the server holds it idle at no cost). System CA store, TLS verified,
// http/https only, no 100-continue round trip. Not thread-safe: one per thread.
namespace opsmerge::agent {

class CurlTransport final : public Transport {
 public:
  CurlTransport();
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;
  HttpReply PostJson(const std::string& url, const std::string& body,
                     const std::string& authorization) override;

 private:
  void* curl_;  // CURL*
};

}  // namespace opsmerge::agent
