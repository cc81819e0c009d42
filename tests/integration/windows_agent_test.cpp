// The Windows agent (opsmerge-agent.exe, cross-compiled with mingw-w64) under
// Wine against a real server: enrolment, check-ins with a Windows inventory and
// metrics, refused tokens, the service under Wine's service manager, and the
// MSI's tables. What only real Windows can prove is listed in docs/agents.md.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <tuple>

#include "harness.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;

class WindowsAgent : public ::testing::Test {
 protected:
  // Under Wine, once: on SQLite. The agent speaks the same agent API as the Linux
  // agent, whose tests run on both databases; what is Windows's own (the service,
  // the MSI, the collectors) does not depend on the server's database, and Wine's
  // start-up is the dearest CPU of the suite.
  static bool Runs() { return Wine::Available() && !OnPostgres(); }
  static void SetUpTestSuite() {
    if (!Runs()) return;
    server_ = new Server({"--checkin-interval", "1"});
    key_ = server_->AddUserWithKey("tech@msp.example", "technician");
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    Wine::Shutdown();
  }
  void SetUp() override {
    if (OnPostgres()) GTEST_SKIP() << "the Windows agent's tests run on SQLite";
    if (!Wine::Available()) GTEST_SKIP() << "wine64 or opsmerge-agent.exe is missing";
  }
  HttpResult Call(const std::string& method, const std::string& path, const json& body = nullptr) {
    return server_->Api(key_, method, path, body);
  }
  int64_t NewClient(const std::string& name) {
    return Call("POST", "/api/v1/clients", {{"name", name}}).Json()["id"];
  }
  json Token(int64_t client, const json& body = json::object()) {
    HttpResult r =
        Call("POST", "/api/v1/clients/" + std::to_string(client) + "/enrollment-tokens", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json();
  }
  // Removes %ProgramData%\\OpsMerge and the installer's registry key, as a
  // machine that never had the agent.
  static void ForgetIdentity() {
    Wine::Run({"cmd", "/c", "rmdir", "/s", "/q", "%ProgramData%\\OpsMerge"});
    Wine::Run({"reg", "delete", "HKLM\\SOFTWARE\\OpsMerge", "/f"});
  }
  static std::string AgentLog() {
    std::string log, services;
    Wine::Run({"cmd", "/c", "type", "%ProgramData%\\OpsMerge\\agent.log"}, &log);
    Wine::Run({"sc", "query", "OpsMergeAgent"}, &services);
    return "agent.log: " + log + "\nservice: " + services;
  }
  // Under Wine, msiexec deletes or replaces the program without waiting for the
  // stopped service's process to end (Windows waits): the test stops it first.
  static void StopInstalledService() {
    Wine::Run({"sc", "stop", "OpsMergeAgent"});
    EXPECT_TRUE(Eventually(
        [] {
          for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
            std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
            if (cmdline.find("OpsMerge Agent\\opsmerge-agent.exe") != std::string::npos) {
              return false;
            }
          }
          return true;
        },
        30));
  }
  json EndpointsOf(int64_t client) {
    return Call("GET", "/api/v1/endpoints?client_id=" + std::to_string(client)).Json()["items"];
  }
  static Server* server_;
  static std::string key_;
};
Server* WindowsAgent::server_ = nullptr;
std::string WindowsAgent::key_;

