#pragma once

#include <string>

// The Windows service: registration with the Service Control Manager (install,
// uninstall) and the service's life (run). The service runs as LocalSystem,
// starts with Windows, is restarted by the SCM when it fails, and stops within
// seconds when asked.
namespace opsmerge::agent::windows {

inline constexpr wchar_t kServiceName[] = L"OpsMergeAgent";

// Registers this executable as the service (or updates its registration), sets
// its recovery actions and starts it. Exit codes: 0, 70 on an SCM error.
int InstallService();
// Stops (waiting up to 30 s) and deletes the service; 0 also if it was not there.
int UninstallService();
// Under the SCM: runs the service until it is stopped. From a console (no SCM to
// talk to): runs the same loop in the foreground until Ctrl+C. Exit code as
// core's Run (78 when not enrolled and nothing pending).
int RunService(const std::string& config_path);

// An enrolment the MSI left for the service (HKLM\SOFTWARE\OpsMerge\Agent: Server
// and TokenFile or Token): taken once, moved into an ACL-protected file beside the
// config, and the registry's copy of the token deleted.
struct PendingEnrolment {
  std::string server;
  std::string token;
};
bool TakePendingEnrolment(const std::string& config_path, PendingEnrolment* out);

}  // namespace opsmerge::agent::windows
