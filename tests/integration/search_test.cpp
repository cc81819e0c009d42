// The dashboard and the global search (issue "first user", item 4): a technician
// types part of a name, an address, a phone number, a hostname, an IP or a serial
// into the box at the top of any page and gets the client, person or machine.
#include "harness.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;

const char* kPassword = "a long enough password";

class Search : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new Server();
    key_ = server_->AddUserWithKey("tech@msp.example", "technician");
    acme_ = server_
                ->Api(key_, "POST", "/api/v1/clients",
                      {{"name", "Acme Corp"}, {"domain", "acmecorp.co.uk"}})
                .Json()["id"];
    std::string c = "/api/v1/clients/" + std::to_string(acme_);
    jane_ = server_
                ->Api(key_, "POST", c + "/contacts",
                      {{"name", "Jane O'Brien"},
                       {"email", "jane.obrien@acmecorp.co.uk"},
                       {"phone", "+44 20 7946 0958"}})
                .Json()["id"];
    server_->Api(key_, "POST", c + "/contacts",
                 {{"name", "<script>alert(1)</script> Mallory"}, {"email", "m@acmecorp.co.uk"}});
    std::string token =
        server_->Api(key_, "POST", c + "/enrollment-tokens", json::object()).Json()["token"];
    json inventory = {
        {"hostname", "WEB-01"},
        {"network", {{{"name", "eth0"}, {"mac", ""}, {"addresses", {"fe80::1", "10.20.30.41"}}}}},
        {"hardware", {{"serial", "PF3ABC12"}}},
        {"users", {"jane"}}};
    HttpResult enrolled = server_->Request("POST", "/agent/v1/enroll",
                                           json{{"token", token}, {"inventory", inventory}}.dump(),
                                           {{"Content-Type", "application/json"}});
    ASSERT_EQ(enrolled.status, 201) << enrolled.body;
    endpoint_ = enrolled.Json()["agent_id"];
    std::string auth =
        "Agent " + std::to_string(endpoint_) + ":" + enrolled.Json()["secret"].get<std::string>();
    ASSERT_EQ(server_
                  ->Request("POST", "/agent/v1/checkin", "{}",
                            {{"Content-Type", "application/json"}, {"Authorization", auth}})
                  .status,
              200);
  }
  static void TearDownTestSuite() { delete server_; }

  static json Find(const std::string& q) {
    HttpResult r = server_->Api(key_, "GET", "/api/v1/search?q=" + http_encode(q));
    EXPECT_EQ(r.status, 200) << q << ": " << r.body;
    return r.Json();
  }
  static std::string http_encode(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
      if (std::isalnum(c) || c == '-' || c == '.' || c == '_') {
        out += static_cast<char>(c);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
    return out;
  }
  static std::vector<int64_t> Ids(const json& list) {
    std::vector<int64_t> out;
    for (const auto& item : list) out.push_back(item["id"]);
    return out;
  }

  static Server* server_;
  static std::string key_;
  static int64_t acme_, jane_, endpoint_;
};
Server* Search::server_ = nullptr;
std::string Search::key_;
int64_t Search::acme_ = 0, Search::jane_ = 0, Search::endpoint_ = 0;

TEST_F(Search, FindsContactsByAnyNameEmailOrPhone) {
  for (const char* q : {"jane", "JANE", "brien", "o'brien", "jane o'b", "jane.obrien@acme",
                        "020 7946 0958", "+44 20 7946", "(020) 7946-0958"}) {
    json r = Find(q);
    EXPECT_EQ(Ids(r["contacts"]), std::vector<int64_t>{jane_}) << q;
    if (!r["contacts"].empty()) {
      EXPECT_EQ(r["contacts"][0]["client_name"], "Acme Corp");
    }
  }
  EXPECT_TRUE(Find("jane jones")["contacts"].empty());
  EXPECT_TRUE(Find("ane")["contacts"].empty()) << "words match from their start";
}