TEST_F(WindowsAgent, EnrolsChecksInAndIsCountedWithAWindowsInventory) {
  int64_t client = NewClient("Windows Fleet Ltd");
  int64_t site = Call("POST", "/api/v1/clients/" + std::to_string(client) + "/sites",
                      {{"name", "Head office"}})
                     .Json()["id"];
  json token = Token(client, {{"site_id", site}});
  // The dialog's PowerShell command installs the MSI with the token in a file; the
  // token itself is pasted at its prompt, so it is in no history or command line.
  std::string windows = token["install"]["windows"];
  EXPECT_NE(windows.find("/agent/download/windows-amd64.msi"), std::string::npos) << windows;
  EXPECT_NE(windows.find("Read-Host -AsSecureString"), std::string::npos);
  EXPECT_NE(windows.find("TOKENFILE="), std::string::npos);
  EXPECT_EQ(windows.find(token["token"].get<std::string>()), std::string::npos);

  // Installed software as Programs and Features lists it: both registry views;
  // system components and updates of another product left out.
  const std::string uninstall = "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\";
  std::string out;
  for (const auto& [key, view, name, extra] :
       std::vector<std::tuple<std::string, std::string, std::string, std::string>>{
           {"AcmeBackup", "/reg:64", "Acme Backup Agent", ""},
           {"{1F0E-LEGACY}", "/reg:32", "Legacy Tool (x86)", ""},
           {"HiddenRuntime", "/reg:64", "Hidden Runtime", "SystemComponent"},
           {"KB5031234", "/reg:64", "Update for Acme Backup", "ParentKeyName"}}) {
    ASSERT_EQ(
        Wine::Run({"reg", "add", uninstall + key, "/v", "DisplayName", "/d", name, "/f", view},
                  &out),
        0)
        << out;
    Wine::Run({"reg", "add", uninstall + key, "/v", "DisplayVersion", "/d", "2.4.1", "/f", view});
    if (extra == "SystemComponent") {
      Wine::Run(
          {"reg", "add", uninstall + key, "/v", extra, "/t", "REG_DWORD", "/d", "1", "/f", view});
    } else if (!extra.empty()) {
      Wine::Run({"reg", "add", uninstall + key, "/v", extra, "/d", "AcmeBackup", "/f", view});
    }
  }

  Agent agent(Agent::Platform::kWindows);
  std::string error;
  ASSERT_EQ(agent.Enroll(server_->base_url(), token["token"], &error), 0) << error;
  agent.Start();
  json endpoint, inventory;
  ASSERT_TRUE(Eventually(
      [&] {
        json items = EndpointsOf(client);
        if (items.size() != 1 || items[0]["metrics"].is_null()) return false;
        endpoint = items[0];
        inventory =
            Call("GET", "/api/v1/endpoints/" + std::to_string(endpoint["id"].get<int64_t>()))
                .Json()["inventory"];
        // The software list comes from the agent's background collector, a
        // check-in or two after the first.
        return inventory.is_object() && inventory.contains("software") &&
               inventory["software"].size() >= 2;
      },
      90))
      << agent.Errors();
  EXPECT_EQ(endpoint["site_id"], site);
  EXPECT_EQ(endpoint["status"], "online");
  EXPECT_NE(endpoint["os_name"].get<std::string>().find("Windows"), std::string::npos) << endpoint;
  EXPECT_FALSE(endpoint["hostname"].get<std::string>().empty());
  // Windows fields, from Windows APIs (Wine answers them from this Linux machine).
  EXPECT_FALSE(inventory["os"]["build"].get<std::string>().empty()) << inventory["os"];
  EXPECT_EQ(inventory["os"]["kernel"].get<std::string>().substr(0, 3), "10.") << inventory["os"];
  EXPECT_GT(inventory["cpu"]["cores"].get<int64_t>(), 0);
  EXPECT_GT(inventory["memory_bytes"].get<int64_t>(), 0);
  EXPECT_FALSE(inventory["machine_id"].get<std::string>().empty());
  bool system_drive = false;
  for (const json& d : inventory["disks"]) {
    if (d["mount"] == "C:") {
      system_drive = d["size_bytes"].get<int64_t>() > 0 && d["letter"] == "C";
    }
  }
  EXPECT_TRUE(system_drive) << inventory["disks"];
  std::vector<std::string> software;
  for (const json& pkg : inventory["software"]) {
    software.push_back(pkg["name"].get<std::string>() + " " + pkg["version"].get<std::string>() +
                       " " + pkg.value("scope", ""));
  }
  EXPECT_EQ(software, (std::vector<std::string>{"Acme Backup Agent 2.4.1 machine-64",
                                                "Legacy Tool (x86) 2.4.1 machine-32"}))
      << inventory["software"];
  EXPECT_TRUE(inventory["pending_updates"].is_null() || inventory["pending_updates"].is_number())
      << "unknown when the Windows Update service cannot be asked";
  EXPECT_GE(endpoint["metrics"]["memory_percent"].get<double>(), 0.0);
  EXPECT_GT(endpoint["metrics"]["disk_percent"].get<double>(), 0.0);
  // Counted in the live billable count.
  EXPECT_EQ(Call("GET", "/api/v1/clients/" + std::to_string(client) + "/billable-endpoints")
                .Json()["count"],
            1);
  std::string status = agent.Status();
  EXPECT_NE(status.find("endpoint id:      " + std::to_string(endpoint["id"].get<int64_t>())),
            std::string::npos)
      << status;
}

