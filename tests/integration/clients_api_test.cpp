// C1-C7 and U2 through the JSON API, on a real server.
#include "harness.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;

class ClientsApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new Server();
    key_ = server_->AddUserWithKey("admin@msp.example", "admin");
  }
  static void TearDownTestSuite() { delete server_; }

  HttpResult Call(const std::string& method, const std::string& path, const json& body = nullptr) {
    return server_->Api(key_, method, path, body);
  }
  int64_t Create(const json& body) {
    HttpResult r = Call("POST", "/api/v1/clients", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", int64_t{0});
  }
  std::string P(int64_t id, const std::string& suffix = "") {
    return "/api/v1/clients/" + std::to_string(id) + suffix;
  }
  static Server* server_;
  static std::string key_;
};
Server* ClientsApi::server_ = nullptr;
std::string ClientsApi::key_;

TEST_F(ClientsApi, C1_CreatingNeedsOnlyTheName) {
  HttpResult r = Call("POST", "/api/v1/clients", {{"name", "  Brindle   Dental  "}});
  ASSERT_EQ(r.status, 201);
  json c = r.Json();
  EXPECT_EQ(c["name"], "Brindle Dental") << "trimmed, white space collapsed";
  EXPECT_TRUE(c["domain"].is_null());
  EXPECT_TRUE(c["contact_email"].is_null());
  EXPECT_EQ(c["domains"], json::array());
  EXPECT_EQ(c["archived"], false);
  EXPECT_EQ(c["links"], json::array());
  for (const char* k : {"contacts", "sites", "endpoints", "tickets", "invoices"}) {
    EXPECT_EQ(c["counts"][k], 0) << k;
  }
  EXPECT_FALSE(c["created_at"].get<std::string>().empty());
  EXPECT_EQ(Call("GET", P(c["id"])).Json()["name"], "Brindle Dental");
}

TEST_F(ClientsApi, C1_FieldsAreNormalisedAndValidated) {
  json c = Call("POST", "/api/v1/clients",
                {{"name", "Normal Ltd"},
                 {"domain", "  Normal.CO.UK. "},
                 {"contact_email", "IT@Normal.CO.UK"},
                 {"domains", {"normal.com", "NORMAL.com", "normal.co.uk"}},
                 {"notes", "Gate code 1234"}})
               .Json();
  EXPECT_EQ(c["domain"], "normal.co.uk");
  EXPECT_EQ(c["contact_email"], "IT@normal.co.uk");
  EXPECT_EQ(c["domains"], json::array({"normal.com"})) << "deduplicated, primary not repeated";

  struct Case {
    json body;
    std::string field;
  };
  std::vector<Case> bad = {
      {{{"name", ""}}, "name"},
      {{{"name", "   "}}, "name"},
      {{{"domain", "x.example"}}, "name"},
      {{{"name", std::string(201, 'a')}}, "name"},
      {{{"name", "Bad Domain"}, {"domain", "not a domain"}}, "domain"},
      {{{"name", "Bad Domain"}, {"domain", "https://localhost/"}}, "domain"},
      {{{"name", "Bad Domain"}, {"domain", "localhost"}}, "domain"},
      {{{"name", "Bad Domain"}, {"domain", "-x.com"}}, "domain"},
      {{{"name", "Bad Email"}, {"contact_email", "nobody"}}, "contact_email"},
      {{{"name", "Bad Email"}, {"contact_email", "a@b"}}, "contact_email"},
      {{{"name", 42}}, "name"},
      {{{"name", "Types"}, {"domains", "acme.com"}}, "domains"},
      {{{"name", "Types"}, {"domains", {1, 2}}}, "domains"},
      {{{"name", "Unknown"}, {"colour", "red"}}, "colour"},
      {{{"name", "Control\x01 chars"}}, "name"},
  };
  for (const auto& c2 : bad) {
    HttpResult r = Call("POST", "/api/v1/clients", c2.body);
    EXPECT_EQ(r.status, 422) << c2.body.dump();
    EXPECT_EQ(r.Json()["error"]["code"], "validation");
    EXPECT_EQ(r.Json()["error"]["field"], c2.field) << c2.body.dump();
    EXPECT_FALSE(r.Json()["error"]["message"].get<std::string>().empty());
  }
  EXPECT_EQ(
      server_->Query(
          "SELECT COUNT(*) FROM clients WHERE name IN ('Bad Domain','Bad Email','Types','Unknown')")
          [0][0],
      "0");
}

