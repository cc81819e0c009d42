// CSV import with a preview, and export (issue "first user", item 13): what an MSP
// moving from a spreadsheet or another PSA does on day one.
#include "harness.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;

const char* kPassword = "a long enough password";

class Import : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = server_.AddUserWithKey("tech@msp.example", "technician");
    acme_ = server_
                .Api(key_, "POST", "/api/v1/clients",
                     {{"name", "Acme Corp"}, {"domain", "acmecorp.co.uk"}})
                .Json()["id"];
    server_.Api(key_, "POST", "/api/v1/clients/" + std::to_string(acme_) + "/contacts",
                {{"name", "Already Here"}, {"email", "here@acmecorp.co.uk"}});
  }
  json Run(const std::string& kind, const std::string& csv, bool write) {
    HttpResult r =
        server_.Api(key_, "POST", "/api/v1/import/" + kind, {{"csv", csv}, {"write", write}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }
  int64_t Contacts() { return std::stoll(server_.Query("SELECT COUNT(*) FROM contacts")[0][0]); }

  Server server_;
  std::string key_;
  int64_t acme_ = 0;
};

TEST_F(Import, APreviewShowsEachRowsFateAndWritesNothing) {
  std::string csv =
      "First name,Last name,E-mail,Phone,VIP,Favourite colour\n"
      "Jane,Smith,jane@acmecorp.co.uk,+44 20 7946 0958,yes,blue\n"
      "Here,Again,HERE@acmecorp.co.uk,,no,red\n"
      "Nobody,Known,someone@unknown.example,,,green\n"
      "Bad,Flag,bad@acmecorp.co.uk,,maybe,\n";
  json r = Run("contacts", csv, /*write=*/true);
  EXPECT_FALSE(r["written"]) << "a row with an error stops the whole import";
  EXPECT_EQ(r["created"], 1);
  EXPECT_EQ(r["skipped"], 1);
  EXPECT_EQ(r["errors"], 2);
  EXPECT_EQ(r["ignored"], json::array({"Favourite colour"}));
  EXPECT_EQ(r["rows"][0]["outcome"], "new");
  EXPECT_EQ(r["rows"][1]["outcome"], "skipped");
  EXPECT_EQ(r["rows"][1]["field"], "email");
  EXPECT_EQ(r["rows"][2]["field"], "client");
  EXPECT_NE(r["rows"][2]["message"].get<std::string>().find("unknown.example"), std::string::npos);
  EXPECT_EQ(r["rows"][3]["field"], "vip");
  EXPECT_EQ(r["rows"][3]["line"], 5);
  EXPECT_EQ(Contacts(), 1) << "nothing written";
  EXPECT_TRUE(
      server_.Query("SELECT id FROM audit_log WHERE summary LIKE 'Added contact Jane%'").empty());
}

TEST_F(Import, AFileWithoutErrorsIsImportedInOneGoAndRoutedToTheRightClient) {
  int64_t other = server_
                      .Api(key_, "POST", "/api/v1/clients",
                           {{"name", "Zebra Dental"}, {"domain", "zebra.example"}})
                      .Json()["id"];
  std::string csv =
      "name;email;client;primary technical\n"
      "Jane Smith;jane@acmecorp.co.uk;;yes\n"            // by the email's domain
      "Zed Named;zed@gmail.example;Zebra Dental;no\n"    // by the client's name
      "Zoe Domain;zoe@hotmail.example;zebra.example;\n"  // by the client's domain
      "Here;here@acmecorp.co.uk;;\n";                    // already there: left alone
  json preview = Run("contacts", csv, false);
  EXPECT_EQ(preview["created"], 3);
  EXPECT_FALSE(preview["written"]);
  EXPECT_EQ(Contacts(), 1);
  json done = Run("contacts", csv, true);
  EXPECT_TRUE(done["written"]);
  EXPECT_EQ(done["created"], 3);
  EXPECT_EQ(done["skipped"], 1);
  EXPECT_EQ(Contacts(), 4);
  auto client_of = [&](const std::string& email) {
    return std::stoll(
        server_.Query("SELECT client_id FROM contacts WHERE email = '" + email + "'")[0][0]);
  };
  EXPECT_EQ(client_of("jane@acmecorp.co.uk"), acme_);
  EXPECT_EQ(client_of("zed@gmail.example"), other);
  EXPECT_EQ(client_of("zoe@hotmail.example"), other);
  EXPECT_EQ(server_.Query("SELECT name FROM contacts WHERE primary_technical = 1")[0][0],
            "Jane Smith");
  EXPECT_EQ(
      server_.Query("SELECT id FROM audit_log WHERE summary = 'Added contact Jane Smith'").size(),
      1u)
      << "each imported contact is audited like one added by hand";
  // The search finds them at once.
  EXPECT_EQ(server_.Api(key_, "GET", "/api/v1/search?q=zoe").Json()["contacts"].size(), 1u);
}

TEST_F(Import, ClientsWithTheSameNameOrDomainAreSkippedNotDoubled) {
  std::string csv =
      "Company,Website,Notes\n"
      "Acme Corp,,same name\n"
      "Other Name,https://www.AcmeCorp.co.uk/,same domain\n"
      "New Co,newco.example,fresh\n"
      "New Co,,twice in the file\n";
  json r = Run("clients", csv, true);
  EXPECT_TRUE(r["written"]);
  EXPECT_EQ(r["created"], 1);
  EXPECT_EQ(r["skipped"], 3);
  EXPECT_EQ(r["rows"][1]["field"], "domain");
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM clients")[0][0], "2");
  EXPECT_EQ(server_.Query("SELECT domain FROM clients WHERE name = 'New Co'")[0][0],
            "newco.example");
}

TEST_F(Import, AnUnreadableFileIsAClearErrorAboutTheFile) {
  for (const std::string& csv :
       {std::string("email\nx@acmecorp.co.uk\n"), std::string("name,email\n\"open,x\n"),
        std::string("name,email\n") + std::string(6000 * 2, '\n') + [] {
          std::string rows;
          for (int i = 0; i < 5001; ++i)
            rows += "P" + std::to_string(i) + ",p" + std::to_string(i) + "@acmecorp.co.uk\n";
          return rows;
        }()}) {
    HttpResult r =
        server_.Api(key_, "POST", "/api/v1/import/contacts", {{"csv", csv}, {"write", true}});
    EXPECT_EQ(r.status, 422);
    EXPECT_EQ(r.Json()["error"]["field"], "csv") << r.body.substr(0, 200);
  }
  EXPECT_EQ(Contacts(), 1);
}

TEST_F(Import, ThePagesPreviewThenImportAndEscapeWhatTheFileHolds) {
  Browser b(server_);
  ASSERT_EQ(b.SignIn("tech@msp.example", kPassword), 303);
  ASSERT_EQ(b.Get("/clients/import?kind=contacts").status, 200);
  std::string csv = "name,email\n<script>alert(1)</script>,x@acmecorp.co.uk\n";
  HttpResult preview =
      b.Post("/clients/import", {{"kind", "contacts"}, {"csv", csv}, {"step", "preview"}});
  ASSERT_EQ(preview.status, 200);
  EXPECT_NE(preview.body.find("1 new"), std::string::npos);
  EXPECT_EQ(preview.body.find("<script>alert"), std::string::npos);
  EXPECT_NE(preview.body.find("Import 1 contacts"), std::string::npos);
  EXPECT_EQ(Contacts(), 1);
  EXPECT_EQ(b.Post("/clients/import", {{"kind", "contacts"}, {"csv", csv}, {"step", "import"}},
                   /*with_csrf=*/false)
                .status,
            403);
  HttpResult done =
      b.Post("/clients/import", {{"kind", "contacts"}, {"csv", csv}, {"step", "import"}});
  EXPECT_EQ(done.status, 303);
  EXPECT_EQ(done.Header("location"), "/clients/import?kind=contacts&imported=1&skipped=0");
  EXPECT_EQ(Contacts(), 2);
  EXPECT_NE(b.Get(done.Header("location")).body.find("Imported 1 contact."), std::string::npos);
  HttpResult empty = b.Post("/clients/import", {{"kind", "contacts"}, {"csv", " "}});
  EXPECT_EQ(empty.status, 422);
  EXPECT_NE(empty.body.find("Paste the CSV or choose a file first"), std::string::npos);
}

TEST_F(Import, ExportsOpenSafelyInASpreadsheetAndAreAudited) {
  server_.Api(key_, "POST", "/api/v1/clients/" + std::to_string(acme_) + "/contacts",
              {{"name", "=HYPERLINK(\"http://evil.example\",\"x\")"},
               {"email", "evil@acmecorp.co.uk"},
               {"phone", "+44 20 7946 0958"}});
  Browser b(server_);
  ASSERT_EQ(b.SignIn("tech@msp.example", kPassword), 303);
  HttpResult contacts = b.Get("/contacts/export.csv");
  ASSERT_EQ(contacts.status, 200);
  EXPECT_EQ(contacts.Header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(
      contacts.Header("content-disposition").rfind("attachment; filename=\"opsmerge-contacts-", 0),
      0u);
  EXPECT_EQ(contacts.body.rfind("id,client,client_id,name,email,phone", 0), 0u);
  EXPECT_NE(contacts.body.find("\"'=HYPERLINK("), std::string::npos) << contacts.body;
  EXPECT_NE(contacts.body.find(",'+44 20 7946 0958,"), std::string::npos);
  HttpResult clients = b.Get("/clients/export.csv");
  ASSERT_EQ(clients.status, 200);
  EXPECT_NE(clients.body.find("Acme Corp,acmecorp.co.uk"), std::string::npos);
  EXPECT_EQ(
      server_.Query("SELECT summary FROM audit_log WHERE action = 'export' ORDER BY id").size(),
      2u);
  // What we export, we import back: nothing new, everything recognised.
  json again = Run("contacts", contacts.body, false);
  EXPECT_EQ(again["errors"], 0) << again.dump();
  EXPECT_EQ(again["created"], 0);

  server_.AddUserWithKey("billing@msp.example", "billing");
  Browser billing(server_);
  ASSERT_EQ(billing.SignIn("billing@msp.example", kPassword), 303);
  EXPECT_EQ(billing.Get("/contacts/export.csv").status, 403);
  EXPECT_EQ(billing.Get("/clients/import").status, 403);
}

}  // namespace
}  // namespace opsmerge::testing