TEST_F(WindowsAgent, RevokedAndExpiredTokensAreRefused) {
  int64_t client = NewClient("Refused Windows Ltd");
  json revoked = Token(client);
  ASSERT_EQ(
      Call("DELETE", "/api/v1/enrollment-tokens/" + std::to_string(revoked["id"].get<int64_t>()))
          .status,
      204);
  Agent a(Agent::Platform::kWindows);
  std::string error;
  EXPECT_EQ(a.Enroll(server_->base_url(), revoked["token"], &error), 77);
  EXPECT_NE(error.find("HTTP 403"), std::string::npos) << error;
  EXPECT_NE(error.find("(token_revoked)"), std::string::npos) << error;

  // Expired: on a server of its own, whose clock the test moves two days on.
  {
    Server other;
    std::string key = other.AddUserWithKey("tech@msp.example", "technician");
    int64_t c = other.Api(key, "POST", "/api/v1/clients", {{"name", "Later Ltd"}}).Json()["id"];
    HttpResult t =
        other.Api(key, "POST", "/api/v1/clients/" + std::to_string(c) + "/enrollment-tokens",
                  {{"expires_in_days", 1}});
    ASSERT_EQ(t.status, 201) << t.body;
    other.AdvanceClock(2 * 86400);
    Agent b(Agent::Platform::kWindows);
    EXPECT_EQ(b.Enroll(other.base_url(), t.Json()["token"], &error), 77);
    EXPECT_NE(error.find("(token_expired)"), std::string::npos) << error;
  }
  EXPECT_TRUE(EndpointsOf(client).empty());
  Agent b(Agent::Platform::kWindows);
  // Not as an argument, whatever the platform.
  std::string out;
  EXPECT_EQ(b.Command({"enroll", "--server", server_->base_url(), "--token", "x"}, &out), 64);
  EXPECT_NE(out.find("not as an argument"), std::string::npos) << out;
}

// What the MSI leaves (HKLM\SOFTWARE\OpsMerge\Agent: Server, TokenFile), taken by
// the service at its first start under Wine's service manager; stop and removal.
TEST_F(WindowsAgent, TheServiceEnrolsFromWhatTheInstallerLeftAndStopsWhenAsked) {
  int64_t client = NewClient("Service Windows Ltd");
  json token = Token(client);
  std::string dir = server_->data_dir();
  std::ofstream(dir + "/enrol-token.txt")
      << "\xEF\xBB\xBF" << token["token"].get<std::string>() << "\r\n";
  std::string token_file = "Z:" + dir + "/enrol-token.txt";
  for (char& c : token_file) c = c == '/' ? '\\' : c;
  std::string out;
  ASSERT_EQ(Wine::Run({"reg", "add", "HKLM\\SOFTWARE\\OpsMerge\\Agent", "/v", "Server", "/d",
                       server_->base_url(), "/f"},
                      &out),
            0)
      << out;
  ASSERT_EQ(Wine::Run({"reg", "add", "HKLM\\SOFTWARE\\OpsMerge\\Agent", "/v", "TokenFile", "/d",
                       token_file, "/f"},
                      &out),
            0)
      << out;
  ASSERT_EQ(Wine::Run({WindowsAgentExe(), "install"}, &out), 0) << out;
  ASSERT_TRUE(Eventually([&] { return EndpointsOf(client).size() == 1; }, 90)) << AgentLog();
  ASSERT_TRUE(Eventually([&] { return !EndpointsOf(client)[0]["metrics"].is_null(); }, 90))
      << AgentLog() << EndpointsOf(client);
  // The registry's copy of the token's location is gone.
  Wine::Run({"reg", "query", "HKLM\\SOFTWARE\\OpsMerge\\Agent"}, &out);
  EXPECT_EQ(out.find("TokenFile"), std::string::npos) << out;
  EXPECT_NE(out.find("Server"), std::string::npos) << out;
  // Stopped and removed within seconds.
  auto started = std::chrono::steady_clock::now();

  ASSERT_EQ(Wine::Run({WindowsAgentExe(), "uninstall"}, &out), 0) << out;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(15));
  EXPECT_NE(out.find("stopped and removed"), std::string::npos) << out;
  Wine::Run({"sc", "query", "OpsMergeAgent"}, &out);
  EXPECT_EQ(out.find("RUNNING"), std::string::npos) << out;
  ForgetIdentity();
}

