// Microsoft 365 through CIPP (I1-I2, C3-C5) against a CIPP-compatible API of our
// own on loopback: tenants become clients without silent merges, licensed users
// become contacts, a re-sync changes nothing, people are never deleted, and every
// failure (errors as 200, 401 mid-sync, 429/5xx, timeouts, malformed JSON) either
// recovers or changes nothing. Runs on SQLite and PostgreSQL.
#include <set>
#include <thread>

#include "harness.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;

constexpr const char* kContoso = "2f0c1a64-7d7e-4b7e-9a8e-0c1d2e3f4a01";
constexpr const char* kFabrikam = "3a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c02";
constexpr const char* kAcme = "4b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d03";
constexpr const char* kPartner = "5c3d4e5f-6a7b-4c8d-8e9f-1a2b3c4d5e04";

json Tenant(const std::string& id, const std::string& name, const std::string& domain) {
  std::string initial = domain.substr(0, domain.find('.')) + ".onmicrosoft.com";
  return {{"customerId", id},
          {"displayName", name},
          {"defaultDomainName", domain},
          {"initialDomainName", initial},
          {"domains", domain + ", " + initial},
          {"delegatedPrivilegeStatus", "granularDelegatedAdminPrivileges"},
          {"someFieldWeIgnore", {{"nested", true}}}};
}

json User(const std::string& id, const std::string& name, const std::string& mail,
          bool licensed = true, bool enabled = true) {
  json licences = json::array();
  if (licensed) licences.push_back({{"skuId", "c7df2760-2c81-4ef7-b578-5b5392b571df"}});
  return {{"id", id},
          {"accountEnabled", enabled},
          {"displayName", name},
          {"givenName", nullptr},
          {"surname", nullptr},
          {"mail", mail},
          {"userPrincipalName", mail},
          {"jobTitle", nullptr},
          {"mobilePhone", nullptr},
          {"businessPhones", json::array()},
          {"proxyAddresses", json::array({"SMTP:" + mail})},
          {"assignedLicenses", licences},
          {"userType", "Member"},
          {"onPremisesSyncEnabled", nullptr}};
}

class Cipp : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = server_.AddUserWithKey("admin@msp.example", "admin");
    ASSERT_EQ(server_
                  .Api(admin_, "PATCH", "/api/v1/settings",
                       {{"cipp_base_url", cipp_.base_url()},
                        {"cipp_token_url", cipp_.token_url()},
                        {"cipp_tenant_id", "9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f"},
                        {"cipp_client_id", "11111111-2222-4333-8444-555555555555"},
                        {"cipp_client_secret", "s3cret"}})
                  .status,
              200);
  }
  json Sync(bool dry_run = false, int expect = 200) {
    HttpResult r =
        server_.Api(admin_, "POST", "/api/v1/integrations/cipp/sync", {{"dry_run", dry_run}});
    EXPECT_EQ(r.status, expect) << r.body;
    return r.Json();
  }
  int64_t Count(const std::string& sql) { return std::stoll(server_.Query(sql)[0][0]); }
  json Client(int64_t id) {
    return server_.Api(admin_, "GET", "/api/v1/clients/" + std::to_string(id)).Json();
  }
  json ContactsOf(int64_t client) {
    return server_.Api(admin_, "GET", "/api/v1/clients/" + std::to_string(client) + "/contacts")
        .Json()["items"];
  }
  json ContactByEmail(int64_t client, const std::string& email) {
    for (const auto& c : ContactsOf(client)) {
      if (c["email"] == email) return c;
    }
    return json();
  }
  int64_t ClientWithTenant(const std::string& tenant) {
    auto rows = server_.Query(std::string("SELECT id FROM clients WHERE m365_tenant_id = '") +
                              tenant + "'");
    return rows.empty() ? 0 : std::stoll(rows[0][0]);
  }
  int64_t NewClient(const json& body) {
    HttpResult r = server_.Api(admin_, "POST", "/api/v1/clients", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", int64_t{0});
  }
  // The usual CIPP: two customers (Contoso new, Fabrikam an existing client by
  // domain), the AllTenants row and the partner's own tenant.
  json Usual() {
    json contoso = json::array({User("u-ann", "Ann Archer", "ann@contoso.com"),
                                User("u-bob", "Bob Baker", "bob@contoso.com"),
                                User("u-cat", "Cat (no licence)", "cat@contoso.com", false),
                                User("u-dan", "Dan (disabled)", "dan@contoso.com", true, false)});
    contoso[1]["jobTitle"] = "Office manager";
    contoso[1]["mobilePhone"] = nullptr;
    contoso[1]["businessPhones"] = json::array({"+44 20 7946 0000"});
    json guest = User("u-gus", "Gus Guest", "gus_ext@contoso.com");
    guest["userType"] = "Guest";
    contoso.push_back(guest);
    json fabrikam = json::array({User("u-fay", "Fay Fisher", "fay@fabrikam.co.uk"),
                                 User("u-fin", "Finn Ford", "Finn.Ford@Fabrikam.co.uk")});
    json all = {{"customerId", "AllTenants"},
                {"displayName", "*All Tenants"},
                {"defaultDomainName", "AllTenants"}};
    json partner = Tenant(kPartner, "Northwind IT", "northwind.example");
    partner["domains"] = "PartnerTenant";
    return {{"tenants", json::array({all, Tenant(kContoso, "Contoso Ltd", "contoso.com"),
                                     Tenant(kFabrikam, "Fabrikam", "fabrikam.co.uk"), partner})},
            {"users", {{kContoso, contoso}, {kFabrikam, fabrikam}}}};
  }

  FakeCipp cipp_;
  Server server_;
  std::string admin_;
};

