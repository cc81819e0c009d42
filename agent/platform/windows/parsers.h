#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

// Pure parsers of the raw data Windows hands the agent (SMBIOS tables, registry
// values). No Windows header: they build and are unit-tested on Linux, on
// fixtures recorded from real machines.
namespace opsmerge::agent::windows {

// What SMBIOS says about the machine (type 1, System Information).
struct SmbiosSystem {
  std::string vendor;  // Manufacturer
  std::string model;   // Product Name
  std::string serial;  // Serial Number; "" for placeholders such as "To Be Filled By O.E.M."
  std::string uuid;    // "4C4C4544-0042-3510-8052-B4C04F4A4C33"; "" if unset
};
// `raw` is GetSystemFirmwareTable('RSMB')'s buffer: the RawSMBIOSData header (8
// bytes: calling method, major, minor, DMI revision, table length) and the table.
// Truncated or malformed tables give what could be read, never an overrun.
SmbiosSystem ParseSmbios(const std::string& raw);

// A registry key's values, as the collector read them: strings (REG_SZ and
// REG_EXPAND_SZ) and DWORDs.
struct RegistryValues {
  std::map<std::string, std::string> strings;
  std::map<std::string, uint32_t> dwords;
  std::string Str(const std::string& name) const;
  std::optional<uint32_t> Dword(const std::string& name) const;
};

// The inventory's "os" from HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion and
// the real version RtlGetVersion reports (not the compatibility-shimmed one):
// {"name": "Windows 11 Pro", "edition": "Professional", "version": "23H2",
//  "build": "22631.4602", "kernel": "10.0.22631"}. Windows 11 still calls itself
// "Windows 10" in ProductName: the build number (22000 and later) decides.
nlohmann::json OsFromRegistry(const RegistryValues& current_version, uint32_t major, uint32_t minor,
                              uint32_t build);

// One subkey of an Uninstall key, and where it was read.
struct UninstallEntry {
  std::string key;    // the subkey's name ("{GUID}" or "Mozilla Firefox 128.0 (x64 en-GB)")
  std::string scope;  // "machine-64", "machine-32" or "user"
  RegistryValues values;
};
// The installed software list from both registry views and the users' hives, as
// Programs and Features shows it: entries with a DisplayName, not system
// components, not updates of another product (ParentKeyName, ReleaseType
// "Update"/"Hotfix"/"Security Update"), each name+version once. Sorted by name;
// at most 20000 entries, names and versions at most 200 bytes.
nlohmann::json SoftwareFromUninstall(const std::vector<UninstallEntry>& entries);

// A MAC address as the inventory writes it ("00:15:5d:01:02:03").
std::string FormatMac(const unsigned char* bytes, size_t length);

}  // namespace opsmerge::agent::windows
