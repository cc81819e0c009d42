#include "platform/linux/collector.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netdb.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utmp.h>

#include "protocol/agent_wire.h"

extern char** environ;

namespace opsmerge::agent {

namespace {

using nlohmann::json;

std::string ReadText(const std::string& path, size_t max = 1 << 16) {
  std::ifstream f(path);
  if (!f) return "";
  std::string out(max, '\0');
  f.read(out.data(), static_cast<std::streamsize>(max));
  out.resize(static_cast<size_t>(f.gcount()));
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::map<std::string, std::string> OsRelease() {
  std::map<std::string, std::string> kv;
  std::istringstream in(ReadText("/etc/os-release"));
  for (std::string line; std::getline(in, line);) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string v = line.substr(eq + 1);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'')) v = v.substr(1, v.size() - 2);
    kv[line.substr(0, eq)] = v;
  }
  return kv;
}

int64_t MemInfo(const std::string& key) {
  std::istringstream in(ReadText("/proc/meminfo"));
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) return std::stoll(line.substr(key.size() + 1)) * 1024;
  }
  return 0;
}

json Disks() {
  static const std::set<std::string> kReal = {"ext2", "ext3", "ext4", "xfs", "btrfs",    "zfs",
                                              "vfat", "ntfs", "f2fs", "jfs", "reiserfs", "exfat"};
  json disks = json::array();
  std::istringstream in(ReadText("/proc/mounts", 1 << 20));
  std::set<std::string> seen;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string dev, mount, fs;
    fields >> dev >> mount >> fs;
    if (!kReal.count(fs) || !seen.insert(dev).second) continue;
    struct statvfs st {};
    if (statvfs(mount.c_str(), &st) != 0) continue;
    disks.push_back({{"mount", mount},
                     {"fs", fs},
                     {"size_bytes", static_cast<int64_t>(st.f_blocks * st.f_frsize)},
                     {"used_bytes", static_cast<int64_t>((st.f_blocks - st.f_bfree) * st.f_frsize)},
                     {"free_bytes", static_cast<int64_t>(st.f_bavail * st.f_frsize)}});
    if (disks.size() >= 64) break;
  }
  return disks;
}

json Network() {
  std::map<std::string, json> nics;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return json::array();
  for (ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || (a->ifa_flags & IFF_LOOPBACK)) continue;
    json& nic = nics[a->ifa_name];
    if (nic.is_null()) nic = {{"name", a->ifa_name}, {"mac", ""}, {"addresses", json::array()}};
    int family = a->ifa_addr->sa_family;
    if (family == AF_PACKET) {
      auto* ll = reinterpret_cast<sockaddr_ll*>(a->ifa_addr);
      char mac[32] = {0};
      if (ll->sll_halen == 6) {
        std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", ll->sll_addr[0],
                      ll->sll_addr[1], ll->sll_addr[2], ll->sll_addr[3], ll->sll_addr[4],
                      ll->sll_addr[5]);
      }
      nic["mac"] = mac;
    } else if (family == AF_INET || family == AF_INET6) {
      char host[NI_MAXHOST];
      socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
      if (getnameinfo(a->ifa_addr, len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) == 0 &&
          nic["addresses"].size() < 32) {
        nic["addresses"].push_back(host);
      }
    }
  }
  freeifaddrs(list);
  json out = json::array();
  for (auto& [name, nic] : nics) {
    if (out.size() < 64) out.push_back(nic);
  }
  return out;
}

json Users() {
  std::set<std::string> users;
  setutent();
  while (utmp* u = getutent()) {
    if (u->ut_type == USER_PROCESS)
      users.insert(std::string(u->ut_user, strnlen(u->ut_user, sizeof u->ut_user)));
  }
  endutent();
  json out = json::array();
  for (const auto& u : users) out.push_back(u);
  return out;
}

json ListSoftware() {
  json out = json::array();
  std::ifstream dpkg("/var/lib/dpkg/status");
  if (dpkg) {
    std::string line, name, version, status;
    auto flush = [&]() {
      if (!name.empty() && status.find("install ok installed") != std::string::npos &&
          out.size() < 20000) {
        out.push_back({{"name", name.substr(0, 200)}, {"version", version.substr(0, 200)}});
      }
      name.clear();
      version.clear();
      status.clear();
    };
    while (std::getline(dpkg, line)) {
      if (line.empty()) {
        flush();
      } else if (line.rfind("Package: ", 0) == 0) {
        name = line.substr(9);
      } else if (line.rfind("Version: ", 0) == 0) {
        version = line.substr(9);
      } else if (line.rfind("Status: ", 0) == 0) {
        status = line.substr(8);
      }
    }
    flush();
    return out;
  }
  return out;
}

}  // namespace

double DiskUsePercent(uint64_t blocks, uint64_t free_blocks, uint64_t available_blocks) {
  if (blocks == 0 || free_blocks > blocks) return 0;
  uint64_t used = blocks - free_blocks;
  if (used + available_blocks == 0) return 0;
  return 100.0 * static_cast<double>(used) / static_cast<double>(used + available_blocks);
}