TEST_F(Cipp, TheFirstSyncMakesAndLinksClientsAndImportsLicensedUsersAndTheSecondChangesNothing) {
  int64_t fabrikam = NewClient({{"name", "Fabrikam Inc"}, {"domain", "fabrikam.co.uk"}});
  // Finn was added by hand, with roles: paired by email, roles kept.
  ASSERT_EQ(server_
                .Api(admin_, "POST", "/api/v1/clients/" + std::to_string(fabrikam) + "/contacts",
                     {{"name", "Finn F."},
                      {"email", "finn.ford@fabrikam.co.uk"},
                      {"vip", true},
                      {"billing_recipient", true}})
                .status,
            201);
  cipp_.Set(Usual());
  json r = Sync();
  EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
  EXPECT_EQ(r["dry_run"], false);
  EXPECT_EQ(
      r["tenants"],
      json({{"matched", 1}, {"created", 1}, {"unmatched", 0}, {"ambiguous", 0}, {"failed", 0}}));
  EXPECT_EQ(r["contacts"]["created"], 3) << "Ann, Bob, Fay (not the unlicensed, disabled or guest)";
  EXPECT_EQ(r["contacts"]["paired"], 1);
  EXPECT_EQ(r["errors"], json::array());

  int64_t contoso = ClientWithTenant(kContoso);
  ASSERT_GT(contoso, 0);
  json c = Client(contoso);
  EXPECT_EQ(c["name"], "Contoso Ltd");
  EXPECT_EQ(c["domain"], "contoso.com");
  EXPECT_EQ(c["m365_tenant_id"], kContoso);
  EXPECT_EQ(Client(fabrikam)["m365_tenant_id"], kFabrikam);
  EXPECT_EQ(Client(fabrikam)["name"], "Fabrikam Inc") << "a client's name is never overwritten";
  EXPECT_EQ(ClientWithTenant(kPartner), 0) << "the partner's own tenant is skipped";
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 2);

  json bob = ContactByEmail(contoso, "bob@contoso.com");
  EXPECT_EQ(bob["name"], "Bob Baker");
  EXPECT_EQ(bob["job_title"], "Office manager");
  EXPECT_EQ(bob["phone"], "+44 20 7946 0000") << "the first business phone when no mobile";
  EXPECT_EQ(bob["source"], "m365");
  EXPECT_EQ(bob["m365_user_id"], "u-bob");
  EXPECT_EQ(bob["active"], true);
  EXPECT_TRUE(ContactByEmail(contoso, "cat@contoso.com").is_null());
  EXPECT_TRUE(ContactByEmail(contoso, "dan@contoso.com").is_null());
  json finn = ContactByEmail(fabrikam, "finn.ford@fabrikam.co.uk");
  EXPECT_EQ(finn["name"], "Finn Ford") << "paired: Microsoft 365's values, our roles";
  EXPECT_EQ(finn["vip"], true);
  EXPECT_EQ(finn["billing_recipient"], true);
  EXPECT_EQ(finn["m365_user_id"], "u-fin");
  EXPECT_EQ(finn["source"], "manual");
  EXPECT_EQ(ContactsOf(fabrikam).size(), 2u);

  int64_t audit_rows = Count("SELECT COUNT(*) FROM audit_log");
  json again = Sync();
  EXPECT_TRUE(again["ok"].get<bool>());
  EXPECT_EQ(again["tenants"]["matched"], 2);
  EXPECT_EQ(again["tenants"]["created"], 0);
  EXPECT_EQ(again["contacts"], json({{"created", 0},
                                     {"updated", 0},
                                     {"paired", 0},
                                     {"deactivated", 0},
                                     {"reactivated", 0},
                                     {"unchanged", 4}}));
  EXPECT_EQ(again["changes"], json::array());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_log"), audit_rows + 1) << "only the sync's own line";
  EXPECT_EQ(Count("SELECT COUNT(*) FROM cipp_reports"), 2);
}

