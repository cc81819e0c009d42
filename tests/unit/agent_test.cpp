#include "core/agent.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "platform/linux/collector.h"

namespace opsmerge::agent {
namespace {

using nlohmann::json;

// ---- Fakes for the loop's seams -------------------------------------------------

class FakeTransport : public Transport {
 public:
  HttpReply PostJson(const std::string& url, const std::string& body,
                     const std::string& authorization) override {
    sent.push_back({url, body, authorization});
    if (replies.empty()) return HttpReply{200, R"({"checkin_interval":60})", "", 0};
    HttpReply r = replies.front();
    replies.pop_front();
    return r;
  }
  struct Sent {
    std::string url, body, authorization;
  };
  std::deque<HttpReply> replies;
  std::vector<Sent> sent;
};

// Software() blocks until Release(), as a package manager on a busy machine can.
class FakeCollector : public Collector {
 public:
  MetricsSample Metrics() override { return {12.5, 40, 19}; }
  json BaseInventory() override {
    return {{"hostname", "fake-host"}, {"machine_id", "abc123"}, {"uptime_seconds", uptime++}};
  }
  json Software() override {
    std::unique_lock<std::mutex> lock(mu);
    released.wait(lock, [this] { return open; });
    return json::array({{{"name", "curl"}, {"version", "7.88"}}});
  }
  std::optional<int64_t> PendingUpdates() override { return 3; }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu);
      open = true;
    }
    released.notify_all();
  }
  int64_t uptime = 100;
  std::mutex mu;
  std::condition_variable released;
  bool open = false;
};

class FakeClock : public Clock {
 public:
  int64_t Now() override { return now; }
  bool SleepFor(double seconds, const std::atomic<bool>&) override {
    now += static_cast<int64_t>(seconds);
    return true;
  }
  int64_t now = 1'800'000'000;
};

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("agent-test-" + std::to_string(getpid()) + "-" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
  static inline int counter_ = 0;
};

struct Loop {
  Loop() : background(collector, {}) {
    loop = std::make_unique<CheckinLoop>(
        Config{"https://psa.example", 7, "s3cret-s3cret-s3cret-s3cret", 60}, dir.file("agent.json"),
        transport, collector, background, clock, [] { return 0.5; });
  }
  ~Loop() { collector.Release(); }
  TempDir dir;
  FakeTransport transport;
  FakeCollector collector;
  FakeClock clock;
  BackgroundInventory background;
  std::unique_ptr<CheckinLoop> loop;
};

// ---- Backoff, config, collectors ------------------------------------------------

TEST(Backoff, GrowsExponentiallyUpToTheCapWithJitter) {
  EXPECT_EQ(BackoffSeconds(0, 1, 300, 0.0), 1) << "never zero";
  EXPECT_LE(BackoffSeconds(0, 1, 300, 0.999), 1);
  EXPECT_LE(BackoffSeconds(3, 1, 300, 0.999), 8);
  EXPECT_GE(BackoffSeconds(3, 1, 300, 0.999), 7);
  EXPECT_LE(BackoffSeconds(30, 1, 300, 0.999), 300) << "capped";
  EXPECT_GE(BackoffSeconds(30, 1, 300, 0.999), 290);
  EXPECT_LE(BackoffSeconds(1000, 1, 5, 0.999), 5) << "no overflow on long outages";
}

TEST(Config, SavedReadableOnlyByTheOwnerAndReadBack) {
  TempDir dir;
  std::string path = dir.file("agent.json");
  Config c{"https://psa.example", 7, "s3cret-s3cret-s3cret-s3cret", 30};
  std::string error;
  ASSERT_TRUE(SaveConfig(path, c, &error)) << error;
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = LoadConfig(path, &error);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->agent_id, 7);
  EXPECT_EQ(back->secret, c.secret);
  EXPECT_FALSE(LoadConfig(dir.file("missing.json"), &error));
  // A hand-edited config of the wrong shape is refused, not a crash.
  for (const char* bad : {"[1,2]", R"({"server":5,"agent_id":"seven","secret":[]})", "{", "null"}) {
    std::ofstream(path) << bad;
    EXPECT_FALSE(LoadConfig(path, &error)) << bad;
  }
}

