// The findings of a first attack on the server, each tried again exactly as it was
// found (issue "server core": nested JSON, header injection, races on single-use
// things, lock-outs, invalid UTF-8, 500s, unchecked parent ids, unbounded bulk
// input, file modes, unrevocable agents).
#include <atomic>
#include <thread>
#include <vector>

#include <sys/stat.h>

#include "harness.h"
#include "platform/http/request.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;

const char* kPassword = "a long enough password";

json NewClient(const Server& s, const std::string& key, const std::string& name) {
  HttpResult r = s.Api(key, "POST", "/api/v1/clients", {{"name", name}});
  EXPECT_EQ(r.status, 201) << r.body;
  return r.Json();
}

std::string Token(const Server& s, const std::string& key, int64_t client) {
  HttpResult r =
      s.Api(key, "POST", "/api/v1/clients/" + std::to_string(client) + "/enrollment-tokens",
            json::object());
  EXPECT_EQ(r.status, 201) << r.body;
  return r.Json()["token"];
}

HttpResult AgentPost(const Server& s, const std::string& path, const std::string& body,
                     const std::string& auth = "") {
  std::map<std::string, std::string> h = {{"Content-Type", "application/json"}};
  if (!auth.empty()) h["Authorization"] = auth;
  return s.Request("POST", path, body, h);
}

