// U1 and the security baseline: first-run setup, sign-in, sessions, rate limits,
// API keys, CSRF, security headers, roles.
#include "harness.h"

namespace opsmerge::testing {
namespace {

const char* kPassword = "a long enough password";

class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new Server();
    admin_key_ = server_->AddUserWithKey("admin@msp.example", "admin");
    tech_key_ = server_->AddUserWithKey("tech@msp.example", "technician");
    billing_key_ = server_->AddUserWithKey("billing@msp.example", "billing");
  }
  static void TearDownTestSuite() { delete server_; }
  static Server* server_;
  static std::string admin_key_, tech_key_, billing_key_;
};
Server* AuthTest::server_ = nullptr;
std::string AuthTest::admin_key_, AuthTest::tech_key_, AuthTest::billing_key_;

TEST(FirstRun, SetupNeedsTheTokenAndWorksOnce) {
  Server server;
  ASSERT_FALSE(server.setup_url().empty()) << "serve prints a setup address when no staff exist";
  std::string path = server.setup_url().substr(server.setup_url().find("/setup"));
  std::string token = path.substr(path.find("token=") + 6);
  EXPECT_GE(token.size(), 22u) << "at least 128 bits";

  Browser stranger(server);
  EXPECT_EQ(stranger.Get("/setup").status, 403);
  EXPECT_EQ(stranger.Get("/setup?token=wrong" + token.substr(5)).status, 403);
  stranger.Get("/login");
  EXPECT_EQ(stranger
                .Post("/setup", {{"token", "nope"},
                                 {"name", "Eve"},
                                 {"email", "eve@x.example"},
                                 {"password", kPassword}})
                .status,
            403);

  Browser owner(server);
  ASSERT_EQ(owner.Get(path).status, 200);
  HttpResult weak = owner.Post(
      "/setup",
      {{"token", token}, {"name", "Owner"}, {"email", "owner@msp.example"}, {"password", "short"}});
  EXPECT_EQ(weak.status, 422);
  EXPECT_NE(weak.body.find("at least 12 characters"), std::string::npos);
  HttpResult ok = owner.Post("/setup", {{"token", token},
                                        {"name", "Owner"},
                                        {"email", "owner@msp.example"},
                                        {"password", kPassword}});
  ASSERT_EQ(ok.status, 303);
  EXPECT_EQ(ok.Header("location"), "/");
  EXPECT_EQ(owner.Get("/clients").status, 200) << "setup signs the new admin in";

  Browser again(server);
  EXPECT_EQ(again.Get(path).status, 403) << "the token is single-use";
  auto rows = server.Query("SELECT role, password_hash FROM staff_users");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "admin");
  EXPECT_EQ(rows[0][1].rfind("$argon2id$", 0), 0u) << "passwords are hashed with argon2id";
  EXPECT_EQ(server.Query("SELECT COUNT(*) FROM setup_tokens")[0][0], "0");
}

TEST_F(AuthTest, SignedOutVisitorsAreSentToLogin) {
  HttpResult r = server_->Request("GET", "/clients/1/contacts");
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.Header("location"), "/login?next=%2Fclients%2F1%2Fcontacts");
  EXPECT_EQ(server_->Request("GET", "/login").status, 200);
}

TEST_F(AuthTest, SignInSetsAHardenedSessionCookieStoredHashed) {
  Browser b(*server_);
  b.Get("/login");
  HttpResult r = b.Post(
      "/login", {{"email", "TECH@msp.example"}, {"password", kPassword}, {"next", "/clients/new"}});
  ASSERT_EQ(r.status, 303);
  EXPECT_EQ(r.Header("location"), "/clients/new");
  std::string cookie;
  for (auto [it, end] = r.headers.equal_range("set-cookie"); it != end; ++it) {
    if (it->second.rfind("om_session=", 0) == 0) cookie = it->second;
  }
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "plain http here";
  std::string token = b.cookies()["om_session"];
  EXPECT_GE(token.size(), 43u);
  auto stored = server_->Query("SELECT token_hash FROM staff_sessions");
  for (const auto& row : stored) EXPECT_NE(row[0], token) << "sessions are stored hashed";

  EXPECT_EQ(b.Get("/clients").status, 200);
  EXPECT_EQ(b.Post("/logout", {}).status, 303);
  b.cookies()["om_session"] = token;  // a stolen copy is dead after sign-out
  EXPECT_EQ(b.Get("/clients").status, 302);
}