TEST_F(Cipp, RenamesDisabledDeletedAndReturningUsersNeverLoseAPersonOrAValue) {
  cipp_.Set(Usual());
  Sync();
  int64_t contoso = ClientWithTenant(kContoso);
  json state = Usual();
  state["tenants"][1]["displayName"] = "Contoso Group plc";  // a renamed tenant
  json& users = state["users"][kContoso];
  users[0]["displayName"] = "Ann Archer-Smith";  // renamed
  users[0]["mail"] = "ann.smith@contoso.com";    // and her address changed
  users[1]["jobTitle"] = nullptr;                // null never overwrites
  users[1]["businessPhones"] = json::array();
  users.erase(users.begin() + 2);                          // Cat (never imported) gone
  state["users"][kFabrikam][0]["accountEnabled"] = false;  // Fay disabled
  state["users"][kFabrikam].erase(1);                      // Finn deleted
  cipp_.Set(state);
  json r = Sync();
  EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
  EXPECT_EQ(r["tenants"]["matched"], 2);
  EXPECT_EQ(r["contacts"]["updated"], 1);
  EXPECT_EQ(r["contacts"]["deactivated"], 2) << r.dump();
  EXPECT_EQ(Client(contoso)["name"], "Contoso Ltd") << "matched by id; the name is ours";
  json ann = ContactByEmail(contoso, "ann.smith@contoso.com");
  ASSERT_FALSE(ann.is_null()) << "the same contact, with the new address";
  EXPECT_EQ(ann["name"], "Ann Archer-Smith");
  EXPECT_EQ(ann["m365_user_id"], "u-ann");
  EXPECT_TRUE(ContactByEmail(contoso, "ann@contoso.com").is_null());
  json bob = ContactByEmail(contoso, "bob@contoso.com");
  EXPECT_EQ(bob["job_title"], "Office manager");
  EXPECT_EQ(bob["phone"], "+44 20 7946 0000");
  int64_t fabrikam = ClientWithTenant(kFabrikam);
  json fay = ContactByEmail(fabrikam, "fay@fabrikam.co.uk");
  ASSERT_FALSE(fay.is_null()) << "never deleted";
  EXPECT_EQ(fay["active"], false);
  EXPECT_EQ(ContactsOf(fabrikam).size(), 2u) << "Finn, deleted in Microsoft 365, is kept too";

  // Back in Microsoft 365: active again, the same contact.
  state["users"][kFabrikam][0]["accountEnabled"] = true;
  cipp_.Set(state);
  json back = Sync();
  EXPECT_EQ(back["contacts"]["reactivated"], 1);
  EXPECT_EQ(ContactByEmail(fabrikam, "fay@fabrikam.co.uk")["active"], true);
  EXPECT_EQ(ContactByEmail(fabrikam, "fay@fabrikam.co.uk")["id"], fay["id"]);
}

TEST_F(Cipp, AnInactiveContactLosesPortalAccessAtOnce) {
  cipp_.Set(Usual());
  Sync();
  int64_t contoso = ClientWithTenant(kContoso);
  json ann = ContactByEmail(contoso, "ann@contoso.com");
  ASSERT_EQ(
      server_
          .Api(admin_, "PATCH", "/api/v1/contacts/" + std::to_string(ann["id"].get<int64_t>()),
               {{"portal_user", true}})
          .status,
      200);
  server_.Sql(
      "INSERT INTO portal_sessions (token_hash, contact_id, created_at, expires_at) "
      "VALUES ('h', " +
      ann["id"].dump() + ", 0, 99999999999)");
  json state = Usual();
  state["users"][kContoso][0]["accountEnabled"] = false;
  cipp_.Set(state);
  Sync();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM portal_sessions"), 0);
}

