#include "app/server_app.h"

#ifdef OPSMERGE_TEST_BUILD
#include "app/test_hooks.h"
#endif

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin/routes.h"
#include "audit/service.h"
#include "billing/client_data.h"
#include "billing/routes.h"
#include "billing/service.h"
#include "cipp/routes.h"
#include "cipp/service.h"
#include "clients/routes.h"
#include "clients/service.h"
#include "home/routes.h"
#include "mail/gateway.h"
#include "mail/mime.h"
#include "mail/poller.h"
#include "mail/routes.h"
#include "platform/assets.h"
#include "platform/clock.h"
#include "platform/crypto.h"
#include "platform/db.h"
#include "platform/errors.h"
#include "platform/http/server.h"
#include "platform/http/static_files.h"
#include "platform/log.h"
#include "platform/outbox.h"
#include "platform/page.h"
#include "platform/scheduler.h"
#include "platform/secret_box.h"
#include "platform/settings.h"
#include "platform/templates.h"
#include "portal/client_data.h"
#include "portal/routes.h"
#include "portal/service.h"
#include "rmm/client_data.h"
#include "rmm/routes.h"
#include "rmm/service.h"
#include "staff/routes.h"
#include "staff/service.h"
#include "tickets/client_data.h"
#include "tickets/routes.h"
#include "tickets/service.h"

