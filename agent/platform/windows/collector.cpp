#include "platform/windows/collector.h"

// clang-format off
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <wtsapi32.h>
// The Update Agent's GUIDs are defined here: mingw-w64 has no import library for them.
#include <initguid.h>
#include <wuapi.h>
// clang-format on

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/windows/parsers.h"
#include "platform/windows/wide.h"
#include "protocol/agent_wire.h"

namespace opsmerge::agent::windows {

namespace {

using nlohmann::json;

uint64_t FileTime(const FILETIME& t) {
  return static_cast<uint64_t>(t.dwHighDateTime) << 32 | t.dwLowDateTime;
}

// A key's string and DWORD values (names as UTF-8); empty when it cannot be opened.
RegistryValues ReadValues(HKEY root, const std::wstring& path, REGSAM view = 0) {
  RegistryValues out;
  HKEY key = nullptr;
  if (RegOpenKeyExW(root, path.c_str(), 0, KEY_READ | view, &key) != ERROR_SUCCESS) return out;
  std::vector<wchar_t> name(16384);
  std::vector<BYTE> data(65536);
  for (DWORD i = 0;; ++i) {
    DWORD name_len = static_cast<DWORD>(name.size()), data_len = static_cast<DWORD>(data.size());
    DWORD type = 0;
    LONG rc = RegEnumValueW(key, i, name.data(), &name_len, nullptr, &type, data.data(), &data_len);
    if (rc == ERROR_NO_MORE_ITEMS) break;
    if (rc != ERROR_SUCCESS) continue;  // a value too large for the buffer: not one we read
    std::string n = Utf8(name.data(), name_len);
    if ((type == REG_SZ || type == REG_EXPAND_SZ) && data_len >= sizeof(wchar_t)) {
      const auto* w = reinterpret_cast<const wchar_t*>(data.data());
      size_t len = data_len / sizeof(wchar_t);
      while (len > 0 && w[len - 1] == L'\0') --len;  // stored with or without the NUL
      out.strings[n] = Utf8(w, len);
    } else if (type == REG_DWORD && data_len == sizeof(DWORD)) {
      DWORD v = 0;
      memcpy(&v, data.data(), sizeof v);
      out.dwords[n] = v;
    }
  }
  RegCloseKey(key);
  return out;
}

std::vector<std::wstring> Subkeys(HKEY root, const std::wstring& path, REGSAM view = 0) {
  std::vector<std::wstring> out;
  HKEY key = nullptr;
  if (RegOpenKeyExW(root, path.c_str(), 0, KEY_READ | view, &key) != ERROR_SUCCESS) return out;
  wchar_t name[256];
  for (DWORD i = 0;; ++i) {
    DWORD len = 256;
    LONG rc = RegEnumKeyExW(key, i, name, &len, nullptr, nullptr, nullptr, nullptr);
    if (rc == ERROR_NO_MORE_ITEMS) break;
    if (rc == ERROR_SUCCESS) out.emplace_back(name, len);
  }
  RegCloseKey(key);
  return out;
}

json Os() {
  // The real version: GetVersionEx answers what the manifest asked for.
  using RtlGetVersionFn = LONG(WINAPI*)(OSVERSIONINFOW*);
  OSVERSIONINFOW v{};
  v.dwOSVersionInfoSize = sizeof v;
  if (HMODULE ntdll = GetModuleHandleW(L"ntdll.dll")) {
    auto fn = reinterpret_cast<RtlGetVersionFn>(
        reinterpret_cast<void*>(GetProcAddress(ntdll, "RtlGetVersion")));
    if (fn) fn(&v);
  }
  return OsFromRegistry(
      ReadValues(HKEY_LOCAL_MACHINE, L"SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion",
                 KEY_WOW64_64KEY),
      v.dwMajorVersion, v.dwMinorVersion, v.dwBuildNumber);
}

json Disks() {
  json disks = json::array();
  wchar_t drives[512] = {0};
  DWORD n = GetLogicalDriveStringsW(511, drives);
  if (n == 0 || n > 511) return disks;
  for (const wchar_t* d = drives; *d && disks.size() < 64; d += wcslen(d) + 1) {
    if (GetDriveTypeW(d) != DRIVE_FIXED) continue;
    wchar_t fs[64] = {0};
    if (!GetVolumeInformationW(d, nullptr, 0, nullptr, nullptr, nullptr, fs, 64)) fs[0] = L'\0';
    ULARGE_INTEGER avail{}, total{}, free_bytes{};
    if (!GetDiskFreeSpaceExW(d, &avail, &total, &free_bytes)) continue;
    std::string root = Utf8(d, wcslen(d));
    std::string mount = root.substr(0, 2);  // "C:"
    disks.push_back({{"mount", mount},
                     {"letter", mount.substr(0, 1)},
                     {"fs", Utf8(fs, wcslen(fs))},
                     {"size_bytes", static_cast<int64_t>(total.QuadPart)},
                     {"used_bytes", static_cast<int64_t>(total.QuadPart - free_bytes.QuadPart)},
                     {"free_bytes", static_cast<int64_t>(avail.QuadPart)}});
  }
  return disks;
}

json Network() {
  json out = json::array();
  ULONG size = 32768;
  std::vector<unsigned char> buf;
  ULONG rc = ERROR_BUFFER_OVERFLOW;
  for (int attempt = 0; attempt < 3 && rc == ERROR_BUFFER_OVERFLOW; ++attempt) {
    buf.resize(size);
    rc = GetAdaptersAddresses(
        AF_UNSPEC, GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER,
        nullptr, reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buf.data()), &size);
  }
  if (rc != NO_ERROR) return out;
  for (auto* a = reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buf.data()); a && out.size() < 64;
       a = a->Next) {
    if (a->IfType == IF_TYPE_SOFTWARE_LOOPBACK || a->IfType == IF_TYPE_TUNNEL) continue;
    json nic = {{"name", a->FriendlyName ? Utf8(a->FriendlyName, wcslen(a->FriendlyName)) : ""},
                {"mac", FormatMac(a->PhysicalAddress, a->PhysicalAddressLength)},
                {"addresses", json::array()}};
    for (auto* u = a->FirstUnicastAddress; u && nic["addresses"].size() < 32; u = u->Next) {
      char host[NI_MAXHOST] = {0};
      if (getnameinfo(u->Address.lpSockaddr, u->Address.iSockaddrLength, host, sizeof host, nullptr,
                      0, NI_NUMERICHOST) == 0) {
        nic["addresses"].push_back(host);
      }
    }
    out.push_back(std::move(nic));
  }
  return out;
}

