#include "platform/windows/winhttp_transport.h"

#include <cwchar>
#include <vector>

#include <windows.h>
#include <winhttp.h>

#include "platform/windows/wide.h"

namespace opsmerge::agent::windows {

namespace {

constexpr size_t kMaxReply = 1 << 20;

#ifndef WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY
#define WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY 4
#endif
#ifndef WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_3
#define WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_3 0x00002000
#endif

struct Handle {
  HINTERNET h = nullptr;
  explicit Handle(HINTERNET handle) : h(handle) {}
  ~Handle() {
    if (h) WinHttpCloseHandle(h);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
};

std::string Failure(const char* what) {
  DWORD code = GetLastError();
  std::string text;
  switch (code) {
    case ERROR_WINHTTP_SECURE_FAILURE:
      text = "the server's certificate was not accepted";
      break;
    case ERROR_WINHTTP_CANNOT_CONNECT:
      text = "could not connect";
      break;
    case ERROR_WINHTTP_TIMEOUT:
      text = "timed out";
      break;
    case ERROR_WINHTTP_NAME_NOT_RESOLVED:
      text = "the server's name could not be resolved";
      break;
    default: {
      // WinHTTP's messages live in winhttp.dll, not the system table.
      wchar_t* buf = nullptr;
      DWORD n = FormatMessageW(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_HMODULE |
                                   FORMAT_MESSAGE_IGNORE_INSERTS,
                               GetModuleHandleW(L"winhttp.dll"), code, 0,
                               reinterpret_cast<wchar_t*>(&buf), 0, nullptr);
      text = n ? Utf8(buf, n) : ErrorText(code);
      if (buf) LocalFree(buf);
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    }
  }
  return std::string(what) + ": " + text + " (" + std::to_string(code) + ")";
}

}  // namespace

WinHttpTransport::WinHttpTransport() {
  // The machine's proxy (WPAD, the PAC script or the static WinHTTP/IE settings),
  // as browsers on it use; older systems fall back to the WinHTTP settings
  // (netsh winhttp set proxy).
  HINTERNET s = WinHttpOpen(L"opsmerge-agent/1", WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY,
                            WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
  if (!s) {
    s = WinHttpOpen(L"opsmerge-agent/1", WINHTTP_ACCESS_TYPE_DEFAULT_PROXY, WINHTTP_NO_PROXY_NAME,
                    WINHTTP_NO_PROXY_BYPASS, 0);
  }
  if (!s) return;
  // TLS 1.2 and 1.3 only (1.3 where the system has it).
  DWORD protocols = WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_2 | WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_3;
  if (!WinHttpSetOption(s, WINHTTP_OPTION_SECURE_PROTOCOLS, &protocols, sizeof protocols)) {
    protocols = WINHTTP_FLAG_SECURE_PROTOCOL_TLS1_2;
    WinHttpSetOption(s, WINHTTP_OPTION_SECURE_PROTOCOLS, &protocols, sizeof protocols);
  }
  // Resolve, connect, send, receive: as the Linux agent's 10 s connect / 30 s total.
  WinHttpSetTimeouts(s, 10000, 10000, 30000, 30000);
  session_ = s;
}

WinHttpTransport::~WinHttpTransport() {
  if (session_) WinHttpCloseHandle(static_cast<HINTERNET>(session_));
}

HttpReply WinHttpTransport::PostJson(const std::string& url, const std::string& body,
                                     const std::string& authorization) {
  HttpReply reply;
  if (!session_) {
    reply.error = "WinHTTP failed to initialise";
    return reply;
  }
  std::wstring wurl = Wide(url);
  URL_COMPONENTS parts{};
  parts.dwStructSize = sizeof parts;
  parts.dwHostNameLength = static_cast<DWORD>(-1);
  parts.dwUrlPathLength = static_cast<DWORD>(-1);
  parts.dwExtraInfoLength = static_cast<DWORD>(-1);
  parts.dwSchemeLength = static_cast<DWORD>(-1);
  if (!WinHttpCrackUrl(wurl.c_str(), 0, 0, &parts) ||
      (parts.nScheme != INTERNET_SCHEME_HTTPS && parts.nScheme != INTERNET_SCHEME_HTTP)) {
    reply.error = "not an http(s) URL: " + url;
    return reply;
  }
  std::wstring host(parts.lpszHostName, parts.dwHostNameLength);
  std::wstring path(parts.lpszUrlPath, parts.dwUrlPathLength);
  if (parts.lpszExtraInfo) path.append(parts.lpszExtraInfo, parts.dwExtraInfoLength);
  // WinHTTP pools connections per session and host: a new connect handle per
  // request still reuses the kept-alive socket.
  Handle connect(WinHttpConnect(static_cast<HINTERNET>(session_), host.c_str(), parts.nPort, 0));
  if (!connect.h) {
    reply.error = Failure("connect");
    return reply;
  }
  DWORD flags = parts.nScheme == INTERNET_SCHEME_HTTPS ? WINHTTP_FLAG_SECURE : 0;
  Handle request(WinHttpOpenRequest(connect.h, L"POST", path.c_str(), nullptr, WINHTTP_NO_REFERER,
                                    WINHTTP_DEFAULT_ACCEPT_TYPES, flags));
  if (!request.h) {
    reply.error = Failure("request");
    return reply;
  }
  // Certificate checks stay as WinHTTP has them: name, expiry, chain to a trusted
  // root, revocation where the system checks it. Nothing is ignored.
  std::wstring headers = L"Content-Type: application/json\r\n";
  if (!authorization.empty()) headers += L"Authorization: " + Wide(authorization) + L"\r\n";
  if (!WinHttpSendRequest(request.h, headers.c_str(), static_cast<DWORD>(headers.size()),
                          const_cast<char*>(body.data()), static_cast<DWORD>(body.size()),
                          static_cast<DWORD>(body.size()), 0) ||
      !WinHttpReceiveResponse(request.h, nullptr)) {
    reply.error = Failure("send");
    return reply;
  }
  DWORD status = 0, size = sizeof status;
  WinHttpQueryHeaders(request.h, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                      WINHTTP_HEADER_NAME_BY_INDEX, &status, &size, WINHTTP_NO_HEADER_INDEX);
  wchar_t retry[64] = {0};
  size = sizeof retry - sizeof(wchar_t);
  if (WinHttpQueryHeaders(request.h, WINHTTP_QUERY_RETRY_AFTER, WINHTTP_HEADER_NAME_BY_INDEX, retry,
                          &size, WINHTTP_NO_HEADER_INDEX)) {
    long long seconds = std::wcstoll(retry, nullptr, 10);  // the delay form; a date gives 0
    if (seconds > 0) reply.retry_after = seconds;
  }
  std::vector<char> buf(16384);
  for (DWORD got = 0;;) {
    if (!WinHttpReadData(request.h, buf.data(), static_cast<DWORD>(buf.size()), &got)) {
      reply.error = Failure("read");
      reply.body.clear();
      return reply;
    }
    if (got == 0) break;
    if (reply.body.size() + got > kMaxReply) {
      reply.error = "the server's answer is larger than 1 MiB";
      reply.body.clear();
      return reply;
    }
    reply.body.append(buf.data(), got);
  }
  reply.status = static_cast<long>(status);
  return reply;
}

}  // namespace opsmerge::agent::windows
