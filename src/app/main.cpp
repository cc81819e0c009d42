// The opsmerge command. Every subcommand and flag is declared once in the tables
// below: parsing, validation and `--help` all read them.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "app/server_app.h"
#ifdef OPSMERGE_TEST_BUILD
#include "app/test_hooks.h"
#endif
#include "platform/crypto.h"
#include "platform/errors.h"

namespace {

// Flags apply to the commands named in `commands` ("*" = every command).
struct FlagSpec {
  const char* name;
  const char* env;    // nullptr: no environment variable
  const char* value;  // nullptr: a switch without a value
  const char* help;
  std::vector<std::string> commands;
};

const std::vector<FlagSpec>& Flags() {
  static const std::vector<FlagSpec> kFlags = {
      {"data-dir", "OPSMERGE_DATA_DIR", "DIR", "data directory (default ./data)", {"*"}},
      {"database",
       "OPSMERGE_DATABASE",
       "URL",
       "postgresql://user:pass@host:port/db instead of SQLite in the data directory",
       {"*"}},
      {"db-pool",
       "OPSMERGE_DB_POOL",
       "N",
       "database connections (default: one per worker thread, plus 4)",
       {"*"}},
      {"help", nullptr, nullptr, "show help for the command", {"*"}},
      // serve
      {"listen",
       "OPSMERGE_LISTEN",
       "HOST:PORT",
       "address to serve (default 127.0.0.1:8080)",
       {"serve"}},
      {"public-url",
       "OPSMERGE_PUBLIC_URL",
       "URL",
       "base URL agents and links use, e.g. https://psa.example-msp.co.uk",
       {"serve"}},
      {"time-zone",
       "OPSMERGE_TIME_ZONE",
       "ZONE",
       "time zone pages show times in (default Europe/London)",
       {"serve"}},
      {"trust-proxy",
       "OPSMERGE_TRUST_PROXY",
       nullptr,
       "honour X-Forwarded-For/-Proto (only behind your own proxy)",
       {"serve"}},
      {"no-access-log", nullptr, nullptr, "do not log each request", {"serve"}},
      {"reuse-port",
       nullptr,
       nullptr,
       "let several serve processes on this host share the port (SO_REUSEPORT)",
       {"serve"}},
      {"checkin-interval",
       "OPSMERGE_CHECKIN_INTERVAL",
       "SECONDS",
       "agent check-in interval, 1-3600 (default 60)",
       {"serve"}},
      {"lease-seconds", nullptr, "SECONDS", "lease of scheduled work (default 30)", {"serve"}},
      {"cipp-timeout",
       nullptr,
       "SECONDS",
       "how long one call to CIPP may take (default 600, as CIPP allows itself)",
       {"serve", "cipp sync"}},
      {"dry-run",
       nullptr,
       nullptr,
       "show what the sync would change, change nothing",
       {"cipp sync"}},
      {"cleanup-interval",
       nullptr,
       "SECONDS",
       "how often expired sessions are removed (default 3600)",
       {"serve"}},
      {"io-threads",
       "OPSMERGE_IO_THREADS",
       "N",
       "network threads (default: one per core)",
       {"serve"}},
      {"workers",
       "OPSMERGE_WORKERS",
       "N",
       "threads for pages and the staff API (default 8)",
       {"serve"}},
      {"threads", nullptr, "N", "old name of --workers", {"serve"}},
      {"agent-workers",
       "OPSMERGE_AGENT_WORKERS",
       "N",
       "threads for the agent API (default 16)",
       {"serve"}},
      {"queue",
       nullptr,
       "N",
       "page/API requests that may wait for a worker before 503 (default 256)",
       {"serve"}},
      {"agent-queue",
       nullptr,
       "N",
       "agent requests that may wait for a worker before 503 (default 4096)",
       {"serve"}},
      {"max-connections",
       "OPSMERGE_MAX_CONNECTIONS",
       "N",
       "open connections in total (default 120000)",
       {"serve"}},
      {"max-connections-per-ip",
       "OPSMERGE_MAX_CONNECTIONS_PER_IP",
       "N",
       "open connections per client address, 0 = no cap (default 2000)",
       {"serve"}},
      {"max-body", nullptr, "BYTES", "largest request body (default 1048576)", {"serve"}},
      {"max-uploads",
       nullptr,
       "N",
       "portal uploads (bodies over --max-body) taken at once (default 8)",
       {"serve"}},
      {"header-timeout",
       nullptr,
       "SECONDS",
       "time to send a request's headers (default 10)",
       {"serve"}},
      {"idle-timeout",
       nullptr,
       "SECONDS",
       "how long a kept-alive connection may wait idle (default 150)",
       {"serve"}},
      {"body-timeout",
       nullptr,
       "SECONDS",
       "time to send a body, plus size / --min-transfer-rate (default 15)",
       {"serve"}},
      {"write-timeout",
       nullptr,
       "SECONDS",
       "time to read an answer, plus size / --min-transfer-rate (default 15)",
       {"serve"}},
      {"min-transfer-rate",
       nullptr,
       "BYTES",
       "slowest transfer a client may keep up, per second (default 4096)",
       {"serve"}},
      {"send-buffer",
       nullptr,
       "BYTES",
       "kernel send buffer per connection, 0 = the OS's autotuning (default 65536)",
       {"serve"}},
      // user add, api-key create
      {"email", nullptr, "EMAIL", "the staff user's email", {"user add", "api-key create"}},
      {"name",
       nullptr,
       "NAME",
       "the user's name (user add) or the key's label (api-key create)",
       {"user add", "api-key create"}},
      {"role", nullptr, "ROLE", "admin, technician or billing", {"user add"}},
      {"month",
       nullptr,
       "YYYY-MM",
       "the invoice month (the calendar month billed)",
       {"billing run"}},
  };
  return kFlags;
}

struct Command {
  const char* name;
  const char* args;
  const char* help;
};

const std::vector<Command>& Commands() {
  static const std::vector<Command> kCommands = {
      {"serve", "", "run the web server, the agent API and background jobs"},
      {"migrate", "", "apply database migrations and exit"},
      {"user add", "", "add a staff user; the password is read from the first line of stdin"},
      {"api-key create", "", "create an API key acting as a staff user; prints it once"},
      {"backup", "PATH", "copy the live SQLite database to PATH (online, consistent)"},
      {"billing run", "",
       "make the month's draft invoices (one per client-month, never two); prints them"},
      {"cipp sync", "",
       "import Microsoft 365 tenants and users through CIPP (Settings: Microsoft 365); prints "
       "the report"},
      {"mail ingest", "",
       "take one email message on stdin (for an MTA pipe): exit 0 stored or dropped, 75 try "
       "again later, 65 not a message"},
  };
  return kCommands;
}

bool Applies(const FlagSpec& f, const std::string& command) {
  for (const auto& c : f.commands) {
    if (c == "*" || c == command) return true;
  }
  return false;
}

std::string Usage(const std::string& command) {
  std::string out;
  if (command.empty()) {
    out = "usage: opsmerge <command> [options]\n\ncommands:\n";
    for (const auto& c : Commands()) {
      std::string head = std::string("  ") + c.name + (*c.args ? std::string(" ") + c.args : "");
      out += head + std::string(head.size() < 30 ? 30 - head.size() : 1, ' ') + c.help + "\n";
    }
    out += "\nRun `opsmerge COMMAND --help` for a command's options.\n";
    out += "\nOptions of every command:\n";
  } else {
    for (const auto& c : Commands()) {
      if (command == c.name) {
        out = std::string("usage: opsmerge ") + c.name +
              (*c.args ? std::string(" ") + c.args : "") + " [options]\n  " + c.help +
              "\n\noptions:\n";
      }
    }
  }
  for (const auto& f : Flags()) {
    bool every = f.commands.size() == 1 && f.commands[0] == "*";
    if (command.empty() ? !every : !Applies(f, command)) continue;
    std::string head = std::string("  --") + f.name + (f.value ? std::string(" ") + f.value : "");
    out += head + std::string(head.size() < 34 ? 34 - head.size() : 1, ' ') + f.help;
    if (f.env) out += std::string(" [env ") + f.env + "]";
    out += "\n";
  }
  out +=
      "\nexit codes: 0 done, 64 usage error, 65 bad input (the message names the field),\n"
      "1 other failure.\n";
  return out;
}

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Args {
  std::string command;                // "serve", "user add", ...
  std::vector<std::string> operands;  // after the command words
  std::map<std::string, std::string> flags;
};

Args Parse(int argc, char** argv) {
  Args a;
  std::vector<std::string> words;
  std::vector<std::pair<std::string, std::string>> raw;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0) {
      words.push_back(s);
      continue;
    }
    std::string name = s.substr(2), value;
    bool has_value = false;
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const auto& f : Flags()) {
      if (name == f.name) spec = &f;
    }
    if (!spec) throw UsageError("unknown option --" + name);
    if (spec->value && !has_value) {
      if (i + 1 >= argc) throw UsageError("--" + name + " needs a value");
      value = argv[++i];
    } else if (!spec->value) {
      if (has_value) throw UsageError("--" + name + " takes no value");
      value = "1";
    }
    raw.emplace_back(name, value);
  }
  // The command is one or two words ("serve", "user add").
  for (const auto& c : Commands()) {
    std::string name = c.name;
    size_t sp = name.find(' ');
    if (sp == std::string::npos) {
      if (!words.empty() && words[0] == name) a.command = name;
    } else if (words.size() >= 2 && words[0] == name.substr(0, sp) &&
               words[1] == name.substr(sp + 1)) {
      a.command = name;
    }
  }
  if (!a.command.empty()) {
    size_t used = a.command.find(' ') == std::string::npos ? 1 : 2;
    a.operands.assign(words.begin() + static_cast<long>(used), words.end());
  } else if (!words.empty()) {
    throw UsageError("unknown command \"" + words[0] + (words.size() > 1 ? " " + words[1] : "") +
                     "\"");
  }
  for (const auto& [name, value] : raw) {
    for (const auto& f : Flags()) {
      if (name == f.name && !a.command.empty() && !Applies(f, a.command)) {
        throw UsageError("--" + name + " does not apply to opsmerge " + a.command);
      }
    }
    a.flags[name] = value;
  }
  return a;
}