TEST(LinuxCollector, ReportsThisMachine) {
  LinuxCollector c;
  json inv = c.BaseInventory();
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(inv["hostname"], host);
  EXPECT_GT(inv["memory_bytes"].get<int64_t>(), 0);
  EXPECT_GT(inv["cpu"]["cores"].get<int64_t>(), 0);
  EXPECT_FALSE(inv["os"]["kernel"].get<std::string>().empty());
  EXPECT_FALSE(inv.contains("software")) << "the slow part comes from the background thread";
  MetricsSample m = c.Metrics();
  EXPECT_GE(m.memory_percent, 0);
  EXPECT_LE(m.memory_percent, 100);
  EXPECT_EQ(InventoryHash(inv), InventoryHash(inv));
  json later = inv;
  later["uptime_seconds"] = 999999;
  EXPECT_EQ(InventoryHash(later), InventoryHash(inv)) << "uptime alone does not resend";
  later["pending_updates"] = 77;
  EXPECT_NE(InventoryHash(later), InventoryHash(inv));
}

TEST(LinuxCollector, DiskUseIsWhatDfShows) {
  // 1000 blocks, 200 free of which 150 available to users (50 reserved for root):
  // df shows used / (used + available) = 800 / 950.
  EXPECT_NEAR(DiskUsePercent(1000, 200, 150), 84.21, 0.01);
  EXPECT_NEAR(DiskUsePercent(1000, 1000, 950), 0, 0.001);
  EXPECT_EQ(DiskUsePercent(0, 0, 0), 0);
  EXPECT_EQ(DiskUsePercent(10, 20, 5), 0) << "inconsistent numbers do not go negative";
}

TEST(LinuxCollector, SlowWorkStopsWhenTheAgentStops) {
  LinuxCollector c;
  std::vector<std::string> lines;
  ASSERT_TRUE(
      c.RunCommand({"/bin/echo", "one"}, [&](const std::string& l) { lines.push_back(l); }));
  EXPECT_EQ(lines, std::vector<std::string>{"one"});
  std::atomic<bool> finished{false};
  std::atomic<bool> running{false};
  auto started = std::chrono::steady_clock::now();
  std::thread slow([&] {
    // Says it runs, then takes 30 s: cancelled while running, not before.
    EXPECT_FALSE(c.RunCommand({"/bin/sh", "-c", "echo running; exec sleep 30"},
                              [&](const std::string&) { running = true; }));
    finished = true;
  });
  while (!running.load() && !finished.load()) std::this_thread::yield();
  EXPECT_FALSE(finished.load());
  c.CancelSlowWork();
  slow.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5))
      << "the package manager's run is killed, not waited for";
  EXPECT_FALSE(c.RunCommand({"/bin/echo", "two"}, [](const std::string&) {}))
      << "nothing new starts once stopping";
  EXPECT_FALSE(c.PendingUpdates()) << "not known after a cancelled run";
}

// ---- The check-in loop ------------------------------------------------------------

TEST(CheckinLoop, SendsTheInventoryOnlyWhenTheServerLacksIt) {
  Loop t;
  t.collector.Release();
  t.transport.replies.push_back({200, R"({"checkin_interval":60,"inventory_hash":"x"})", "", 0});
  double wait = t.loop->Step();
  EXPECT_GE(wait, 54) << "up to 10% early";
  EXPECT_LE(wait, 60) << "never later than the interval";
  json first = json::parse(t.transport.sent.back().body);
  ASSERT_TRUE(first.contains("inventory")) << "the server holds another hash";
  std::string hash = first["inventory_hash"];
  t.transport.replies.push_back(
      {200, json{{"checkin_interval", 60}, {"inventory_hash", hash}}.dump(), "", 0});
  t.loop->Step();
  t.transport.replies.push_back(
      {200, json{{"checkin_interval", 60}, {"inventory_hash", hash}}.dump(), "", 0});
  t.loop->Step();
  json third = json::parse(t.transport.sent.back().body);
  EXPECT_FALSE(third.contains("inventory")) << "unchanged, and the server has it";
  EXPECT_EQ(third["metrics"]["cpu_percent"], 12.5);
  EXPECT_EQ(t.transport.sent.back().authorization, "Agent 7:s3cret-s3cret-s3cret-s3cret");
  EXPECT_EQ(t.transport.sent.back().url, "https://psa.example/agent/v1/checkin");
}

