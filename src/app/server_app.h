#pragma once

#include <cstdint>
#include <string>

#include "platform/http/server.h"

// Wiring: builds every service from the configuration and runs one command.
// The only place concrete types are constructed.
namespace opsmerge::app {

struct Config {
  std::string data_dir = "./data";
  std::string database;  // "postgresql://..."; empty: SQLite in data_dir
  int db_pool = 0;       // connections; 0: enough for every worker thread
  int64_t lease_seconds = 30;
  int64_t cleanup_interval = 3600;
  int64_t checkin_interval = 60;            // seconds between agent check-ins
  int64_t cipp_timeout = 600;               // seconds one call to CIPP may take
  std::string public_url;                   // base URL agents use; "" = the request's host
  std::string time_zone = "Europe/London";  // how pages show times
  std::string listen = "127.0.0.1:8080";
  bool access_log = true;
  http::ServerOptions http;  // connection limits, worker pools, deadlines
};

// Each returns the process exit code.
int Serve(const Config& config);
int Migrate(const Config& config);
int AddUser(const Config& config, const std::string& email, const std::string& name,
            const std::string& role, const std::string& password);
int CreateApiKey(const Config& config, const std::string& email, const std::string& label);
// One message on stdin through the email gateway: 0 stored or deliberately
// dropped, 65 not a message at all, 75 (EX_TEMPFAIL) when it could not be stored
// now (database or disk unavailable) so the MTA delivers it again later.
int IngestMail(const Config& config);
// B2: the monthly run for `month` (YYYY-MM); prints each new draft and a summary.
// 0 done (also when every client-month had its invoice already), 1 when a
// client's draft failed (the others are made; run it again).
int RunBilling(const Config& config, const std::string& month);
// A Microsoft 365 sync through CIPP (or, with `dry_run`, what it would do); prints
// the report. 0 done, 1 when it had errors (nothing half-applied).
int SyncCipp(const Config& config, bool dry_run);
// SQLite only: a consistent copy of the live database at `path` (online backup API).
int Backup(const Config& config, const std::string& path);

}  // namespace opsmerge::app