std::string Flag(const Args& a, const std::string& name, std::string fallback) {
  auto it = a.flags.find(name);
  if (it != a.flags.end()) return it->second;
  for (const auto& f : Flags()) {
    if (name == f.name && f.env) {
      if (const char* v = std::getenv(f.env)) return v;
    }
  }
  return fallback;
}

bool Switch(const Args& a, const std::string& name) {
  std::string v = Flag(a, name, "0");
  return v == "1" || v == "true" || v == "yes";
}

// A whole number in [min, max], or a usage error naming the flag.
int64_t Number(const Args& a, const std::string& name, int64_t fallback, int64_t min, int64_t max) {
  std::string v = Flag(a, name, "");
  if (v.empty()) return fallback;
  size_t used = 0;
  int64_t n = 0;
  try {
    n = std::stoll(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || n < min || n > max) {
    throw UsageError("--" + name + " must be a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max));
  }
  return n;
}

std::string Required(const Args& a, const std::string& name) {
  auto it = a.flags.find(name);
  if (it == a.flags.end() || it->second.empty()) throw UsageError("--" + name + " is required");
  return it->second;
}

opsmerge::app::Config ReadConfig(const Args& args) {
  opsmerge::app::Config config;
  config.data_dir = Flag(args, "data-dir", "./data");
  config.database = Flag(args, "database", "");
  config.db_pool = static_cast<int>(Number(args, "db-pool", 0, 0, 1000));
  config.listen = Flag(args, "listen", "127.0.0.1:8080");
  config.access_log = !Switch(args, "no-access-log");
  config.lease_seconds = Number(args, "lease-seconds", 30, 1, 86400);
  config.cleanup_interval = Number(args, "cleanup-interval", 3600, 1, int64_t{86400} * 7);
  config.checkin_interval = Number(args, "checkin-interval", 60, 1, 3600);
  config.cipp_timeout = Number(args, "cipp-timeout", 600, 1, 3600);
  config.public_url = Flag(args, "public-url", "");
  while (!config.public_url.empty() && config.public_url.back() == '/') {
    config.public_url.pop_back();
  }
  config.time_zone = Flag(args, "time-zone", "Europe/London");

  opsmerge::http::ServerOptions& h = config.http;
  h.trust_proxy = Switch(args, "trust-proxy");
  h.reuse_port = Switch(args, "reuse-port");
  h.io_threads = static_cast<size_t>(Number(args, "io-threads", 0, 0, 256));
  int64_t workers = Number(args, "threads", 8, 1, 1024);
  h.people_workers = static_cast<size_t>(Number(args, "workers", workers, 1, 1024));
  h.agent_workers = static_cast<size_t>(Number(args, "agent-workers", 16, 1, 1024));
  h.people_queue = static_cast<size_t>(Number(args, "queue", 256, 1, 1000000));
  h.agent_queue = static_cast<size_t>(Number(args, "agent-queue", 4096, 1, 1000000));
  h.max_connections = static_cast<size_t>(Number(args, "max-connections", 120000, 16, 10000000));
  h.max_connections_per_ip =
      static_cast<size_t>(Number(args, "max-connections-per-ip", 2000, 0, 10000000));
  h.max_body_bytes = static_cast<size_t>(Number(args, "max-body", 1 << 20, 1024, 1 << 30));
  h.max_large_bodies = static_cast<size_t>(Number(args, "max-uploads", 8, 1, 1000));
  h.header_timeout_seconds = Number(args, "header-timeout", 10, 1, 3600);
  h.idle_timeout_seconds = Number(args, "idle-timeout", 150, 1, 86400);
  h.body_timeout_seconds = Number(args, "body-timeout", 15, 1, 3600);
  h.write_timeout_seconds = Number(args, "write-timeout", 15, 1, 3600);
  h.min_transfer_rate = static_cast<size_t>(Number(args, "min-transfer-rate", 4096, 1, 1 << 30));
  h.send_buffer_bytes = static_cast<size_t>(Number(args, "send-buffer", 65536, 0, 64 << 20));
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  // Everything we create (the database, its WAL, backups) is readable by us only.
  umask(077);
  try {
    opsmerge::crypto::InitCrypto();
#ifdef OPSMERGE_TEST_BUILD
    opsmerge::app::ApplyTestSettings();
#endif
    Args args = Parse(argc, argv);
    if (args.flags.count("help")) {
      std::cout << Usage(args.command);
      return 0;
    }
    if (args.command.empty()) {
      std::cerr << Usage("");
      return 64;
    }
    opsmerge::app::Config config = ReadConfig(args);
    const std::string& cmd = args.command;
    if (cmd != "backup" && !args.operands.empty()) {
      throw UsageError("unexpected argument \"" + args.operands[0] + "\"");
    }
    if (cmd == "serve") return opsmerge::app::Serve(config);
    if (cmd == "migrate") return opsmerge::app::Migrate(config);
    if (cmd == "user add") {
      std::string password;
      std::getline(std::cin, password);
      if (!password.empty() && password.back() == '\r') password.pop_back();
      return opsmerge::app::AddUser(config, Required(args, "email"), Required(args, "name"),
                                    Required(args, "role"), password);
    }
    if (cmd == "api-key create") {
      return opsmerge::app::CreateApiKey(config, Required(args, "email"), Required(args, "name"));
    }
    if (cmd == "mail ingest") return opsmerge::app::IngestMail(config);
    if (cmd == "billing run") return opsmerge::app::RunBilling(config, Required(args, "month"));
    if (cmd == "cipp sync") return opsmerge::app::SyncCipp(config, Switch(args, "dry-run"));
    if (cmd == "backup") {
      if (args.operands.size() != 1) throw UsageError("backup needs one destination PATH");
      return opsmerge::app::Backup(config, args.operands[0]);
    }
    throw UsageError("unknown command");
  } catch (const UsageError& e) {
    std::cerr << "opsmerge: " << e.what() << "\n(see opsmerge --help)\n";
    return 64;
  } catch (const opsmerge::ValidationError& e) {
    std::cerr << "opsmerge: " << e.field() << ": " << e.what() << "\n";
    return 65;
  } catch (const opsmerge::Conflict& e) {
    std::cerr << "opsmerge: " << e.what() << "\n";
    return 65;
  } catch (const std::exception& e) {
    std::cerr << "opsmerge: " << e.what() << "\n";
    return 1;
  }
}