TEST_F(Cipp, TheGuidesAppearsTwiceCaseEndsAsOneClientAfterOneMerge) {
  // "Acme Corp" typed by hand (no domain); CIPP calls the tenant "ACME Corporation Ltd".
  int64_t manual = NewClient({{"name", "Acme Corp"}});
  cipp_.Set({{"tenants", json::array({Tenant(kAcme, "ACME Corporation Ltd", "acmecorp.com")})},
             {"users", {{kAcme, json::array({User("u-al", "Al Acme", "al@acmecorp.com")})}}}});
  json r = Sync();
  EXPECT_EQ(r["tenants"]["created"], 1) << "not the same name, no shared domain: two clients";
  int64_t synced = ClientWithTenant(kAcme);
  ASSERT_GT(synced, 0);
  EXPECT_NE(synced, manual);
  // The possible-duplicates view shows the pair.
  json groups = server_.Api(admin_, "GET", "/api/v1/clients/duplicates").Json()["groups"];
  bool shown = false;
  for (const auto& g : groups) {
    std::set<int64_t> ids(g["client_ids"].begin(), g["client_ids"].end());
    shown = shown || (ids.count(manual) && ids.count(synced));
  }
  EXPECT_TRUE(shown) << groups.dump();
  // Merge, keeping the hand-made one.
  ASSERT_EQ(server_
                .Api(admin_, "POST", "/api/v1/clients/merge",
                     {{"survivor_id", manual}, {"merged_ids", json::array({synced})}})
                .status,
            200);
  EXPECT_EQ(Client(manual)["m365_tenant_id"], kAcme) << "the survivor takes the tenant";
  json after = Sync();
  EXPECT_EQ(after["tenants"]["matched"], 1);
  EXPECT_EQ(after["tenants"]["created"], 0);
  EXPECT_EQ(after["contacts"]["unchanged"], 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 1) << "one client that stays one";
}

TEST_F(Cipp, ATenantMatchingTwoClientsIsAmbiguousAndLeftAloneUntilLinkedByHand) {
  int64_t by_name = NewClient({{"name", "Contoso Ltd"}});
  int64_t by_domain = NewClient({{"name", "Contoso (old)"}, {"domain", "contoso.com"}});
  cipp_.Set(Usual());
  json r = Sync();
  EXPECT_EQ(r["tenants"]["ambiguous"], 1);
  EXPECT_EQ(ClientWithTenant(kContoso), 0) << "never merged, never guessed";
  EXPECT_TRUE(ContactsOf(by_name).empty());
  EXPECT_TRUE(ContactsOf(by_domain).empty());
  // The settings page lists it; linking by hand settles it.
  Browser b(server_);
  ASSERT_EQ(b.SignIn("admin@msp.example", "a long enough password"), 303);
  HttpResult page = b.Get("/settings/m365");
  EXPECT_NE(page.body.find("Ambiguous"), std::string::npos);
  EXPECT_NE(page.body.find("Contoso (old) (by domain contoso.com)"), std::string::npos)
      << page.body;
  HttpResult link = b.Post(std::string("/settings/m365/tenants/") + kContoso + "/link",
                           {{"client", "contoso.com"}});
  EXPECT_EQ(link.status, 303) << link.body;
  EXPECT_EQ(ClientWithTenant(kContoso), by_domain);
  json again = Sync();
  EXPECT_EQ(again["tenants"]["ambiguous"], 0);
  EXPECT_EQ(again["contacts"]["created"], 2);
  EXPECT_EQ(ContactsOf(by_domain).size(), 2u);
}

TEST_F(Cipp, WithoutClientCreationAnUnmatchedTenantWaitsForItsOneClickCreate) {
  ASSERT_EQ(
      server_.Api(admin_, "PATCH", "/api/v1/settings", {{"cipp_create_clients", false}}).status,
      200);
  NewClient({{"name", "Fabrikam"}, {"domain", "fabrikam.co.uk"}});
  cipp_.Set(Usual());
  json r = Sync();
  EXPECT_EQ(r["tenants"]["unmatched"], 1);
  EXPECT_EQ(r["tenants"]["matched"], 1);
  EXPECT_EQ(ClientWithTenant(kContoso), 0);
  Browser b(server_);
  ASSERT_EQ(b.SignIn("admin@msp.example", "a long enough password"), 303);
  b.Get("/settings/m365");
  HttpResult made = b.Post(std::string("/settings/m365/tenants/") + kContoso + "/create", {});
  EXPECT_EQ(made.status, 303) << made.body;
  EXPECT_GT(ClientWithTenant(kContoso), 0);
}