TEST_F(ClientsApi, MalformedRequestsAreClear4xxNever500) {
  std::map<std::string, std::string> h = {{"Authorization", "Bearer " + key_},
                                          {"Content-Type", "application/json"}};
  EXPECT_EQ(server_->Request("POST", "/api/v1/clients", "{\"name\": ", h).status, 422);
  EXPECT_EQ(server_->Request("POST", "/api/v1/clients", "[1,2]", h).status, 422);
  EXPECT_EQ(server_->Request("POST", "/api/v1/clients", "", h).status, 422);
  EXPECT_EQ(server_->Request("POST", "/api/v1/clients", std::string(2 << 20, 'x'), h).status, 413);
  EXPECT_EQ(Call("GET", "/api/v1/clients/999999").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/clients/abc").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/clients/-1").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/clients?page=0").status, 422);
  EXPECT_EQ(Call("GET", "/api/v1/clients?per_page=100000").status, 422);
  EXPECT_EQ(Call("GET", "/api/v1/clients?archived=maybe").status, 422);
  EXPECT_EQ(Call("PATCH", "/api/v1/clients/999999", {{"name", "x"}}).status, 404);
  EXPECT_EQ(Call("PUT", "/api/v1/clients").status, 405);
}

TEST_F(ClientsApi, C2_AFreeLabelTakesAnOptionalInverseAndMergesKeepTheDirection) {
  int64_t vendor = Create({{"name", "Direction Vendor Ltd"}});
  int64_t customer = Create({{"name", "Direction Customer Ltd"}});
  int64_t twin = Create({{"name", "Direction Customer Twin"}});
  int64_t other = Create({{"name", "Direction Other Ltd"}});
  ASSERT_EQ(Call("POST", P(vendor, "/links"),
                 {{"other_client_id", customer},
                  {"label", "Hosting provider for"},
                  {"inverse_label", "Hosted by"}})
                .status,
            201);
  json c = Call("GET", P(customer)).Json();
  EXPECT_EQ(c["links"][0]["shown_label"], "Hosted by");
  ASSERT_EQ(Call("POST", P(other, "/links"), {{"other_client_id", vendor}, {"label", "Vendor of"}})
                .status,
            201);
  json v = Call("GET", P(vendor)).Json();
  bool saw_unknown_inverse = false;
  for (const auto& l : v["links"]) {
    if (l["client_id"] == other) {
      saw_unknown_inverse = true;
      EXPECT_EQ(l["direction"], "incoming");
      EXPECT_EQ(l["shown_label"], "") << "no guessed wording for a free label";
    }
  }
  EXPECT_TRUE(saw_unknown_inverse);
  // The customer is merged into the twin: the twin is now "Hosted by" the vendor.
  ASSERT_EQ(
      Call("POST", "/api/v1/clients/merge", {{"survivor_id", twin}, {"merged_ids", {customer}}})
          .status,
      200);
  json after = Call("GET", P(twin)).Json();
  ASSERT_EQ(after["links"].size(), 1u) << after.dump();
  EXPECT_EQ(after["links"][0]["client_id"], vendor);
  EXPECT_EQ(after["links"][0]["direction"], "incoming");
  EXPECT_EQ(after["links"][0]["shown_label"], "Hosted by");
}

