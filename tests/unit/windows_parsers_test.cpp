// The Windows agent's parsers of raw data (SMBIOS tables, registry values), on
// fixtures laid out byte by byte as GetSystemFirmwareTable('RSMB') and the
// registry hand them over (SMBIOS 3.x reference specification; values as
// dmidecode and regedit show them on the kinds of machine named).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "platform/windows/parsers.h"

namespace opsmerge::agent::windows {
namespace {

using nlohmann::json;

// One SMBIOS structure: header, formatted area (after the 4 header bytes), strings
// (never empty in a real table: an empty one ends the set).
std::string Structure(uint8_t type, const std::string& formatted,
                      const std::vector<std::string>& strings) {
  std::string s;
  s += static_cast<char>(type);
  s += static_cast<char>(4 + formatted.size());
  s += std::string("\x10\x00", 2);  // handle
  s += formatted;
  if (strings.empty()) {
    s += std::string(2, '\0');
  } else {
    for (const auto& str : strings) s += str + '\0';
    s += '\0';
  }
  return s;
}

// RawSMBIOSData: calling method, major, minor, DMI revision, table length (LE).
std::string Raw(const std::string& table) {
  std::string h = {'\0', '\x03', '\x03', '\0'};
  uint32_t n = static_cast<uint32_t>(table.size());
  for (int i = 0; i < 4; ++i) h += static_cast<char>((n >> (8 * i)) & 0xFF);
  return h + table;
}

// Type 0 (BIOS), as on a Dell OptiPlex 7090: vendor 1, version 2, date 3.
std::string Bios() {
  std::string f = {'\x01', '\x02', '\x00', '\xF0', '\x03', '\xFF'};
  f += std::string(14, '\x00');  // characteristics and the rest of a 2.4+ BIOS structure
  return Structure(0, f, {"Dell Inc.", "1.19.0", "04/12/2023"});
}

// Type 1 (System): manufacturer 1, product 2, version 3, serial 4, UUID, wake-up,
// SKU 5, family 6.
std::string System(const std::vector<std::string>& strings, const std::string& uuid) {
  std::string f = {'\x01', '\x02', '\x03', '\x04'};
  f += uuid;
  f += '\x06';                      // wake-up type: power switch
  f += std::string("\x05\x06", 2);  // SKU, family
  return Structure(1, f, strings);
}

const std::string kDellUuid("\x44\x45\x4C\x4C\x42\x00\x10\x35\x80\x52\xB4\xC0\x4F\x4A\x4C\x33", 16);

TEST(WindowsSmbios, ReadsVendorModelSerialAndUuidOfTheSystemStructure) {
  std::string table =
      Bios() +
      System({"Dell Inc.", "OptiPlex 7090", "Not Specified", "5CG1234XYZ", "0A5C", "OptiPlex"},
             kDellUuid) +
      Structure(127, "", {});
  SmbiosSystem s = ParseSmbios(Raw(table));
  EXPECT_EQ(s.vendor, "Dell Inc.");
  EXPECT_EQ(s.model, "OptiPlex 7090");
  EXPECT_EQ(s.serial, "5CG1234XYZ");
  // The first three fields little-endian, as Windows' Win32_ComputerSystemProduct shows it.
  EXPECT_EQ(s.uuid, "4C4C4544-0042-3510-8052-B4C04F4A4C33");
}

TEST(WindowsSmbios, PlaceholdersOfBoardsNobodyFilledInAreEmpty) {
  std::string table =
      System({"To Be Filled By O.E.M.", "To Be Filled By O.E.M.", "1.0", "Default string", "", ""},
             std::string(16, '\xFF')) +
      Structure(127, "", {});
  SmbiosSystem s = ParseSmbios(Raw(table));
  EXPECT_EQ(s.vendor, "");
  EXPECT_EQ(s.model, "");
  EXPECT_EQ(s.serial, "");
  EXPECT_EQ(s.uuid, "") << "all FF: not set";
}

TEST(WindowsSmbios, AVirtualMachinesTableWithPaddedSerialAndNoUuid) {
  // Hyper-V: "Microsoft Corporation", "Virtual Machine", a serial with padding.
  std::string table =
      System({"Microsoft Corporation", "Virtual Machine", "Hyper-V UEFI Release v4.1",
              "  0000-0006-4181-6453-0918-8155-33  ", "None", "Virtual Machine"},
             std::string(16, '\0'));
  SmbiosSystem s = ParseSmbios(Raw(table));
  EXPECT_EQ(s.vendor, "Microsoft Corporation");
  EXPECT_EQ(s.model, "Virtual Machine");
  EXPECT_EQ(s.serial, "0000-0006-4181-6453-0918-8155-33");
  EXPECT_EQ(s.uuid, "");
}

TEST(WindowsSmbios, BrokenTablesGiveWhatCouldBeReadAndNeverReadPastTheEnd) {
  std::string good = System({"Lenovo", "20XW0026UK", "ThinkPad", "PF2ABCDE", "", ""}, kDellUuid);
  EXPECT_EQ(ParseSmbios("").vendor, "");
  EXPECT_EQ(ParseSmbios(std::string(7, '\0')).vendor, "");
  // Each cut of a good table: no crash (ASan watches), and no invented values.
  std::string raw = Raw(good);
  for (size_t cut = 0; cut <= raw.size(); ++cut) {
    SmbiosSystem s = ParseSmbios(raw.substr(0, cut));
    EXPECT_TRUE(s.vendor.empty() || s.vendor == "Lenovo") << cut;
  }
  // A header that claims more than the buffer holds.
  std::string lying = Raw(good);
  lying[4] = '\xFF';
  lying[5] = '\xFF';
  EXPECT_EQ(ParseSmbios(lying).vendor, "Lenovo");
  // A structure whose length is below the header's 4 bytes ends the walk.
  std::string bad = Bios();
  bad[1] = '\x02';
  EXPECT_EQ(ParseSmbios(Raw(bad + good)).vendor, "");
  // A string number past the string set.
  std::string f = {'\x07', '\x02', '\x03', '\x04'};
  f += kDellUuid + std::string("\x06\x05\x06", 3);
  SmbiosSystem s = ParseSmbios(Raw(Structure(1, f, {"HP", "EliteBook 840 G8", "A", "5CG1"})));
  EXPECT_EQ(s.vendor, "");
  EXPECT_EQ(s.model, "EliteBook 840 G8");
  // Control bytes and non-ASCII in a string are dropped.
  s = ParseSmbios(Raw(System({"AS\x01US\xC3\xA9", "X", "1.0", "S\x7F"}, kDellUuid)));
  EXPECT_EQ(s.vendor, "ASUS");
  EXPECT_EQ(s.serial, "S");
}

RegistryValues Values(std::map<std::string, std::string> strings,
                      std::map<std::string, uint32_t> dwords = {}) {
  RegistryValues v;
  v.strings = std::move(strings);
  v.dwords = std::move(dwords);
  return v;
}

TEST(WindowsOs, Windows11IsNamedByItsBuildNotItsProductName) {
  // A Windows 11 23H2 Pro machine's CurrentVersion key.
  json os = OsFromRegistry(Values({{"ProductName", "Windows 10 Pro"},
                                   {"EditionID", "Professional"},
                                   {"DisplayVersion", "23H2"},
                                   {"CurrentBuild", "22631"},
                                   {"InstallationType", "Client"}},
                                  {{"UBR", 4602}}),
                           10, 0, 22631);
  EXPECT_EQ(os["name"], "Windows 11 Pro");
  EXPECT_EQ(os["edition"], "Professional");
  EXPECT_EQ(os["version"], "23H2");
  EXPECT_EQ(os["build"], "22631.4602");
  EXPECT_EQ(os["kernel"], "10.0.22631");
  EXPECT_EQ(os["installation_type"], "Client");
}

TEST(WindowsOs, ServersAndOlderWindows10KeepTheirNames) {
  json server = OsFromRegistry(Values({{"ProductName", "Windows Server 2022 Standard"},
                                       {"EditionID", "ServerStandard"},
                                       {"DisplayVersion", "21H2"},
                                       {"InstallationType", "Server"}},
                                      {{"UBR", 2849}}),
                               10, 0, 20348);
  EXPECT_EQ(server["name"], "Windows Server 2022 Standard");
  EXPECT_EQ(server["build"], "20348.2849");
  // Windows 10 1909 had ReleaseId, not DisplayVersion.
  json w10 = OsFromRegistry(Values({{"ProductName", "Windows 10 Enterprise"},
                                    {"EditionID", "Enterprise"},
                                    {"ReleaseId", "1909"}},
                                   {{"UBR", 2965}}),
                            10, 0, 18363);
  EXPECT_EQ(w10["name"], "Windows 10 Enterprise");
  EXPECT_EQ(w10["version"], "1909");
  EXPECT_EQ(w10["build"], "18363.2965");
  // Server 2016 (build 14393) is "10.0" too and must not become "Windows 11".
  json s2016 = OsFromRegistry(
      Values({{"ProductName", "Windows Server 2016 Datacenter"}, {"ReleaseId", "1607"}}), 10, 0,
      14393);
  EXPECT_EQ(s2016["name"], "Windows Server 2016 Datacenter");
  EXPECT_EQ(s2016["build"], "14393");
  // Nothing readable: still a usable answer.
  json bare = OsFromRegistry(RegistryValues{}, 10, 0, 19045);
  EXPECT_EQ(bare["name"], "Windows");
  EXPECT_EQ(bare["kernel"], "10.0.19045");
}

UninstallEntry Entry(const std::string& key, const std::string& scope,
                     std::map<std::string, std::string> strings,
                     std::map<std::string, uint32_t> dwords = {}) {
  return {key, scope, Values(std::move(strings), std::move(dwords))};
}

TEST(WindowsSoftware, ListsWhatProgramsAndFeaturesShows) {
  std::vector<UninstallEntry> entries = {
      Entry("{23170F69-40C1-2702-2301-000001000000}", "machine-64",
            {{"DisplayName", "7-Zip 23.01 (x64 edition)"},
             {"DisplayVersion", "23.01.00.0"},
             {"Publisher", "Igor Pavlov"}},
            {{"WindowsInstaller", 1}}),
      // The same product in the 32-bit view (a dual-registered installer): once.
      Entry("{23170F69-40C1-2702-2301-000001000000}", "machine-32",
            {{"DisplayName", "7-Zip 23.01 (x64 edition)"}, {"DisplayVersion", "23.01.00.0"}}),
      Entry("Mozilla Firefox 128.0 (x64 en-GB)", "machine-64",
            {{"DisplayName", "Mozilla Firefox (x64 en-GB)"},
             {"DisplayVersion", "128.0"},
             {"Publisher", "Mozilla"}}),
      Entry("{90160000-008C-0000-1000-0000000FF1CE}", "machine-32",
            {{"DisplayName", "Office 16 Click-to-Run Extensibility Component"}},
            {{"SystemComponent", 1}}),
      Entry("KB5034441", "machine-64",
            {{"DisplayName", "Security Update for Microsoft Office (KB5034441)"},
             {"ParentKeyName", "Office16.PROPLUS"}}),
      Entry("{B9F2-HOTFIX}", "machine-64",
            {{"DisplayName", "Hotfix for Microsoft .NET Framework"},
             {"ReleaseType", "Security Update"}}),
      Entry("{NO-NAME}", "machine-64", {{"DisplayVersion", "1.0"}}),
      Entry("Zoom", "user",
            {{"DisplayName", "Zoom Workplace (64-bit)"},
             {"DisplayVersion", "6.1.1 (41705)"},
             {"Publisher", "Zoom Video Communications, Inc."}}),
      Entry("{APPLE}", "machine-32", {{"DisplayName", "apple Software Update"}}),
  };
  json list = SoftwareFromUninstall(entries);
  std::vector<std::string> names;
  for (const auto& s : list) {
    names.push_back(s["name"].get<std::string>() + "|" + s["scope"].get<std::string>());
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "7-Zip 23.01 (x64 edition)|machine-64", "apple Software Update|machine-32",
                       "Mozilla Firefox (x64 en-GB)|machine-64", "Zoom Workplace (64-bit)|user"}));
  EXPECT_EQ(list[0]["version"], "23.01.00.0");
  EXPECT_EQ(list[0]["publisher"], "Igor Pavlov");
  EXPECT_EQ(list[3]["version"], "6.1.1 (41705)");
}

TEST(WindowsSoftware, LongNamesAreCutOnACharacterBoundary) {
  std::string name = std::string(199, 'a') + "\xC3\xA9" + "tail";  // é straddles byte 200
  json list = SoftwareFromUninstall({Entry("k", "machine-64", {{"DisplayName", name}})});
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["name"].get<std::string>(), std::string(199, 'a'));
  EXPECT_NO_THROW((void)list.dump());
}

TEST(WindowsNetwork, MacAddressesAreLowerCaseColonSeparated) {
  const unsigned char mac[6] = {0x00, 0x15, 0x5D, 0x01, 0xAB, 0xFF};
  EXPECT_EQ(FormatMac(mac, 6), "00:15:5d:01:ab:ff");
  EXPECT_EQ(FormatMac(mac, 0), "");
}

}  // namespace
}  // namespace opsmerge::agent::windows