// Users with a session on the machine (console or Remote Desktop, active or
// disconnected), as DOMAIN\user.
json Users() {
  std::set<std::string> users;
  WTS_SESSION_INFOW* sessions = nullptr;
  DWORD count = 0;
  if (WTSEnumerateSessionsW(WTS_CURRENT_SERVER_HANDLE, 0, 1, &sessions, &count)) {
    for (DWORD i = 0; i < count; ++i) {
      if (sessions[i].State != WTSActive && sessions[i].State != WTSDisconnected) continue;
      auto query = [&](WTS_INFO_CLASS what) {
        wchar_t* text = nullptr;
        DWORD bytes = 0;
        std::string out;
        if (WTSQuerySessionInformationW(WTS_CURRENT_SERVER_HANDLE, sessions[i].SessionId, what,
                                        &text, &bytes) &&
            text) {
          out = Utf8(text, wcslen(text));
        }
        if (text) WTSFreeMemory(text);
        return out;
      };
      std::string user = query(WTSUserName);
      if (user.empty()) continue;
      std::string domain = query(WTSDomainName);
      users.insert(domain.empty() ? user : domain + "\\" + user);
    }
    WTSFreeMemory(sessions);
  }
  json out = json::array();
  for (const auto& u : users) out.push_back(u);
  return out;
}

std::string MachineGuid() {
  return ReadValues(HKEY_LOCAL_MACHINE, L"SOFTWARE\\Microsoft\\Cryptography", KEY_WOW64_64KEY)
      .Str("MachineGuid");
}

std::string SmbiosTable() {
  constexpr DWORD kRsmb = 'R' << 24 | 'S' << 16 | 'M' << 8 | 'B';
  UINT size = GetSystemFirmwareTable(kRsmb, 0, nullptr, 0);
  if (size == 0 || size > (1u << 20)) return "";
  std::string raw(size, '\0');
  UINT got = GetSystemFirmwareTable(kRsmb, 0, raw.data(), size);
  raw.resize(got <= size ? got : 0);
  return raw;
}