TEST_F(Cipp, ADryRunWritesNothingButItsReport) {
  NewClient({{"name", "Fabrikam"}, {"domain", "fabrikam.co.uk"}});
  cipp_.Set(Usual());
  int64_t contacts = Count("SELECT COUNT(*) FROM contacts");
  json r = Sync(true);
  EXPECT_EQ(r["dry_run"], true);
  EXPECT_EQ(r["tenants"]["created"], 1);
  EXPECT_EQ(r["contacts"]["created"], 4);
  EXPECT_FALSE(r["changes"].empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients WHERE m365_tenant_id IS NOT NULL"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM contacts"), contacts);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM cipp_reports WHERE dry_run = 1"), 1);
  // The command line does the same.
  std::string out;
  EXPECT_EQ(server_.Cli({"cipp", "sync", "--dry-run"}, "", &out), 0) << out;
  EXPECT_NE(out.find("\"dry_run\": true"), std::string::npos) << out;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 1);
  EXPECT_EQ(server_.Cli({"cipp", "sync"}, "", &out), 0) << out;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 2);
}

TEST_F(Cipp, CippsFailuresEitherRecoverOrChangeNothing) {
  cipp_.Set(Usual());
  // Errors as HTTP 200: one element, customerId "", Results the message.
  json failing = Usual();
  failing["raw"] = {
      {"/api/ListTenants",
       R"([{"customerId":"","Results":"Failed to retrieve tenants: Could not get token"}])"}};
  cipp_.Set(failing);
  json r = Sync();
  EXPECT_FALSE(r["ok"].get<bool>());
  EXPECT_EQ(r["errors"][0], "CIPP: Failed to retrieve tenants: Could not get token");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 0);
  // Malformed JSON from one tenant's users: the whole sync applies nothing.
  failing = Usual();
  failing["raw"] = {{"/api/ListUsers", "[{\"id\": \"u-1\", \"displayName\": "}};
  cipp_.Set(failing);
  r = Sync();
  EXPECT_FALSE(r["ok"].get<bool>());
  EXPECT_EQ(r["tenants"]["failed"], 2);
  EXPECT_NE(r["errors"][0].get<std::string>().find("not JSON"), std::string::npos) << r.dump();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM contacts"), 0);
  // 429 and 503 answers are retried (Retry-After honoured); a token revoked
  // mid-sync is replaced once.
  json flaky = Usual();
  flaky["fail"] = {{"/api/ListUsers", json::array({429, 503})}};
  flaky["revoke_after"] = 3;
  cipp_.Set(flaky);
  json tokens_before = cipp_.Stats()["tokens"];
  r = Sync();
  EXPECT_TRUE(r["ok"].get<bool>()) << r.dump();
  EXPECT_EQ(r["tenants"]["created"], 2);
  json stats = cipp_.Stats();
  EXPECT_GE(stats["failed"].get<int>(), 2);
  EXPECT_GE(stats["unauthorized"].get<int>(), 1);
  EXPECT_GT(stats["tokens"].get<int>(), tokens_before.get<int>());
}

TEST_F(Cipp, ASlowCippTimesOutCleanly) {
  Server impatient({"--cipp-timeout", "1"}, &server_);
  std::string key = impatient.AddUserWithKey("admin2@msp.example", "admin");
  json slow = Usual();
  slow["hang"] = json::array({"/api/ListTenants"});
  cipp_.Set(slow);
  HttpResult r = impatient.Api(key, "POST", "/api/v1/integrations/cipp/sync", json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.Json()["ok"].get<bool>());
  EXPECT_NE(r.Json()["errors"][0].get<std::string>().find("no answer within 1 s"),
            std::string::npos)
      << r.body;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 0);
}

