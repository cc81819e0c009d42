// Settings → General and /api/v1/settings: one store every node sees, validated
// member by member, all-or-nothing, secrets sealed at rest and never shown.
#include <sys/stat.h>

#include "harness.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;

class Settings : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = server_.AddUserWithKey("admin@msp.example", "admin");
    tech_ = server_.AddUserWithKey("tech@msp.example", "technician");
  }
  Server server_;
  std::string admin_, tech_;
};

TEST_F(Settings, DefaultsAreShownAndOnlyAdminsSeeThem) {
  HttpResult r = server_.Api(admin_, "GET", "/api/v1/settings");
  ASSERT_EQ(r.status, 200);
  json s = r.Json();
  EXPECT_EQ(s["imap_poll_seconds"], 60);
  EXPECT_EQ(s["auto_close_days"], 7);
  EXPECT_EQ(s["sla"]["urgent"]["first_response_minutes"], 30);
  EXPECT_TRUE(s["smtp_password"].is_null());
  EXPECT_EQ(server_.Api(tech_, "GET", "/api/v1/settings").status, 403);
  EXPECT_EQ(server_.Api(tech_, "PATCH", "/api/v1/settings", {{"mail_from", "x@y.example"}}).status,
            403);
}

TEST_F(Settings, PasswordsAreSealedAtRestAndNeverReturned) {
  HttpResult r = server_.Api(admin_, "PATCH", "/api/v1/settings",
                             {{"smtp_url", "smtp://help:S3cret-pass@mail.msp.example:587"},
                              {"imap_url", "imaps://help@mail.msp.example/INBOX"},
                              {"imap_password", "Imap-Pass-9"},
                              {"mail_from", "Help@MSP.example"},
                              {"public_url", "https://psa.msp.example/"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json s = r.Json();
  EXPECT_EQ(s["smtp_url"], "smtp://help@mail.msp.example:587");
  EXPECT_EQ(s["smtp_password"], "set");
  EXPECT_EQ(s["imap_url"], "imaps://help@mail.msp.example/INBOX");
  EXPECT_EQ(s["imap_password"], "set");
  EXPECT_EQ(s["mail_from"], "Help@msp.example");
  EXPECT_EQ(s["public_url"], "https://psa.msp.example");
  for (const auto& row : server_.Query("SELECT key, value FROM settings")) {
    EXPECT_EQ(row[1].find("S3cret-pass"), std::string::npos) << row[0];
    EXPECT_EQ(row[1].find("Imap-Pass-9"), std::string::npos) << row[0];
  }
  EXPECT_EQ(
      server_.Query("SELECT value FROM settings WHERE key = 'smtp_password'")[0][0].rfind("v1:", 0),
      0u);
  for (const auto& row : server_.Query("SELECT before_json, after_json, summary FROM audit_log")) {
    for (const auto& cell : row) EXPECT_EQ(cell.find("S3cret-pass"), std::string::npos);
  }
  EXPECT_EQ(server_.Query("SELECT summary FROM audit_log WHERE entity_type = 'settings'").size(),
            1u);
  // The key lives in the data directory, readable by the server's user only.
  struct stat st {};
  ASSERT_EQ(stat((server_.data_dir() + "/secret.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Clearing a password.
  EXPECT_TRUE(server_.Api(admin_, "PATCH", "/api/v1/settings", {{"smtp_password", ""}})
                  .Json()["smtp_password"]
                  .is_null());
}

TEST_F(Settings, EachBadValueIsNamedAndNothingIsWritten) {
  auto refused = [&](const json& patch, const std::string& field) {
    HttpResult r = server_.Api(admin_, "PATCH", "/api/v1/settings", patch);
    EXPECT_EQ(r.status, 422) << patch.dump();
    EXPECT_EQ(r.Json()["error"]["field"], field) << r.body;
  };
  refused({{"public_url", "ftp://psa.msp.example"}}, "public_url");
  refused({{"public_url", "https://psa.msp.example/\r\nSet-Cookie: x=1"}}, "public_url");
  refused({{"mail_from", "not an address"}}, "mail_from");
  refused({{"smtp_url", "http://mail.msp.example"}}, "smtp_url");
  refused({{"imap_url", "imap://"}}, "imap_url");
  refused({{"imap_poll_seconds", 5}}, "imap_poll_seconds");
  refused({{"imap_poll_seconds", "60"}}, "imap_poll_seconds");
  refused({{"auto_close_days", -1}}, "auto_close_days");
  refused({{"sla", {{"critical", {{"first_response_minutes", 5}}}}}}, "sla");
  refused({{"sla", {{"urgent", {{"first_response_minutes", 0}}}}}}, "sla");
  refused({{"time_zone", "Mars/Olympus_Mons"}}, "time_zone");
  refused({{"time_zone", "../../etc/passwd"}}, "time_zone");
  refused({{"colour", "blue"}}, "colour");
  // One bad member: the good ones beside it are not written either.
  refused({{"mail_from", "help@msp.example"}, {"auto_close_days", 1000}}, "auto_close_days");
  EXPECT_EQ(server_.Api(admin_, "GET", "/api/v1/settings").Json()["mail_from"], "");
  EXPECT_TRUE(server_.Query("SELECT key FROM settings WHERE key = 'mail_from'").empty());
}

TEST_F(Settings, SlaTargetsFromSettingsTimeNewTickets) {
  ASSERT_EQ(server_
                .Api(admin_, "PATCH", "/api/v1/settings",
                     {{"sla", {{"normal", {{"first_response_minutes", 90}}}}},
                      {"time_zone", "Europe/Paris"}})
                .status,
            200);
  int64_t client = server_.Api(admin_, "POST", "/api/v1/clients", {{"name", "Acme"}}).Json()["id"];
  server_.FreezeClock(1796202000);  // 2026-12-02T09:00:00Z
  json t = server_.Api(tech_, "POST", "/api/v1/tickets", {{"client_id", client}, {"subject", "x"}})
               .Json();
  EXPECT_EQ(t["first_response_due_at"], "2026-12-02T10:30:00Z");
  EXPECT_EQ(
      server_.Api(admin_, "GET", "/api/v1/settings").Json()["sla"]["normal"]["resolution_minutes"],
      2880)
      << "what the patch left out keeps its value";
}

TEST_F(Settings, TheGeneralPageSavesAndKeepsAPasswordLeftEmpty) {
  Browser b(server_);
  ASSERT_EQ(b.SignIn("admin@msp.example", "a long enough password"), 303);
  HttpResult page = b.Get("/settings/general");
  ASSERT_EQ(page.status, 200);
  std::vector<std::pair<std::string, std::string>> form = {
      {"public_url", "https://psa.msp.example"},
      {"mail_from", "help@msp.example"},
      {"smtp_url", "smtps://help@mail.msp.example"},
      {"smtp_password", "Pw-1"},
      {"imap_url", ""},
      {"imap_poll_seconds", "120"},
      {"auto_close_days", "14"},
      {"time_zone", ""}};
  for (const char* p : {"low", "normal", "high", "urgent"}) {
    form.push_back({std::string("sla_") + p + "_first", "60"});
    form.push_back({std::string("sla_") + p + "_resolution", "600"});
  }
  HttpResult saved = b.Post("/settings/general", form);
  ASSERT_EQ(saved.status, 303) << saved.body.substr(0, 400);
  EXPECT_NE(b.Get(saved.Header("location")).body.find("Settings saved."), std::string::npos);
  form[3].second = "";  // the password field left empty
  form[6].second = "abc";
  HttpResult bad = b.Post("/settings/general", form);
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("Write a whole number"), std::string::npos);
  form[6].second = "3";
  ASSERT_EQ(b.Post("/settings/general", form).status, 303);
  json s = server_.Api(admin_, "GET", "/api/v1/settings").Json();
  EXPECT_EQ(s["smtp_password"], "set") << "kept";
  EXPECT_EQ(s["auto_close_days"], 3);
  EXPECT_EQ(s["sla"]["urgent"]["resolution_minutes"], 600);
  EXPECT_TRUE(s["business_hours"].is_null()) << "off unless ticked";
  // Business hours and the mail templates, from the page.
  form.insert(form.end(), {{"business_hours_on", "on"},
                           {"bh_mon", "on"},
                           {"bh_fri", "on"},
                           {"bh_start", "08:00"},
                           {"bh_end", "16:00"},
                           {"ack_template", "Thanks {{name}}: #{{number}}"},
                           {"reply_template", "{{body}}"}});
  ASSERT_EQ(b.Post("/settings/general", form).status, 303);
  s = server_.Api(admin_, "GET", "/api/v1/settings").Json();
  EXPECT_EQ(s["business_hours"],
            json({{"days", {"mon", "fri"}}, {"start", "08:00"}, {"end", "16:00"}}));
  EXPECT_EQ(s["ack_template"], "Thanks {{name}}: #{{number}}");
  HttpResult page_again = b.Get("/settings/general");
  EXPECT_NE(page_again.body.find("name=\"business_hours_on\" checked"), std::string::npos);
  Browser tech(server_);
  ASSERT_EQ(tech.SignIn("tech@msp.example", "a long enough password"), 303);
  EXPECT_EQ(tech.Get("/settings/general").status, 403);
}

}  // namespace
}  // namespace opsmerge::testing
