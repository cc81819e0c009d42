// P1-P2 (contacts and their roles) and S1-S2 (sites) through the JSON API.
#include "harness.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;

class ContactsSites : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new Server();
    key_ = server_->AddUserWithKey("tech@msp.example", "technician");
  }
  static void TearDownTestSuite() { delete server_; }
  HttpResult Call(const std::string& method, const std::string& path, const json& body = nullptr) {
    return server_->Api(key_, method, path, body);
  }
  int64_t NewClient(const std::string& name) {
    return Call("POST", "/api/v1/clients", {{"name", name}}).Json()["id"];
  }
  std::string P(int64_t id, const std::string& suffix) {
    return "/api/v1/clients/" + std::to_string(id) + suffix;
  }
  static Server* server_;
  static std::string key_;
};
Server* ContactsSites::server_ = nullptr;
std::string ContactsSites::key_;

TEST_F(ContactsSites, P1_ContactNeedsNameAndEmailUniquePerClient) {
  int64_t client = NewClient("Contact Rules Ltd");
  int64_t other = NewClient("Contact Rules Other");
  HttpResult ok = Call("POST", P(client, "/contacts"),
                       {{"name", "Jo Bloggs"},
                        {"email", "Jo@Rules.example"},
                        {"phone", "+44 20 7946 0000"},
                        {"job_title", "Office manager"}});
  ASSERT_EQ(ok.status, 201);
  json c = ok.Json();
  EXPECT_EQ(c["client_id"], client);
  EXPECT_EQ(c["email"], "Jo@rules.example");
  EXPECT_EQ(c["phone"], "+44 20 7946 0000");
  EXPECT_EQ(c["job_title"], "Office manager");
  for (const char* role : {"vip", "portal_user", "billing_recipient", "primary_technical"}) {
    EXPECT_EQ(c[role], false) << role;
  }
  HttpResult dup =
      Call("POST", P(client, "/contacts"), {{"name", "Jo Again"}, {"email", "jo@RULES.example"}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(dup.Json()["error"]["field"], "email");
  EXPECT_EQ(
      Call("POST", P(other, "/contacts"), {{"name", "Jo"}, {"email", "jo@rules.example"}}).status,
      201)
      << "unique within a client only";
  EXPECT_EQ(
      Call("POST", P(client, "/contacts"), {{"email", "x@rules.example"}}).Json()["error"]["field"],
      "name");
  EXPECT_EQ(Call("POST", P(client, "/contacts"), {{"name", "X"}}).Json()["error"]["field"],
            "email");
  EXPECT_EQ(Call("POST", P(client, "/contacts"), {{"name", "X"}, {"email", "not-an-email"}}).status,
            422);
  EXPECT_EQ(Call("POST", P(client, "/contacts"),
                 {{"name", "X"}, {"email", "x@y.example"}, {"vip", "yes"}})
                .status,
            422);
  EXPECT_EQ(Call("POST", P(999999, "/contacts"), {{"name", "X"}, {"email", "x@y.example"}}).status,
            404);

  int64_t id = c["id"];
  std::string path = "/api/v1/contacts/" + std::to_string(id);
  EXPECT_EQ(Call("GET", path).Json()["name"], "Jo Bloggs");
  EXPECT_EQ(Call("PATCH", path, {{"job_title", "Director"}}).Json()["job_title"], "Director");
  EXPECT_EQ(Call("PATCH", path, {{"email", ""}}).status, 422);
  EXPECT_EQ(Call("GET", P(client, "/contacts")).Json()["total"], 1);
  EXPECT_EQ(Call("DELETE", path).status, 204);
  EXPECT_EQ(Call("GET", path).status, 404);
}

TEST_F(ContactsSites, P2_OneContactCanHoldEveryRole) {
  int64_t client = NewClient("Many Roles Ltd");
  json c = Call("POST", P(client, "/contacts"),
                {{"name", "All Rounder"},
                 {"email", "all@roles.example"},
                 {"vip", true},
                 {"portal_user", true},
                 {"billing_recipient", true},
                 {"primary_technical", true}})
               .Json();
  EXPECT_TRUE(c["vip"]);
  EXPECT_TRUE(c["portal_user"]);
  EXPECT_TRUE(c["billing_recipient"]);
  EXPECT_TRUE(c["primary_technical"]);
}

TEST_F(ContactsSites, P2_PrimaryTechnicalContactMovesWhenSetOnAnother) {
  int64_t client = NewClient("Primary Moves Ltd");
  int64_t first =
      Call("POST", P(client, "/contacts"),
           {{"name", "First"}, {"email", "first@pm.example"}, {"primary_technical", true}})
          .Json()["id"];
  int64_t second =
      Call("POST", P(client, "/contacts"), {{"name", "Second"}, {"email", "second@pm.example"}})
          .Json()["id"];
  ASSERT_EQ(
      Call("PATCH", "/api/v1/contacts/" + std::to_string(second), {{"primary_technical", true}})
          .status,
      200);
  EXPECT_FALSE(
      Call("GET", "/api/v1/contacts/" + std::to_string(first)).Json()["primary_technical"]);
  EXPECT_TRUE(
      Call("GET", "/api/v1/contacts/" + std::to_string(second)).Json()["primary_technical"]);
  int64_t third =
      Call("POST", P(client, "/contacts"),
           {{"name", "Third"}, {"email", "third@pm.example"}, {"primary_technical", true}})
          .Json()["id"];
  EXPECT_FALSE(
      Call("GET", "/api/v1/contacts/" + std::to_string(second)).Json()["primary_technical"]);
  EXPECT_TRUE(Call("GET", "/api/v1/contacts/" + std::to_string(third)).Json()["primary_technical"]);
}

TEST_F(ContactsSites, S1_SiteNamesAreUniquePerClient) {
  int64_t client = NewClient("Sites Rules Ltd");
  int64_t other = NewClient("Sites Rules Other");
  HttpResult london = Call("POST", P(client, "/sites"),
                           {{"name", "London office"}, {"address", "1 High St\nLondon"}});
  ASSERT_EQ(london.status, 201);
  EXPECT_EQ(london.Json()["address"], "1 High St\nLondon");
  EXPECT_EQ(Call("POST", P(client, "/sites"), {{"name", "LONDON  office"}}).status, 409);
  EXPECT_EQ(Call("POST", P(other, "/sites"), {{"name", "London office"}}).status, 201);
  EXPECT_EQ(Call("POST", P(client, "/sites"), {{"name", ""}}).Json()["error"]["field"], "name");
  int64_t home = Call("POST", P(client, "/sites"), {{"name", "Home workers"}}).Json()["id"];
  EXPECT_EQ(
      Call("PATCH", "/api/v1/sites/" + std::to_string(home), {{"name", "London Office"}}).status,
      409);
  EXPECT_EQ(Call("PATCH", "/api/v1/sites/" + std::to_string(home), {{"notes", "VPN only"}})
                .Json()["notes"],
            "VPN only");
  json list = Call("GET", P(client, "/sites")).Json();
  EXPECT_EQ(list["total"], 2);
  EXPECT_EQ(list["items"][0]["name"], "Home workers");
}

TEST_F(ContactsSites, S2_DeletingASiteReturnsItsEndpointsToThePool) {
  int64_t client = NewClient("Site Delete Ltd");
  int64_t site = Call("POST", P(client, "/sites"), {{"name", "Manchester office"}}).Json()["id"];
  std::string c = std::to_string(client), s = std::to_string(site);
  server_->Sql("INSERT INTO endpoints (client_id, site_id, hostname, created_at) VALUES (" + c +
               ", " + s + ", 'mcr-pc1', 'now')");
  ASSERT_EQ(Call("DELETE", "/api/v1/sites/" + s).status, 204);
  auto rows = server_->Query("SELECT client_id, site_id FROM endpoints WHERE hostname = 'mcr-pc1'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], c);
  EXPECT_EQ(rows[0][1], "NULL");
  json history = Call("GET", "/api/v1/audit?client_id=" + c).Json()["items"];
  EXPECT_EQ(history[0]["entity_type"], "site");
  EXPECT_EQ(history[0]["action"], "delete");
}

}  // namespace
}  // namespace opsmerge::testing