TEST_F(Cipp, TwoNodesSyncingAtOnceMakeNoDuplicates) {
  cipp_.Set(Usual());
  Server second({}, &server_);
  std::string key = second.AddUserWithKey("admin2@msp.example", "admin");
  // Two at once on one node (its lease is its own) and one on another.
  std::vector<int> statuses(3);
  std::thread other([&] {
    statuses[1] = second.Api(key, "POST", "/api/v1/integrations/cipp/sync", json::object()).status;
  });
  std::thread same([&] {
    statuses[2] =
        server_.Api(admin_, "POST", "/api/v1/integrations/cipp/sync", json::object()).status;
  });
  statuses[0] =
      server_.Api(admin_, "POST", "/api/v1/integrations/cipp/sync", json::object()).status;
  other.join();
  same.join();
  for (int s : statuses) EXPECT_TRUE(s == 200 || s == 409) << s;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM contacts"), 4);
  Sync();  // and after both, a sync changes nothing
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM contacts"), 4);
}

TEST_F(Cipp, SettingsKeepTheSecretAndTestConnectionSaysTheCountOrTheExactError) {
  cipp_.Set(Usual());
  json s = server_.Api(admin_, "GET", "/api/v1/settings").Json();
  EXPECT_EQ(s["cipp_client_secret"], "set") << "never shown again";
  EXPECT_EQ(s["cipp_create_clients"], true);
  EXPECT_EQ(s["cipp_import"], "licensed_enabled");
  EXPECT_EQ(s["cipp_sync_hours"], 0);
  EXPECT_EQ(server_.Query("SELECT value FROM settings WHERE key = 'cipp_client_secret'")[0][0].find(
                "s3cret"),
            std::string::npos)
      << "encrypted at rest";
  HttpResult ok = server_.Api(admin_, "POST", "/api/v1/integrations/cipp/test", json::object());
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json()["tenants"], 2);
  ASSERT_EQ(
      server_.Api(admin_, "PATCH", "/api/v1/settings", {{"cipp_client_secret", "wrong"}}).status,
      200);
  HttpResult bad = server_.Api(admin_, "POST", "/api/v1/integrations/cipp/test", json::object());
  EXPECT_EQ(bad.status, 502);
  EXPECT_NE(bad.Json()["error"]["message"].get<std::string>().find("AADSTS7000215"),
            std::string::npos)
      << bad.body;
  // Bad values name their field.
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, json>>{{"cipp_base_url", "ftp://cipp"},
                                                 {"cipp_client_id", "not-a-guid"},
                                                 {"cipp_sync_hours", 1000},
                                                 {"cipp_import", "everyone"},
                                                 {"cipp_create_clients", "yes"}}) {
    HttpResult r = server_.Api(admin_, "PATCH", "/api/v1/settings", {{key, value}});
    EXPECT_EQ(r.status, 422) << key;
    EXPECT_EQ(r.Json()["error"]["field"], key);
  }
  // A technician may not sync.
  std::string tech = server_.AddUserWithKey("tech@msp.example", "technician");
  EXPECT_EQ(server_.Api(tech, "POST", "/api/v1/integrations/cipp/sync", json::object()).status,
            403);
}

