// R1-R4 and S2 with real opsmerge-agent processes against a real server whose
// check-in interval is 1 s.
#include <chrono>
#include <regex>
#include <thread>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;

class Agents : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new Server({"--checkin-interval", "1"});
    key_ = server_->AddUserWithKey("tech@msp.example", "technician");
    admin_key_ = server_->AddUserWithKey("admin@msp.example", "admin");
  }
  static void TearDownTestSuite() { delete server_; }
  HttpResult Call(const std::string& method, const std::string& path, const json& body = nullptr) {
    return server_->Api(key_, method, path, body);
  }
  int64_t NewClient(const std::string& name) {
    return Call("POST", "/api/v1/clients", {{"name", name}}).Json()["id"];
  }
  int64_t NewSite(int64_t client, const std::string& name) {
    return Call("POST", "/api/v1/clients/" + std::to_string(client) + "/sites", {{"name", name}})
        .Json()["id"];
  }
  json Token(int64_t client, const json& body = json::object()) {
    HttpResult r =
        Call("POST", "/api/v1/clients/" + std::to_string(client) + "/enrollment-tokens", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json();
  }
  json Endpoint(int64_t id) {
    return Call("GET", "/api/v1/endpoints/" + std::to_string(id)).Json();
  }
  json EndpointsOf(int64_t client) {
    return Call("GET", "/api/v1/endpoints?client_id=" + std::to_string(client)).Json();
  }
  HttpResult AgentPost(const std::string& path, const std::string& body,
                       const std::string& auth = "") {
    std::map<std::string, std::string> h = {{"Content-Type", "application/json"}};
    if (!auth.empty()) h["Authorization"] = auth;
    return server_->Request("POST", path, body, h);
  }
  static Server* server_;
  static std::string key_, admin_key_;
};
Server* Agents::server_ = nullptr;
std::string Agents::key_, Agents::admin_key_;

TEST_F(Agents, R1_TokenIsScopedShownOnceAndStoredHashed) {
  int64_t client = NewClient("Token Scope Ltd");
  int64_t site = NewSite(client, "London office");
  json t = Token(client, {{"site_id", site}, {"max_uses", 5}});
  std::string token = t["token"];
  EXPECT_GE(token.size(), 40u);
  EXPECT_EQ(t["site_id"], site);
  EXPECT_EQ(t["max_uses"], 5);
  EXPECT_NE(t["install"]["linux"].get<std::string>().find(token), std::string::npos);
  EXPECT_NE(t["install"]["linux"].get<std::string>().find("/agent/install.sh"), std::string::npos);
  json defaults = Token(client);
  EXPECT_TRUE(defaults["max_uses"].is_null()) << "unlimited by default";
  EXPECT_TRUE(defaults["site_id"].is_null());
  json list =
      Call("GET", "/api/v1/clients/" + std::to_string(client) + "/enrollment-tokens").Json();
  EXPECT_EQ(list["total"], 2);
  EXPECT_EQ(list.dump().find(token), std::string::npos) << "the list never shows the secret";
  for (const auto& row : server_->Query("SELECT token_hash FROM enrollment_tokens")) {
    EXPECT_NE(row[0], token);
  }
  // Seven days by default.
  std::string expires = defaults["expires_at"];
  EXPECT_EQ(expires.size(), 20u);
  int64_t other = NewClient("Token Scope Other");
  int64_t other_site = NewSite(other, "Elsewhere");
  EXPECT_EQ(Call("POST", "/api/v1/clients/" + std::to_string(client) + "/enrollment-tokens",
                 {{"site_id", other_site}})
                .status,
            422);
  EXPECT_EQ(Call("POST", "/api/v1/clients/" + std::to_string(client) + "/enrollment-tokens",
                 {{"expires_in_days", 0}})
                .status,
            422);
  EXPECT_EQ(Call("POST", "/api/v1/clients/" + std::to_string(client) + "/enrollment-tokens",
                 {{"max_uses", 0}})
                .status,
            422);
  EXPECT_EQ(
      server_->Api(key_, "POST", "/api/v1/clients/999999/enrollment-tokens", json::object()).status,
      404);
}