// COM interfaces have no virtual destructor by design: COM objects end by Release.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
// Completion callback for BeginSearch: the agent polls the job instead, so that
// a stop can abort it; this only has to exist.
class SearchDone final : public IUnknown {
 public:
  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void** out) override {
    // IID_ISearchCompletedCallback {88AEE058-D4B0-4725-A2F1-814A67AE964C}
    static const GUID kCallback = {
        0x88aee058, 0xd4b0, 0x4725, {0xa2, 0xf1, 0x81, 0x4a, 0x67, 0xae, 0x96, 0x4c}};
    if (IsEqualGUID(riid, IID_IUnknown) || IsEqualGUID(riid, kCallback)) {
      *out = this;
      AddRef();
      return S_OK;
    }
    *out = nullptr;
    return E_NOINTERFACE;
  }
  ULONG STDMETHODCALLTYPE AddRef() override { return static_cast<ULONG>(++refs_); }
  ULONG STDMETHODCALLTYPE Release() override { return static_cast<ULONG>(--refs_); }
  // ISearchCompletedCallback::Invoke(ISearchJob*, ISearchCompletedCallbackArgs*)
  virtual HRESULT STDMETHODCALLTYPE Invoke(IUnknown*, IUnknown*) { return S_OK; }

 private:
  std::atomic<long> refs_{1};  // on the stack of the search: never deleted by COM
};
#pragma GCC diagnostic pop

template <typename T>
struct ComPtr {
  T* p = nullptr;
  ~ComPtr() {
    if (p) p->Release();
  }
  T** operator&() { return &p; }
  T* operator->() const { return p; }
};

}  // namespace

MetricsSample WindowsCollector::Metrics() {
  MetricsSample m;
  FILETIME idle{}, kernel{}, user{};
  if (GetSystemTimes(&idle, &kernel, &user)) {
    // Kernel time includes idle time.
    uint64_t total = FileTime(kernel) + FileTime(user);
    uint64_t busy = total - FileTime(idle);
    if (prev_total_ && total > prev_total_ && busy >= prev_busy_) {
      m.cpu_percent =
          100.0 * static_cast<double>(busy - prev_busy_) / static_cast<double>(total - prev_total_);
    }
    prev_busy_ = busy;
    prev_total_ = total;
  }
  MEMORYSTATUSEX mem{};
  mem.dwLength = sizeof mem;
  if (GlobalMemoryStatusEx(&mem) && mem.ullTotalPhys > 0) {
    m.memory_percent = 100.0 * static_cast<double>(mem.ullTotalPhys - mem.ullAvailPhys) /
                       static_cast<double>(mem.ullTotalPhys);
  }
  wchar_t windir[MAX_PATH] = {0};
  UINT n = GetSystemWindowsDirectoryW(windir, MAX_PATH);
  std::wstring root = n >= 3 && n < MAX_PATH ? std::wstring(windir, 3) : L"C:\\";
  ULARGE_INTEGER avail{}, total{}, free_bytes{};
  if (GetDiskFreeSpaceExW(root.c_str(), &avail, &total, &free_bytes) && total.QuadPart > 0) {
    double used = static_cast<double>(total.QuadPart - free_bytes.QuadPart);
    double denominator = used + static_cast<double>(avail.QuadPart);
    if (denominator > 0) m.disk_percent = 100.0 * used / denominator;
  }
  auto clamp = [](double v) { return v < 0 ? 0 : v > 100 ? 100 : v; };
  m.cpu_percent = clamp(m.cpu_percent);
  m.memory_percent = clamp(m.memory_percent);
  m.disk_percent = clamp(m.disk_percent);
  return m;
}