TEST_F(Cipp, ATenantIdIsSetByHandAndBelongsToOneClient) {
  int64_t a = NewClient({{"name", "Alpha"}});
  int64_t b = NewClient({{"name", "Beta"}});
  HttpResult set = server_.Api(admin_, "PATCH", "/api/v1/clients/" + std::to_string(a),
                               {{"m365_tenant_id", "2F0C1A64-7D7E-4B7E-9A8E-0C1D2E3F4A01"}});
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_EQ(set.Json()["m365_tenant_id"], kContoso) << "stored lower-cased";
  HttpResult taken = server_.Api(admin_, "PATCH", "/api/v1/clients/" + std::to_string(b),
                                 {{"m365_tenant_id", kContoso}});
  EXPECT_EQ(taken.status, 409);
  EXPECT_EQ(taken.Json()["error"]["field"], "m365_tenant_id");
  EXPECT_EQ(taken.Json()["error"]["existing_id"], a);
  EXPECT_EQ(server_
                .Api(admin_, "PATCH", "/api/v1/clients/" + std::to_string(b),
                     {{"m365_tenant_id", "contoso"}})
                .status,
            422);
  // The sync then finds Alpha by its id, whatever the tenant is called.
  cipp_.Set(Usual());
  json r = Sync();
  EXPECT_EQ(ClientWithTenant(kContoso), a);
  EXPECT_EQ(Client(a)["name"], "Alpha");
  EXPECT_EQ(ContactsOf(a).size(), 2u);
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

TEST_F(Cipp, TheScheduleSyncsEveryNHoursAndZeroMeansOnlyByHand) {
  cipp_.Set(Usual());
  server_.FreezeClock(1796202000);  // 2026-12-02T09:00:00Z
  server_.Tick();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM cipp_reports"), 0) << "0 hours: manual only";
  ASSERT_EQ(server_.Api(admin_, "PATCH", "/api/v1/settings", {{"cipp_sync_hours", 1}}).status, 200);
  server_.AdvanceClock(601);
  server_.Tick();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM cipp_reports WHERE dry_run = 0"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 2);
  server_.AdvanceClock(30 * 60);
  server_.Tick();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM cipp_reports"), 1) << "not due for another half hour";
  server_.AdvanceClock(31 * 60);
  server_.Tick();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM cipp_reports"), 2);
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

TEST_F(Cipp, TheSettingsPageSavesTestsDryRunsAndSyncs) {
  cipp_.Set(Usual());
  Browser b(server_);
  ASSERT_EQ(b.SignIn("admin@msp.example", "a long enough password"), 303);
  HttpResult page = b.Get("/settings/m365");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("set: leave empty to keep"), std::string::npos);
  EXPECT_EQ(page.body.find("s3cret"), std::string::npos) << "the secret is never shown";
  std::vector<std::pair<std::string, std::string>> form = {
      {"cipp_base_url", cipp_.base_url()},
      {"cipp_token_url", cipp_.token_url()},
      {"cipp_tenant_id", "9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f"},
      {"cipp_client_id", "11111111-2222-4333-8444-555555555555"},
      {"cipp_client_secret", ""},
      {"cipp_sync_hours", "0"},
      {"cipp_create_clients", "1"},
      {"cipp_import", "licensed_enabled"}};
  HttpResult tested = b.Post("/settings/m365/test", form);
  EXPECT_EQ(tested.status, 200);
  EXPECT_NE(tested.body.find("Connected: CIPP lists 2 tenants."), std::string::npos);
  // What is typed is what Test connection uses.
  auto wrong = form;
  wrong[4].second = "not the secret";
  HttpResult failed = b.Post("/settings/m365/test", wrong);
  EXPECT_NE(failed.body.find("AADSTS7000215"), std::string::npos) << failed.body;
  form[4].second = "s3cret";
  auto dry = form;
  dry.emplace_back("dry_run", "1");
  // The buttons start the sync and come back at once; the page says it runs,
  // then (htmx asks every 3 s) reloads with the report.
  HttpResult started = b.Post("/settings/m365/sync", dry);
  ASSERT_EQ(started.status, 303) << started.body;
  EXPECT_TRUE(Eventually([&] { return Count("SELECT COUNT(*) FROM cipp_reports") == 1; }, 30));
  EXPECT_TRUE(Eventually(
      [&] {
        return b.Get("/settings/m365", {{"HX-Request", "true"}, {"HX-Target", "sync-running"}})
                   .Header("hx-refresh") == "true";
      },
      30));
  HttpResult report = b.Get("/settings/m365");
  EXPECT_NE(report.body.find("Nothing was changed"), std::string::npos);
  EXPECT_NE(report.body.find("New client Contoso Ltd"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 0);
  ASSERT_EQ(b.Post("/settings/m365/sync", form).status, 303);
  EXPECT_TRUE(Eventually([&] { return Count("SELECT COUNT(*) FROM cipp_reports") == 2; }, 30));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM clients"), 2);
  // The client's page shows its tenant and last import.
  HttpResult client = b.Get("/clients/" + std::to_string(ClientWithTenant(kContoso)));
  EXPECT_NE(client.body.find(kContoso), std::string::npos);
  EXPECT_NE(client.body.find("Users last imported"), std::string::npos);
  // A bad value comes back beside its field, the rest as typed.
  auto bad = form;
  bad[0].second = "ftp://cipp";
  HttpResult refused = b.Post("/settings/m365", bad);
  EXPECT_EQ(refused.status, 422);
  EXPECT_NE(refused.body.find("cipp_base_url must be http(s)"), std::string::npos);
  EXPECT_NE(refused.body.find("value=\"ftp://cipp\""), std::string::npos);
}

}  // namespace
}  // namespace opsmerge::testing
