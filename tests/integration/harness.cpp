#include "harness.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/crypto.h"
#include "platform/db.h"
#include "platform/http/request.h"

extern char** environ;

namespace opsmerge::testing {

namespace {
std::string FromEnv(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
}  // namespace

std::string TestBinary() { return FromEnv("OPSMERGE_TEST_BINARY", OPSMERGE_BINARY); }
std::string ReleaseBinary() { return FromEnv("OPSMERGE_TEST_RELEASE_BINARY", RELEASE_BINARY); }
std::string AgentBinary() { return FromEnv("OPSMERGE_TEST_AGENT_BINARY", AGENT_BINARY); }

namespace {

std::string MakeTempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "opsmerge-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

int Spawn(const std::vector<std::string>& args, const std::string& in_path,
          const std::string& out_path, const std::string& err_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, in_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0]);
  return pid;
}

std::string AdminUrl() {
  const char* url = std::getenv("OPSMERGE_TEST_DATABASE");
  return url ? url : "";
}

// The admin URL with its database name replaced.
std::string WithDatabase(const std::string& url, const std::string& name) {
  size_t slash = url.find('/', url.find("//") + 2);
  size_t query = url.find('?');
  return url.substr(0, slash) + "/" + name + (query == std::string::npos ? "" : url.substr(query));
}

void OpenSession(soci::session& sql, const std::string& data_dir, const std::string& pg_url) {
  if (pg_url.empty()) {
    sql.open(soci::sqlite3, "db=\"" + data_dir + "/opsmerge.db\" timeout=10");
    sql << "PRAGMA foreign_keys=ON";
  } else {
    sql.open(soci::postgresql, db::PostgresConnInfo(pg_url));
  }
}

}  // namespace

bool OnPostgres() { return !AdminUrl().empty(); }

namespace {

// A new database on the test server, empty or a copy of `template_name`.
std::string CreateDatabase(const std::string& template_name) {
  static bool init = (crypto::InitCrypto(), true);
  (void)init;
  std::string name = "opsmerge_test_" + crypto::RandomHex(6);
  soci::session admin(soci::postgresql, db::PostgresConnInfo(AdminUrl()));
  admin << "CREATE DATABASE " + name + (template_name.empty() ? "" : " TEMPLATE " + template_name);
  return name;
}

// A database with every migration applied, made once per test process and copied
// for each server (CREATE DATABASE ... TEMPLATE): the server then starts on an
// up-to-date schema instead of applying the migrations itself, a third of its
// start-up on PostgreSQL. (Applying them to an empty database is what
// Migrations.* and FreshDatabase are for.) Dropped when the process exits.
class MigratedTemplate {
 public:
  MigratedTemplate() : name_(CreateDatabase("")) {
    db::Database::OpenPostgres(WithDatabase(AdminUrl(), name_), 1)->Migrate();
  }
  ~MigratedTemplate() {
    try {
      soci::session admin(soci::postgresql, db::PostgresConnInfo(AdminUrl()));
      admin << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)";
    } catch (const std::exception&) {
      // The test server may be gone already; it is thrown away with its databases.
    }
  }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

}  // namespace

std::string FreshDatabase() {
  if (!OnPostgres()) return "";
  return WithDatabase(AdminUrl(), CreateDatabase(""));
}

std::string MigratedDatabase() {
  if (!OnPostgres()) return "";
  static MigratedTemplate migrated;
  return WithDatabase(AdminUrl(), CreateDatabase(migrated.name()));
}

void DropDatabase(const std::string& url) {
  if (url.empty()) return;
  soci::session admin(soci::postgresql, db::PostgresConnInfo(AdminUrl()));
  admin << "DROP DATABASE IF EXISTS " + url.substr(url.rfind('/') + 1) + " WITH (FORCE)";
}

std::string HttpResult::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

nlohmann::json HttpResult::Json() const {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) ADD_FAILURE() << "not JSON (" << status << "): " << body.substr(0, 300);
  return j;
}

