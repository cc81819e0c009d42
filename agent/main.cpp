// opsmerge-agent (Linux): enroll | run | status
#include <atomic>
#include <cstdio>

#include <signal.h>

#include "core/agent.h"
#include "core/cli.h"
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

}  // namespace

int main(int argc, char** argv) {
  auto options =
      opsmerge::agent::ParseOptions(argc, argv, opsmerge::agent::DefaultConfigPath(), kUsage);
  if (!options) return 64;
  const std::string& config = options->config;
  if (options->command == "enroll") {
    std::string token = opsmerge::agent::ReadToken(options->token_file);
    opsmerge::agent::CurlTransport transport;
    opsmerge::agent::LinuxCollector collector;
    return opsmerge::agent::Enroll(options->server, token, config, transport, collector);
  }
  if (options->command == "run") {
    struct sigaction sa {};
    sa.sa_handler = OnSignal;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
    opsmerge::agent::CurlTransport transport;
    opsmerge::agent::LinuxCollector collector;
    return opsmerge::agent::Run(config, g_stop, transport, collector);
  }
  if (options->command == "status") return opsmerge::agent::Status(config);
  std::fputs(kUsage, stderr);
  return 64;
}