TEST_F(Search, FindsEndpointsByHostnameAddressOrSerialAndClientsByNameOrDomain) {
  for (const char* q : {"web", "web-01", "10.20.30", "10.20.30.41", "pf3abc", "PF3ABC12"}) {
    json r = Find(q);
    EXPECT_EQ(Ids(r["endpoints"]), std::vector<int64_t>{endpoint_}) << q;
    if (!r["endpoints"].empty()) {
      EXPECT_EQ(r["endpoints"][0]["ip"], "10.20.30.41");
      EXPECT_EQ(r["endpoints"][0]["serial"], "PF3ABC12");
    }
  }
  EXPECT_TRUE(Find("fe80")["endpoints"].empty()) << "link-local addresses are not searched";
  for (const char* q : {"acme", "Corp", "acmecorp.co"}) {
    EXPECT_EQ(Ids(Find(q)["clients"]), std::vector<int64_t>{acme_}) << q;
  }
}

TEST_F(Search, WildcardsAndHostileInputAreOrdinaryTextOrAClearError) {
  for (const char* q : {"%", "_", "!", "%jane%", "' OR 1=1 --", "\\"}) {
    json r = Find(q);
    EXPECT_TRUE(r["contacts"].empty()) << q;
    EXPECT_TRUE(r["endpoints"].empty()) << q;
  }
  EXPECT_TRUE(Find("")["contacts"].empty());
  HttpResult bad = server_->Api(key_, "GET", "/api/v1/search?q=%FF%FE");
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(bad.Json()["error"]["field"], "q");
  HttpResult huge = server_->Api(key_, "GET", "/api/v1/search?q=" + std::string(201, 'a'));
  EXPECT_EQ(huge.status, 422);
  EXPECT_EQ(huge.Json()["error"]["field"], "q");
  EXPECT_EQ(server_->Request("GET", "/api/v1/search?q=jane").status, 401);
}

TEST_F(Search, FollowsEditsAndDeletions) {
  std::string c = "/api/v1/clients/" + std::to_string(acme_);
  int64_t bob = server_
                    ->Api(key_, "POST", c + "/contacts",
                          {{"name", "Bob Stone"}, {"email", "bob@acmecorp.co.uk"}})
                    .Json()["id"];
  EXPECT_EQ(Ids(Find("stone")["contacts"]), std::vector<int64_t>{bob});
  ASSERT_EQ(server_
                ->Api(key_, "PATCH", "/api/v1/contacts/" + std::to_string(bob),
                      {{"name", "Robert Quarry"}})
                .status,
            200);
  EXPECT_TRUE(Find("stone")["contacts"].empty()) << "the old name no longer finds him";
  EXPECT_EQ(Ids(Find("quarry")["contacts"]), std::vector<int64_t>{bob});
  ASSERT_EQ(server_->Api(key_, "DELETE", "/api/v1/contacts/" + std::to_string(bob)).status, 204);
  EXPECT_TRUE(Find("quarry")["contacts"].empty());
}

TEST_F(Search, TheBoxAnswersWithAFragmentAndThePageWithEscapedResults) {
  Browser b(*server_);
  server_->AddUserWithKey("tech2@msp.example", "technician");
  ASSERT_EQ(b.SignIn("tech2@msp.example", kPassword), 303);
  HttpResult home = b.Get("/clients");
  EXPECT_NE(home.body.find("id=\"global-search\""), std::string::npos) << "on every page";
  HttpResult drop =
      b.Get("/search?q=mallory", {{"HX-Request", "true"}, {"HX-Target", "global-search-results"}});
  ASSERT_EQ(drop.status, 200);
  EXPECT_EQ(drop.body.find("<html"), std::string::npos) << "a fragment, not a page";
  EXPECT_EQ(drop.body.find("<script>alert"), std::string::npos);
  EXPECT_NE(drop.body.find("&lt;script&gt;"), std::string::npos);
  HttpResult page = b.Get("/search?q=jane");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<h1"), std::string::npos);
  EXPECT_NE(
      page.body.find("/clients/" + std::to_string(acme_) + "/contacts/" + std::to_string(jane_)),
      std::string::npos);
  EXPECT_NE(b.Get("/search?q=10.20.30").body.find("/endpoints/" + std::to_string(endpoint_)),
            std::string::npos);
  EXPECT_EQ(b.Get("/search?q=%FF").status, 422);
}