// The MSI through Wine's msiexec: installed with SERVER and TOKENFILE it enrols
// and checks in; a newer MSI upgrades it in place under the same identity; /x
// removes the service and the program.
TEST_F(WindowsAgent, TheMsiInstallsUpgradesInPlaceAndUninstalls) {
  std::string msi = AgentBinary() + ".msi";
  if (access("/usr/bin/wixl", X_OK) != 0 || access(msi.c_str(), R_OK) != 0) {
    GTEST_SKIP() << "msitools or the MSI is missing";
  }
  int64_t client = NewClient("MSI Windows Ltd");
  json token = Token(client);
  std::string dir = server_->data_dir();
  std::ofstream(dir + "/token.txt") << token["token"].get<std::string>();
  auto windows_path = [](std::string p) {
    for (char& c : p) c = c == '/' ? '\\' : c;
    return "Z:" + p;
  };
  std::string out;
  ASSERT_EQ(Wine::Run({"msiexec", "/i", windows_path(msi), "/qn", "SERVER=" + server_->base_url(),
                       "TOKENFILE=" + windows_path(dir + "/token.txt")},
                      &out),
            0)
      << out;
  json endpoint;
  ASSERT_TRUE(Eventually(
      [&] {
        json items = EndpointsOf(client);
        if (items.size() != 1 || items[0]["metrics"].is_null()) return false;
        endpoint = items[0];
        return true;
      },
      90))
      << AgentLog();
  // The token's copy in the registry is gone once taken.
  Wine::Run({"reg", "query", "HKLM\\SOFTWARE\\OpsMerge\\Agent"}, &out);
  EXPECT_EQ(out.find("TokenFile"), std::string::npos) << out;

  // Version 1.0.1 of the same product (same UpgradeCode): a major upgrade.
  std::string newer = dir + "/opsmerge-agent-1.0.1.msi";
  std::string exe_dir = AgentBinary().substr(0, AgentBinary().rfind('/'));
  std::string cmd = "cd '" + exe_dir + "' && wixl --arch x64 -D Version=1.0.1 -D " +
                    "AgentExe=opsmerge-agent.exe -o '" + newer + "' '" + OPSMERGE_SOURCE_DIR +
                    "/agent/platform/windows/opsmerge-agent.wxs' >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::string last_seen = endpoint["last_seen_at"];
  server_->AdvanceClock(5);
  StopInstalledService();
  ASSERT_EQ(Wine::Run({"msiexec", "/i", windows_path(newer), "/qn"}, &out), 0) << out;
  ASSERT_TRUE(Eventually(
      [&] {
        json items = EndpointsOf(client);
        return items.size() == 1 && items[0]["last_seen_at"] != last_seen;
      },
      60))
      << "the upgraded service checks in as the same endpoint";
  EXPECT_EQ(EndpointsOf(client)[0]["id"], endpoint["id"]);
  Wine::Run({"sc", "query", "OpsMergeAgent"}, &out);
  EXPECT_NE(out.find("RUNNING"), std::string::npos) << out;

  StopInstalledService();
  ASSERT_EQ(Wine::Run({"msiexec", "/x", windows_path(newer), "/qn"}, &out), 0) << out;
  // The service is gone (not just stopped), so are the program and the
  // installer's key.
  EXPECT_NE(Wine::Run({"sc", "query", "OpsMergeAgent"}, &out), 0)
      << "the service does not exist: " << out;
  EXPECT_NE(Wine::Run({"reg", "query", "HKLM\\SOFTWARE\\OpsMerge\\Agent"}, &out), 0) << out;
  EXPECT_NE(Wine::Run({"cmd", "/c", "dir", "C:\\Program Files\\OpsMerge Agent\\opsmerge-agent.exe"},
                      &out),
            0)
      << "the program is removed: " << out;
  // The identity stays (docs/agents.md): a reinstall is the same endpoint.
  ForgetIdentity();
}

