// opsmerge-agent.exe (Windows): install | uninstall | run | enroll | status
#include <cstdio>

#include "core/agent.h"
#include "core/cli.h"
#include "core/files.h"
#include "platform/windows/collector.h"
#include "platform/windows/service.h"
#include "platform/windows/winhttp_transport.h"

namespace {

const char* kUsage =
    "usage:\n"
    "  opsmerge-agent.exe enroll --server URL [--config PATH] [--token-file FILE]\n"
    "      the enrolment token is read from standard input (or FILE), never from the\n"
    "      command line, where other users could read it\n"
    "  opsmerge-agent.exe install      register and start the OpsMerge Agent service\n"
    "  opsmerge-agent.exe uninstall    stop and remove the service\n"
    "  opsmerge-agent.exe run [--config PATH]\n"
    "      the service's entry; from a console it runs in the foreground\n"
    "  opsmerge-agent.exe status [--config PATH]\n"
    "PATH defaults to %ProgramData%\\OpsMerge\\agent.json\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace opsmerge::agent;
  auto options = ParseOptions(argc, argv, DefaultConfigPath(), kUsage);
  if (!options) return 64;
  if (options->command == "enroll") {
    std::string token = ReadToken(options->token_file);
    windows::WinHttpTransport transport;
    windows::WindowsCollector collector;
    return Enroll(options->server, token, options->config, transport, collector);
  }
  if (options->command == "install") return windows::InstallService();
  if (options->command == "uninstall") return windows::UninstallService();
  if (options->command == "run") return windows::RunService(options->config);
  if (options->command == "status") return Status(options->config);
  std::fputs(kUsage, stderr);
  return 64;
}
