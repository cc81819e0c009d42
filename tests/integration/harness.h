#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace soci {
class session;
}

// Integration tests drive the real `opsmerge` binary over HTTP: each Server is a
// child process on an ephemeral loopback port with its own temporary data dir.
namespace opsmerge::testing {

struct HttpResult {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string Header(const std::string& lower_name) const;
  nlohmann::json Json() const;
};

// The database the suite runs on: SQLite in each server's data dir, or, when
// OPSMERGE_TEST_DATABASE holds a PostgreSQL admin URL, a fresh database per Server
// on that server (created here, dropped at the end).
bool OnPostgres();
// A new, empty database for the suite's dialect: a PostgreSQL URL, or "" for SQLite
// (then use a fresh data dir). DropDatabase removes a URL FreshDatabase made.
std::string FreshDatabase();
// The same with every migration already applied (what each Server gets).
std::string MigratedDatabase();
void DropDatabase(const std::string& url);
// Runs a SELECT on a database: PostgreSQL at `pg_url`, else SQLite in `data_dir`.
std::vector<std::vector<std::string>> QueryDatabase(const std::string& data_dir,
                                                    const std::string& pg_url,
                                                    const std::string& select);

// The programs under test: the build's own by default; OPSMERGE_TEST_BINARY,
// OPSMERGE_TEST_RELEASE_BINARY and OPSMERGE_TEST_AGENT_BINARY point the suite at
// another build's (scripts/test runs this suite against the sanitizer build).
std::string TestBinary();
std::string ReleaseBinary();
std::string AgentBinary();

class Server {
 public:
  // Starts `opsmerge serve` with extra flags; waits until it listens. With
  // `share_with`, this server is a second node on the other's database.
  // `binary`: the test build by default; ReleaseBinary() to check the product itself.
  explicit Server(std::vector<std::string> extra_args = {}, const Server* share_with = nullptr,
                  std::string binary = TestBinary());
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  int port() const { return port_; }
  int pid() const { return pid_; }
  // Stops the process: SIGTERM (clean) or SIGKILL (crash). Idempotent.
  void Kill(int signal);
  // Stops (SIGTERM) and starts again on the same port, data and database.
  void Restart();
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& database_url() const { return database_url_; }  // "" on SQLite
  const std::string& data_dir() const { return data_dir_; }
  const std::string& setup_url() const { return setup_url_; }  // "" once staff exist

  // Moves this server's test clock forward (the test build's POST /__test__/clock):
  // tests advance time instead of sleeping.
  void AdvanceClock(int64_t seconds) const;
  // Runs one scheduler tick of this server and returns when it is done.
  void Tick() const;
  // Stops this server's test clock at a unix time (AdvanceClock still moves it).
  void FreezeClock(int64_t unix_seconds) const;

  // Runs another opsmerge command on this server's data dir; returns exit code.
  int Cli(const std::vector<std::string>& args, const std::string& stdin_text = "",
          std::string* stdout_text = nullptr) const;
  // Starts the command like Cli and returns its pid without waiting (to kill it
  // half-way); the caller reaps it.
  int CliStart(const std::vector<std::string>& args, const std::string& stdin_text = "") const;
  // The same with exactly `args` (no data dir or database added); stderr in *error.
  int CliAsIs(const std::vector<std::string>& args, const std::string& stdin_text,
              std::string* stdout_text, std::string* error = nullptr) const;
  // Adds a staff user and returns an API key acting as them.
  std::string AddUserWithKey(const std::string& email, const std::string& role,
                             const std::string& password = "a long enough password");
  // Runs SQL directly on the server's SQLite database (for rows other features
  // will own, and to inspect what is stored).
  void Sql(const std::string& statement) const;
  std::vector<std::vector<std::string>> Query(const std::string& select) const;

  HttpResult Request(const std::string& method, const std::string& path,
                     const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {}) const;
  HttpResult Api(const std::string& key, const std::string& method, const std::string& path,
                 const nlohmann::json& body = nullptr) const;

 private:
  std::string data_dir_;
  std::string database_url_;
  bool owns_database_ = false;
  bool owns_dir_ = true;
  std::string setup_url_;
  std::vector<std::string> args_;  // the serve command line, for Restart()
  std::string out_path_;
  std::string err_path_;
  int port_ = 0;
  int pid_ = 0;
  std::string binary_;
  // PostgreSQL: one session for Sql and Query, opened on first use (a connection
  // is a forked backend; one per query was most of the PostgreSQL shards' CPU).
  mutable std::mutex pg_mu_;
  mutable std::unique_ptr<soci::session> pg_;
  void Launch(const std::vector<std::string>& args);
  // Runs `fn` on this server's database: the kept PostgreSQL session, or a SQLite
  // session of its own (cheap, and never left holding the file).
  void WithSession(const std::function<void(soci::session&)>& fn) const;
};

// A real opsmerge-agent process with its own config file in a temporary dir:
// the Linux agent, or the Windows agent (opsmerge-agent.exe beside it) under
// Wine, in a Wine prefix of this test process (Wine::Prefix()).
class Agent {
 public:
  enum class Platform { kLinux, kWindows };
  explicit Agent(Platform platform = Platform::kLinux);
  ~Agent();
  // `enroll`, token on stdin; returns the exit code, stderr in *error.
  int Enroll(const std::string& server_url, const std::string& token, std::string* error = nullptr);
  void Start();           // `run` in the background
  void Kill(int signal);  // idempotent
  const std::string& config_path() const { return config_; }
  std::string Status();
  std::string Errors() const;  // what `run` wrote to stderr so far
  // Runs the agent with `args` (and --config) to its end; exit code, output in *out.
  int Command(const std::vector<std::string>& args, std::string* out = nullptr);