TEST_F(Search, TheDashboardShowsOfflineEndpointsAndRecentChanges) {
  Browser b(*server_);
  server_->AddUserWithKey("tech3@msp.example", "technician");
  ASSERT_EQ(b.SignIn("tech3@msp.example", kPassword), 303);
  HttpResult home = b.Get("/");
  ASSERT_EQ(home.status, 200);
  EXPECT_NE(home.body.find(">Dashboard</h1>"), std::string::npos);
  EXPECT_NE(home.body.find("Every endpoint is checking in."), std::string::npos);
  EXPECT_NE(home.body.find("1 endpoint online"), std::string::npos);
  EXPECT_NE(home.body.find("Acme Corp"), std::string::npos) << "recent changes name the client";
  // Three missed check-ins later the machine is offline, listed with when it was seen.
  server_->AdvanceClock(3 * 3600);
  HttpResult later = b.Get("/");
  EXPECT_NE(later.body.find("1 endpoint offline"), std::string::npos);
  EXPECT_NE(later.body.find("/endpoints/" + std::to_string(endpoint_)), std::string::npos);
  EXPECT_NE(later.body.find("last seen"), std::string::npos);
}

TEST_F(Search, AContactHasItsOwnPageOnlyUnderItsOwnClient) {
  Browser b(*server_);
  server_->AddUserWithKey("tech4@msp.example", "technician");
  ASSERT_EQ(b.SignIn("tech4@msp.example", kPassword), 303);
  std::string path = "/clients/" + std::to_string(acme_) + "/contacts/" + std::to_string(jane_);
  HttpResult page = b.Get(path);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find(">Jane O"), std::string::npos) << page.body.substr(0, 400);
  EXPECT_NE(page.body.find("tel:+44 20 7946 0958"), std::string::npos);
  EXPECT_NE(page.body.find("Added contact Jane"), std::string::npos) << "its history";
  EXPECT_NE(b.Get("/clients/" + std::to_string(acme_) + "/contacts").body.find(path),
            std::string::npos)
      << "the contacts tab links to it";
  int64_t other =
      server_->Api(key_, "POST", "/api/v1/clients", {{"name", "Other Ltd"}}).Json()["id"];
  EXPECT_EQ(
      b.Get("/clients/" + std::to_string(other) + "/contacts/" + std::to_string(jane_)).status, 404)
      << "another client's address does not show Acme's contact";
}

// Contacts written before the search existed (an upgrade) are indexed at start-up.
TEST(SearchUpgrade, RowsFromBeforeTheIndexAreFoundAfterARestart) {
  Server server;
  std::string key = server.AddUserWithKey("tech@msp.example", "technician");
  int64_t client = server.Api(key, "POST", "/api/v1/clients", {{"name", "Old Co"}}).Json()["id"];
  server.Api(key, "POST", "/api/v1/clients/" + std::to_string(client) + "/contacts",
             {{"name", "Olga Older"}, {"email", "olga@old.example"}});
  server.Sql("DELETE FROM contact_terms");
  // As the migration leaves it on a database that has rows.
  server.Sql("INSERT INTO settings (key, value, updated_at) VALUES ('search.reindex', '1', '')");
  EXPECT_TRUE(server.Api(key, "GET", "/api/v1/search?q=olga").Json()["contacts"].empty());
  server.Restart();
  EXPECT_EQ(server.Api(key, "GET", "/api/v1/search?q=olga").Json()["contacts"].size(), 1u);
  EXPECT_TRUE(server.Query("SELECT value FROM settings WHERE key = 'search.reindex'").empty());
}

}  // namespace
}  // namespace opsmerge::testing
