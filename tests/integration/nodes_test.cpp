// Several `opsmerge serve` nodes on one database: shared sessions and limits,
// scheduled work that runs once per period and fails over, and races that must
// end in one winner and a clear error.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <thread>

#include <signal.h>
#include <unistd.h>

#include "harness.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;
const char* kPassword = "a long enough password";

std::string CookieHeader(Browser& b) { return "om_session=" + b.cookies()["om_session"]; }

TEST(TwoNodes, ASessionMadeOnOneNodeWorksOnTheOther) {
  Server a;
  Server b({}, &a);
  a.AddUserWithKey("tech@msp.example", "technician");
  Browser on_a(a);
  ASSERT_EQ(on_a.SignIn("tech@msp.example", kPassword), 303);
  std::string cookie = CookieHeader(on_a);
  HttpResult page = b.Request("GET", "/clients/new", "", {{"Cookie", cookie}});
  EXPECT_EQ(page.status, 200) << "session valid on node B";
  // The CSRF token minted on A is accepted by B: it is derived from the session.
  HttpResult created =
      b.Request("POST", "/clients", FormEncode({{"name", "Made On B"}, {"_csrf", on_a.csrf()}}),
                {{"Cookie", cookie}, {"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(created.status, 303);
  // Signing out on B ends the session on A too.
  b.Request("POST", "/logout", FormEncode({{"_csrf", on_a.csrf()}}),
            {{"Cookie", cookie}, {"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(a.Request("GET", "/clients", "", {{"Cookie", cookie}}).status, 302);
}

TEST(TwoNodes, SignInLimitsAreSharedAcrossNodes) {
  Server a;
  Server b({}, &a);
  a.AddUserWithKey("victim@msp.example", "technician");
  Browser on_a(a), on_b(b);
  on_a.Get("/login");
  on_b.Get("/login");
  for (int i = 0; i < 5; ++i) {
    Browser& via = i % 2 ? on_b : on_a;
    EXPECT_EQ(via.Post("/login", {{"email", "victim@msp.example"}, {"password", "wrong"}}).status,
              401);
  }
  EXPECT_EQ(on_b.Post("/login", {{"email", "victim@msp.example"}, {"password", kPassword}}).status,
            429);
}

struct JobRun {
  std::string node;
  int64_t at;
};

std::vector<JobRun> Runs(const Server& s) {
  std::vector<JobRun> out;
  for (const auto& row :
       s.Query("SELECT node, started_at FROM job_runs WHERE job = 'cleanup' ORDER BY id")) {
    out.push_back({row[0], std::stoll(row[1])});
  }
  return out;
}

TEST(TwoNodes, ScheduledWorkRunsOncePerPeriodAndFailsOver) {
  // Hourly cleanup under a 30 s lease; both nodes' clocks move together, an hour at
  // a time, instead of the test waiting for real hours.
  const std::vector<std::string> hourly = {"--cleanup-interval", "3600", "--lease-seconds", "30"};
  Server a(hourly);
  Server b(hourly, &a);
  auto advance = [&](int64_t seconds) {
    a.AdvanceClock(seconds);
    b.AdvanceClock(seconds);
  };
  ASSERT_TRUE(Eventually([&] { return Runs(a).size() == 1; }, 5)) << "the first run at start";
  for (size_t hour = 2; hour <= 4; ++hour) {
    advance(1800);
    a.Tick();
    b.Tick();
    EXPECT_EQ(Runs(a).size(), hour - 1) << "not due yet half-way through the period";
    advance(1800);
    ASSERT_TRUE(Eventually([&] { return Runs(a).size() == hour; }, 5)) << "hour " << hour;
  }
  a.Tick();
  b.Tick();
  std::vector<JobRun> runs = Runs(a);
  ASSERT_EQ(runs.size(), 4u) << "exactly one run per period across both nodes";
  for (size_t i = 1; i < runs.size(); ++i) {
    EXPECT_GE(runs[i].at - runs[i - 1].at, 3600) << "two runs inside one period";
  }
  // Crash the node doing the work; the other takes over within a lease period.
  std::string holder = runs.back().node;
  Server& victim = holder.find(":" + std::to_string(a.pid()) + ":") != std::string::npos ? a : b;
  Server& survivor = &victim == &a ? b : a;
  std::string survivor_tag = ":" + std::to_string(survivor.pid()) + ":";
  victim.Kill(SIGKILL);
  // The next period comes while the dead node's lease row still names it; once the
  // lease has lapsed by the survivor's clock, the survivor runs the job.
  int64_t last = runs.back().at;
  survivor.AdvanceClock(3600);
  survivor.Tick();
  survivor.AdvanceClock(31);
  bool taken_over = Eventually(
      [&] {
        for (const JobRun& r : Runs(survivor)) {
          if (r.node.find(survivor_tag) != std::string::npos && r.at > last) return true;
        }
        return false;
      },
      5);
  EXPECT_TRUE(taken_over) << "the surviving node never ran the job";
}

// Fires `n` requests at once (alternating between the nodes) and returns statuses.
std::vector<int> Race(const std::vector<const Server*>& nodes, int n,
                      const std::function<HttpResult(const Server&, int)>& call) {
  std::vector<int> statuses(static_cast<size_t>(n));
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      ready++;
      while (ready.load() < n) std::this_thread::yield();
      statuses[static_cast<size_t>(i)] =
          call(*nodes[static_cast<size_t>(i) % nodes.size()], i).status;
    });
  }
  for (auto& t : threads) t.join();
  return statuses;
}

TEST(Races, SimultaneousCreatesOfOneDomainGiveOneClient) {
  Server a;
  Server b({}, &a);
  std::string key = a.AddUserWithKey("admin@msp.example", "admin");
  for (int round = 0; round < 3; ++round) {
    std::string domain = "race" + std::to_string(round) + ".example";
    std::vector<int> statuses = Race({&a, &b}, 8, [&](const Server& s, int i) {
      return s.Api(key, "POST", "/api/v1/clients",
                   {{"name", "Racer " + std::to_string(round) + "-" + std::to_string(i)},
                    {"domain", domain}});
    });
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 201), 1) << domain;
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 409), 7) << domain;
    EXPECT_EQ(a.Query("SELECT COUNT(*) FROM client_domains WHERE domain = '" + domain + "'")[0][0],
              "1");
  }
}