namespace opsmerge::app {

namespace {

std::string DatabaseUrl(const Config& config) {
  if (!config.database.empty()) return config.database;
  if (mkdir(config.data_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw std::runtime_error("cannot create data directory " + config.data_dir);
  }
  struct stat st {};
  if (stat(config.data_dir.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    log::Info("warning: data directory " + config.data_dir +
              " is readable by other users; it holds every client's data (chmod 700 it)");
  }
  return config.data_dir + "/opsmerge.db";
}

std::unique_ptr<db::Database> OpenDatabase(const Config& config, size_t pool_size) {
  auto db = db::Database::Open(DatabaseUrl(config), pool_size);
  db->Migrate();
  return db;
}

void RegisterStatic(http::Router& router, const http::StaticFiles& files) {
  router.AddInline("GET", "/static/{file}",
                   [&files](http::Request& req) { return files.Serve(req.params[0], req); });
  router.AddInline("GET", "/healthz", [](http::Request&) { return http::Response::Text("ok\n"); });
}

// The agent binary built with this server sits next to it (build/opsmerge-agent).
std::string AgentBinaryPath() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "opsmerge-agent";
  std::string self(buf, static_cast<size_t>(n));
  return self.substr(0, self.rfind('/') + 1) + "opsmerge-agent";
}

std::pair<std::string, uint16_t> SplitListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("--listen must be HOST:PORT");
  int port = std::stoi(listen.substr(colon + 1));
  if (port < 0 || port > 65535) throw std::runtime_error("--listen port out of range");
  return {listen.substr(0, colon), static_cast<uint16_t>(port)};
}

// opsmerge-deliver (the MTA's pipe) finds the running server through two files in
// the data directory: deliver.key, made once (0600; every serve process on this
// directory shares it), and deliver.url, written at each start.
std::string DeliveryKey(const std::string& data_dir) {
  std::string path = data_dir + "/deliver.key";
  std::ifstream in(path);
  std::string key;
  if (in >> key && key.size() >= 43) return key;
  key = crypto::RandomToken(32);
  mode_t old = umask(077);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << key << "\n";
  }
  umask(old);
  // Two processes starting at once: the first rename wins, both read it back.
  if (link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write " + path);
  }
  std::remove(tmp.c_str());
  std::ifstream again(path);
  again >> key;
  return key;
}

void WriteDeliveryUrl(const std::string& data_dir, const std::string& host, uint16_t port) {
  std::string h = host == "0.0.0.0" || host.empty() ? "127.0.0.1" : host == "::" ? "[::1]" : host;
  if (h.find(':') != std::string::npos && h.front() != '[') h = "[" + h + "]";
  std::string path = data_dir + "/deliver.url", tmp = path + ".tmp" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "http://" << h << ":" << port << "/mail/v1/ingest\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

// The services of the features that hold clients, endpoints and tickets, built in
// the order they depend on each other, with what each feature owns of a client
// registered before any of them is used.
struct Features {
  Features(db::Database& db, const audit::AuditLog& audit, const Clock& clock,
           int64_t checkin_interval)
      : clients(db, audit, clock, Registered(owners)),
        rmm(db, audit, clock, clients, rmm::RmmSettings{checkin_interval}),
        tickets(db, audit, clock, clients, rmm),
        billing(db, audit, clock, clients, rmm, tickets),
        gateway(db, clock, clients, tickets),
        portal(db, audit, clock, clients, tickets, billing) {}
  Features(const Features&) = delete;
  Features& operator=(const Features&) = delete;

  static clients::ClientOwners& Registered(clients::ClientOwners& owners) {
    rmm::RegisterClientData(owners);
    tickets::RegisterClientData(owners);
    billing::RegisterClientData(owners);
    portal::RegisterClientData(owners);
    return owners;
  }

  clients::ClientOwners owners;  // first: the services below hold it
  clients::ClientService clients;
  rmm::RmmService rmm;
  tickets::TicketService tickets;
  billing::BillingService billing;
  mail::Gateway gateway;
  portal::PortalService portal;
};

// The search terms of rows written before the search migration, built once: the
// migration leaves "search.reindex" when such rows exist; the first node to start
// builds them and removes it (the others wait on the write lock, then see it gone).
void EnsureSearchIndex(db::Database& db, clients::ClientService& clients, rmm::RmmService& rmm) {
  static constexpr const char* kKey = "search.reindex";
  db.Write([&](db::Tx& tx) {
    if (settings::Get(tx.sql(), kKey) != "1") return;
    log::Info("building the search index of existing contacts and endpoints");
    clients.ReindexSearchIn(tx);
    rmm.ReindexSearchIn(tx);
    settings::Remove(tx.sql(), kKey);
  });
}

}  // namespace

int Serve(const Config& config) {
  // Block the stop signals before any thread starts, so only sigwait sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  log::SetAccessLog(config.access_log);
  if (!SetDisplayTimeZone(config.time_zone)) {
    throw std::runtime_error("unknown time zone \"" + config.time_zone +
                             "\" (use a name like Europe/London)");
  }
#ifdef OPSMERGE_TEST_BUILD
  TestClock clock;
  Templates templates = Templates::Load(/*strict=*/true);
  LogRenderedTemplates(templates);
#else
  SystemClock clock;
  Templates templates = Templates::Load();
#endif
  // Every worker may hold a session at once, plus the heartbeat writer, the
  // scheduler and start-up work.
  size_t pool = config.db_pool > 0 ? static_cast<size_t>(config.db_pool)
                                   : config.http.people_workers + config.http.agent_workers + 4;
  auto db = OpenDatabase(config, pool);
  audit::AuditLog audit(clock);
  staff::StaffService staff(*db, audit, clock);
  Features features(*db, audit, clock, config.checkin_interval);
  clients::ClientService& clients = features.clients;
  rmm::RmmService& rmm = features.rmm;
  tickets::TicketService& tickets = features.tickets;
  mail::Gateway& gateway = features.gateway;
  billing::BillingService& billing = features.billing;
  rmm::AgentDownloads downloads{AgentBinaryPath(), config.public_url};
  SecretBox secrets = SecretBox::Load(config.data_dir);
  admin::SettingsService general_settings(*db, audit, clock, secrets);
  // The time zone the settings name wins over --time-zone (before any thread starts).
  if (std::string zone = general_settings.TimeZone(); !zone.empty()) {
    if (SetDisplayTimeZone(zone)) {
      log::Info("time zone " + zone + " (from settings)");
    } else {
      log::Info("warning: the time zone in settings (" + zone + ") is unknown here; keeping " +
                config.time_zone);
    }
  }
  EnsureSearchIndex(*db, clients, rmm);
  cipp::HttpClient cipp_http(config.cipp_timeout);
  cipp::CippService m365(*db, audit, clock, clients, secrets, cipp_http, MakeNodeId());

  // Background work, once per period across all nodes on this database.
#ifdef OPSMERGE_TEST_BUILD
  // Tests move the clock and expect the next tick soon after.
  Scheduler scheduler(*db, clock, MakeNodeId(), config.lease_seconds,
                      std::chrono::milliseconds(200));
#else
  Scheduler scheduler(*db, clock, MakeNodeId(), config.lease_seconds);
#endif
  scheduler.Add({"cleanup", config.cleanup_interval, [&staff] { return staff.PurgeExpired(); }});
  scheduler.Add({"metrics-prune", 3600, [&rmm] { return rmm.PruneMetrics(); }});
  scheduler.Add({"tickets-auto-close", 3600, [&tickets] { return tickets.CloseResolved(); }});
  scheduler.Add({"mail-send", 15, [&db, &secrets, &clock] {
                   return outbox::SendDue(*db, secrets, clock.NowUnix());
                 }});
  scheduler.Add({"billing-run", 3600, [&billing] { return billing.ScheduledRun(); }});
  // Checks every 10 minutes whether cipp_sync_hours have passed since the last sync.
  scheduler.Add({"cipp-sync", 600, [&m365] { return m365.ScheduledSync(); }});
  scheduler.Add({"portal-cleanup", 3600, [&features] { return features.portal.PurgeExpired(); }});
  scheduler.Add({"mail-poll", 5, [&db, &gateway, &secrets, &clock] {
                   return mail::PollImap(*db, gateway, secrets, clock.NowUnix());
                 }});
  http::StaticFiles static_files = http::StaticFiles::Load();
  http::Router router;
  RegisterStatic(router, static_files);
#ifdef OPSMERGE_TEST_BUILD
  RegisterTestRoutes(router, clock, scheduler);
#endif
  staff::RegisterPages(router, staff, templates, config.public_url);
  clients::RegisterPages(router, clients, templates);
  clients::RegisterApi(router, clients);
  rmm::RegisterAgentApi(router, rmm, downloads);
  rmm::RegisterApi(router, rmm, downloads);
  rmm::RegisterPages(router, rmm, clients, templates, downloads);
  tickets::RegisterApi(router, tickets);
  tickets::RegisterPages(router, tickets, clients, rmm, templates);
  billing::RegisterApi(router, billing);
  billing::RegisterPages(router, billing, clients, templates);
  portal::RegisterPages(router, features.portal, templates, config.public_url);
  mail::RegisterPages(router, gateway);
  mail::RegisterDelivery(router, gateway, crypto::HashToken(DeliveryKey(config.data_dir)));
  admin::RegisterSettings(router, general_settings, templates);
  cipp::RegisterRoutes(router, m365, general_settings, clients, templates);
  home::RegisterPages(router, clients, rmm, tickets, templates);
  home::RegisterApi(router, clients, rmm, tickets);

  auto error_page = [&templates](int status, const std::string& message, const http::Request& req) {
    static const std::map<int, std::string> kHeadings = {
        {401, "Please sign in"},    {403, "Not allowed"},         {404, "Not found"},
        {405, "Not allowed"},       {409, "Can't do that"},       {422, "Please check your input"},
        {429, "Too many attempts"}, {500, "Something went wrong"}};
    auto it = kHeadings.find(status);
    nlohmann::json view = {{"heading", it != kHeadings.end() ? it->second : "Error"},
                           {"message", message}};
    return RenderPage(templates, req, "layout/error", view, {"Error", "", status}).body;
  };

  auto [host, port] = SplitListen(config.listen);
  http::ServerOptions options = config.http;
  options.host = host;
  options.port = port;
  http::Server server(options, router, staff, error_page);
  server.SetPortalAuthenticator(&features.portal);
  server.Start();
  WriteDeliveryUrl(config.data_dir, host, server.port());
  std::string base = "http://" + host + ":" + std::to_string(server.port());
  std::cout << "OpsMerge listening on " << base << std::endl;
  if (staff.CountUsers() == 0) {
    std::string token = staff.IssueSetupToken();
    std::cout << "No staff account yet. Create the first administrator at:\n  " << base
              << "/setup?token=" << token << "\n(valid 24 hours, once)" << std::endl;
  }

  // Mail a request queues (a reply, a sign-in link) goes out when its transaction
  // commits, not up to a period later.
  outbox::OnQueued([&scheduler] { scheduler.RunSoon("mail-send"); });
  scheduler.Start();

  int sig = 0;
  sigwait(&stop, &sig);
  log::Info("stopping on signal " + std::to_string(sig));
  scheduler.Stop();
  server.Stop();
  outbox::OnQueued(nullptr);
  return 0;
}

int Migrate(const Config& config) {
  auto db = db::Database::Open(DatabaseUrl(config), 1);
  auto applied = db->Migrate();
  for (const auto& m : applied) std::cout << "applied " << m << "\n";
  std::cout << (applied.empty() ? "database is up to date\n" : "done\n");
  return 0;
}

int AddUser(const Config& config, const std::string& email, const std::string& name,
            const std::string& role, const std::string& password) {
  SystemClock clock;
  auto db = OpenDatabase(config, 1);
  audit::AuditLog audit(clock);
  staff::StaffService staff(*db, audit, clock);
  staff::User u = staff.CreateUser(staff::Actor::System(), email, name, role, password);
  std::cout << "added " << staff::RoleName(u.role) << " " << u.email << " (id " << u.id << ")\n";
  return 0;
}

int CreateApiKey(const Config& config, const std::string& email, const std::string& label) {
  SystemClock clock;
  auto db = OpenDatabase(config, 1);
  audit::AuditLog audit(clock);
  staff::StaffService staff(*db, audit, clock);
  staff::IssuedApiKey key = staff.CreateApiKey(staff::Actor::System(), email, label);
  std::cout << key.secret << std::endl;
  std::cerr << "API key \"" << key.key.label << "\" for " << key.key.owner_email
            << " created. It is shown this once: store it now." << std::endl;
  return 0;
}

int IngestMail(const Config& config) {
  constexpr int kDataError = 65, kTempFail = 75;
  std::string raw;
  {
    // Keep at most the gateway's cap (and a byte more, so it notes the cut); read the
    // rest and let it go, so a huge message costs no memory and the MTA sees it taken.
    const size_t keep = mail::Limits{}.max_message_bytes + 1;
    char buf[65536];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) {
      if (raw.size() < keep) raw.append(buf, std::min(n, keep - raw.size()));
    }
    if (std::ferror(stdin)) {
      std::cerr << "opsmerge mail ingest: cannot read the message on stdin\n";
      return kTempFail;
    }
  }
  try {
    if (config.database.empty()) {
      // A pipe pointed at the wrong directory must not start a new, empty database.
      struct stat st {};
      if (stat((config.data_dir + "/opsmerge.db").c_str(), &st) != 0) {
        std::cerr << "opsmerge mail ingest: not stored, try again later: no database in "
                  << config.data_dir << " (run opsmerge serve or opsmerge migrate there first)\n";
        return kTempFail;
      }
    }
#ifdef OPSMERGE_TEST_BUILD
    TestClock clock;
#else
    SystemClock clock;
#endif
    auto db = db::Database::Open(DatabaseUrl(config), 1);
    db->Migrate();
    audit::AuditLog audit(clock);
    Features features(*db, audit, clock, config.checkin_interval);
    mail::Outcome out = features.gateway.Ingest(raw);
    std::cout << mail::OutcomeName(out.kind) << ": " << out.detail << "\n";
    return 0;
  } catch (const mail::NotAMessage& e) {
    std::cerr << "opsmerge mail ingest: " << e.what() << "\n";
    return kDataError;
  } catch (const std::exception& e) {
    // Anything else (database down, disk full): the MTA keeps the message and tries
    // again; nothing was written.
    std::cerr << "opsmerge mail ingest: not stored, try again later: " << e.what() << "\n";
    return kTempFail;
  }
}

