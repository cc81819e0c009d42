#include "platform/windows/service.h"

#include <atomic>
#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>
#include <windows.h>

#include "core/agent.h"
#include "core/cli.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/files.h"
#include "core/log.h"
#include "platform/windows/collector.h"
#include "platform/windows/wide.h"
#include "platform/windows/winhttp_transport.h"

namespace opsmerge::agent::windows {

namespace {

constexpr wchar_t kPendingKey[] = L"SOFTWARE\\OpsMerge\\Agent";

std::atomic<bool> g_stop{false};
SERVICE_STATUS_HANDLE g_status_handle = nullptr;
SERVICE_STATUS g_status{};
std::string g_config_path;
int g_exit_code = 0;

class ScHandle {
 public:
  explicit ScHandle(SC_HANDLE h) : h_(h) {}
  ~ScHandle() {
    if (h_) CloseServiceHandle(h_);
  }
  ScHandle(const ScHandle&) = delete;
  ScHandle& operator=(const ScHandle&) = delete;
  ScHandle(ScHandle&& other) noexcept : h_(other.h_) { other.h_ = nullptr; }
  ScHandle& operator=(ScHandle&&) = delete;
  SC_HANDLE get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  SC_HANDLE h_;
};

void Report(DWORD state, DWORD exit_code = NO_ERROR, DWORD wait_hint_ms = 0) {
  static DWORD checkpoint = 1;
  g_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  g_status.dwCurrentState = state;
  g_status.dwControlsAccepted =
      state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
  if (exit_code != NO_ERROR) {
    // Non-zero: the SCM's recovery actions restart us (FailureActionsOnNonCrashFailures).
    g_status.dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
    g_status.dwServiceSpecificExitCode = exit_code;
  } else {
    g_status.dwWin32ExitCode = NO_ERROR;
  }
  g_status.dwWaitHint = wait_hint_ms;
  g_status.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : checkpoint++;
  if (g_status_handle) SetServiceStatus(g_status_handle, &g_status);
}

DWORD WINAPI Control(DWORD control, DWORD, void*, void*) {
  switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
      // The loop sleeps in 100 ms steps and aborts a running update search.
      Report(SERVICE_STOP_PENDING, NO_ERROR, 10000);
      Logf("opsmerge-agent: service stopping\n");
      g_stop = true;
      return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

BOOL WINAPI OnConsoleCtrl(DWORD) {
  g_stop = true;
  return TRUE;
}

std::string Dir(const std::string& path) {
  size_t slash = path.find_last_of("\\/");
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

// Under the SCM nobody reads stderr: it goes to agent.log beside the config (one
// old copy kept, 1 MiB each).
void LogToFile(const std::string& config_path) {
  // The directory, if new, with the identity's ACL (an empty state file makes it).
  if (GetFileAttributesW(Wide(Dir(config_path)).c_str()) == INVALID_FILE_ATTRIBUTES) {
    SaveState(config_path, LoadState(config_path));
  }
  std::wstring log = Wide(Dir(config_path) + "\\agent.log");
  WIN32_FILE_ATTRIBUTE_DATA info{};
  if (GetFileAttributesExW(log.c_str(), GetFileExInfoStandard, &info) &&
      (info.nFileSizeHigh > 0 || info.nFileSizeLow > (1u << 20))) {
    MoveFileExW(log.c_str(), (log + L".1").c_str(), MOVEFILE_REPLACE_EXISTING);
  }
  // A service starts without standard handles: the agent's messages go to the file.
  if (std::FILE* f = _wfopen(log.c_str(), L"a")) SetLogFile(f);
}

// Enrols from what the MSI left, retrying while the server cannot be reached
// (the machine may be installed before it is on the network). 0 when enrolled.
int EnrolFromPending(const std::string& config_path, Transport& transport, Collector& collector) {
  PendingEnrolment pending;
  if (!TakePendingEnrolment(config_path, &pending)) return 78;
  std::string pending_file = config_path + ".enroll";
  SystemClock clock;
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int attempt = 0; !g_stop; ++attempt) {
    int rc = Enroll(pending.server, pending.token, config_path, transport, collector);
    if (rc != 75) {
      // Done, or refused (a revoked or expired token does not get better): either
      // way the token is of no further use.
      DeleteFileW(Wide(pending_file).c_str());
      return rc;
    }
    if (!clock.SleepFor(static_cast<double>(BackoffSeconds(attempt, 5, 300, unit(rng))), g_stop)) {
      break;
    }
  }
  return 0;
}

// Restart after 10 s, 30 s, then every 60 s, also when the service stops with an
// error of its own; the count resets after a day.
void SetRecoveryActions(SC_HANDLE service) {
  SC_ACTION actions[3] = {
      {SC_ACTION_RESTART, 10000}, {SC_ACTION_RESTART, 30000}, {SC_ACTION_RESTART, 60000}};
  SERVICE_FAILURE_ACTIONSW failure{};
  failure.dwResetPeriod = 86400;
  failure.cActions = 3;
  failure.lpsaActions = actions;
  ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, &failure);
  SERVICE_FAILURE_ACTIONS_FLAG flag{TRUE};
  ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &flag);
}

int ServiceBody() {
  WinHttpTransport transport;
  WindowsCollector collector;
  std::string error;
  if (!LoadConfig(g_config_path, &error)) {
    int rc = EnrolFromPending(g_config_path, transport, collector);
    if (rc != 0 || g_stop) return rc;
  }
  return Run(g_config_path, g_stop, transport, collector);
}

void WINAPI ServiceMain(DWORD, LPWSTR*) {
  g_status_handle = RegisterServiceCtrlHandlerExW(kServiceName, Control, nullptr);
  if (!g_status_handle) return;
  LogToFile(g_config_path);
  // Installed by the MSI, which cannot set recovery actions: the service sets its own.
  {
    ScHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
    ScHandle self(scm ? OpenServiceW(scm.get(), kServiceName, SERVICE_CHANGE_CONFIG) : nullptr);
    if (self) SetRecoveryActions(self.get());
  }
  // The MSI's token is taken before the service says it runs: msiexec waits for
  // that, and the install command deletes the token file right after.
  std::string error;
  PendingEnrolment pending;
  if (!LoadConfig(g_config_path, &error)) {
    if (TakePendingEnrolment(g_config_path, &pending)) {
      Logf("opsmerge-agent: service started; enrolling with %s\n", pending.server.c_str());
    } else {
      Logf("opsmerge-agent: service started, but not enrolled and no installer token\n");
    }
  } else {
    Logf("opsmerge-agent: service started\n");
  }
  Report(SERVICE_RUNNING);
  g_exit_code = ServiceBody();  // everything of the agent's is closed when it returns
  Logf("opsmerge-agent: service stopped\n");
  std::fflush(nullptr);
  Report(SERVICE_STOPPED, g_stop ? NO_ERROR : static_cast<DWORD>(g_exit_code));
  // Nothing is left to do, and an installer that waited for STOPPED is about to
  // replace or delete this executable: leave at once.
  ExitProcess(g_stop ? 0 : static_cast<UINT>(g_exit_code));
}

// The Service Control Manager, with the reason on stderr when it cannot be opened.
ScHandle OpenManager() {
  ScHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_ALL_ACCESS));
  if (!scm) {
    std::fprintf(stderr,
                 "opsmerge-agent: cannot open the service manager (run as administrator): %s\n",
                 ErrorText(GetLastError()).c_str());
  }
  return scm;
}