TEST(Sessions, ExpiredSessionsAreRefusedAndCleanedUp) {
  Server server({"--cleanup-interval", "1", "--lease-seconds", "1"});
  server.AddUserWithKey("tech@msp.example", "technician");
  Browser b(server);
  ASSERT_EQ(b.SignIn("tech@msp.example", kPassword), 303);
  ASSERT_EQ(b.Get("/clients").status, 200);
  // Time passes (the idle limit is 12 h): move the session's expiry into the past.
  server.Sql("UPDATE staff_sessions SET expires_at = '2000-01-01T00:00:00Z'");
  EXPECT_EQ(b.Get("/clients").status, 302) << "an expired session signs nobody in";
  server.Sql(
      "INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES "
      "('old', '2000-01-01T00:00:00Z', '2000-01-02T00:00:00Z')");
  EXPECT_TRUE(Eventually(
      [&] {
        return server.Query("SELECT COUNT(*) FROM staff_sessions")[0][0] == "0" &&
               server.Query("SELECT COUNT(*) FROM setup_tokens WHERE token_hash = 'old'")[0][0] ==
                   "0";
      },
      10))
      << "the scheduled cleanup removes expired sessions and setup tokens";
  EXPECT_EQ(server.Query("SELECT COUNT(*) FROM setup_tokens")[0][0], "1")
      << "the valid setup token printed at start stays";
}

TEST_F(AuthTest, OpenRedirectsAreRefusedAfterSignIn) {
  Browser b(*server_);
  b.Get("/login");
  HttpResult r =
      b.Post("/login",
             {{"email", "tech@msp.example"}, {"password", kPassword}, {"next", "//evil.example/"}});
  ASSERT_EQ(r.status, 303);
  EXPECT_EQ(r.Header("location"), "/");
}

TEST_F(AuthTest, WrongPasswordIsRefusedWithoutSayingWhich) {
  Browser b(*server_);
  b.Get("/login");
  HttpResult wrong =
      b.Post("/login", {{"email", "admin@msp.example"}, {"password", "nope nope nope"}});
  HttpResult unknown = b.Post("/login", {{"email", "nobody@msp.example"}, {"password", "nope"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_NE(wrong.body.find("Wrong email or password"), std::string::npos);
  EXPECT_NE(unknown.body.find("Wrong email or password"), std::string::npos);
}

TEST(SignInLimits, PerAccountFailuresAreLimited) {
  Server server;
  server.AddUserWithKey("victim@msp.example", "technician");
  Browser b(server);
  b.Get("/login");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(b.Post("/login",
                     {{"email", "victim@msp.example"}, {"password", "guess " + std::to_string(i)}})
                  .status,
              401);
  }
  HttpResult limited = b.Post("/login", {{"email", "victim@msp.example"}, {"password", kPassword}});
  EXPECT_EQ(limited.status, 429) << "even the right password waits once the account is limited";
  int retry =
      std::stoi(limited.Header("retry-after").empty() ? "0" : limited.Header("retry-after"));
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 15 * 60);
}

TEST(SignInLimits, PerAddressAttemptsAreLimited) {
  Server server;
  Browser b(server);
  b.Get("/login");
  int last = 0;
  for (int i = 0; i < 31; ++i) {
    last =
        b.Post("/login", {{"email", "spray" + std::to_string(i) + "@x.example"}, {"password", "p"}})
            .status;
  }
  EXPECT_EQ(last, 429);
}

TEST_F(AuthTest, ApiNeedsAValidKey) {
  HttpResult none = server_->Request("GET", "/api/v1/clients");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.Json()["error"]["code"], "unauthorized");
  HttpResult bad = server_->Api("om_notarealkeynotarealkeynotarealkey", "GET", "/api/v1/clients");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(server_->Api(admin_key_, "GET", "/api/v1/clients").status, 200);
}

TEST_F(AuthTest, ApiKeysAreStoredHashedAndCanBeRevoked) {
  std::string key = server_->AddUserWithKey("temp@msp.example", "technician");
  EXPECT_EQ(key.rfind("om_", 0), 0u);
  EXPECT_GE(key.size(), 40u);
  for (const auto& row : server_->Query("SELECT key_hash, prefix FROM api_keys")) {
    EXPECT_NE(row[0], key);
    EXPECT_EQ(row[0].size(), 64u);
  }
  ASSERT_EQ(server_->Api(key, "GET", "/api/v1/clients").status, 200);
  server_->Sql(
      "UPDATE api_keys SET revoked_at = '2026-01-01T00:00:00Z' WHERE user_id = "
      "(SELECT id FROM staff_users WHERE email = 'temp@msp.example')");
  EXPECT_EQ(server_->Api(key, "GET", "/api/v1/clients").status, 401);
}

TEST_F(AuthTest, UnsafeRequestsWithoutTheCsrfTokenAreRefused) {
  Browser b(*server_);
  ASSERT_EQ(b.SignIn("tech@msp.example", kPassword), 303);
  HttpResult missing = b.Post("/clients", {{"name", "CSRF Victim Ltd"}}, false);
  EXPECT_EQ(missing.status, 403);
  HttpResult forged =
      b.Post("/clients", {{"name", "CSRF Victim Ltd"}, {"_csrf", std::string(64, 'a')}}, false);
  EXPECT_EQ(forged.status, 403);
  // htmx sends the token as a header instead.
  std::string cookie = "om_session=" + b.cookies()["om_session"];
  HttpResult htmx = server_->Request("POST", "/clients", "name=Via+Htmx+Ltd",
                                     {{"Cookie", cookie},
                                      {"Content-Type", "application/x-www-form-urlencoded"},
                                      {"HX-Request", "true"},
                                      {"X-CSRF-Token", b.csrf()}});
  EXPECT_EQ(htmx.status, 303);
  HttpResult htmx_missing = server_->Request("POST", "/clients", "name=Via+Htmx+Two",
                                             {{"Cookie", cookie},
                                              {"Content-Type", "application/x-www-form-urlencoded"},
                                              {"HX-Request", "true"}});
  EXPECT_EQ(htmx_missing.status, 403);
  EXPECT_EQ(b.Post("/clients", {{"name", "Proper Form Ltd"}}).status, 303);
  // Sign-in itself is protected too (login CSRF).
  Browser fresh(*server_);
  fresh.Get("/login");
  EXPECT_EQ(
      fresh.Post("/login", {{"email", "tech@msp.example"}, {"password", kPassword}}, false).status,
      403);
}