// Enrols a simulated agent; returns {endpoint id, "Agent id:secret"}.
std::pair<int64_t, std::string> EnrolAgent(const Server& s, const std::string& token,
                                           const std::string& host) {
  HttpResult r = AgentPost(s, "/agent/v1/enroll",
                           json{{"token", token}, {"inventory", {{"hostname", host}}}}.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  json j = r.Json();
  int64_t id = j["agent_id"];
  return {id, "Agent " + std::to_string(id) + ":" + j["secret"].get<std::string>()};
}

std::string Nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(Attack, DeeplyNestedJsonIsRefusedBeforeAnyCredentialCheck) {
  Server server;
  std::string key = server.AddUserWithKey("admin@msp.example", "admin");
  std::string bomb = Nested(200000);
  for (const char* path : {"/agent/v1/checkin", "/agent/v1/enroll"}) {
    HttpResult r = AgentPost(server, path, bomb);
    EXPECT_EQ(r.status, 422) << path;
    EXPECT_EQ(r.Json()["error"]["field"], "body");
  }
  HttpResult inside =
      AgentPost(server, "/agent/v1/enroll", "{\"token\":\"x\",\"inventory\":" + Nested(100) + "}");
  EXPECT_EQ(inside.status, 422);
  std::map<std::string, std::string> h = {{"Authorization", "Bearer " + key},
                                          {"Content-Type", "application/json"}};
  EXPECT_EQ(server.Request("POST", "/api/v1/clients", Nested(100000), h).status, 422);
  // 64 levels is the limit, 64 itself is fine (then refused for its shape).
  EXPECT_EQ(AgentPost(server, "/agent/v1/enroll", Nested(64)).status, 422);
  EXPECT_EQ(server.Request("GET", "/healthz").status, 200) << "still serving";
}

TEST(Attack, OddAgentBodiesGet422NeverA500) {
  Server server;
  std::string key = server.AddUserWithKey("admin@msp.example", "admin");
  int64_t client = NewClient(server, key, "Odd Bodies Ltd")["id"];
  std::string token = Token(server, key, client);
  const std::string bodies[] = {
      json{{"token", token}, {"inventory", {1}}}.dump(),
      json{{"token", token}, {"inventory", "text"}}.dump(),
      json{{"token", token}, {"hostname", {1, 2}}}.dump(),
      json{{"token", token}, {"inventory", {{"hostname", "a\nb"}}}}.dump(),
      json{{"token", token}, {"inventory", {{"hostname", "h"}, {"disks", {{{"size_bytes", "x"}}}}}}}
          .dump(),
  };
  for (const auto& body : bodies) {
    HttpResult r = AgentPost(server, "/agent/v1/enroll", body);
    EXPECT_EQ(r.status, 422) << body << " -> " << r.body;
  }
  auto [id, auth] = EnrolAgent(server, token, "odd-host");
  for (const char* body : {R"({"metrics":[1]})", R"({"metrics":{"cpu_percent":"x"}})",
                           R"({"inventory":[1]})", R"({"inventory_hash":[]})", "[]"}) {
    EXPECT_EQ(AgentPost(server, "/agent/v1/checkin", body, auth).status, 422) << body;
  }
}

TEST(Attack, NextAfterSignInCannotInjectHeadersOrLeaveTheSite) {
  Server server;
  server.AddUserWithKey("tech@msp.example", "technician");
  Browser b(server);
  b.Get("/login");
  HttpResult tab = b.Post(
      "/login",
      {{"email", "tech@msp.example"}, {"password", kPassword}, {"next", "/\t/evil.example"}});
  ASSERT_EQ(tab.status, 303);
  EXPECT_EQ(tab.Header("location"), "/") << "a tab would make it //evil.example";
  HttpResult crlf = b.Get("/login?next=%2F%0D%0ASet-Cookie:%20evil=1");
  EXPECT_EQ(crlf.status, 302);
  EXPECT_EQ(crlf.Header("location"), "/");
  for (auto [it, end] = crlf.headers.equal_range("set-cookie"); it != end; ++it) {
    EXPECT_EQ(it->second.find("evil"), std::string::npos);
  }
  for (const char* away : {"//evil.example", "/\\evil.example", "https://evil.example", "/%0d"}) {
    EXPECT_EQ(b.Get(std::string("/login?next=") + http::UrlEncode(away)).Header("location"),
              std::string(away) == "/%0d" ? "/%0d" : "/")
        << away;
  }
  EXPECT_EQ(b.Get("/login?next=%2Fclients%3Fq%3Dacme").Header("location"), "/clients?q=acme");
}

TEST(Attack, TheSetupTokenMakesOneAdminUnderConcurrentPosts) {
  Server server;
  ASSERT_FALSE(server.setup_url().empty());
  std::string token = server.setup_url().substr(server.setup_url().find("token=") + 6);
  std::atomic<int> created{0}, refused{0};
  std::vector<std::thread> posts;
  for (int i = 0; i < 8; ++i) {
    posts.emplace_back([&, i] {
      Browser b(server);
      b.Get("/setup?token=" + token);
      HttpResult r = b.Post("/setup", {{"token", token},
                                       {"email", "admin" + std::to_string(i) + "@msp.example"},
                                       {"name", "Admin " + std::to_string(i)},
                                       {"password", kPassword}});
      (r.status == 303 ? created : refused)++;
    });
  }
  for (auto& t : posts) t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(refused.load(), 7);
  EXPECT_EQ(server.Query("SELECT COUNT(*) FROM staff_users")[0][0], "1");
}

TEST(Attack, ParallelGuessesCannotSlipPastTheLimit) {
  Server server;
  server.AddUserWithKey("victim@msp.example", "admin");
  std::atomic<int> checked{0}, limited{0};
  std::vector<std::thread> guesses;
  for (int i = 0; i < 24; ++i) {
    guesses.emplace_back([&, i] {
      Browser b(server);
      b.Get("/login");
      int status = b.Post("/login", {{"email", "victim@msp.example"},
                                     {"password", "wrong " + std::to_string(i)}})
                       .status;
      (status == 401 ? checked : limited)++;
    });
  }
  for (auto& t : guesses) t.join();
  EXPECT_EQ(checked.load(), 5) << "only 5 guesses reach the password check";
  EXPECT_EQ(limited.load(), 19);
}

TEST(Attack, FailuresFromOneAddressDoNotLockTheAccountOutForOthers) {
  Server server({"--trust-proxy"});
  server.AddUserWithKey("admin@msp.example", "admin");
  Browser attacker(server);
  attacker.SetHeader("X-Forwarded-For", "203.0.113.9");
  attacker.Get("/login");
  for (int i = 0; i < 6; ++i) {
    attacker.Post("/login", {{"email", "admin@msp.example"}, {"password", "guess"}});
  }
  EXPECT_EQ(
      attacker.Post("/login", {{"email", "admin@msp.example"}, {"password", kPassword}}).status,
      429)
      << "the attacker's address is limited for this account";
  Browser owner(server);
  owner.SetHeader("X-Forwarded-For", "198.51.100.20");
  EXPECT_EQ(owner.SignIn("admin@msp.example", kPassword), 303) << "its owner still signs in";
}

TEST(Attack, GuessesFromManyAddressesSlowTheAccountDownWithoutLockingIt) {
  Server server({"--trust-proxy"});
  server.AddUserWithKey("admin@msp.example", "admin");
  int limited = 0;
  for (int i = 0; i < 30; ++i) {
    Browser b(server);
    b.SetHeader("X-Forwarded-For", "203.0.113." + std::to_string(i + 1));
    b.Get("/login");
    HttpResult r = b.Post("/login", {{"email", "admin@msp.example"}, {"password", "guess"}});
    if (r.status == 429) {
      ++limited;
      EXPECT_LE(std::stoi(r.Header("retry-after")), 2) << "a pause, not a lock-out";
    }
  }
  EXPECT_GT(limited, 0) << "past 20 failures the account is slowed down";
}

TEST(Attack, InvalidUtf8InFormsIsA422NeverA500) {
  Server server;
  std::string key = server.AddUserWithKey("tech@msp.example", "technician");
  int64_t client = NewClient(server, key, "Utf8 Checks Ltd")["id"];
  auto [endpoint, auth] = EnrolAgent(server, Token(server, key, client), "utf8-host");
  Browser b(server);
  ASSERT_EQ(b.SignIn("tech@msp.example", kPassword), 303);
  std::string c = std::to_string(client);
  for (const std::string bad : {"\xED\xA0\x80", "\xE0\x80\x80", "\xF5\x80\x80\x80"}) {
    b.Get("/clients/new");
    EXPECT_EQ(b.Post("/clients", {{"name", "X" + bad}}).status, 422);
    b.Get("/clients/" + c + "/contacts/new");
    EXPECT_EQ(
        b.Post("/clients/" + c + "/contacts", {{"name", bad}, {"email", "a@b.example"}}).status,
        422);
    EXPECT_EQ(b.Post("/clients/" + c + "/sites", {{"name", bad}}).status, 422);
    EXPECT_EQ(b.Post("/endpoints/" + std::to_string(endpoint), {{"notes", bad}}).status, 422);
    EXPECT_EQ(b.Get("/clients?q=" + http::UrlEncode(bad)).status, 422);
  }
  EXPECT_EQ(server.Query("SELECT COUNT(*) FROM clients")[0][0], "1") << "nothing half-written";
}

TEST(Attack, MergedIdsAnswerWithTheSurvivorNeverA500) {
  Server server;
  std::string key = server.AddUserWithKey("admin@msp.example", "admin");
  int64_t keep = NewClient(server, key, "Merge Keep Ltd")["id"];
  int64_t gone = NewClient(server, key, "Merge Gone Ltd")["id"];
  ASSERT_EQ(server
                .Api(key, "POST", "/api/v1/clients/merge",
                     {{"survivor_id", keep}, {"merged_ids", {gone}}})
                .status,
            200);
  Browser b(server);
  ASSERT_EQ(b.SignIn("admin@msp.example", kPassword), 303);
  HttpResult list = b.Get("/endpoints?client_id=" + std::to_string(gone));
  EXPECT_EQ(list.status, 301);
  EXPECT_EQ(list.Header("location"), "/endpoints?client_id=" + std::to_string(keep));
  b.Get("/clients");
  HttpResult archive =
      b.Post("/clients/selection", {{"ids", std::to_string(gone)}, {"action", "archive"}});
  EXPECT_EQ(archive.status, 409) << "a change through a merged id is refused, not redirected";
  HttpResult api =
      server.Api(key, "PATCH", "/api/v1/clients/" + std::to_string(gone), {{"notes", "x"}});
  EXPECT_EQ(api.status, 409);
  EXPECT_EQ(api.Json()["error"]["code"], "merged");
  EXPECT_EQ(api.Json()["error"]["existing_id"], keep);
  EXPECT_EQ(server.Api(key, "GET", "/api/v1/endpoints?client_id=" + std::to_string(gone)).status,
            301);
}

TEST(Attack, ChildrenAreReachedOnlyThroughTheirOwnClient) {
  Server server;
  std::string key = server.AddUserWithKey("tech@msp.example", "technician");
  int64_t a = NewClient(server, key, "Parent A Ltd")["id"];
  int64_t b_id = NewClient(server, key, "Parent B Ltd")["id"];
  int64_t c = NewClient(server, key, "Parent C Ltd")["id"];
  HttpResult token =
      server.Api(key, "POST", "/api/v1/clients/" + std::to_string(b_id) + "/enrollment-tokens",
                 json::object());
  int64_t token_id = token.Json()["id"];
  HttpResult link = server.Api(key, "POST", "/api/v1/clients/" + std::to_string(b_id) + "/links",
                               {{"other_client_id", c}, {"label", "Sister company"}});
  int64_t link_id = link.Json()["id"];
  Browser tech(server);
  ASSERT_EQ(tech.SignIn("tech@msp.example", kPassword), 303);
  std::string as_a = "/clients/" + std::to_string(a);
  EXPECT_EQ(tech.Post(as_a + "/tokens/" + std::to_string(token_id) + "/revoke", {}).status, 404);
  EXPECT_EQ(tech.Post(as_a + "/links/" + std::to_string(link_id) + "/delete", {}).status, 404);
  json tokens =
      server.Api(key, "GET", "/api/v1/clients/" + std::to_string(b_id) + "/enrollment-tokens")
          .Json();
  EXPECT_EQ(tokens["items"][0]["state"], "active") << "B's token untouched";
  EXPECT_EQ(
      server.Api(key, "GET", "/api/v1/clients/" + std::to_string(b_id)).Json()["links"].size(), 1u)
      << "B's link untouched";
}

TEST(Attack, RepeatedIdsInABulkMoveCountOnce) {
  Server server;
  std::string key = server.AddUserWithKey("tech@msp.example", "technician");
  int64_t client = NewClient(server, key, "Bulk Move Ltd")["id"];
  int64_t site = server
                     .Api(key, "POST", "/api/v1/clients/" + std::to_string(client) + "/sites",
                          {{"name", "London office"}})
                     .Json()["id"];
  auto [endpoint, auth] = EnrolAgent(server, Token(server, key, client), "bulk-host");
  Browser tech(server);
  ASSERT_EQ(tech.SignIn("tech@msp.example", kPassword), 303);
  std::vector<std::pair<std::string, std::string>> form(20000, {"ids", std::to_string(endpoint)});
  form.emplace_back("site_id", std::to_string(site));
  form.emplace_back("client_id", std::to_string(client));
  EXPECT_EQ(tech.Post("/endpoints/move", form).status, 303);
  EXPECT_EQ(server.Query("SELECT COUNT(*) FROM audit_log WHERE action = 'move'")[0][0], "1");
  json many = {{"endpoint_ids", json::array()}, {"site_id", nullptr}};
  for (int i = 1; i <= 10001; ++i) many["endpoint_ids"].push_back(i);
  EXPECT_EQ(server.Api(key, "POST", "/api/v1/endpoints/move", many).status, 422);
}

TEST(Attack, PasswordsAreCountedInCharactersAndCommonOnesRefused) {
  Server server;
  auto add = [&](const std::string& email, const std::string& password) {
    return server.Cli({"user", "add", "--email", email, "--name", "P", "--role", "technician"},
                      password + "\n");
  };
  EXPECT_EQ(add("a@msp.example", std::string(12, ' ')), 65) << "blank";
  EXPECT_EQ(add("b@msp.example", "éééééé"), 65) << "12 bytes, 6 characters";
  EXPECT_EQ(add("c@msp.example", "Password1234!"), 65);
  EXPECT_EQ(add("d@msp.example", "P@ssw0rd2025"), 65);
  EXPECT_EQ(add("e@msp.example", "qwertyuiop123"), 65);
  EXPECT_EQ(add("f@msp.example", "123456789012"), 65);
  EXPECT_EQ(add("g@msp.example", "abcabcabcabc"), 65);
  EXPECT_EQ(add("h@msp.example", "éclair au café du matin"), 0) << "long, accented, fine";
  EXPECT_EQ(server.Query("SELECT COUNT(*) FROM staff_users")[0][0], "1");
}

TEST(Attack, TheDatabaseIsReadableByTheServerOnly) {
  Server server;
  server.AddUserWithKey("tech@msp.example", "technician");
  for (const char* file : {"/opsmerge.db", "/opsmerge.db-wal"}) {
    struct stat st {};
    if (OnPostgres()) GTEST_SKIP() << "PostgreSQL holds the data";
    ASSERT_EQ(stat((server.data_dir() + file).c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_mode & 077, 0u) << file << " is readable by others";
  }
}

TEST(Attack, ARevokedRetiredOrDeletedAgentIsRefusedOnEveryNodeWithinSeconds) {
  Server a;
  Server b({}, &a);
  std::string key = a.AddUserWithKey("tech@msp.example", "technician");
  int64_t client = NewClient(a, key, "Cut Off Ltd")["id"];
  std::string token = Token(a, key, client);
  std::string checkin = R"({"metrics":{"cpu_percent":1}})";
  std::vector<std::pair<std::string, std::string>> agents;  // how, credential
  for (const char* how : {"revoke", "retire", "delete"}) {
    auto [id, auth] = EnrolAgent(a, token, std::string("cut-") + how);
    // Both nodes know the credential (and cache it).
    ASSERT_EQ(AgentPost(a, "/agent/v1/checkin", checkin, auth).status, 200);
    ASSERT_EQ(AgentPost(b, "/agent/v1/checkin", checkin, auth).status, 200);
    std::string path = "/api/v1/endpoints/" + std::to_string(id);
    if (std::string(how) == "revoke") {
      ASSERT_EQ(a.Api(key, "POST", path + "/revoke-agent").status, 204);
    } else if (std::string(how) == "retire") {
      ASSERT_EQ(a.Api(key, "PATCH", path, {{"retired", true}}).status, 200);
    } else {
      ASSERT_EQ(a.Api(key, "DELETE", path).status, 204);
    }
    EXPECT_EQ(AgentPost(a, "/agent/v1/checkin", checkin, auth).status, 401) << how;
    agents.emplace_back(how, auth);
  }
  // The other node follows the revocation log every 2 s of real time.
  auto started = std::chrono::steady_clock::now();
  for (const auto& [how, auth] : agents) {
    std::string credential = auth;
    EXPECT_TRUE(Eventually(
        [&] { return AgentPost(b, "/agent/v1/checkin", checkin, credential).status == 401; }, 5))
        << how << ": the other node still takes it";
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
}

}  // namespace
}  // namespace opsmerge::testing