json WindowsCollector::BaseInventory() {
  wchar_t host[256] = {0};
  DWORD host_len = 256;
  std::string hostname;
  if (GetComputerNameExW(ComputerNameDnsHostname, host, &host_len)) hostname = Utf8(host, host_len);
  MEMORYSTATUSEX mem{};
  mem.dwLength = sizeof mem;
  GlobalMemoryStatusEx(&mem);
  SmbiosSystem hw = ParseSmbios(SmbiosTable());
  std::string cpu =
      ReadValues(HKEY_LOCAL_MACHINE, L"HARDWARE\\DESCRIPTION\\System\\CentralProcessor\\0")
          .Str("ProcessorNameString");
  // The Windows machine GUID: stable across reboots and renames, new when the
  // machine is re-imaged (sysprep); SMBIOS's UUID if it is missing.
  std::string machine_id = MachineGuid();
  if (machine_id.empty()) machine_id = hw.uuid;
  return {{wire::kHostname, hostname},
          {wire::kMachineId, machine_id},
          {wire::kOs, Os()},
          {wire::kCpu,
           {{"model", cpu},
            {"cores", static_cast<int64_t>(GetActiveProcessorCount(ALL_PROCESSOR_GROUPS))}}},
          {wire::kMemoryBytes, static_cast<int64_t>(mem.ullTotalPhys)},
          {wire::kDisks, Disks()},
          {wire::kNetwork, Network()},
          {wire::kHardware, {{"serial", hw.serial}, {"model", hw.model}, {"vendor", hw.vendor}}},
          {wire::kUptimeSeconds, static_cast<int64_t>(GetTickCount64() / 1000)},
          {wire::kUsers, Users()}};
}

json WindowsCollector::Software() {
  const std::wstring kUninstall = L"SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall";
  std::vector<UninstallEntry> entries;
  auto read = [&](HKEY root, const std::wstring& path, REGSAM view, const char* scope) {
    for (const std::wstring& sub : Subkeys(root, path, view)) {
      if (cancelled_ || entries.size() >= 50000) return;
      entries.push_back({Utf8(sub), scope, ReadValues(root, path + L"\\" + sub, view)});
    }
  };
  read(HKEY_LOCAL_MACHINE, kUninstall, KEY_WOW64_64KEY, "machine-64");
  read(HKEY_LOCAL_MACHINE, kUninstall, KEY_WOW64_32KEY, "machine-32");
  // Per-user installs, for the users whose hive is loaded (signed in, or a
  // service's account); HKEY_USERS\S-1-5-21-...\Software\...\Uninstall.
  for (const std::wstring& sid : Subkeys(HKEY_USERS, L"")) {
    if (sid.rfind(L"S-1-5-21-", 0) != 0 || sid.find(L"_Classes") != std::wstring::npos) continue;
    read(HKEY_USERS, sid + L"\\" + kUninstall, 0, "user");
  }
  return SoftwareFromUninstall(entries);
}

// Updates the Windows Update Agent would install: not installed, not hidden,
// software. nullopt when the service cannot be asked (disabled, or Wine).
std::optional<int64_t> WindowsCollector::PendingUpdates() {
  if (cancelled_) return std::nullopt;
  HRESULT init = CoInitializeEx(nullptr, COINIT_MULTITHREADED);
  std::optional<int64_t> result;
  {
    ComPtr<IUpdateSession> session;
    ComPtr<IUpdateSearcher> searcher;
    ComPtr<ISearchJob> job;
    ComPtr<ISearchResult> found;
    ComPtr<IUpdateCollection> updates;
    SearchDone done;
    BSTR criteria = SysAllocString(L"IsInstalled=0 and IsHidden=0 and Type='Software'");
    VARIANT state;
    VariantInit(&state);
    if (SUCCEEDED(CoCreateInstance(CLSID_UpdateSession, nullptr, CLSCTX_INPROC_SERVER,
                                   IID_IUpdateSession, reinterpret_cast<void**>(&session))) &&
        SUCCEEDED(session->CreateUpdateSearcher(&searcher)) &&
        SUCCEEDED(searcher->BeginSearch(criteria, &done, state, &job))) {
      // Poll, so that a stop aborts a search that can take minutes.
      for (VARIANT_BOOL completed = VARIANT_FALSE;;) {
        if (FAILED(job->get_IsCompleted(&completed)) || completed == VARIANT_TRUE) break;
        if (cancelled_) {
          job->RequestAbort();
          break;
        }
        Sleep(200);
      }
      LONG count = 0;
      if (!cancelled_ && SUCCEEDED(searcher->EndSearch(job.p, &found)) &&
          SUCCEEDED(found->get_Updates(&updates)) && SUCCEEDED(updates->get_Count(&count))) {
        result = count;
      }
    }
    SysFreeString(criteria);
  }
  if (SUCCEEDED(init)) CoUninitialize();
  return result;
}

void WindowsCollector::CancelSlowWork() { cancelled_ = true; }

}  // namespace opsmerge::agent::windows