std::wstring ModulePath() {
  std::wstring path(32768, L'\0');
  DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
  path.resize(n);
  return path;
}

std::string RegString(HKEY key, const wchar_t* name) {
  wchar_t buf[4096] = {0};
  DWORD size = sizeof buf - sizeof(wchar_t), type = 0;
  if (RegQueryValueExW(key, name, nullptr, &type, reinterpret_cast<BYTE*>(buf), &size) !=
          ERROR_SUCCESS ||
      (type != REG_SZ && type != REG_EXPAND_SZ)) {
    return "";
  }
  return Utf8(buf, wcsnlen(buf, size / sizeof(wchar_t)));
}

}  // namespace

bool TakePendingEnrolment(const std::string& config_path, PendingEnrolment* out) {
  std::string pending_file = config_path + ".enroll";
  // Taken before, and the service restarted before the server answered.
  std::string text;
  if (ReadFile(pending_file, &text)) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_object() && j.value("server", "") != "" && j.value("token", "") != "") {
      out->server = j.value("server", "");
      out->token = j.value("token", "");
      return true;
    }
  }
  HKEY key = nullptr;
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, kPendingKey, 0, KEY_READ | KEY_WRITE | KEY_WOW64_64KEY,
                    &key) != ERROR_SUCCESS) {
    return false;
  }
  std::string server = RegString(key, L"Server"), token = RegString(key, L"Token");
  std::string token_file = RegString(key, L"TokenFile");
  if (token.empty() && !token_file.empty()) {
    token = ReadToken(token_file);  // as `enroll --token-file` reads it
    if (token.empty()) Logf("opsmerge-agent: no token in the file %s\n", token_file.c_str());
  }
  // The registry copy goes at once: HKLM\SOFTWARE is readable by every user.
  RegDeleteValueW(key, L"Token");
  RegDeleteValueW(key, L"TokenFile");
  RegCloseKey(key);
  if (server.empty() || token.empty()) return false;
  nlohmann::json j = {{"server", server}, {"token", token}};
  std::string error;
  if (!WriteSecretFile(pending_file, j.dump(), &error)) {
    Logf("opsmerge-agent: %s\n", error.c_str());
  }
  out->server = server;
  out->token = token;
  return true;
}