Server::Server(std::vector<std::string> extra_args, const Server* share_with, std::string binary)
    : binary_(std::move(binary)) {
  data_dir_ = share_with ? share_with->data_dir_ : MakeTempDir();
  owns_dir_ = share_with == nullptr;
  if (share_with) {
    database_url_ = share_with->database_url_;
  } else if (OnPostgres()) {
    database_url_ = MigratedDatabase();
    owns_database_ = true;
  }
  std::vector<std::string> args = {binary_,       "serve",      "--listen",
                                   "127.0.0.1:0", "--data-dir", data_dir_};
  if (!database_url_.empty()) {
    args.push_back("--database");
    args.push_back(database_url_);
    // PostgreSQL forks a backend per connection (about 0.1 s of CPU each here):
    // a test server needs far fewer than production's one per worker. Workers
    // queue for a connection, so behaviour is the same.
    args.push_back("--db-pool");
    args.push_back("8");
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::string tag = share_with ? ".2" : "";
  out_path_ = data_dir_ + "/serve.out" + tag;
  err_path_ = data_dir_ + "/serve.err" + tag;
  args_ = args;
  Launch(args);
}

void Server::Launch(const std::vector<std::string>& args) {
  pid_ = Spawn(args, "/dev/null", out_path_, err_path_);
  std::regex listening("listening on http://127\\.0\\.0\\.1:(\\d+)");
  std::regex setup("(http://\\S+/setup\\?token=\\S+)");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = ReadFile(out_path_);
    std::smatch m;
    if (std::regex_search(text, m, listening)) {
      port_ = std::stoi(m[1]);
      // The setup line follows the listening line in the same flush sequence.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      text = ReadFile(out_path_);
      if (std::regex_search(text, m, setup)) setup_url_ = m[1];
      return;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      throw std::runtime_error("opsmerge serve exited: " + ReadFile(err_path_));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("opsmerge serve did not start");
}

void Server::Restart() {
  Kill(SIGTERM);
  std::vector<std::string> args = args_;
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--listen") args[i + 1] = "127.0.0.1:" + std::to_string(port_);
  }
  // A restarted server prints the listening line again; read only the new output.
  std::ofstream(out_path_, std::ios::trunc).close();
  Launch(args);
}

void Server::Kill(int signal) {
  if (pid_ <= 0) return;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  if (signal == SIGTERM &&
      (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0))) {
    ADD_FAILURE() << "opsmerge serve did not stop cleanly; stderr:\n"
                  << ReadFile(err_path_).substr(0, 4000);
  }
  pid_ = 0;
}

