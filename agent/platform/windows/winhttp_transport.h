#pragma once

#include "core/transport.h"

// The Transport on Windows: WinHTTP, so TLS is the system's (SChannel) with its
// certificate store, and the machine's proxy settings apply. One session, kept
// alive between check-ins.
namespace opsmerge::agent::windows {

class WinHttpTransport final : public Transport {
 public:
  WinHttpTransport();
  ~WinHttpTransport() override;
  WinHttpTransport(const WinHttpTransport&) = delete;
  WinHttpTransport& operator=(const WinHttpTransport&) = delete;

  HttpReply PostJson(const std::string& url, const std::string& body,
                     const std::string& authorization) override;

 private:
  void* session_ = nullptr;  // HINTERNET
};

}  // namespace opsmerge::agent::windows
