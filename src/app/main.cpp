// The opsmerge command: serve, migrate, user add, api-key create.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "app/server_app.h"
#include "platform/crypto.h"
#include "platform/errors.h"

namespace {

const char* kUsage =
    "usage: opsmerge <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve [--listen HOST:PORT] [--threads N]   run the web server (default 127.0.0.1:8080)\n"
    "  migrate                                    apply database migrations and exit\n"
    "  user add --email E --name N --role admin|technician|billing\n"
    "                                             add a staff user; password read from stdin\n"
    "  api-key create --email E --name LABEL      create an API key for a staff user; prints it "
    "once\n"
    "\n"
    "every command takes --data-dir DIR (default ./data, env OPSMERGE_DATA_DIR);\n"
    "serve also reads OPSMERGE_LISTEN.\n";

struct Args {
  std::vector<std::string> words;
  std::map<std::string, std::string> flags;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) == 0) {
      std::string name = s.substr(2), value;
      size_t eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      } else if (name == "trust-proxy" || name == "no-access-log" || name == "help") {
        value = "1";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        throw std::runtime_error("--" + name + " needs a value");
      }
      a.flags[name] = value;
    } else {
      a.words.push_back(s);
    }
  }
  return a;
}

std::string Flag(const Args& a, const std::string& name, const char* env, std::string fallback) {
  auto it = a.flags.find(name);
  if (it != a.flags.end()) return it->second;
  if (env) {
    if (const char* v = std::getenv(env)) return v;
  }
  return fallback;
}

std::string Required(const Args& a, const std::string& name) {
  auto it = a.flags.find(name);
  if (it == a.flags.end() || it->second.empty()) {
    throw std::runtime_error("--" + name + " is required");
  }
  return it->second;
}

}  // namespace

int main(int argc, char** argv) {
  using opsmerge::app::Config;
  std::signal(SIGPIPE, SIG_IGN);
  try {
    opsmerge::crypto::InitCrypto();
    Args args = Parse(argc, argv);
    if (args.words.empty() || args.flags.count("help")) {
      std::cout << kUsage;
      return args.words.empty() && !args.flags.count("help") ? 64 : 0;
    }
    Config config;
    config.data_dir = Flag(args, "data-dir", "OPSMERGE_DATA_DIR", "./data");
    config.listen = Flag(args, "listen", "OPSMERGE_LISTEN", "127.0.0.1:8080");
    config.threads = std::stoi(Flag(args, "threads", "OPSMERGE_THREADS", "16"));
    config.trust_proxy = Flag(args, "trust-proxy", "OPSMERGE_TRUST_PROXY", "0") == "1";
    config.access_log = !args.flags.count("no-access-log");
    config.database = Flag(args, "database", "OPSMERGE_DATABASE", "");
    config.db_pool = std::stoi(Flag(args, "db-pool", "OPSMERGE_DB_POOL", "0"));
    config.lease_seconds = std::stoll(Flag(args, "lease-seconds", nullptr, "30"));
    config.checkin_interval =
        std::stoll(Flag(args, "checkin-interval", "OPSMERGE_CHECKIN_INTERVAL", "60"));
    config.public_url = Flag(args, "public-url", "OPSMERGE_PUBLIC_URL", "");
    config.time_zone = Flag(args, "time-zone", "OPSMERGE_TIME_ZONE", "Europe/London");
    while (!config.public_url.empty() && config.public_url.back() == '/')
      config.public_url.pop_back();
    if (config.checkin_interval < 1 || config.checkin_interval > 3600) {
      throw std::runtime_error("--checkin-interval must be 1-3600 seconds");
    }
    config.cleanup_interval = std::stoll(Flag(args, "cleanup-interval", nullptr, "3600"));
    if (config.lease_seconds < 1 || config.cleanup_interval < 1) {
      throw std::runtime_error("--lease-seconds and --cleanup-interval must be at least 1");
    }
    const std::string& cmd = args.words[0];
    std::string sub = args.words.size() > 1 ? args.words[1] : "";

    if (cmd == "serve") return opsmerge::app::Serve(config);
    if (cmd == "migrate") return opsmerge::app::Migrate(config);
    if (cmd == "user" && sub == "add") {
      std::string password;
      std::getline(std::cin, password);
      if (!password.empty() && password.back() == '\r') password.pop_back();
      return opsmerge::app::AddUser(config, Required(args, "email"), Required(args, "name"),
                                    Required(args, "role"), password);
    }
    if (cmd == "api-key" && sub == "create") {
      return opsmerge::app::CreateApiKey(config, Required(args, "email"), Required(args, "name"));
    }
    if (cmd == "backup") {
      if (sub.empty()) throw std::runtime_error("backup needs a destination PATH");
      return opsmerge::app::Backup(config, sub);
    }
    std::cerr << "opsmerge: unknown command\n" << kUsage;
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