TEST_F(ClientsApi, C2_CrossLinksShowOnBothClients) {
  int64_t parent = Create({{"name", "Link Parent plc"}});
  int64_t child = Create({{"name", "Link Child Ltd"}});
  HttpResult link =
      Call("POST", P(child, "/links"), {{"other_client_id", parent}, {"label", "Subsidiary of"}});
  ASSERT_EQ(link.status, 201) << link.body;
  json a = Call("GET", P(child)).Json(), b = Call("GET", P(parent)).Json();
  ASSERT_EQ(a["links"].size(), 1u);
  ASSERT_EQ(b["links"].size(), 1u);
  EXPECT_EQ(a["links"][0]["client_id"], parent);
  EXPECT_EQ(a["links"][0]["name"], "Link Parent plc");
  EXPECT_EQ(a["links"][0]["label"], "Subsidiary of");
  EXPECT_EQ(b["links"][0]["client_id"], child);
  // A link reads in a direction: the parent's side shows the inverse.
  EXPECT_EQ(a["links"][0]["direction"], "outgoing");
  EXPECT_EQ(a["links"][0]["shown_label"], "Subsidiary of");
  EXPECT_EQ(b["links"][0]["direction"], "incoming");
  EXPECT_EQ(b["links"][0]["shown_label"], "Parent of");
  EXPECT_EQ(b["links"][0]["inverse_label"], "Parent of");
  json listed = Call("GET", "/api/v1/clients?q=link%20parent").Json();
  ASSERT_EQ(listed["items"].size(), 1u);
  EXPECT_EQ(listed["items"][0]["links"][0]["name"], "Link Child Ltd")
      << "list items carry links too";
  EXPECT_EQ(
      Call("POST", P(parent, "/links"), {{"other_client_id", child}, {"label", "Again"}}).status,
      409);
  EXPECT_EQ(
      Call("POST", P(parent, "/links"), {{"other_client_id", parent}, {"label", "Self"}}).status,
      422);
  EXPECT_EQ(
      Call("POST", P(parent, "/links"), {{"other_client_id", 999999}, {"label", "Ghost"}}).status,
      422);
  EXPECT_EQ(Call("POST", P(parent, "/links"), {{"other_client_id", child}}).status, 422);
  int64_t link_id = link.Json()["id"];
  EXPECT_EQ(Call("DELETE", "/api/v1/client-links/" + std::to_string(link_id)).status, 204);
  EXPECT_EQ(Call("GET", P(parent)).Json()["links"].size(), 0u);
  EXPECT_EQ(Call("DELETE", "/api/v1/client-links/" + std::to_string(link_id)).status, 404);
}

TEST_F(ClientsApi, C3_SameNameNeedsConfirmationSameDomainIsRefused) {
  int64_t first = Create({{"name", "Dupe Check Ltd"}, {"domain", "dupecheck.co.uk"}});
  HttpResult name = Call("POST", "/api/v1/clients", {{"name", "  dupe   CHECK ltd "}});
  ASSERT_EQ(name.status, 409);
  EXPECT_EQ(name.Json()["error"]["code"], "duplicate");
  EXPECT_EQ(name.Json()["error"]["field"], "name");
  EXPECT_EQ(name.Json()["error"]["existing_id"], first);
  HttpResult confirmed = Call("POST", "/api/v1/clients",
                              {{"name", "Dupe Check Ltd"}, {"confirm_duplicate_name", true}});
  EXPECT_EQ(confirmed.status, 201);

  HttpResult domain =
      Call("POST", "/api/v1/clients", {{"name", "Different Name"}, {"domain", "DUPECHECK.co.uk"}});
  ASSERT_EQ(domain.status, 409);
  EXPECT_EQ(domain.Json()["error"]["field"], "domain");
  EXPECT_EQ(domain.Json()["error"]["existing_id"], first);
  HttpResult forced = Call("POST", "/api/v1/clients",
                           {{"name", "Different Name"},
                            {"domain", "dupecheck.co.uk"},
                            {"confirm_duplicate_name", true}});
  EXPECT_EQ(forced.status, 409) << "a domain clash cannot be confirmed away";
  HttpResult extra =
      Call("POST", "/api/v1/clients", {{"name", "Extra Clash"}, {"domains", {"dupecheck.co.uk"}}});
  EXPECT_EQ(extra.status, 409);
  EXPECT_EQ(extra.Json()["error"]["field"], "domains");
  // Updating another client onto the domain is refused the same way.
  int64_t other = Create({{"name", "Update Clash"}});
  EXPECT_EQ(Call("PATCH", P(other), {{"domain", "dupecheck.co.uk"}}).status, 409);
  EXPECT_EQ(Call("PATCH", P(other), {{"name", "Dupe Check Ltd"}}).status, 409);
  EXPECT_EQ(Call("PATCH", P(other), {{"name", "Dupe Check Ltd"}, {"confirm_duplicate_name", true}})
                .status,
            200);
}

TEST_F(ClientsApi, C3_ADomainBelongsToOneActiveClientOnly) {
  int64_t old_client = Create({{"name", "Old Owner"}, {"domain", "handover.example"}});
  ASSERT_EQ(Call("POST", P(old_client, "/archive")).status, 200);
  int64_t new_client = Create({{"name", "New Owner"}, {"domain", "handover.example"}});
  EXPECT_GT(new_client, 0) << "an archived client's domain can be taken";
  HttpResult back = Call("POST", P(old_client, "/unarchive"));
  EXPECT_EQ(back.status, 409) << "but then the archived one cannot come back holding it";
  EXPECT_EQ(back.Json()["error"]["existing_id"], new_client);
  EXPECT_EQ(Call("GET", P(old_client)).Json()["archived"], true);
}