namespace {

// What a one-shot command (billing run, cipp sync) works with.
struct OneShot {
  explicit OneShot(const Config& config)
      : db(OpenDatabase(config, 2)),
        audit(clock),
        features(*db, audit, clock, config.checkin_interval) {}
#ifdef OPSMERGE_TEST_BUILD
  TestClock clock;
#else
  SystemClock clock;
#endif
  std::unique_ptr<db::Database> db;
  audit::AuditLog audit;
  Features features;
};

}  // namespace

int RunBilling(const Config& config, const std::string& month) {
  auto m = billing::ParseMonth(month);
  if (!m) throw ValidationError("month", "--month must be YYYY-MM, like 2026-11");
  OneShot cmd(config);
  Features& features = cmd.features;
  std::function<void(int64_t)> made;
#ifdef OPSMERGE_TEST_BUILD
  // Crash tests: die like kill -9 once this many drafts are written (mid-batch).
  if (const char* n = std::getenv("OPSMERGE_TEST_KILL_AFTER_DRAFTS")) {
    int64_t after = std::atoll(n);
    made = [after](int64_t count) {
      if (count >= after) raise(SIGKILL);
    };
  }
#endif
  billing::RunResult r = features.billing.Run(staff::Actor::System(), *m, made);
  for (int64_t id : r.invoice_ids) {
    billing::Invoice inv = features.billing.GetInvoice(staff::Actor::System(), id);
    std::cout << "draft " << inv.id << "  " << inv.client_name << "  "
              << billing::FormatMoney(inv.net_pence) << " net, " << inv.lines.size()
              << (inv.lines.size() == 1 ? " line\n" : " lines\n");
  }
  std::cout << r.Summary() << "\n";
  return r.failed ? 1 : 0;
}

int SyncCipp(const Config& config, bool dry_run) {
  OneShot cmd(config);
  SecretBox secrets = SecretBox::Load(config.data_dir);
  cipp::HttpClient http(config.cipp_timeout);
  cipp::CippService m365(*cmd.db, cmd.audit, cmd.clock, cmd.features.clients, secrets, http,
                         MakeNodeId());
  nlohmann::json report = m365.Sync(staff::Actor::System(), dry_run);
  std::cout << report.dump(2) << "\n";
  return report["ok"].get<bool>() ? 0 : 1;
}

int Backup(const Config& config, const std::string& path) {
  if (!config.database.empty()) {
    throw std::runtime_error(
        "opsmerge backup copies the SQLite database; for PostgreSQL use pg_dump "
        "(see docs/deploy-at-scale.md)");
  }
  db::BackupSqlite(DatabaseUrl(config), path);
  std::cout << "backed up to " << path << "\n";
  return 0;
}

}  // namespace opsmerge::app
