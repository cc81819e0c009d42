#include "platform/windows/parsers.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

namespace opsmerge::agent::windows {

namespace {

using nlohmann::json;

constexpr size_t kMaxSoftware = 20000;
constexpr size_t kMaxText = 200;

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t b = 0;
  while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  return s.substr(b);
}

// Printable ASCII only: SMBIOS strings are ASCII by the standard; firmware
// sometimes leaves garbage after them.
std::string Printable(const std::string& s) {
  std::string out;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7F) out += c;
  }
  return Trim(out);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Values vendors put in a field they did not fill.
bool IsPlaceholder(const std::string& s) {
  static const std::set<std::string> kPlaceholders = {"",
                                                      "to be filled by o.e.m.",
                                                      "default string",
                                                      "system serial number",
                                                      "not specified",
                                                      "not applicable",
                                                      "none",
                                                      "0",
                                                      "0123456789",
                                                      "oem",
                                                      "o.e.m."};
  return kPlaceholders.count(Lower(s)) > 0;
}

// The n-th (1-based) string of the string set that starts at `strings`; "" for 0
// or past the end.
std::string SmbiosString(const std::string& table, size_t strings, size_t end, uint8_t n) {
  if (n == 0) return "";
  size_t p = strings;
  for (uint8_t i = 1; p < end; ++i) {
    size_t z = table.find('\0', p);
    if (z == std::string::npos || z >= end) return "";
    if (z == p) return "";  // the set's terminating empty string
    if (i == n) return Printable(table.substr(p, z - p));
    p = z + 1;
  }
  return "";
}

std::string Truncate(const std::string& s) {
  if (s.size() <= kMaxText) return s;
  size_t n = kMaxText;
  // Never cut a UTF-8 sequence in half.
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

}  // namespace

SmbiosSystem ParseSmbios(const std::string& raw) {
  SmbiosSystem out;
  if (raw.size() < 8) return out;
  auto byte = [&](size_t i) { return static_cast<uint8_t>(raw[i]); };
  uint32_t length = static_cast<uint32_t>(byte(4)) | static_cast<uint32_t>(byte(5)) << 8 |
                    static_cast<uint32_t>(byte(6)) << 16 | static_cast<uint32_t>(byte(7)) << 24;
  size_t end = std::min<size_t>(raw.size(), size_t{8} + length);
  size_t p = 8;
  while (p + 4 <= end) {
    uint8_t type = byte(p), len = byte(p + 1);
    if (len < 4 || p + len > end) break;
    size_t strings = p + len;
    // The string set ends with two zero bytes.
    size_t next = strings;
    while (next + 1 < end && !(raw[next] == '\0' && raw[next + 1] == '\0')) ++next;
    if (next + 1 >= end)
      next = end;
    else
      next += 2;
    if (type == 1 && len >= 8) {
      out.vendor = SmbiosString(raw, strings, end, byte(p + 4));
      out.model = SmbiosString(raw, strings, end, byte(p + 5));
      out.serial = SmbiosString(raw, strings, end, byte(p + 7));
      if (IsPlaceholder(out.serial)) out.serial.clear();
      if (IsPlaceholder(out.vendor)) out.vendor.clear();
      if (IsPlaceholder(out.model)) out.model.clear();
      if (len >= 0x19) {
        const unsigned char* u = reinterpret_cast<const unsigned char*>(raw.data() + p + 8);
        bool all_zero = std::all_of(u, u + 16, [](unsigned char c) { return c == 0; });
        bool all_ff = std::all_of(u, u + 16, [](unsigned char c) { return c == 0xFF; });
        if (!all_zero && !all_ff) {
          // SMBIOS 2.6+: the first three fields are little-endian.
          char buf[40];
          std::snprintf(buf, sizeof buf,
                        "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X",
                        u[3], u[2], u[1], u[0], u[5], u[4], u[7], u[6], u[8], u[9], u[10], u[11],
                        u[12], u[13], u[14], u[15]);
          out.uuid = buf;
        }
      }
      return out;
    }
    if (type == 127) break;  // end of table
    p = next;
  }
  return out;
}

std::string RegistryValues::Str(const std::string& name) const {
  auto it = strings.find(name);
  return it == strings.end() ? "" : Trim(it->second);
}

std::optional<uint32_t> RegistryValues::Dword(const std::string& name) const {
  auto it = dwords.find(name);
  if (it == dwords.end()) return std::nullopt;
  return it->second;
}

json OsFromRegistry(const RegistryValues& cv, uint32_t major, uint32_t minor, uint32_t build) {
  std::string name = cv.Str("ProductName");
  if (name.empty()) name = "Windows";
  // Windows 11 kept "Windows 10" in ProductName; Microsoft's own advice is the build.
  if (major == 10 && build >= 22000 && name.rfind("Windows 10", 0) == 0) {
    name.replace(0, 10, "Windows 11");
  }
  std::string version = cv.Str("DisplayVersion");       // 21H2 onwards
  if (version.empty()) version = cv.Str("ReleaseId");   // 1507-2009
  if (version.empty()) version = cv.Str("CSDVersion");  // older: a service pack
  std::string build_text = std::to_string(build);
  if (build == 0) build_text = cv.Str("CurrentBuild");
  if (auto ubr = cv.Dword("UBR")) build_text += "." + std::to_string(*ubr);
  return {
      {"name", name},
      {"edition", cv.Str("EditionID")},
      {"version", version},
      {"build", build_text},
      {"kernel", std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(build)},
      {"installation_type", cv.Str("InstallationType")}};
}

json SoftwareFromUninstall(const std::vector<UninstallEntry>& entries) {
  static const std::set<std::string> kUpdateTypes = {"update", "hotfix", "security update",
                                                     "service pack"};
  std::set<std::pair<std::string, std::string>> seen;
  std::vector<json> rows;
  for (const UninstallEntry& e : entries) {
    std::string name = e.values.Str("DisplayName");
    if (name.empty()) continue;
    if (e.values.Dword("SystemComponent").value_or(0) == 1) continue;
    if (!e.values.Str("ParentKeyName").empty()) continue;
    if (kUpdateTypes.count(Lower(e.values.Str("ReleaseType")))) continue;
    std::string version = Truncate(e.values.Str("DisplayVersion"));
    name = Truncate(name);
    if (!seen.insert({Lower(name), version}).second) continue;
    rows.push_back({{"name", name},
                    {"version", version},
                    {"publisher", Truncate(e.values.Str("Publisher"))},
                    {"scope", e.scope}});
  }
  std::sort(rows.begin(), rows.end(), [](const json& a, const json& b) {
    std::string la = Lower(a["name"].get<std::string>()), lb = Lower(b["name"].get<std::string>());
    return la != lb ? la < lb : a["version"].get<std::string>() < b["version"].get<std::string>();
  });
  if (rows.size() > kMaxSoftware) rows.resize(kMaxSoftware);
  return json(rows);
}

std::string FormatMac(const unsigned char* bytes, size_t length) {
  std::string out;
  char part[4];
  for (size_t i = 0; i < length && i < 8; ++i) {
    std::snprintf(part, sizeof part, i ? ":%02x" : "%02x", bytes[i]);
    out += part;
  }
  return out;
}

}  // namespace opsmerge::agent::windows