TEST_F(AuthTest, EveryResponseCarriesSecurityHeaders) {
  Browser b(*server_);
  b.SignIn("admin@msp.example", kPassword);
  std::vector<HttpResult> results = {server_->Request("GET", "/login"),
                                     b.Get("/clients"),
                                     b.Get("/clients/999999"),
                                     server_->Request("GET", "/static/htmx.min.js"),
                                     server_->Api(admin_key_, "GET", "/api/v1/clients"),
                                     server_->Request("GET", "/api/v1/clients"),
                                     server_->Request("GET", "/nowhere")};
  for (const auto& r : results) {
    std::string csp = r.Header("content-security-policy");
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << r.status;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
    EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
    EXPECT_FALSE(r.Header("referrer-policy").empty());
  }
}

TEST_F(AuthTest, RolesAreEnforcedForApiKeys) {
  auto created = server_->Api(tech_key_, "POST", "/api/v1/clients", {{"name", "Role Check Ltd"}});
  ASSERT_EQ(created.status, 201);
  int64_t id = created.Json()["id"];
  auto other = server_->Api(tech_key_, "POST", "/api/v1/clients", {{"name", "Role Check Two"}});
  int64_t other_id = other.Json()["id"];
  // Technicians edit, but merge and delete are admin-only.
  EXPECT_EQ(
      server_->Api(tech_key_, "PATCH", "/api/v1/clients/" + std::to_string(id), {{"notes", "x"}})
          .status,
      200);
  HttpResult merge = server_->Api(tech_key_, "POST", "/api/v1/clients/merge",
                                  {{"survivor_id", id}, {"merged_ids", {other_id}}});
  EXPECT_EQ(merge.status, 403);
  EXPECT_EQ(merge.Json()["error"]["code"], "forbidden");
  EXPECT_EQ(server_->Api(tech_key_, "DELETE", "/api/v1/clients/" + std::to_string(id)).status, 403);
  // Billing reads but does not write.
  EXPECT_EQ(server_->Api(billing_key_, "GET", "/api/v1/clients/" + std::to_string(id)).status, 200);
  EXPECT_EQ(server_->Api(billing_key_, "POST", "/api/v1/clients", {{"name", "Nope Ltd"}}).status,
            403);
  EXPECT_EQ(server_
                ->Api(billing_key_, "POST", "/api/v1/clients/" + std::to_string(id) + "/contacts",
                      {{"name", "N"}, {"email", "n@x.example"}})
                .status,
            403);
  EXPECT_EQ(server_->Api(admin_key_, "DELETE", "/api/v1/clients/" + std::to_string(id)).status,
            204);
  // Nothing half-written by the refused calls.
  EXPECT_EQ(server_->Query("SELECT COUNT(*) FROM clients WHERE name = 'Nope Ltd'")[0][0], "0");
}

TEST_F(AuthTest, StaffSettingsAreAdminOnly) {
  Browser tech(*server_);
  tech.SignIn("tech@msp.example", kPassword);
  EXPECT_EQ(tech.Get("/settings/staff").status, 403);
  EXPECT_EQ(tech.Get("/settings/api-keys").status, 200);
  Browser admin(*server_);
  admin.SignIn("admin@msp.example", kPassword);
  ASSERT_EQ(admin.Get("/settings/staff").status, 200);
  HttpResult added = admin.Post("/settings/staff", {{"name", "New Tech"},
                                                    {"email", "new@msp.example"},
                                                    {"role", "technician"},
                                                    {"password", kPassword}});
  EXPECT_EQ(added.status, 303);
  Browser newbie(*server_);
  EXPECT_EQ(newbie.SignIn("new@msp.example", kPassword), 303);
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

TEST(ReleaseBuild, HasNoTestHooks) {
  Server release({}, nullptr, ReleaseBinary());
  HttpResult clock = release.Request("POST", "/__test__/clock", R"({"advance_seconds":60})",
                                     {{"Content-Type", "application/json"}});
  EXPECT_EQ(clock.status, 404) << "the release binary cannot have its time moved";
  Server test_build;
  EXPECT_EQ(test_build
                .Request("POST", "/__test__/clock", R"({"advance_seconds":60})",
                         {{"Content-Type", "application/json"}})
                .status,
            200)
      << "while the test build can";
}

}  // namespace
}  // namespace opsmerge::testing