TEST(CheckinLoop, NeverCrashesOnAnyReplyAndBacksOff) {
  std::string deep(100000, '[');
  const HttpReply replies[] = {
      {200, R"({"checkin_interval":"abc"})", "", 0},
      {200, "[1,2]", "", 0},
      {200, R"({"inventory_hash":5})", "", 0},
      {200, R"({"checkin_interval":-5,"inventory_hash":null})", "", 0},
      {200, R"({"checkin_interval":99999999999999999999})", "", 0},
      {200, "null", "", 0},
      {200, "\"just a string\"", "", 0},
      {200, "not json at all", "", 0},
      {200, deep, "", 0},
      {200, "", "", 0},
      {500, R"({"error":{"code":"internal","message":"Something went wrong"}})", "", 0},
      {500, R"({"error":"flat"})", "", 0},
      {502, "<html>Bad gateway</html>", "", 0},
      {0, "", "Couldn't connect to server", 0},
      {401, R"({"error":{"code":"unauthorized","message":"Unknown agent"}})", "", 0},
  };
  for (const HttpReply& reply : replies) {
    Loop t;
    t.collector.Release();
    t.transport.replies.push_back(reply);
    double wait = 0;
    EXPECT_NO_THROW(wait = t.loop->Step()) << reply.body.substr(0, 60);
    EXPECT_GE(wait, 1) << reply.body.substr(0, 60);
    EXPECT_LE(wait, 3600) << reply.body.substr(0, 60);
    EXPECT_GE(t.loop->interval(), 1);
    EXPECT_LE(t.loop->interval(), 3600);
  }
}

TEST(CheckinLoop, UnusableAnswersCountAsFailures) {
  Loop t;
  t.collector.Release();
  t.transport.replies.push_back({200, "[1,2]", "", 0});
  t.transport.replies.push_back({500, "{}", "", 0});
  t.loop->Step();
  t.loop->Step();
  EXPECT_EQ(t.loop->failures(), 2);
  t.loop->Step();  // the fake's default: a good answer
  EXPECT_EQ(t.loop->failures(), 0);
  EXPECT_EQ(LoadState(t.dir.file("agent.json")).last_error, "");
}

TEST(CheckinLoop, WaitsAtLeastTheRetryAfterOfABusyServer) {
  Loop t;
  t.collector.Release();
  t.transport.replies.push_back(
      {503, R"({"error":{"code":"busy","message":"The server is busy"}})", "", 30});
  double wait = t.loop->Step();
  EXPECT_GE(wait, 30) << "never sooner than asked";
  EXPECT_LE(wait, 60) << "spread over up to twice the time, so refused agents do not return as one";
  EXPECT_EQ(LoadState(t.dir.file("agent.json")).last_error, "HTTP 503: The server is busy (busy)");
}

TEST(CheckinLoop, ResendsTheInventoryAfterBeingRefused) {
  Loop t;
  t.collector.Release();
  t.loop->Step();
  std::string hash = json::parse(t.transport.sent.back().body)["inventory_hash"];
  t.transport.replies.push_back(
      {200, json{{"checkin_interval", 60}, {"inventory_hash", hash}}.dump(), "", 0});
  t.loop->Step();
  t.transport.replies.push_back({401, "{}", "", 0});
  t.loop->Step();
  t.loop->Step();
  EXPECT_TRUE(json::parse(t.transport.sent.back().body).contains("inventory"))
      << "after a 401 the agent no longer assumes the server holds its inventory";
}