MetricsSample LinuxCollector::Metrics() {
  MetricsSample m;
  std::istringstream stat(ReadText("/proc/stat", 4096));
  std::string cpu;
  uint64_t user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  stat >> cpu >> user >> nice >> sys >> idle >> iowait >> irq >> softirq >> steal;
  uint64_t busy = user + nice + sys + irq + softirq + steal;
  uint64_t total = busy + idle + iowait;
  if (prev_total_ && total > prev_total_) {
    m.cpu_percent =
        100.0 * static_cast<double>(busy - prev_busy_) / static_cast<double>(total - prev_total_);
  }
  prev_busy_ = busy;
  prev_total_ = total;
  int64_t mem_total = MemInfo("MemTotal"), mem_avail = MemInfo("MemAvailable");
  if (mem_total > 0)
    m.memory_percent =
        100.0 * static_cast<double>(mem_total - mem_avail) / static_cast<double>(mem_total);
  struct statvfs st {};
  if (statvfs("/", &st) == 0) m.disk_percent = DiskUsePercent(st.f_blocks, st.f_bfree, st.f_bavail);
  auto clamp = [](double v) { return v < 0 ? 0 : v > 100 ? 100 : v; };
  m.cpu_percent = clamp(m.cpu_percent);
  m.memory_percent = clamp(m.memory_percent);
  m.disk_percent = clamp(m.disk_percent);
  return m;
}

json LinuxCollector::BaseInventory() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  utsname uts{};
  uname(&uts);
  auto os = OsRelease();
  std::string cpu_model;
  {
    std::istringstream in(ReadText("/proc/cpuinfo", 1 << 18));
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("model name", 0) == 0) {
        cpu_model = line.substr(line.find(':') + 2);
        break;
      }
    }
  }
  double uptime = 0;
  std::istringstream(ReadText("/proc/uptime")) >> uptime;
  // systemd's machine-id: stable across reboots and hostname changes, new on a
  // re-imaged machine.
  std::string machine_id = ReadText("/etc/machine-id", 64);
  if (machine_id.empty()) machine_id = ReadText("/var/lib/dbus/machine-id", 64);
  return {{wire::kHostname, host},
          {wire::kMachineId, machine_id},
          {wire::kOs,
           {{"name", os.count("PRETTY_NAME") ? os["PRETTY_NAME"] : std::string(uts.sysname)},
            {"version", os["VERSION_ID"]},
            {"kernel", std::string(uts.release)}}},
          {wire::kCpu,
           {{"model", cpu_model}, {"cores", static_cast<int64_t>(sysconf(_SC_NPROCESSORS_ONLN))}}},
          {wire::kMemoryBytes, MemInfo("MemTotal")},
          {wire::kDisks, Disks()},
          {wire::kNetwork, Network()},
          {wire::kHardware,
           {{"serial", ReadText("/sys/class/dmi/id/product_serial", 256)},
            {"model", ReadText("/sys/class/dmi/id/product_name", 256)},
            {"vendor", ReadText("/sys/class/dmi/id/sys_vendor", 256)}}},
          {wire::kUptimeSeconds, static_cast<int64_t>(uptime)},
          {wire::kUsers, Users()}};
}

json LinuxCollector::Software() {
  json out = ListSoftware();  // dpkg's status file, read directly
  if (!out.empty() || access("/usr/bin/rpm", X_OK) != 0) return out;
  RunCommand({"/usr/bin/rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n"},
             [&](const std::string& l) {
               size_t tab = l.find('\t');
               if (tab == std::string::npos || out.size() >= 20000) return;
               out.push_back({{"name", l.substr(0, tab).substr(0, 200)},
                              {"version", l.substr(tab + 1).substr(0, 200)}});
             });
  return out;
}

// ioprio_set(2) has no glibc wrapper: IOPRIO_WHO_PROCESS, and the idle class
// (IOPRIO_CLASS_IDLE << IOPRIO_CLASS_SHIFT).
constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioIdle = 3 << 13;

// Packages with an upgrade ready: apt's simulation, or dnf check-update.
std::optional<int64_t> LinuxCollector::PendingUpdates() {
  int64_t n = 0;
  if (access("/usr/bin/apt-get", X_OK) == 0) {
    bool ran = RunCommand({"/usr/bin/apt-get", "-s", "-qq", "-o", "Debug::NoLocking=1", "upgrade"},
                          [&](const std::string& l) { n += l.rfind("Inst ", 0) == 0; });
    return ran && !cancelled_ ? std::optional<int64_t>(n) : std::nullopt;
  }
  if (access("/usr/bin/dnf", X_OK) == 0) {
    bool ran = RunCommand({"/usr/bin/dnf", "-q", "check-update"},
                          [&](const std::string& l) { n += !l.empty() && l[0] != ' '; });
    return ran && !cancelled_ ? std::optional<int64_t>(n) : std::nullopt;
  }
  return std::nullopt;
}

void LinuxCollector::CancelSlowWork() {
  cancelled_ = true;
  pid_t pid = running_.load();
  if (pid > 0) kill(-pid, SIGTERM);  // its whole process group
}

bool LinuxCollector::RunCommand(const std::vector<std::string>& argv,
                                const std::function<void(const std::string&)>& line) {
  if (cancelled_) return false;
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return false;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  close(out[1]);
  if (rc != 0) {
    close(out[0]);
    return false;
  }
  running_ = pid;
  // Inventory is background work: the endpoint's own programs come first, for the
  // CPU and the disk (apt's simulation takes a second or two of a core).
  setpriority(PRIO_PROCESS, static_cast<id_t>(pid), 19);
  syscall(SYS_ioprio_set, kIoprioWhoProcess, pid, kIoprioIdle);
  if (cancelled_) kill(-pid, SIGTERM);  // cancelled while starting
  std::string pending;
  char buf[4096];
  for (ssize_t got; (got = read(out[0], buf, sizeof buf)) > 0;) {
    pending.append(buf, static_cast<size_t>(got));
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
      line(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
    if (pending.size() > (1 << 20)) pending.clear();  // no line is that long
  }
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  running_ = 0;
  return !cancelled_ && WIFEXITED(status);
}

}  // namespace opsmerge::agent
