// opsmerge-agent: enroll | run | status
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>

#include <signal.h>

#include "core/agent.h"
#include "core/config.h"
#include "core/files.h"
#include "platform/linux/collector.h"
#include "platform/linux/curl_transport.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

const char* kUsage =
    "usage:\n"
    "  opsmerge-agent enroll --server URL [--config PATH] [--token-file FILE]\n"
    "      the enrolment token is read from standard input (or FILE), never from the\n"
    "      command line, where other users could read it\n"
    "  opsmerge-agent run [--config PATH]\n"
    "  opsmerge-agent status [--config PATH]\n"
    "PATH defaults to /etc/opsmerge-agent/agent.json\n";

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t b = s.find_first_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 64;
  }
  std::string cmd = argv[1];
  std::string config = opsmerge::agent::DefaultConfigPath(), server, token_file;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "opsmerge-agent: %s needs a value\n", a.c_str());
        std::exit(64);
      }
      return argv[++i];
    };
    if (a == "--config") {
      config = value();
    } else if (a == "--server") {
      server = value();
    } else if (a == "--token-file") {
      token_file = value();
    } else if (a == "--token") {
      std::fprintf(stderr,
                   "opsmerge-agent: pass the token on standard input or with --token-file, not as "
                   "an argument\n");
      return 64;
    } else {
      std::fprintf(stderr, "opsmerge-agent: unknown option %s\n%s", a.c_str(), kUsage);
      return 64;
    }
  }
  if (cmd == "enroll") {
    std::string token;
    if (!token_file.empty()) {
      std::ifstream f(token_file);
      std::getline(f, token);
    } else {
      std::getline(std::cin, token);
    }
    opsmerge::agent::CurlTransport transport;
    opsmerge::agent::LinuxCollector collector;
    return opsmerge::agent::Enroll(server, Trim(token), config, transport, collector);
  }
  if (cmd == "run") {
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    opsmerge::agent::CurlTransport transport;
    opsmerge::agent::LinuxCollector collector;
    return opsmerge::agent::Run(config, g_stop, transport, collector);
  }
  if (cmd == "status") return opsmerge::agent::Status(config);
  std::fputs(kUsage, stderr);
  return 64;
}