TEST(Races, SimultaneousMergesOfTheSameClientsMergeOnce) {
  Server a;
  Server b({}, &a);
  std::string key = a.AddUserWithKey("admin@msp.example", "admin");
  for (int round = 0; round < 3; ++round) {
    std::string r = std::to_string(round);
    int64_t keep = a.Api(key, "POST", "/api/v1/clients", {{"name", "Keep " + r}}).Json()["id"];
    int64_t gone = a.Api(key, "POST", "/api/v1/clients",
                         {{"name", "Gone " + r}, {"domain", "gone" + r + ".example"}})
                       .Json()["id"];
    ASSERT_EQ(a.Api(key, "POST", "/api/v1/clients/" + std::to_string(gone) + "/contacts",
                    {{"name", "C"}, {"email", "c@gone.example"}})
                  .status,
              201);
    std::vector<int> statuses = Race({&a, &b}, 4, [&](const Server& s, int) {
      return s.Api(key, "POST", "/api/v1/clients/merge",
                   {{"survivor_id", keep}, {"merged_ids", {gone}}});
    });
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 1);
    EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 409), 3);
    json survivor = a.Api(key, "GET", "/api/v1/clients/" + std::to_string(keep)).Json();
    EXPECT_EQ(survivor["counts"]["contacts"], 1) << "moved once, not lost or doubled";
    EXPECT_EQ(survivor["domains"], json::array({"gone" + r + ".example"}));
    EXPECT_EQ(a.Query("SELECT COUNT(*) FROM audit_log WHERE action = 'merge' AND client_id = " +
                      std::to_string(keep))[0][0],
              "1");
  }
}

TEST(Migrations, TwoNodesStartingAtOnceApplyEachMigrationOnce) {
  std::string url = FreshDatabase();
  std::string dir =
      std::filesystem::temp_directory_path() / ("opsmerge-migrate-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string target = url.empty() ? "--data-dir " + dir : "--database " + url;
  std::string one = TestBinary() + " migrate " + target + " >/dev/null";
  int rc = std::system(("(" + one + " & " + one + " & " + one + " & wait) && " + one).c_str());
  EXPECT_EQ(rc, 0);
  auto rows =
      QueryDatabase(dir, url, "SELECT version, COUNT(*) FROM schema_migrations GROUP BY version");
  EXPECT_GE(rows.size(), 2u);
  for (const auto& r : rows) EXPECT_EQ(r[1], "1") << "migration " << r[0];
  std::filesystem::remove_all(dir);
  DropDatabase(url);
}

TEST(Backup, OnlineBackupRestoresToAWorkingServer) {
  if (OnPostgres()) GTEST_SKIP() << "opsmerge backup is for SQLite; PostgreSQL uses pg_dump";
  Server live;
  std::string key = live.AddUserWithKey("admin@msp.example", "admin");
  ASSERT_EQ(live.Api(key, "POST", "/api/v1/clients",
                     {{"name", "Backed Up Ltd"}, {"domain", "backedup.example"}})
                .status,
            201);
  std::string copy = live.data_dir() + "/restore";
  std::filesystem::create_directories(copy);
  ASSERT_EQ(live.Cli({"backup", copy + "/opsmerge.db"}), 0);
  ASSERT_EQ(live.Api(key, "POST", "/api/v1/clients", {{"name", "After Backup Ltd"}}).status, 201);
  // A server started on the restored file sees the data as it was at backup time.
  Server restored({"--data-dir", copy});
  json list = restored.Api(key, "GET", "/api/v1/clients?archived=all").Json();
  ASSERT_EQ(list["total"], 1);
  EXPECT_EQ(list["items"][0]["name"], "Backed Up Ltd");
}

}  // namespace
}  // namespace opsmerge::testing