 private:
  std::vector<std::string> Argv(const std::vector<std::string>& args) const;
  Platform platform_;
  std::string dir_;
  std::string config_;  // as the agent sees it: Z:\tmp\... under Wine
  int pid_ = 0;
};

// Debian's Wine (wine64), headless, for the Windows agent's tests.
class Wine {
 public:
  // wine64 and the .exe are there (scripts/deps installs both for the tests).
  static bool Available();
  // Creates this process's prefix once (WINEPREFIX, set in the environment for
  // every child) and returns the wine64 binary.
  static std::string Binary();
  // Runs a Windows program of the prefix (net.exe, reg.exe ...) to its end.
  static int Run(const std::vector<std::string>& args, std::string* out = nullptr);
  // Stops the prefix's wineserver and removes the prefix.
  static void Shutdown();
};
std::string WindowsAgentExe();
// A whole file (binary-safe); "" if it cannot be read.
std::string ReadFile(const std::string& path);

// A real SMTP server on loopback (aiosmtpd from Debian's python3-aiosmtpd) that
// keeps what it receives in a Maildir. Available() is false where the package
// is missing (scripts/deps installs it for the test command).
class SmtpSink {
 public:
  static bool Available();
  SmtpSink();
  ~SmtpSink();
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;
  int port() const { return port_; }
  std::string url() const { return "smtp://127.0.0.1:" + std::to_string(port_); }
  std::string Received() const;  // every message so far, oldest first

 private:
  std::string dir_;
  int port_ = 0;
  int pid_ = 0;
};

// A real IMAP server on loopback: Dovecot (Debian's dovecot-imapd) with its own
// configuration, users "help" (password "imap-secret") and "help@msp.example", each
// with a Maildir. Needs root
// (Dovecot drops to "nobody" for mail); Available() says whether it can run here.
class ImapServer {
 public:
  static bool Available();
  ImapServer();
  ~ImapServer();
  ImapServer(const ImapServer&) = delete;
  ImapServer& operator=(const ImapServer&) = delete;
  // "imap://help@127.0.0.1:PORT/INBOX"; the password is separate, as settings keep it.
  std::string url() const { return "imap://help@127.0.0.1:" + std::to_string(port_) + "/INBOX"; }
  static std::string password() { return "imap-secret"; }
  // Delivers a message as an MTA would (Maildir new/: unseen), to "help" or to the
  // second user, "help@msp.example" (password "s@cret+1", as Microsoft 365 names
  // mailboxes).
  void Deliver(const std::string& raw, const std::string& user = "help");
  // How many messages are still unseen.
  size_t Unseen() const;

 private:
  std::string dir_;
  int port_ = 0;
  int pid_ = 0;
  int delivered_ = 0;
};

// Polls `condition` every 100 ms for up to `seconds`; true once it holds.
bool Eventually(const std::function<bool()>& condition, double seconds);

// A browser-like client: keeps cookies, reads the CSRF token from pages.
class Browser {
 public:
  explicit Browser(const Server& server) : server_(server) {}
  HttpResult Get(const std::string& path, const std::map<std::string, std::string>& headers = {});
  // Posts a form; adds the CSRF token from the last page unless `with_csrf` is false.
  HttpResult Post(const std::string& path,
                  const std::vector<std::pair<std::string, std::string>>& form,
                  bool with_csrf = true);
  // Posts a multipart/form-data form as a browser does (CSRF token added).
  struct File {
    std::string field, filename, content_type, content;
  };
  HttpResult PostMultipart(const std::string& path,
                           const std::vector<std::pair<std::string, std::string>>& form,
                           const std::vector<File>& files);
  // Signs in through /login; returns the final status of the POST.
  int SignIn(const std::string& email, const std::string& password);
  const std::string& csrf() const { return csrf_; }
  std::map<std::string, std::string>& cookies() { return cookies_; }
  // Sent with every request from now on (e.g. X-Forwarded-For behind --trust-proxy).
  void SetHeader(const std::string& name, const std::string& value) { extra_[name] = value; }

 private:
  void Absorb(const HttpResult& r);
  const Server& server_;
  std::map<std::string, std::string> cookies_;
  std::map<std::string, std::string> extra_;
  std::string csrf_;
};

// A CIPP-compatible API on loopback (tests/fixtures/cipp/fake_cipp.py): a token
// endpoint (client secret "s3cret"), ListTenants and ListUsers answering what the
// state set here says (see the script for its members).
class FakeCipp {
 public:
  FakeCipp();
  ~FakeCipp();
  FakeCipp(const FakeCipp&) = delete;
  FakeCipp& operator=(const FakeCipp&) = delete;
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string token_url() const { return base_url() + "/token"; }
  void Set(const nlohmann::json& state);
  // {"tokens", "calls", "unauthorized", "failed"} so far.
  nlohmann::json Stats() const;

 private:
  std::string dir_;
  int port_ = 0;
  int pid_ = 0;
};

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& form);
// The id at the end of a Location like "/clients/12?notice=created".
int64_t IdFromLocation(const std::string& location);

}  // namespace opsmerge::testing