TEST(CheckinLoop, TheHeartbeatNeverWaitsForSlowCollection) {
  Loop t;  // Software() blocks until released
  t.background.Start();
  auto started = std::chrono::steady_clock::now();
  t.loop->Step();
  t.loop->Step();
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_LT(took, std::chrono::seconds(2)) << "two check-ins went out while software hung";
  ASSERT_EQ(t.transport.sent.size(), 2u);
  json inv = json::parse(t.transport.sent[0].body)["inventory"];
  EXPECT_FALSE(inv.contains("software")) << "not collected yet";
  EXPECT_TRUE(inv["pending_updates"].is_null()) << "not known yet";
  t.collector.Release();
  for (int i = 0; i < 200 && !t.background.Latest().software; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  t.loop->Step();
  inv = json::parse(t.transport.sent.back().body)["inventory"];
  ASSERT_TRUE(inv.contains("software")) << inv.dump();
  EXPECT_EQ(inv["software"][0]["name"], "curl");
  EXPECT_EQ(inv["pending_updates"], 3);
}

TEST(CheckinLoop, FollowsTheServersIntervalWithinBounds) {
  Loop t;
  t.collector.Release();
  t.transport.replies.push_back({200, R"({"checkin_interval":5})", "", 0});
  t.loop->Step();
  EXPECT_EQ(t.loop->interval(), 5);
  t.transport.replies.push_back({200, R"({"checkin_interval":0})", "", 0});
  t.loop->Step();
  EXPECT_EQ(t.loop->interval(), 5) << "out of range: ignored";
}

// ---- Enrolment ----------------------------------------------------------------------

TEST(Enroll, RefusesAnAnswerItDoesNotUnderstand) {
  const char* bad[] = {R"({"agent_id":"seven","secret":"s3cret-s3cret-s3cret-s3cret"})",
                       R"({"agent_id":7})",
                       R"({"agent_id":7,"secret":"short"})",
                       R"({"agent_id":-1,"secret":"s3cret-s3cret-s3cret-s3cret"})",
                       "[7]",
                       "{"};
  for (const char* body : bad) {
    TempDir dir;
    FakeTransport transport;
    FakeCollector collector;
    transport.replies.push_back({201, body, "", 0});
    EXPECT_EQ(
        Enroll("https://psa.example", "omt_token", dir.file("agent.json"), transport, collector),
        76)
        << body;
    EXPECT_FALSE(std::filesystem::exists(dir.file("agent.json"))) << body;
  }
  TempDir dir;
  FakeTransport transport;
  FakeCollector collector;
  transport.replies.push_back(
      {201, R"({"agent_id":7,"secret":"s3cret-s3cret-s3cret-s3cret","checkin_interval":"x"})", "",
       0});
  ASSERT_EQ(
      Enroll("https://psa.example/", "omt_token", dir.file("agent.json"), transport, collector), 0);
  json sent = json::parse(transport.sent.back().body);
  EXPECT_EQ(sent["token"], "omt_token");
  EXPECT_EQ(sent["hostname"], "fake-host");
  EXPECT_EQ(transport.sent.back().url, "https://psa.example/agent/v1/enroll");
  std::string error;
  EXPECT_EQ(LoadConfig(dir.file("agent.json"), &error)->checkin_interval, 60);
}

TEST(Agent, CoreIncludesNothingOfThePlatformOrTheServer) {
  // agent/core is portable: it may include only itself and src/protocol.
  std::regex include("#include \"([^\"]+)\"");
  for (const auto& entry : std::filesystem::directory_iterator(OPSMERGE_SOURCE_DIR "/agent/core")) {
    std::ifstream f(entry.path());
    std::stringstream ss;
    ss << f.rdbuf();
    std::string text = ss.str();
    for (auto it = std::sregex_iterator(text.begin(), text.end(), include);
         it != std::sregex_iterator(); ++it) {
      std::string path = (*it)[1];
      EXPECT_TRUE(path.rfind("core/", 0) == 0 || path.rfind("protocol/", 0) == 0)
          << entry.path().filename() << " includes " << path;
    }
  }
}

}  // namespace
}  // namespace opsmerge::agent