Server::~Server() {
  Kill(SIGTERM);
  // A failing test shows what the server logged as errors before its directory goes.
  if (::testing::Test::HasFailure() ||
      ::testing::UnitTest::GetInstance()->failed_test_count() > 0) {
    std::istringstream log(ReadFile(err_path_));
    int shown = 0;
    for (std::string line; std::getline(log, line) && shown < 20;) {
      if (line.find(" ERROR ") != std::string::npos) {
        std::cerr << "[server] " << line.substr(0, 1500) << "\n";
        ++shown;
      }
    }
  }
  pg_.reset();
  if (owns_database_) {
    try {
      DropDatabase(database_url_);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "could not drop the test database: " << e.what();
    }
  }
  // A second node shares the first one's directory; the first removes it.
  if (owns_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
}

int Server::CliStart(const std::vector<std::string>& args, const std::string& stdin_text) const {
  std::string in = data_dir_ + "/cli.in";
  std::ofstream(in) << stdin_text;
  std::vector<std::string> argv = {TestBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--data-dir");
  argv.push_back(data_dir_);
  if (!database_url_.empty()) {
    argv.push_back("--database");
    argv.push_back(database_url_);
  }
  return Spawn(argv, in, data_dir_ + "/cli.out", data_dir_ + "/cli.err");
}

int Server::Cli(const std::vector<std::string>& args, const std::string& stdin_text,
                std::string* stdout_text) const {
  int pid = CliStart(args, stdin_text);
  int status = 0;
  waitpid(pid, &status, 0);
  if (stdout_text) *stdout_text = ReadFile(data_dir_ + "/cli.out");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int Server::CliAsIs(const std::vector<std::string>& args, const std::string& stdin_text,
                    std::string* stdout_text, std::string* error) const {
  std::string in = data_dir_ + "/cli.in", out = data_dir_ + "/cli.out";
  std::ofstream(in) << stdin_text;
  std::vector<std::string> argv = {TestBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  int pid = Spawn(argv, in, out, data_dir_ + "/cli.err");
  int status = 0;
  waitpid(pid, &status, 0);
  if (stdout_text) *stdout_text = ReadFile(out);
  if (error) *error = ReadFile(data_dir_ + "/cli.err");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string Server::AddUserWithKey(const std::string& email, const std::string& role,
                                   const std::string& password) {
  int rc = Cli({"user", "add", "--email", email, "--name", "Test " + role, "--role", role},
               password + "\n");
  if (rc != 0) throw std::runtime_error("user add failed: " + ReadFile(data_dir_ + "/cli.err"));
  std::string key;
  rc = Cli({"api-key", "create", "--email", email, "--name", "tests"}, "", &key);
  if (rc != 0) throw std::runtime_error("api-key create failed");
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  return key;
}

void Server::WithSession(const std::function<void(soci::session&)>& fn) const {
  if (database_url_.empty()) {
    soci::session sql;
    OpenSession(sql, data_dir_, database_url_);
    return fn(sql);
  }
  std::lock_guard<std::mutex> lock(pg_mu_);
  if (!pg_) {
    auto sql = std::make_unique<soci::session>();
    OpenSession(*sql, data_dir_, database_url_);
    pg_ = std::move(sql);
  }
  fn(*pg_);
}

void Server::Sql(const std::string& statement) const {
  WithSession([&](soci::session& sql) { sql << statement; });
}

namespace {
std::vector<std::vector<std::string>> QueryOn(soci::session& sql, const std::string& select) {
  std::vector<std::vector<std::string>> out;
  soci::rowset<soci::row> rs = sql.prepare << select;
  for (const auto& r : rs) {
    std::vector<std::string> row;
    for (size_t i = 0; i < r.size(); ++i) {
      if (r.get_indicator(i) == soci::i_null) {
        row.push_back("NULL");
      } else if (r.get_properties(i).get_data_type() == soci::dt_string) {
        row.push_back(r.get<std::string>(i));
      } else if (r.get_properties(i).get_data_type() == soci::dt_integer) {
        row.push_back(std::to_string(r.get<int>(i)));
      } else if (r.get_properties(i).get_data_type() == soci::dt_long_long) {
        row.push_back(std::to_string(r.get<long long>(i)));
      } else {
        row.push_back("?");
      }
    }
    out.push_back(row);
  }
  return out;
}
}  // namespace

std::vector<std::vector<std::string>> QueryDatabase(const std::string& data_dir,
                                                    const std::string& pg_url,
                                                    const std::string& select) {
  soci::session sql;
  OpenSession(sql, data_dir, pg_url);
  return QueryOn(sql, select);
}

std::vector<std::vector<std::string>> Server::Query(const std::string& select) const {
  std::vector<std::vector<std::string>> out;
  WithSession([&](soci::session& sql) { out = QueryOn(sql, select); });
  return out;
}

HttpResult Server::Request(const std::string& method, const std::string& path,
                           const std::string& body,
                           const std::map<std::string, std::string>& headers) const {
  Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port_));
  session.setTimeout(Poco::Timespan(30, 0));
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  for (const auto& [k, v] : headers) req.set(k, v);
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
    req.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  std::ostream& os = session.sendRequest(req);
  os << body;
  Poco::Net::HTTPResponse resp;
  std::istream& is = session.receiveResponse(resp);
  HttpResult r;
  r.status = resp.getStatus();
  for (const auto& [k, v] : resp) r.headers.emplace(Poco::toLower(k), v);
  Poco::StreamCopier::copyToString(is, r.body);
  return r;
}

void Server::AdvanceClock(int64_t seconds) const {
  HttpResult r =
      Request("POST", "/__test__/clock", nlohmann::json{{"advance_seconds", seconds}}.dump(),
              {{"Content-Type", "application/json"}});
  if (r.status != 200) throw std::runtime_error("could not move the test clock: " + r.body);
}

void Server::Tick() const {
  HttpResult r = Request("POST", "/__test__/tick", "{}", {{"Content-Type", "application/json"}});
  if (r.status != 200) throw std::runtime_error("could not tick the scheduler: " + r.body);
}

void Server::FreezeClock(int64_t unix_seconds) const {
  HttpResult r =
      Request("POST", "/__test__/clock", nlohmann::json{{"freeze_at", unix_seconds}}.dump(),
              {{"Content-Type", "application/json"}});
  if (r.status != 200) throw std::runtime_error("could not freeze the test clock: " + r.body);
}

HttpResult Server::Api(const std::string& key, const std::string& method, const std::string& path,
                       const nlohmann::json& body) const {
  std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + key}};
  std::string text;
  if (!body.is_null()) {
    headers["Content-Type"] = "application/json";
    text = body.dump();
  }
  return Request(method, path, text, headers);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string WindowsAgentExe() { return AgentBinary() + ".exe"; }

namespace {
std::string g_wine_prefix;
std::mutex g_wine_mu;

std::string WinePath(const std::string& unix_path) {
  std::string out = "Z:" + unix_path;
  for (char& c : out) c = c == '/' ? '\\' : c;
  return out;
}
}  // namespace

bool Wine::Available() {
  return access("/usr/lib/wine/wine64", X_OK) == 0 && access(WindowsAgentExe().c_str(), R_OK) == 0;
}

std::string Wine::Binary() {
  std::lock_guard<std::mutex> lock(g_wine_mu);
  if (g_wine_prefix.empty()) {
    g_wine_prefix = MakeTempDir() + "/wine";
    setenv("WINEPREFIX", g_wine_prefix.c_str(), 1);
    setenv("WINEDEBUG", "-all", 1);
    // No Mono or Gecko installer prompts; no window system needed.
    setenv("WINEDLLOVERRIDES", "mscoree,mshtml=", 1);
    unsetenv("DISPLAY");
    std::string dir = g_wine_prefix.substr(0, g_wine_prefix.rfind('/'));
    auto run = [&](std::vector<std::string> argv) {
      int pid = Spawn(argv, "/dev/null", dir + "/boot.out", dir + "/boot.err");
      int status = 0;
      waitpid(pid, &status, 0);
    };
    run({"/usr/lib/wine/wine64", "wineboot", "--init"});
    // Until the new prefix's first boot has wholly finished, Wine's service
    // manager starts services too slowly for StartService's timeout, and a
    // setting written meanwhile can be lost.
    run({"/usr/lib/wine/wineserver", "-w"});
    // A new prefix says it is Windows 7; the agent is for 10 and later.
    run({"/usr/lib/wine/wine64", "reg", "add", "HKCU\\Software\\Wine", "/v", "Version", "/d",
         "win10", "/f"});
  }
  return "/usr/lib/wine/wine64";
}

int Wine::Run(const std::vector<std::string>& args, std::string* out) {
  std::vector<std::string> argv = {Binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string dir = g_wine_prefix.substr(0, g_wine_prefix.rfind('/'));
  // Now and then, on a loaded machine, Wine's
  // loader cannot start a program at all: start.exe then says "ShellExecuteEx
  // failed" and nothing of the program ran. That is Wine's launch, not the
  // program's answer, so the launch is tried again; any answer of the program
  // itself is returned as it is.
  for (int attempt = 1;; ++attempt) {
    int pid = Spawn(argv, "/dev/null", dir + "/run.out", dir + "/run.err");
    int status = 0;
    waitpid(pid, &status, 0);
    std::string output = ReadFile(dir + "/run.out") + ReadFile(dir + "/run.err");
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    if (code != 0 && attempt < 4 && output.find("ShellExecuteEx failed") != std::string::npos) {
      continue;
    }
    if (out) *out = output;
    return code;
  }
}

void Wine::Shutdown() {
  std::lock_guard<std::mutex> lock(g_wine_mu);
  if (g_wine_prefix.empty()) return;
  int pid = Spawn({"/usr/lib/wine/wineserver", "-k"}, "/dev/null", "/dev/null", "/dev/null");
  int status = 0;
  waitpid(pid, &status, 0);
  std::error_code ec;
  std::filesystem::remove_all(g_wine_prefix.substr(0, g_wine_prefix.rfind('/')), ec);
  g_wine_prefix.clear();
}

Agent::Agent(Platform platform) : platform_(platform) {
  dir_ = MakeTempDir();
  config_ = platform == Platform::kWindows ? WinePath(dir_ + "/agent.json") : dir_ + "/agent.json";
}

Agent::~Agent() {
  Kill(SIGTERM);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> Agent::Argv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv;
  if (platform_ == Platform::kWindows) {
    argv = {Wine::Binary(), WindowsAgentExe()};
  } else {
    argv = {AgentBinary()};
  }
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--config", config_});
  return argv;
}

int Agent::Enroll(const std::string& server_url, const std::string& token, std::string* error) {
  std::ofstream(dir_ + "/token") << token << "\n";
  int pid = Spawn(Argv({"enroll", "--server", server_url}), dir_ + "/token", dir_ + "/enroll.out",
                  dir_ + "/enroll.err");
  int status = 0;
  waitpid(pid, &status, 0);
  if (error) *error = ReadFile(dir_ + "/enroll.err");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

void Agent::Start() {
  pid_ = Spawn(Argv({"run"}), "/dev/null", dir_ + "/run.out", dir_ + "/run.err");
}

void Agent::Kill(int signal) {
  if (pid_ <= 0) return;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = 0;
}

std::string Agent::Errors() const { return ReadFile(dir_ + "/run.err"); }

int Agent::Command(const std::vector<std::string>& args, std::string* out) {
  int pid = Spawn(Argv(args), "/dev/null", dir_ + "/cmd.out", dir_ + "/cmd.err");
  int status = 0;
  waitpid(pid, &status, 0);
  if (out) *out = ReadFile(dir_ + "/cmd.out") + ReadFile(dir_ + "/cmd.err");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string Agent::Status() {
  int pid = Spawn(Argv({"status"}), "/dev/null", dir_ + "/status.out", dir_ + "/status.err");
  int status = 0;
  waitpid(pid, &status, 0);
  return ReadFile(dir_ + "/status.out");
}

bool Eventually(const std::function<bool()>& condition, double seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& form) {
  std::string out;
  for (const auto& [k, v] : form) {
    if (!out.empty()) out += "&";
    out += http::UrlEncode(k) + "=" + http::UrlEncode(v);
  }
  return out;
}

int64_t IdFromLocation(const std::string& location) {
  std::smatch m;
  static const std::regex id("/clients/(\\d+)");
  if (!std::regex_search(location, m, id)) return 0;
  return std::stoll(m[1]);
}

void Browser::Absorb(const HttpResult& r) {
  for (auto [it, end] = r.headers.equal_range("set-cookie"); it != end; ++it) {
    const std::string& c = it->second;
    size_t eq = c.find('='), semi = c.find(';');
    std::string name = c.substr(0, eq), value = c.substr(eq + 1, semi - eq - 1);
    if (c.find("Max-Age=0") != std::string::npos) {
      cookies_.erase(name);
    } else {
      cookies_[name] = value;
    }
  }
  static const std::regex token("name=\"_csrf\" value=\"([0-9a-f]+)\"");
  std::smatch m;
  if (std::regex_search(r.body, m, token)) csrf_ = m[1];
}

HttpResult Browser::Get(const std::string& path,
                        const std::map<std::string, std::string>& headers) {
  std::map<std::string, std::string> h = extra_;
  for (const auto& [k, v] : headers) h[k] = v;
  std::string cookie;
  for (const auto& [k, v] : cookies_) cookie += (cookie.empty() ? "" : "; ") + k + "=" + v;
  if (!cookie.empty()) h["Cookie"] = cookie;
  HttpResult r = server_.Request("GET", path, "", h);
  Absorb(r);
  return r;
}

HttpResult Browser::Post(const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& form,
                         bool with_csrf) {
  auto fields = form;
  if (with_csrf) fields.emplace_back("_csrf", csrf_);
  std::map<std::string, std::string> h = extra_;
  h["Content-Type"] = "application/x-www-form-urlencoded";
  std::string cookie;
  for (const auto& [k, v] : cookies_) cookie += (cookie.empty() ? "" : "; ") + k + "=" + v;
  if (!cookie.empty()) h["Cookie"] = cookie;
  HttpResult r = server_.Request("POST", path, FormEncode(fields), h);
  Absorb(r);
  return r;
}

HttpResult Browser::PostMultipart(const std::string& path,
                                  const std::vector<std::pair<std::string, std::string>>& form,
                                  const std::vector<File>& files) {
  const std::string boundary = "----OpsMergeTestBoundary7MA4YWxkTrZu0gW";
  std::string body;
  auto fields = form;
  fields.emplace_back("_csrf", csrf_);
  for (const auto& [k, v] : fields) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n";
    body += v + "\r\n";
  }
  for (const File& f : files) {
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.field +
            "\"; filename=\"" + f.filename + "\"\r\nContent-Type: " + f.content_type + "\r\n\r\n";
    body += f.content + "\r\n";
  }
  body += "--" + boundary + "--\r\n";
  std::map<std::string, std::string> h = extra_;
  h["Content-Type"] = "multipart/form-data; boundary=" + boundary;
  std::string cookie;
  for (const auto& [k, v] : cookies_) cookie += (cookie.empty() ? "" : "; ") + k + "=" + v;
  if (!cookie.empty()) h["Cookie"] = cookie;
  HttpResult r = server_.Request("POST", path, body, h);
  Absorb(r);
  return r;
}

int Browser::SignIn(const std::string& email, const std::string& password) {
  Get("/login");
  HttpResult r = Post("/login", {{"email", email}, {"password", password}, {"next", "/clients"}});
  if (r.status == 303) Get("/clients");
  return r.status;
}

constexpr const char* kSystemPython = "/usr/bin/python3";

namespace {

// A free port: bind to 0, read it, let it go (the server binds it a moment later).
int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// Whether something accepts connections on the loopback port.
bool Listening(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(s);
  return ok;
}

}  // namespace

bool SmtpSink::Available() {
  return std::system((std::string(kSystemPython) + " -c 'import aiosmtpd' 2>/dev/null").c_str()) ==
         0;
}

SmtpSink::SmtpSink() {
  dir_ = MakeTempDir();
  port_ = FreeLoopbackPort();
  pid_ = Spawn({kSystemPython, "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port_),
                "-c", "aiosmtpd.handlers.Mailbox", dir_ + "/maildir"},
               "/dev/null", dir_ + "/out", dir_ + "/err");
  bool up = Eventually([&] { return Listening(port_); }, 20);
  if (!up) throw std::runtime_error("the SMTP server did not start: " + ReadFile(dir_ + "/err"));
}

namespace {
// A helper server this suite started (SMTP, IMAP, CIPP): stopped and its files gone.
void StopHelper(int pid, const std::string& dir) {
  if (pid > 0) {
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
}  // namespace

SmtpSink::~SmtpSink() { StopHelper(pid_, dir_); }

bool ImapServer::Available() { return geteuid() == 0 && access("/usr/sbin/dovecot", X_OK) == 0; }

ImapServer::ImapServer() {
  // Dovecot's sockets live under base_dir: a short path keeps them under the limit.
  dir_ = MakeTempDir();
  port_ = FreeLoopbackPort();
  for (const char* user : {"help", "help@msp.example"}) {
    for (const char* sub : {"/Maildir/new", "/Maildir/cur", "/Maildir/tmp"}) {
      std::filesystem::create_directories(dir_ + "/home/" + user + sub);
    }
  }
  struct passwd* nobody = getpwnam("nobody");
  if (!nobody) throw std::runtime_error("no user nobody for Dovecot's mail");
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all |
                                         std::filesystem::perms::group_exec |
                                         std::filesystem::perms::others_exec);
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_ + "/home")) {
    if (chown(e.path().c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
      throw std::runtime_error("chown failed");
    }
  }
  if (chown((dir_ + "/home").c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
    throw std::runtime_error("chown failed");
  }
  std::ofstream(dir_ + "/passwd") << "help:{PLAIN}" << password()
                                  << "\nhelp@msp.example:{PLAIN}s@cret+1\n";
  std::ofstream(dir_ + "/dovecot.conf")
      << "protocols = imap\nlisten = 127.0.0.1\nbase_dir = " << dir_ << "/run\n"
      << "state_dir = " << dir_ << "/state\nlog_path = " << dir_ << "/log\n"
      << "ssl = no\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\n"
      << "first_valid_uid = 1\nmail_location = maildir:" << dir_ << "/home/%u/Maildir\n"
      << "passdb {\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u " << dir_
      << "/passwd\n}\nuserdb {\n  driver = static\n  args = uid=" << nobody->pw_uid
      << " gid=" << nobody->pw_gid << " home=" << dir_ << "/home/%u\n}\n"
      << "service imap-login {\n  inet_listener imap {\n    address = 127.0.0.1\n    port = "
      << port_ << "\n  }\n  inet_listener imaps {\n    port = 0\n  }\n}\n"
      << "service pop3-login {\n  inet_listener pop3 {\n    port = 0\n  }\n}\n"
      << "service submission-login {\n  inet_listener submission {\n    port = 0\n  }\n}\n";
  pid_ = Spawn({"/usr/sbin/dovecot", "-F", "-c", dir_ + "/dovecot.conf"}, "/dev/null",
               dir_ + "/out", dir_ + "/err");
  bool up = Eventually([&] { return Listening(port_); }, 20);
  if (!up) {
    throw std::runtime_error("Dovecot did not start: " + ReadFile(dir_ + "/err") +
                             ReadFile(dir_ + "/log"));
  }
}

FakeCipp::FakeCipp() {
  dir_ = MakeTempDir();
  Set({{"tenants", nlohmann::json::array()}, {"users", nlohmann::json::object()}});
  pid_ =
      Spawn({kSystemPython, std::string(OPSMERGE_SOURCE_DIR) + "/tests/fixtures/cipp/fake_cipp.py",
             dir_ + "/state.json"},
            "/dev/null", dir_ + "/out", dir_ + "/err");
  bool up = Eventually(
      [&] {
        std::string out = ReadFile(dir_ + "/out");
        if (out.find('\n') == std::string::npos) return false;
        port_ = std::stoi(out);
        return Listening(port_);
      },
      20);
  if (!up) throw std::runtime_error("the fake CIPP did not start: " + ReadFile(dir_ + "/err"));
}

FakeCipp::~FakeCipp() { StopHelper(pid_, dir_); }

void FakeCipp::Set(const nlohmann::json& state) {
  // Written aside and renamed: the server never reads half a file.
  std::ofstream(dir_ + "/state.tmp") << state.dump();
  std::filesystem::rename(dir_ + "/state.tmp", dir_ + "/state.json");
}

nlohmann::json FakeCipp::Stats() const {
  std::string s = ReadFile(dir_ + "/state.json.stats");
  nlohmann::json j = nlohmann::json::parse(s, nullptr, false);
  return j.is_object() ? j : nlohmann::json{{"tokens", 0}, {"calls", 0}, {"unauthorized", 0}};
}

ImapServer::~ImapServer() { StopHelper(pid_, dir_); }

void ImapServer::Deliver(const std::string& raw, const std::string& user) {
  std::string name = std::to_string(time(nullptr)) + ".M" + std::to_string(++delivered_) + "P" +
                     std::to_string(getpid()) + ".opsmerge-test";
  std::string tmp = dir_ + "/home/" + user + "/Maildir/tmp/" + name;
  std::ofstream(tmp, std::ios::binary) << raw;
  struct passwd* nobody = getpwnam("nobody");
  if (chown(tmp.c_str(), nobody->pw_uid, nobody->pw_gid) != 0) {
    throw std::runtime_error("chown failed");
  }
  std::filesystem::rename(tmp, dir_ + "/home/" + user + "/Maildir/new/" + name);
}

size_t ImapServer::Unseen() const {
  // Maildir: new/ is unseen, and in cur/ a name without 'S' among its flags.
  size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/home/help/Maildir/new", ec)) {
    n += e.is_regular_file() ? 1 : 0;
  }
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/home/help/Maildir/cur", ec)) {
    std::string name = e.path().filename().string();
    size_t info = name.find(":2,");
    if (info == std::string::npos || name.find('S', info) == std::string::npos) ++n;
  }
  return n;
}

std::string SmtpSink::Received() const {
  // aiosmtpd's Mailbox handler keeps a Maildir: one file per message, in order.
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const char* sub : {"/maildir/new", "/maildir/cur"}) {
    for (const auto& e : std::filesystem::directory_iterator(dir_ + sub, ec))
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return std::filesystem::last_write_time(a) < std::filesystem::last_write_time(b);
  });
  std::string all;
  for (const auto& f : files) all += ReadFile(f.string()) + "\n";
  return all;
}

}  // namespace opsmerge::testing
