// opsmerge-deliver: the MTA's pipe into OpsMerge. Reads one message on stdin and
// hands it to the running server over loopback (POST /mail/v1/ingest with the
// data directory's delivery key), so a message costs a small process and one
// request instead of starting the whole program. When no server is running there,
// it runs `opsmerge mail ingest` (next to this program) with the same message and
// arguments instead. Exit codes as `mail ingest`: 0 stored or deliberately dropped,
// 65 not a message, 75 try again later (the MTA keeps the message).
//
// Linked against nothing but the C and C++ runtimes, on purpose: its start-up is
// most of what a message costs through a pipe.
//   opsmerge-deliver [--data-dir DIR] [other `mail ingest` options]
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace {

constexpr int kOk = 0, kDataError = 65, kTempFail = 75;
constexpr size_t kKeep = (size_t{50} << 20) + 1;  // the gateway's cap and a byte

std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

bool SendAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = send(fd, data, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// -1: no server answered (connect failed): run `mail ingest` instead. Otherwise the
// exit code for what the server said.
int Deliver(const std::string& url, const std::string& key, const std::string& message) {
  // http://HOST:PORT/PATH, as serve writes it.
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return -1;
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash),
              path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) return -1;
  std::string host = hostport.substr(0, colon), port = hostport.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  // The address serve wrote is numeric (no name service: the program is static).
  char* end = nullptr;
  unsigned long port_number = std::strtoul(port.c_str(), &end, 10);
  if (port.empty() || *end != '\0' || port_number == 0 || port_number > 65535) return -1;
  sockaddr_storage address{};
  socklen_t length = 0;
  if (auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
      inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port_number));
    length = sizeof(sockaddr_in);
  } else if (auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
             inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port_number));
    length = sizeof(sockaddr_in6);
  } else {
    return -1;
  }
  int fd = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int connected = fd >= 0 ? connect(fd, reinterpret_cast<sockaddr*>(&address), length) : -1;
  if (connected != 0) {
    if (fd >= 0) close(fd);
    return -1;
  }
  timeval tv{300, 0};  // a stuck server: the MTA tries again later
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::string head =
      "POST " + path + " HTTP/1.1\r\nHost: " + hostport + "\r\nAuthorization: Bearer " + key +
      "\r\nContent-Type: message/rfc822\r\nContent-Length: " + std::to_string(message.size()) +
      "\r\nConnection: close\r\n\r\n";
  if (!SendAll(fd, head.data(), head.size()) || !SendAll(fd, message.data(), message.size())) {
    close(fd);
    std::fprintf(stderr,
                 "opsmerge-deliver: not stored, try again later: the server stopped reading\n");
    return kTempFail;
  }
  std::string answer;
  char buf[4096];
  for (;;) {
    ssize_t r = recv(fd, buf, sizeof buf, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    answer.append(buf, static_cast<size_t>(r));
    if (answer.size() > 65536) break;
  }
  close(fd);
  int status = 0;
  if (std::sscanf(answer.c_str(), "HTTP/1.%*d %d", &status) != 1) status = 0;
  size_t body_at = answer.find("\r\n\r\n");
  std::string body = body_at == std::string::npos ? "" : answer.substr(body_at + 4);
  if (status == 200) {
    std::fputs(body.c_str(), stdout);
    return kOk;
  }
  if (status == 422) {
    std::fprintf(stderr, "opsmerge-deliver: %s", body.c_str());
    return kDataError;
  }
  std::fprintf(stderr, "opsmerge-deliver: not stored, try again later: the server answered %d\n",
               status);
  return kTempFail;
}

// No server: the same message through `opsmerge mail ingest` (next to this program).
int RunIngest(const char* self, int argc, char** argv, const std::string& message) {
  std::string dir = self;
  dir = dir.find('/') == std::string::npos ? "." : dir.substr(0, dir.rfind('/'));
  std::string program = dir + "/opsmerge";
  int fd = memfd_create("message", 0);
  if (fd < 0) return kTempFail;
  for (size_t at = 0; at < message.size();) {
    ssize_t w = write(fd, message.data() + at, message.size() - at);
    if (w <= 0) return kTempFail;
    at += static_cast<size_t>(w);
  }
  if (lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, 0) != 0) return kTempFail;
  std::vector<char*> args = {program.data(), const_cast<char*>("mail"),
                             const_cast<char*>("ingest")};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(program.c_str(), args.data());
  std::fprintf(stderr, "opsmerge-deliver: not stored, try again later: cannot run %s: %s\n",
               program.c_str(), std::strerror(errno));
  return kTempFail;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data_dir = "./data";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::puts(
          "usage: opsmerge-deliver [--data-dir DIR] [other `opsmerge mail ingest` options]\n"
          "Reads one email message on stdin and hands it to the OpsMerge server running on\n"
          "DIR (default ./data); with no server there, runs `opsmerge mail ingest`.\n"
          "Exit: 0 stored or dropped, 65 not a message, 75 try again later.");
      return kOk;
    }
    if (a == "--data-dir" && i + 1 < argc) data_dir = argv[i + 1];
    if (a.rfind("--data-dir=", 0) == 0) data_dir = a.substr(11);
  }
  // The message, at most the gateway's cap (and a byte, so it notes the cut); the
  // rest is read and let go, so the MTA sees it taken.
  std::string message;
  char buf[65536];
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::fprintf(stderr, "opsmerge-deliver: cannot read the message on stdin\n");
      return kTempFail;
    }
    if (n == 0) break;
    if (message.size() < kKeep)
      message.append(buf, std::min(static_cast<size_t>(n), kKeep - message.size()));
  }
  std::string url = ReadLine(data_dir + "/deliver.url");
  std::string key = ReadLine(data_dir + "/deliver.key");
  if (!url.empty() && !key.empty()) {
    int rc = Deliver(url, key, message);
    if (rc >= 0) return rc;
  }
  return RunIngest(argv[0], argc, argv, message);
}