TEST_F(ClientsApi, C5_MergeMovesEverythingInOneGo) {
  int64_t keep = Create({{"name", "Merge Keep Ltd"}, {"domain", "mergekeep.example"}});
  int64_t gone = Create({{"name", "Merge Gone Ltd"},
                         {"domain", "mergegone.example"},
                         {"domains", {"mergegone.net"}}});
  int64_t gone2 = Create({{"name", "Merge Gone Two"}});
  int64_t linked = Create({{"name", "Merge Linked Friend"}});
  ASSERT_EQ(
      Call("POST", P(gone, "/links"), {{"other_client_id", linked}, {"label", "Sister company"}})
          .status,
      201);
  ASSERT_EQ(
      Call("POST", P(gone, "/links"), {{"other_client_id", keep}, {"label", "Same group"}}).status,
      201);
  // Same person at both: roles OR-ed together into one contact.
  ASSERT_EQ(Call("POST", P(keep, "/contacts"),
                 {{"name", "Sam"}, {"email", "sam@mergekeep.example"}, {"vip", true}})
                .status,
            201);
  ASSERT_EQ(Call("POST", P(gone, "/contacts"),
                 {{"name", "Sam K"},
                  {"email", "SAM@mergekeep.example"},
                  {"portal_user", true},
                  {"primary_technical", true}})
                .status,
            201);
  ASSERT_EQ(
      Call("POST", P(gone, "/contacts"), {{"name", "Pat"}, {"email", "pat@mergegone.example"}})
          .status,
      201);
  ASSERT_EQ(Call("POST", P(gone2, "/contacts"),
                 {{"name", "Lee"}, {"email", "lee@x.example"}, {"primary_technical", true}})
                .status,
            201);
  ASSERT_EQ(Call("POST", P(keep, "/sites"), {{"name", "London office"}}).status, 201);
  ASSERT_EQ(Call("POST", P(gone, "/sites"), {{"name", "London office"}}).status, 201);
  // Rows of features still to come, inserted directly.
  std::string g = std::to_string(gone);
  server_->Sql("INSERT INTO endpoints (client_id, hostname, created_at) VALUES (" + g +
               ", 'pc1', 'now')");
  server_->Sql("INSERT INTO tickets (client_id, subject, created_at) VALUES (" + g +
               ", 'Printer', 'now')");
  server_->Sql("INSERT INTO invoices (client_id, created_at) VALUES (" + g + ", 'now')");

  HttpResult merged =
      Call("POST", "/api/v1/clients/merge", {{"survivor_id", keep}, {"merged_ids", {gone, gone2}}});
  ASSERT_EQ(merged.status, 200) << merged.body;
  json s = merged.Json();
  EXPECT_EQ(s["id"], keep);
  EXPECT_EQ(s["name"], "Merge Keep Ltd");
  EXPECT_EQ(s["domain"], "mergekeep.example");
  EXPECT_EQ(s["domains"], json::array({"mergegone.example", "mergegone.net"}));
  EXPECT_EQ(s["counts"]["contacts"], 3);
  EXPECT_EQ(s["counts"]["sites"], 2);
  EXPECT_EQ(s["counts"]["endpoints"], 1);
  EXPECT_EQ(s["counts"]["tickets"], 1);
  EXPECT_EQ(s["counts"]["invoices"], 1);
  ASSERT_EQ(s["links"].size(), 1u) << "the link between merged clients is dropped, others move";
  EXPECT_EQ(s["links"][0]["client_id"], linked);

  json contacts = Call("GET", P(keep, "/contacts")).Json()["items"];
  int primaries = 0;
  for (const auto& c : contacts) {
    primaries += c["primary_technical"].get<bool>();
    if (c["email"] == "sam@mergekeep.example") {
      EXPECT_TRUE(c["vip"]);
      EXPECT_TRUE(c["portal_user"]);
      EXPECT_TRUE(c["primary_technical"])
          << "the survivor had none, so the first merged one's moves";
    }
  }
  EXPECT_EQ(primaries, 1) << "one primary technical contact per client";
  json sites = Call("GET", P(keep, "/sites")).Json()["items"];
  EXPECT_EQ(sites[1]["name"], "London office (from Merge Gone Ltd)");

  HttpResult moved = Call("GET", P(gone));
  EXPECT_EQ(moved.status, 301);
  EXPECT_EQ(moved.Header("location"), P(keep));
  EXPECT_EQ(Call("GET", P(gone2, "/contacts")).Header("location"), P(keep, "/contacts"));
  EXPECT_EQ(server_->Query("SELECT COUNT(*) FROM clients WHERE id IN (" + g + "," +
                           std::to_string(gone2) + ")")[0][0],
            "0");

  json history = Call("GET", "/api/v1/audit?client_id=" + std::to_string(keep)).Json();
  EXPECT_EQ(history["items"][0]["action"], "merge");
  EXPECT_EQ(history["items"][0]["before"].size(), 3u);
  EXPECT_EQ(history["items"][0]["after"]["id"], keep);

  HttpResult again =
      Call("POST", "/api/v1/clients/merge", {{"survivor_id", keep}, {"merged_ids", {gone}}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.Json()["error"]["existing_id"], keep);
}

TEST_F(ClientsApi, C5_BadMergeRequestsChangeNothing) {
  int64_t a = Create({{"name", "Bad Merge A"}});
  int64_t b = Create({{"name", "Bad Merge B"}});
  EXPECT_EQ(
      Call("POST", "/api/v1/clients/merge", {{"survivor_id", a}, {"merged_ids", json::array()}})
          .status,
      422);
  EXPECT_EQ(Call("POST", "/api/v1/clients/merge", {{"survivor_id", a}, {"merged_ids", {a}}}).status,
            422);
  EXPECT_EQ(
      Call("POST", "/api/v1/clients/merge", {{"survivor_id", a}, {"merged_ids", {b, b}}}).status,
      422);
  EXPECT_EQ(Call("POST", "/api/v1/clients/merge", {{"survivor_id", a}, {"merged_ids", {b, 999999}}})
                .status,
            422);
  EXPECT_EQ(Call("POST", "/api/v1/clients/merge", {{"merged_ids", {b}}}).status, 422);
  EXPECT_EQ(Call("GET", P(b)).status, 200) << "nothing half-done";
}

TEST_F(ClientsApi, C6_DeleteOnlyWithoutTicketsInvoicesOrEndpoints) {
  int64_t empty = Create({{"name", "Delete Me Ltd"}});
  ASSERT_EQ(Call("POST", P(empty, "/contacts"), {{"name", "A"}, {"email", "a@del.example"}}).status,
            201);
  EXPECT_EQ(Call("DELETE", P(empty)).status, 204);
  EXPECT_EQ(Call("GET", P(empty)).status, 404);

  for (const std::string table : {"tickets", "invoices", "endpoints"}) {
    int64_t busy = Create({{"name", "Busy " + table}});
    std::string cols =
        table == "tickets"
            ? "(client_id, subject, created_at) VALUES (" + std::to_string(busy) + ", 's', 'now')"
        : table == "endpoints"
            ? "(client_id, hostname, created_at) VALUES (" + std::to_string(busy) + ", 'h', 'now')"
            : "(client_id, created_at) VALUES (" + std::to_string(busy) + ", 'now')";
    server_->Sql("INSERT INTO " + table + " " + cols);
    HttpResult r = Call("DELETE", P(busy));
    EXPECT_EQ(r.status, 409) << table;
    EXPECT_EQ(r.Json()["error"]["code"], "has_dependents");
    EXPECT_NE(r.Json()["error"]["message"].get<std::string>().find("archive instead"),
              std::string::npos);
    EXPECT_EQ(Call("GET", P(busy)).status, 200);
  }
}

TEST_F(ClientsApi, C6_ArchivedClientsLeaveDefaultListsAndComeBack) {
  int64_t id = Create({{"name", "Zz Archive Probe"}, {"domain", "archiveprobe.example"}});
  ASSERT_EQ(Call("POST", P(id, "/archive")).status, 200);
  json c = Call("GET", P(id)).Json();
  EXPECT_TRUE(c["archived"]);
  EXPECT_FALSE(c["archived_at"].is_null());
  EXPECT_EQ(Call("GET", "/api/v1/clients?q=archive%20probe").Json()["total"], 0);
  EXPECT_EQ(Call("GET", "/api/v1/clients?q=archive%20probe&archived=all").Json()["total"], 1);
  EXPECT_EQ(Call("GET", "/api/v1/clients?q=archiveprobe.example&archived=true").Json()["total"], 1);
  ASSERT_EQ(Call("POST", P(id, "/unarchive")).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/clients?q=archive%20probe").Json()["total"], 1);
}

TEST_F(ClientsApi, C7_ListSearchesSortsAndPaginates) {
  for (int i = 0; i < 7; ++i) {
    Create({{"name", "Pager " + std::string(1, static_cast<char>('G' - i)) + " Co"},
            {"domain", "pager" + std::to_string(i) + ".example"}});
  }
  json page1 = Call("GET", "/api/v1/clients?q=pager&per_page=3&page=1").Json();
  EXPECT_EQ(page1["total"], 7);
  EXPECT_EQ(page1["page"], 1);
  EXPECT_EQ(page1["per_page"], 3);
  ASSERT_EQ(page1["items"].size(), 3u);
  EXPECT_EQ(page1["items"][0]["name"], "Pager A Co");
  json page3 = Call("GET", "/api/v1/clients?q=pager&per_page=3&page=3").Json();
  EXPECT_EQ(page3["items"].size(), 1u);
  json desc = Call("GET", "/api/v1/clients?q=pager&sort=-name").Json();
  EXPECT_EQ(desc["items"][0]["name"], "Pager G Co");
  json by_domain = Call("GET", "/api/v1/clients?q=PAGER3.EXAMPLE").Json();
  ASSERT_EQ(by_domain["total"], 1);
  EXPECT_EQ(by_domain["items"][0]["domain"], "pager3.example");
  EXPECT_EQ(Call("GET", "/api/v1/clients?q=100%25").Json()["total"], 0) << "wildcards are literal";
}

TEST_F(ClientsApi, C7_PossibleDuplicatesCatchNearIdenticalNames) {
  int64_t a = Create({{"name", "Quokka Corp"}});
  int64_t b = Create({{"name", "QUOKKA Corporation Ltd."}});
  int64_t c = Create({{"name", "Quokka Holdings & Co"}});
  int64_t unrelated = Create({{"name", "Quokkas Unlimited"}});
  json groups = Call("GET", "/api/v1/clients/duplicates").Json()["groups"];
  bool found = false;
  for (const auto& g : groups) {
    std::vector<int64_t> ids = g["client_ids"];
    if (std::find(ids.begin(), ids.end(), a) != ids.end()) {
      found = true;
      EXPECT_EQ(g["reason"], "similar_name");
      EXPECT_EQ(ids, (std::vector<int64_t>{a, b, c}));
      EXPECT_EQ(std::find(ids.begin(), ids.end(), unrelated), ids.end());
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(ClientsApi, U2_EveryChangeIsAuditedWithBeforeAndAfter) {
  int64_t id = Create({{"name", "Audit Trail Ltd"}});
  ASSERT_EQ(Call("PATCH", P(id), {{"notes", "VIP customer"}}).status, 200);
  ASSERT_EQ(Call("POST", P(id, "/archive")).status, 200);
  ASSERT_EQ(Call("POST", P(id, "/unarchive")).status, 200);
  json items = Call("GET", "/api/v1/audit?client_id=" + std::to_string(id)).Json()["items"];
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[3]["action"], "create");
  EXPECT_TRUE(items[3]["before"].is_null());
  EXPECT_EQ(items[3]["after"]["name"], "Audit Trail Ltd");
  EXPECT_EQ(items[2]["action"], "update");
  EXPECT_EQ(items[2]["before"]["notes"], "");
  EXPECT_EQ(items[2]["after"]["notes"], "VIP customer");
  EXPECT_EQ(items[1]["action"], "archive");
  EXPECT_EQ(items[0]["action"], "unarchive");
  EXPECT_EQ(items[0]["actor_name"], "Test admin");
  EXPECT_FALSE(items[0]["at"].get<std::string>().empty());
  EXPECT_EQ(Call("GET", "/api/v1/audit").status, 422);
}

TEST_F(ClientsApi, QueriesAreParameterisedNotBuiltFromInput) {
  std::string nasty = "O'Brien \"Quotes\"; DROP TABLE clients; --";
  HttpResult r = Call("POST", "/api/v1/clients", {{"name", nasty}});
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(Call("GET", P(r.Json()["id"])).Json()["name"], nasty) << "stored verbatim";
  HttpResult injected = Call("GET", "/api/v1/clients?q=%27%20OR%201%3D1%20--");
  EXPECT_EQ(injected.status, 200);
  EXPECT_EQ(injected.Json()["total"], 0);
  EXPECT_EQ(Call("GET", "/api/v1/clients?q=brien%20%22quotes").Json()["total"], 1);
  EXPECT_EQ(Call("GET", "/api/v1/clients?sort=name;DROP%20TABLE%20clients").status, 422);
}

}  // namespace
}  // namespace opsmerge::testing