// The MSI as msiexec will read it (msiinfo from msitools): the service
// registered and started as LocalSystem, the properties kept, upgrades in place.
TEST_F(WindowsAgent, TheMsiInstallsTheServiceAndTakesServerAndTokenFile) {
  std::string msi = AgentBinary() + ".msi";
  if (access("/usr/bin/msiinfo", X_OK) != 0 || access(msi.c_str(), R_OK) != 0) {
    GTEST_SKIP() << "msitools or the MSI is missing";
  }
  auto table = [&](const std::string& name) {
    std::string out = server_->data_dir() + "/msi-" + name + ".txt";
    std::string cmd = "msiinfo export '" + msi + "' " + name + " > '" + out + "' 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << name;
    return ReadFile(out);
  };
  std::string services = table("ServiceInstall");
  EXPECT_NE(services.find("OpsMergeAgent\tOpsMerge Agent\t16\t2\t1"), std::string::npos)
      << "own process, auto start: " << services;
  EXPECT_NE(services.find("LocalSystem\t\trun\t"), std::string::npos) << services;
  // 163 = start on install, stop on install and uninstall, remove on uninstall.
  EXPECT_NE(table("ServiceControl").find("OpsMergeAgent\t163\t\t1\tAgentExe"), std::string::npos);
  std::string registry = table("Registry");
  for (const char* value : {"Server\t[SERVER]", "TokenFile\t[TOKENFILE]", "Token\t[TOKEN]"}) {
    EXPECT_NE(registry.find(std::string("SOFTWARE\\OpsMerge\\Agent\t") + value), std::string::npos)
        << registry;
  }
  std::string properties = table("Property");
  EXPECT_NE(properties.find("MsiHiddenProperties\tTOKEN"), std::string::npos)
      << "the token is kept out of msiexec's logs";
  // A newer MSI replaces an older one (major upgrade); the identity in
  // %ProgramData% is no file of the MSI's, so it stays.
  EXPECT_NE(table("Upgrade").find("WIX_UPGRADE_DETECTED"), std::string::npos);
  EXPECT_NE(table("Directory").find("ProgramFiles64Folder"), std::string::npos);
  EXPECT_EQ(table("File").find("agent.json"), std::string::npos);
}

TEST_F(WindowsAgent, TheServerServesTheExeAndTheMsi) {
  HttpResult exe = server_->Request("GET", "/agent/download/windows-amd64.exe");
  ASSERT_EQ(exe.status, 200);
  EXPECT_EQ(exe.body.substr(0, 2), "MZ");
  EXPECT_EQ(exe.body, ReadFile(WindowsAgentExe()));
  EXPECT_NE(exe.Header("content-disposition").find("opsmerge-agent.exe"), std::string::npos);
  HttpResult msi = server_->Request("GET", "/agent/download/windows-amd64.msi");
  if (access((AgentBinary() + ".msi").c_str(), R_OK) == 0) {
    ASSERT_EQ(msi.status, 200);
    EXPECT_EQ(msi.body.substr(0, 4), "\xD0\xCF\x11\xE0") << "a compound document";
  }
}

}  // namespace
}  // namespace opsmerge::testing