int InstallService() {
  ScHandle scm = OpenManager();
  if (!scm) return 70;
  std::wstring command = L"\"" + ModulePath() + L"\" run";
  SC_HANDLE created = CreateServiceW(scm.get(), kServiceName, L"OpsMerge Agent", SERVICE_ALL_ACCESS,
                                     SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                                     SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr,
                                     nullptr, nullptr /* LocalSystem */, nullptr);
  if (!created && GetLastError() == ERROR_SERVICE_EXISTS) {
    // Installed before (an upgrade): point it at this executable.
    created = OpenServiceW(scm.get(), kServiceName, SERVICE_ALL_ACCESS);
    if (created) {
      ChangeServiceConfigW(created, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                           SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr, nullptr,
                           nullptr, nullptr, L"OpsMerge Agent");
    }
  }
  ScHandle service(created);
  if (!service) {
    std::fprintf(stderr, "opsmerge-agent: cannot create the service: %s\n",
                 ErrorText(GetLastError()).c_str());
    return 70;
  }
  SERVICE_DESCRIPTIONW description{
      const_cast<wchar_t*>(L"Reports this machine's inventory and health to OpsMerge.")};
  ChangeServiceConfig2W(service.get(), SERVICE_CONFIG_DESCRIPTION, &description);
  SetRecoveryActions(service.get());
  // Just after a change the service database can be locked for a moment.
  bool started = false;
  for (int attempt = 0; attempt < 50 && !started; ++attempt) {
    started =
        StartServiceW(service.get(), 0, nullptr) || GetLastError() == ERROR_SERVICE_ALREADY_RUNNING;
    if (!started && GetLastError() != ERROR_SERVICE_DATABASE_LOCKED) break;
    if (!started) Sleep(200);
  }
  if (!started) {
    std::fprintf(stderr, "opsmerge-agent: installed, but it did not start: %s\n",
                 ErrorText(GetLastError()).c_str());
    return 70;
  }
  std::printf("service %ls installed and started\n", kServiceName);
  return 0;
}

int UninstallService() {
  ScHandle scm = OpenManager();
  if (!scm) return 70;
  ScHandle service(
      OpenServiceW(scm.get(), kServiceName, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE));
  if (!service) {
    if (GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST) {
      std::printf("service %ls is not installed\n", kServiceName);
      return 0;
    }
    std::fprintf(stderr, "opsmerge-agent: %s\n", ErrorText(GetLastError()).c_str());
    return 70;
  }
  SERVICE_STATUS status{};
  if (ControlService(service.get(), SERVICE_CONTROL_STOP, &status)) {
    for (int i = 0; i < 300 && status.dwCurrentState != SERVICE_STOPPED; ++i) {
      Sleep(100);
      if (!QueryServiceStatus(service.get(), &status)) break;
    }
  }
  if (!DeleteService(service.get()) && GetLastError() != ERROR_SERVICE_MARKED_FOR_DELETE) {
    std::fprintf(stderr, "opsmerge-agent: cannot delete the service: %s\n",
                 ErrorText(GetLastError()).c_str());
    return 70;
  }
  std::printf("service %ls stopped and removed\n", kServiceName);
  return 0;
}

int RunService(const std::string& config_path) {
  g_config_path = config_path;
  SERVICE_TABLE_ENTRYW table[] = {{const_cast<wchar_t*>(kServiceName), ServiceMain},
                                  {nullptr, nullptr}};
  if (StartServiceCtrlDispatcherW(table)) return g_exit_code;
  if (GetLastError() != ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
    std::fprintf(stderr, "opsmerge-agent: %s\n", ErrorText(GetLastError()).c_str());
    return 70;
  }
  // Started from a console: the same loop in the foreground, Ctrl+C stops it.
  SetConsoleCtrlHandler(OnConsoleCtrl, TRUE);
  return ServiceBody();
}

}  // namespace opsmerge::agent::windows