TEST_F(Agents, R2_R3_AnAgentEnrolsIntoItsSiteAndReportsInventoryAndMetrics) {
  int64_t client = NewClient("Real Agent Ltd");
  int64_t site = NewSite(client, "Home workers");
  json t = Token(client, {{"site_id", site}});
  Agent agent;
  std::string error;
  ASSERT_EQ(agent.Enroll(server_->base_url(), t["token"], &error), 0) << error;
  struct stat st {};
  ASSERT_EQ(stat(agent.config_path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the agent's identity is readable by root only";
  agent.Start();
  json list;
  ASSERT_TRUE(Eventually(
      [&] {
        list = EndpointsOf(client);
        return list["total"] == 1 && list["items"][0]["status"] == "online" &&
               !list["items"][0]["metrics"].is_null();
      },
      10))
      << list.dump();
  json e = Endpoint(list["items"][0]["id"]);
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(e["hostname"], host);
  EXPECT_EQ(e["site_id"], site);
  EXPECT_EQ(e["client_id"], client);
  EXPECT_FALSE(e["os_name"].get<std::string>().empty());
  EXPECT_GT(e["inventory"]["memory_bytes"].get<int64_t>(), 0);
  EXPECT_FALSE(e["inventory"]["disks"].empty());
  EXPECT_FALSE(e["recent_metrics"].empty());
  std::string first_seen = e["last_seen_at"];
  ASSERT_TRUE(Eventually([&] { return Endpoint(e["id"])["last_seen_at"] != first_seen; }, 5))
      << "metrics keep updating";
  EXPECT_NE(agent.Status().find("last check-in:"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/v1/clients/" + std::to_string(client) + "/billable-endpoints")
                .Json()["count"],
            1);
}

TEST_F(Agents, R3_OfflineAfterThreeMissedCheckInsThenBackOnline) {
  int64_t client = NewClient("Offline Probe Ltd");
  Agent agent;
  ASSERT_EQ(agent.Enroll(server_->base_url(), Token(client)["token"]), 0);
  agent.Start();
  auto status = [&] {
    json l = EndpointsOf(client);
    return l["total"] == 1 ? l["items"][0]["status"].get<std::string>() : std::string();
  };
  ASSERT_TRUE(Eventually([&] { return status() == "online"; }, 10));
  agent.Kill(SIGKILL);
  // The machine stays silent while the server's clock moves past three intervals
  // (1 s each here): offline at once, with no real waiting.
  EXPECT_EQ(status(), "online") << "not yet: time has not passed";
  server_->AdvanceClock(4);
  EXPECT_EQ(status(), "offline");
  json offline =
      Call("GET", "/api/v1/endpoints?client_id=" + std::to_string(client) + "&status=offline")
          .Json();
  EXPECT_EQ(offline["total"], 1);
  agent.Start();  // the machine is back: its first check-in goes out at once
  EXPECT_TRUE(Eventually([&] { return status() == "online"; }, 5));
}

TEST_F(Agents, R1_ExpiredRevokedAndUsedUpTokensAreRefusedWithAReason) {
  int64_t client = NewClient("Refusals Ltd");
  json expired = Token(client);
  server_->Sql("UPDATE enrollment_tokens SET expires_at = 1 WHERE id = " +
               std::to_string(expired["id"].get<int64_t>()));
  json revoked = Token(client);
  ASSERT_EQ(
      Call("DELETE", "/api/v1/enrollment-tokens/" + std::to_string(revoked["id"].get<int64_t>()))
          .status,
      204);
  json once = Token(client, {{"max_uses", 1}});
  std::string error;
  Agent a1, a2, a3, a4, a5;
  EXPECT_NE(a1.Enroll(server_->base_url(), expired["token"], &error), 0);
  EXPECT_NE(error.find("token_expired"), std::string::npos) << error;
  EXPECT_NE(a2.Enroll(server_->base_url(), revoked["token"], &error), 0);
  EXPECT_NE(error.find("token_revoked"), std::string::npos) << error;
  EXPECT_EQ(a3.Enroll(server_->base_url(), once["token"], &error), 0) << error;
  EXPECT_NE(a4.Enroll(server_->base_url(), once["token"], &error), 0);
  EXPECT_NE(error.find("token_exhausted"), std::string::npos) << error;
  EXPECT_NE(a5.Enroll(server_->base_url(), "omt_made-up-token-made-up-token-made-up", &error), 0);
  EXPECT_EQ(EndpointsOf(client)["total"], 1) << "only the one good enrolment made an endpoint";
}

TEST_F(Agents, R1_ATokenOfClientACanNeverPlaceAnEndpointInClientB) {
  int64_t a = NewClient("Scope A Ltd");
  int64_t b = NewClient("Scope B Ltd");
  int64_t b_site = NewSite(b, "B office");
  json t = Token(a);
  HttpResult r = AgentPost("/agent/v1/enroll",
                           json({{"token", t["token"]},
                                 {"hostname", "sneaky"},
                                 {"client_id", b},
                                 {"site_id", b_site},
                                 {"inventory", {{"hostname", "sneaky"}, {"client_id", b}}}})
                               .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.Json()["client_id"], a);
  EXPECT_TRUE(r.Json()["site_id"].is_null());
  json e = Endpoint(r.Json()["agent_id"]);
  EXPECT_EQ(e["client_id"], a);
  EXPECT_TRUE(e["site_id"].is_null());
  EXPECT_EQ(EndpointsOf(b)["total"], 0);
}

TEST_F(Agents, R2_AgentCredentialsTouchOnlyTheirOwnEndpoint) {
  int64_t client = NewClient("Creds Ltd");
  json t = Token(client);
  json one =
      AgentPost("/agent/v1/enroll", json({{"token", t["token"]}, {"hostname", "one"}}).dump())
          .Json();
  json two =
      AgentPost("/agent/v1/enroll", json({{"token", t["token"]}, {"hostname", "two"}}).dump())
          .Json();
  std::string body = json({{"metrics", {{"cpu_percent", 5}}}}).dump();
  std::string good = "Agent " + std::to_string(one["agent_id"].get<int64_t>()) + ":" +
                     one["secret"].get<std::string>();
  std::string crossed = "Agent " + std::to_string(two["agent_id"].get<int64_t>()) + ":" +
                        one["secret"].get<std::string>();
  EXPECT_EQ(AgentPost("/agent/v1/checkin", body, good).status, 200);
  EXPECT_EQ(AgentPost("/agent/v1/checkin", body, crossed).status, 401)
      << "one's secret is not two's";
  EXPECT_EQ(AgentPost("/agent/v1/checkin", body).status, 401);
  EXPECT_EQ(AgentPost("/agent/v1/checkin", body, "Bearer " + key_).status, 401)
      << "staff keys are not agents";
  EXPECT_TRUE(Endpoint(two["agent_id"])["last_seen_at"].is_null()) << "two was never touched";
  // An agent's credentials open nothing of the staff API.
  EXPECT_EQ(server_->Request("GET", "/api/v1/endpoints", "", {{"Authorization", good}}).status,
            401);
  EXPECT_EQ(server_
                ->Request("GET", "/api/v1/clients", "",
                          {{"Authorization", "Bearer " + one["secret"].get<std::string>()}})
                .status,
            401);
  for (const auto& row : server_->Query(
           "SELECT agent_secret_hash FROM endpoints WHERE agent_secret_hash IS NOT NULL")) {
    EXPECT_NE(row[0], one["secret"].get<std::string>()) << "agent secrets are stored hashed";
  }
}

TEST_F(Agents, R3_BadPayloadsAre4xxAndChangeNothing) {
  int64_t client = NewClient("Fuzz Ltd");
  json t = Token(client);
  json one =
      AgentPost("/agent/v1/enroll", json({{"token", t["token"]}, {"hostname", "fuzz"}}).dump())
          .Json();
  std::string auth = "Agent " + std::to_string(one["agent_id"].get<int64_t>()) + ":" +
                     one["secret"].get<std::string>();
  std::vector<std::pair<std::string, std::string>> enrolls = {
      {"{\"token\": \"", "truncated"},
      {"[]", "array"},
      {json({{"token", 5}}).dump(), "wrong type"},
      {json({{"token", t["token"]}, {"hostname", std::string(10000, 'h')}}).dump(),
       "huge hostname"},
      {json({{"token", t["token"]}}).dump(), "no hostname"},
      {json({{"token", t["token"]}, {"inventory", {{"hostname", "x"}, {"disks", "all of them"}}}})
           .dump(),
       "bad inventory"},
  };
  for (const auto& [body, what] : enrolls) {
    int status = AgentPost("/agent/v1/enroll", body).status;
    EXPECT_GE(status, 400) << what;
    EXPECT_LT(status, 500) << what;
  }
  std::vector<std::pair<std::string, std::string>> checkins = {
      {"{\"metrics\": {\"cpu_percent\": 5", "truncated"},
      {json({{"metrics", {{"cpu_percent", "busy"}}}}).dump(), "wrong type"},
      {json({{"metrics", {{"cpu_percent", 1e9}}}}).dump(), "out of range"},
      {json({{"metrics", json::object()}, {"inventory", {{"hostname", std::string(5000, 'x')}}}})
           .dump(),
       "huge field"},
      {json({{"metrics", json::object()}, {"inventory_hash", std::string(500, 'x')}}).dump(),
       "huge hash"},
      {std::string(3 << 20, ' '), "oversized"},
  };
  for (const auto& [body, what] : checkins) {
    int status = AgentPost("/agent/v1/checkin", body, auth).status;
    EXPECT_GE(status, 400) << what;
    EXPECT_LT(status, 500) << what;
  }
  json e = Endpoint(one["agent_id"]);
  EXPECT_TRUE(e["last_seen_at"].is_null()) << "no refused check-in was recorded";
  EXPECT_EQ(e["hostname"], "fuzz");
  EXPECT_EQ(EndpointsOf(client)["total"], 1);
}

TEST_F(Agents, S2_EndpointsMoveBetweenSitesAndBillingCountsLive) {
  int64_t client = NewClient("Movers Ltd");
  int64_t london = NewSite(client, "London");
  int64_t other_client = NewClient("Movers Other");
  int64_t foreign = NewSite(other_client, "Foreign");
  json t = Token(client);
  std::vector<int64_t> ids;
  for (const char* h : {"m1", "m2", "m3"}) {
    ids.push_back(
        AgentPost("/agent/v1/enroll", json({{"token", t["token"]}, {"hostname", h}}).dump())
            .Json()["agent_id"]);
  }
  ASSERT_EQ(Call("POST", "/api/v1/endpoints/move",
                 {{"endpoint_ids", {ids[0], ids[1]}}, {"site_id", london}})
                .status,
            200);
  EXPECT_EQ(Call("GET", "/api/v1/endpoints?site_id=" + std::to_string(london)).Json()["total"], 2);
  EXPECT_EQ(
      Call("POST", "/api/v1/endpoints/move", {{"endpoint_ids", {ids[2]}}, {"site_id", foreign}})
          .status,
      422)
      << "not into another client's site";
  ASSERT_EQ(
      Call("POST", "/api/v1/endpoints/move", {{"endpoint_ids", {ids[1]}}, {"site_id", nullptr}})
          .status,
      200);
  EXPECT_TRUE(Endpoint(ids[1])["site_id"].is_null());
  EXPECT_EQ(Call("GET", "/api/v1/clients/" + std::to_string(client) + "/billable-endpoints")
                .Json()["count"],
            3);
  ASSERT_EQ(
      Call("PATCH", "/api/v1/endpoints/" + std::to_string(ids[0]), {{"retired", true}}).status,
      200);
  ASSERT_EQ(Call("PATCH", "/api/v1/endpoints/" + std::to_string(ids[1]),
                 {{"billable", false}, {"notes", "spare"}})
                .status,
            200);
  json billable =
      Call("GET", "/api/v1/clients/" + std::to_string(client) + "/billable-endpoints").Json();
  EXPECT_EQ(billable["count"], 1) << "retired and non-billable endpoints are not billed";
  EXPECT_FALSE(billable["as_of"].get<std::string>().empty());
  // Deleting the site returns its endpoint to the pool; the client cannot be deleted now.
  ASSERT_EQ(Call("DELETE", "/api/v1/sites/" + std::to_string(london)).status, 204);
  EXPECT_TRUE(Endpoint(ids[0])["site_id"].is_null());
  EXPECT_EQ(server_->Api(admin_key_, "DELETE", "/api/v1/clients/" + std::to_string(client)).status,
            409);
}

TEST_F(Agents, C5_MergeMovesEndpointsAndTokens) {
  int64_t keep = NewClient("Agent Merge Keep");
  int64_t gone = NewClient("Agent Merge Gone");
  json t = Token(gone);
  int64_t e =
      AgentPost("/agent/v1/enroll", json({{"token", t["token"]}, {"hostname", "mover"}}).dump())
          .Json()["agent_id"];
  ASSERT_EQ(server_
                ->Api(admin_key_, "POST", "/api/v1/clients/merge",
                      {{"survivor_id", keep}, {"merged_ids", {gone}}})
                .status,
            200);
  EXPECT_EQ(Endpoint(e)["client_id"], keep);
  EXPECT_EQ(
      Call("GET", "/api/v1/clients/" + std::to_string(keep) + "/enrollment-tokens").Json()["total"],
      1);
  // The merged client's token still works and now enrols into the survivor.
  HttpResult r =
      AgentPost("/agent/v1/enroll", json({{"token", t["token"]}, {"hostname", "late"}}).dump());
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(r.Json()["client_id"], keep);
}

TEST(AgentRecovery, TheAgentRecoversWhenTheServerRestarts) {
  Server server({"--checkin-interval", "1"});
  std::string key = server.AddUserWithKey("tech@msp.example", "technician");
  int64_t client =
      server.Api(key, "POST", "/api/v1/clients", {{"name", "Restart Ltd"}}).Json()["id"];
  std::string token =
      server
          .Api(key, "POST", "/api/v1/clients/" + std::to_string(client) + "/enrollment-tokens",
               json::object())
          .Json()["token"];
  Agent agent;
  ASSERT_EQ(agent.Enroll(server.base_url(), token), 0);
  agent.Start();
  auto last_seen = [&] {
    json l = server.Api(key, "GET", "/api/v1/endpoints?client_id=" + std::to_string(client)).Json();
    return l["total"] == 1 && !l["items"][0]["last_seen_at"].is_null()
               ? l["items"][0]["last_seen_at"].get<std::string>()
               : std::string();
  };
  ASSERT_TRUE(Eventually([&] { return !last_seen().empty(); }, 10));
  server.Kill(SIGTERM);
  // The agent (1 s interval) meets the closed port at least once and backs off.
  ASSERT_TRUE(
      Eventually([&] { return agent.Errors().find("check-in failed") != std::string::npos; }, 10));
  server.Restart();
  std::string before = last_seen();
  EXPECT_TRUE(Eventually(
      [&] {
        std::string now = last_seen();
        return !now.empty() && now > before;
      },
      12))
      << "the agent came back by itself";
}

TEST_F(Agents, AddAgentPageShowsTheTokenOnceWithInstallCommands) {
  int64_t client = NewClient("Dialog Ltd");
  Browser b(*server_);
  ASSERT_EQ(b.SignIn("tech@msp.example", "a long enough password"), 303);
  HttpResult page = b.Get("/clients/" + std::to_string(client) + "/add-agent");
  ASSERT_EQ(page.status, 200);
  HttpResult issued = b.Post("/clients/" + std::to_string(client) + "/add-agent",
                             {{"site_id", ""}, {"expires_in_days", "7"}, {"max_uses", ""}});
  EXPECT_EQ(issued.status, 201);
  std::smatch m;
  std::regex token_re("omt_[A-Za-z0-9_-]{40,}");
  ASSERT_TRUE(std::regex_search(issued.body, m, token_re));
  std::string token = m[0];
  EXPECT_NE(issued.body.find("sudo sh opsmerge-install.sh"), std::string::npos);
  HttpResult again = b.Get("/clients/" + std::to_string(client) + "/add-agent");
  EXPECT_EQ(again.body.find(token), std::string::npos) << "shown once";
  EXPECT_NE(again.body.find(token.substr(0, 10)), std::string::npos) << "listed by its prefix";
  EXPECT_NE(again.body.find(">Revoke</button>"), std::string::npos);
  HttpResult global = b.Get("/endpoints?client_id=" + std::to_string(client) + "&status=offline");
  EXPECT_EQ(global.status, 200);
  EXPECT_NE(global.body.find("Dialog Ltd"), std::string::npos)
      << "the global page names the client filter";
  HttpResult script = server_->Request("GET", "/agent/install.sh");
  EXPECT_EQ(script.status, 200);
  EXPECT_NE(script.body.find("opsmerge-agent enroll --server"), std::string::npos);
  EXPECT_NE(script.body.find("systemctl enable --now opsmerge-agent"), std::string::npos);
  HttpResult binary = server_->Request("GET", "/agent/download/linux-amd64");
  EXPECT_EQ(binary.status, 200);
  EXPECT_EQ(binary.body.substr(0, 4), std::string("\x7f"
                                                  "ELF"));
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

// The endpoint pages a technician opens: the client's Endpoints tab (with a move
// to a site), an endpoint's page with its inventory and metrics, and the link
// suggestions of the client page.
TEST(Reenrolment, TheSameMachineTakesOverItsEndpointAndAMoveRetiresTheOld) {
  Server server;
  std::string key = server.AddUserWithKey("tech@msp.example", "admin");
  auto make_client = [&](const std::string& name) {
    return server.Api(key, "POST", "/api/v1/clients", {{"name", name}}).Json()["id"].get<int64_t>();
  };
  int64_t a = make_client("Reenrol A Ltd"), b = make_client("Reenrol B Ltd");
  auto token_for = [&](int64_t client) {
    return server
        .Api(key, "POST", "/api/v1/clients/" + std::to_string(client) + "/enrollment-tokens",
             nlohmann::json::object())
        .Json()["token"]
        .get<std::string>();
  };
  auto enroll = [&](int64_t client, const std::string& hostname, const std::string& machine,
                    const std::string& serial) {
    nlohmann::json inventory = {
        {"hostname", hostname}, {"machine_id", machine}, {"hardware", {{"serial", serial}}}};
    HttpResult r = server.Request(
        "POST", "/agent/v1/enroll",
        nlohmann::json{{"token", token_for(client)}, {"inventory", inventory}}.dump(),
        {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json();
  };
  auto checkin = [&](const nlohmann::json& enrolled) {
    std::string auth = "Agent " + std::to_string(enrolled["agent_id"].get<int64_t>()) + ":" +
                       enrolled["secret"].get<std::string>();
    return server
        .Request("POST", "/agent/v1/checkin",
                 R"({"metrics":{"cpu_percent":1,"memory_percent":2,"disk_percent":3}})",
                 {{"Content-Type", "application/json"}, {"Authorization", auth}})
        .status;
  };
  auto billable = [&](int64_t client) {
    return server
        .Api(key, "GET", "/api/v1/clients/" + std::to_string(client) + "/billable-endpoints")
        .Json()["count"]
        .get<int64_t>();
  };
  nlohmann::json first = enroll(a, "RECEPTION-PC", "4c4c4544-0042", "PF3ABC12");
  ASSERT_EQ(checkin(first), 200);
  nlohmann::json again = enroll(a, "reception-pc", "4c4c4544-0042", "PF3ABC12");
  EXPECT_EQ(again["agent_id"], first["agent_id"]) << "the same endpoint, not a second one";
  EXPECT_EQ(billable(a), 1);
  EXPECT_EQ(checkin(first), 401) << "the old credential is cut";
  EXPECT_EQ(checkin(again), 200);

  // A clone of the same image (same machine id, another hostname) is its own machine.
  nlohmann::json clone = enroll(a, "RECEPTION-PC2", "4c4c4544-0042", "PF3ABC99");
  EXPECT_NE(clone["agent_id"], first["agent_id"]);
  EXPECT_EQ(billable(a), 2);

  // The machine moves to client B: a new endpoint there, the old one retired in A.
  nlohmann::json moved = enroll(b, "reception-pc", "4c4c4544-0042", "PF3ABC12");
  EXPECT_NE(moved["agent_id"], first["agent_id"]);
  EXPECT_EQ(billable(b), 1);
  EXPECT_EQ(billable(a), 1) << "only the clone is billed to A now";
  EXPECT_EQ(checkin(again), 401);
  EXPECT_EQ(checkin(moved), 200);
  auto replaced = server.Query("SELECT replaced_by FROM endpoints WHERE id = " +
                               std::to_string(first["agent_id"].get<int64_t>()));
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_EQ(replaced[0][0], std::to_string(moved["agent_id"].get<int64_t>()));
}

TEST(EndpointPages, ShowTheFleetAndOneMachine) {
  Server server;
  std::string key = server.AddUserWithKey("tech@msp.example", "technician");
  int64_t client =
      server.Api(key, "POST", "/api/v1/clients", {{"name", "Pages Fleet Ltd"}}).Json()["id"];
  std::string c = std::to_string(client);
  int64_t site =
      server.Api(key, "POST", "/api/v1/clients/" + c + "/sites", {{"name", "Home workers"}})
          .Json()["id"];
  std::string token =
      server
          .Api(key, "POST", "/api/v1/clients/" + c + "/enrollment-tokens", nlohmann::json::object())
          .Json()["token"];
  nlohmann::json inventory = {
      {"hostname", "pages-host"},
      {"os", {{"name", "Debian GNU/Linux 12 (bookworm)"}, {"version", "12"}}},
      {"disks",
       {{{"mount", "/"},
         {"fs", "ext4"},
         {"size_bytes", 100},
         {"used_bytes", 19},
         {"free_bytes", 81}}}},
      {"software", {{{"name", "curl"}, {"version", "7.88"}}}},
      {"network",
       {{{"name", "lo"}, {"mac", ""}, {"addresses", {"127.0.0.1", "::1"}}},
        {{"name", "eth0"},
         {"mac", "52:54:00:12:34:56"},
         {"addresses", {"fe80::1", "192.0.2.15"}}}}},
      {"hardware", {{"vendor", "LENOVO"}, {"model", "ThinkCentre"}, {"serial", "PF3ABC12"}}},
      {"users", {"jane"}},
      {"pending_updates", nullptr}};
  HttpResult enrolled = server.Request(
      "POST", "/agent/v1/enroll", nlohmann::json{{"token", token}, {"inventory", inventory}}.dump(),
      {{"Content-Type", "application/json"}});
  ASSERT_EQ(enrolled.status, 201);
  nlohmann::json id = enrolled.Json()["agent_id"];
  std::string auth = "Agent " + std::to_string(id.get<int64_t>()) + ":" +
                     enrolled.Json()["secret"].get<std::string>();
  ASSERT_EQ(server
                .Request("POST", "/agent/v1/checkin",
                         R"({"metrics":{"cpu_percent":42,"memory_percent":50,"disk_percent":19}})",
                         {{"Content-Type", "application/json"}, {"Authorization", auth}})
                .status,
            200);

  Browser b(server);
  ASSERT_EQ(b.SignIn("tech@msp.example", "a long enough password"), 303);
  HttpResult tab = b.Get("/clients/" + c + "/endpoints");
  ASSERT_EQ(tab.status, 200);
  EXPECT_NE(tab.body.find("pages-host"), std::string::npos);
  EXPECT_NE(tab.body.find("42%"), std::string::npos) << "online: current CPU shown";
  EXPECT_NE(tab.body.find("1 endpoint · 1 billable now"), std::string::npos);
  HttpResult moved = b.Post("/endpoints/move", {{"ids", std::to_string(id.get<int64_t>())},
                                                {"site_id", std::to_string(site)},
                                                {"client_id", c}});
  EXPECT_EQ(moved.status, 303);
  EXPECT_NE(
      b.Get("/clients/" + c + "/endpoints?site_id=" + std::to_string(site)).body.find("pages-host"),
      std::string::npos);
  HttpResult page = b.Get("/endpoints/" + std::to_string(id.get<int64_t>()));
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Debian GNU/Linux 12"), std::string::npos);
  EXPECT_NE(page.body.find("Not known yet"), std::string::npos) << "pending updates unknown";
  EXPECT_NE(page.body.find("curl"), std::string::npos);
  EXPECT_NE(page.body.find("Revoke agent"), std::string::npos);
  HttpResult saved = b.Post("/endpoints/" + std::to_string(id.get<int64_t>()),
                            {{"billable", "1"}, {"notes", "Reception PC"}, {"site_id", "pool"}});
  EXPECT_EQ(saved.status, 303);
  HttpResult bad = b.Post("/endpoints/" + std::to_string(id.get<int64_t>()),
                          {{"notes", std::string(10001, 'x')}, {"site_id", "pool"}});
  EXPECT_EQ(bad.status, 422) << "the page again, with the error";
  EXPECT_NE(bad.body.find("10000"), std::string::npos);
  HttpResult suggest = b.Get("/clients/suggest?other=Pages", {{"HX-Request", "true"}});
  EXPECT_EQ(suggest.status, 200);
  EXPECT_NE(suggest.body.find("Pages Fleet Ltd"), std::string::npos);

  // The fleet list tells machines apart and says how long ago each was seen.
  HttpResult fleet = b.Get("/endpoints?client=pages+fleet&sort=-last_seen");
  ASSERT_EQ(fleet.status, 200);
  EXPECT_NE(fleet.body.find("<code>192.0.2.15</code>"), std::string::npos) << "IPv4, not lo";
  EXPECT_NE(fleet.body.find("PF3ABC12"), std::string::npos);
  EXPECT_NE(fleet.body.find("<td>jane</td>"), std::string::npos);
  EXPECT_NE(fleet.body.find(">just now</span>"), std::string::npos);
  EXPECT_NE(fleet.body.find("hx-trigger=\"every 20s\""), std::string::npos) << "refreshes";
  EXPECT_NE(fleet.body.find("aria-sort=\"descending\""), std::string::npos);
  EXPECT_EQ(b.Get("/endpoints?client=no+such+client").body.find("pages-host"), std::string::npos)
      << "client filter";
  EXPECT_EQ(b.Get("/endpoints?sort=hostname;DROP").status, 422);
  // Ten minutes without a check-in: offline, greyed, no stale figures, "10 min ago".
  server.AdvanceClock(600);
  HttpResult later = b.Get("/endpoints");
  EXPECT_NE(later.body.find("endpoint-offline"), std::string::npos);
  EXPECT_EQ(later.body.find("42%"), std::string::npos);
  EXPECT_NE(later.body.find(">10 min ago</span>"), std::string::npos);
}

}  // namespace
}  // namespace opsmerge::testing
