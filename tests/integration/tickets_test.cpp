// Tickets (T1-T2, P3, C5, C6) through the JSON API: numbering, SLA due times, the
// VIP rule, the conversation, time entries, the queue's filters, and the client
// rules that tickets take part in.
#include <atomic>
#include <set>
#include <thread>

#include "harness.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;

constexpr int64_t kStart = 1796202000;  // 2026-12-02T09:00:00Z, a Wednesday

class Tickets : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.FreezeClock(kStart);
    admin_ = server_.AddUserWithKey("admin@msp.example", "admin");
    tech_ = server_.AddUserWithKey("tech@msp.example", "technician");
    acme_ = Id(server_.Api(admin_, "POST", "/api/v1/clients",
                           {{"name", "Acme Corp"}, {"domain", "acmecorp.co.uk"}}));
    other_ = Id(server_.Api(admin_, "POST", "/api/v1/clients", {{"name", "Other Ltd"}}));
    jane_ = Id(server_.Api(admin_, "POST", Client(acme_) + "/contacts",
                           {{"name", "Jane Smith"}, {"email", "jane@acmecorp.co.uk"}}));
    vip_ =
        Id(server_.Api(admin_, "POST", Client(acme_) + "/contacts",
                       {{"name", "Victor Boss"}, {"email", "ceo@acmecorp.co.uk"}, {"vip", true}}));
    stranger_ = Id(server_.Api(admin_, "POST", Client(other_) + "/contacts",
                               {{"name", "Olga"}, {"email", "olga@other.example"}}));
  }
  static std::string Client(int64_t id) { return "/api/v1/clients/" + std::to_string(id); }
  static std::string T(int64_t id) { return "/api/v1/tickets/" + std::to_string(id); }
  static int64_t Id(const HttpResult& r) {
    EXPECT_TRUE(r.status == 200 || r.status == 201) << r.status << " " << r.body;
    return r.Json().value("id", int64_t{0});
  }
  json Open(const json& body, const std::string& key = "") {
    HttpResult r = server_.Api(key.empty() ? tech_ : key, "POST", "/api/v1/tickets", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json();
  }

  Server server_;
  std::string admin_, tech_;
  int64_t acme_ = 0, other_ = 0, jane_ = 0, vip_ = 0, stranger_ = 0;
};

TEST_F(Tickets, ANewTicketHasTheNextNumberAndItsPrioritysSlaDueTimes) {
  json a = Open({{"client_id", acme_}, {"subject", "Printer on fire"}, {"contact_id", jane_}});
  json b = Open({{"client_id", acme_}, {"subject", "  Email   down  "}, {"priority", "urgent"}});
  EXPECT_EQ(b["number"].get<int64_t>(), a["number"].get<int64_t>() + 1);
  EXPECT_EQ(a["status"], "new");
  EXPECT_EQ(a["priority"], "normal");
  EXPECT_EQ(a["source"], "api");
  EXPECT_EQ(a["vip"], false);
  EXPECT_EQ(b["subject"], "Email down");
  // Defaults: normal 4 h / 2 days, urgent 30 min / 4 h, from when it was opened.
  EXPECT_EQ(a["first_response_due_at"], "2026-12-02T13:00:00Z");
  EXPECT_EQ(a["resolution_due_at"], "2026-12-04T09:00:00Z");
  EXPECT_EQ(b["first_response_due_at"], "2026-12-02T09:30:00Z");
  EXPECT_EQ(b["resolution_due_at"], "2026-12-02T13:00:00Z");
  // Settings decide the targets.
  server_.Sql(
      "INSERT INTO settings (key, value, updated_at) VALUES ('sla', "
      "'{\"normal\":{\"first_response_minutes\":15}}', '')");
  json c = Open({{"client_id", acme_}, {"subject", "Quick one"}});
  EXPECT_EQ(c["first_response_due_at"], "2026-12-02T09:15:00Z");
  EXPECT_EQ(c["resolution_due_at"], "2026-12-04T09:00:00Z") << "what settings leave out stays";
}

TEST_F(Tickets, AVipContactsTicketStartsOnePriorityHigherAndAtLeastHigh) {
  json low =
      Open({{"client_id", acme_}, {"subject", "Mouse"}, {"contact_id", vip_}, {"priority", "low"}});
  EXPECT_EQ(low["vip"], true);
  EXPECT_EQ(low["priority"], "high");
  EXPECT_EQ(low["first_response_due_at"], "2026-12-02T10:00:00Z") << "High's SLA";
  json high = Open(
      {{"client_id", acme_}, {"subject", "Server"}, {"contact_id", vip_}, {"priority", "high"}});
  EXPECT_EQ(high["priority"], "urgent");
  json plain = Open(
      {{"client_id", acme_}, {"subject", "Mouse"}, {"contact_id", jane_}, {"priority", "low"}});
  EXPECT_EQ(plain["priority"], "low");
}

TEST_F(Tickets, WhatATicketNamesMustBelongToItsClient) {
  auto refused = [&](const json& body, const std::string& field) {
    HttpResult r = server_.Api(tech_, "POST", "/api/v1/tickets", body);
    EXPECT_EQ(r.status, 422) << body.dump();
    EXPECT_EQ(r.Json()["error"]["field"], field) << r.body;
  };
  refused({{"client_id", acme_}, {"subject", "x"}, {"contact_id", stranger_}}, "contact_id");
  int64_t other_site =
      Id(server_.Api(admin_, "POST", Client(other_) + "/sites", {{"name", "Elsewhere"}}));
  refused({{"client_id", acme_}, {"subject", "x"}, {"site_id", other_site}}, "site_id");
  refused({{"client_id", acme_}, {"subject", ""}}, "subject");
  refused({{"client_id", acme_}, {"subject", std::string(201, 'a')}}, "subject");
  refused({{"client_id", acme_}, {"subject", "x"}, {"priority", "critical"}}, "priority");
  refused({{"subject", "x"}, {"contact_id", jane_}}, "client_id");
  refused({{"client_id", acme_}, {"subject", "x"}, {"assignee_id", 9999}}, "assignee_id");
  EXPECT_EQ(
      server_.Api(tech_, "POST", "/api/v1/tickets", {{"client_id", 9999}, {"subject", "x"}}).status,
      404);
  EXPECT_EQ(server_
                .Api(tech_, "POST", "/api/v1/tickets",
                     {{"client_id", acme_}, {"subject", "x"}, {"colour", 1}})
                .status,
            422);
  json triage = Open({{"subject", "From nobody we know"}});
  EXPECT_TRUE(triage["client_id"].is_null());
  int64_t id = triage["id"];
  EXPECT_EQ(server_.Api(tech_, "POST", T(id) + "/replies", {{"body", "hi"}}).status, 422)
      << "no reply before the client is known";
  EXPECT_EQ(server_.Api(tech_, "PATCH", T(id), {{"contact_id", stranger_}}).status, 422);
  HttpResult moved =
      server_.Api(tech_, "PATCH", T(id), {{"client_id", other_}, {"contact_id", stranger_}});
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(moved.Json()["client_id"], other_);
  EXPECT_EQ(moved.Json()["contact_id"], stranger_);
}

TEST_F(Tickets, TheConversationRecordsRepliesNotesAndEveryChange) {
  json t = Open({{"client_id", acme_}, {"subject", "VPN"}, {"contact_id", jane_}});
  int64_t id = t["id"];
  server_.AdvanceClock(600);
  HttpResult reply =
      server_.Api(tech_, "POST", T(id) + "/replies", {{"body", "Try restarting it."}});
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(reply.Json()["kind"], "public");
  EXPECT_EQ(server_.Api(tech_, "POST", T(id) + "/notes", {{"body", "  "}}).status, 422);
  EXPECT_EQ(server_.Api(tech_, "POST", T(id) + "/notes", {{"body", "User is remote."}}).status,
            201);
  int64_t tech_id = std::stoll(
      server_.Query("SELECT id FROM staff_users WHERE email = 'tech@msp.example'")[0][0]);
  HttpResult changed = server_.Api(
      tech_, "PATCH", T(id),
      {{"status", "waiting_on_client"}, {"assignee_id", tech_id}, {"priority", "high"}});
  ASSERT_EQ(changed.status, 200) << changed.body;
  json after = server_.Api(tech_, "GET", T(id)).Json();
  EXPECT_EQ(after["status"], "waiting_on_client");
  EXPECT_EQ(after["assignee_id"], tech_id);
  EXPECT_EQ(after["first_responded_at"], "2026-12-02T09:10:00Z");
  EXPECT_EQ(after["first_response_due_at"], "2026-12-02T10:00:00Z") << "High's SLA from opening";
  std::vector<std::string> kinds;
  for (const auto& e : after["entries"]) kinds.push_back(e["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"system", "public", "internal", "system"}));
  std::string last = after["entries"][3]["body"];
  EXPECT_NE(last.find("Status: Open → Waiting on client"), std::string::npos) << last;
  EXPECT_NE(last.find("Priority: Normal → High"), std::string::npos) << last;
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'ticket'")[0][0],
            "4");
}

TEST_F(Tickets, TimeEntriesAreCheckedAndListed) {
  int64_t id = Open({{"client_id", acme_}, {"subject", "Laptop"}})["id"];
  auto refused = [&](const json& body, const std::string& field) {
    HttpResult r = server_.Api(tech_, "POST", T(id) + "/time-entries", body);
    EXPECT_EQ(r.status, 422) << body.dump();
    EXPECT_EQ(r.Json()["error"]["field"], field) << r.body;
  };
  refused({{"minutes", 0}, {"date", "2026-12-02"}}, "minutes");
  refused({{"minutes", 1441}, {"date", "2026-12-02"}}, "minutes");
  refused({{"minutes", 30}, {"date", "2026-02-30"}}, "date");
  refused({{"minutes", 30}, {"date", "02/12/2026"}}, "date");
  refused({{"date", "2026-12-02"}}, "minutes");
  ASSERT_EQ(
      server_
          .Api(tech_, "POST", T(id) + "/time-entries",
               {{"minutes", 45}, {"date", "2026-12-02"}, {"billable", false}, {"note", "Reimage"}})
          .status,
      201);
  ASSERT_EQ(
      server_.Api(tech_, "POST", T(id) + "/time-entries", {{"minutes", 15}, {"date", "2024-02-29"}})
          .status,
      201);
  json list = server_.Api(tech_, "GET", T(id) + "/time-entries").Json()["items"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["date"], "2024-02-29");
  EXPECT_EQ(list[0]["billable"], true);
  EXPECT_EQ(list[1]["minutes"], 45);
  EXPECT_EQ(list[1]["billable"], false);
  EXPECT_FALSE(list[1]["staff_name"].get<std::string>().empty());
}

TEST_F(Tickets, TheQueueFiltersAndSorts) {
  int64_t a = Open({{"client_id", acme_}, {"subject", "Printer jammed"}})["id"];
  int64_t b =
      Open({{"client_id", other_}, {"subject", "Email bounce"}, {"priority", "urgent"}})["id"];
  int64_t c = Open({{"subject", "Unknown sender"}})["id"];
  server_.Api(tech_, "PATCH", T(b), {{"status", "resolved"}});
  auto ids = [&](const std::string& query) {
    HttpResult r = server_.Api(tech_, "GET", "/api/v1/tickets" + query);
    EXPECT_EQ(r.status, 200) << query << " " << r.body;
    std::set<int64_t> out;
    json page = r.Json();
    for (const auto& t : page["items"]) out.insert(t["id"].get<int64_t>());
    return out;
  };
  EXPECT_EQ(ids(""), (std::set<int64_t>{a, b, c}));
  EXPECT_EQ(ids("?client_id=" + std::to_string(acme_)), (std::set<int64_t>{a}));
  EXPECT_EQ(ids("?triage=true"), (std::set<int64_t>{c}));
  EXPECT_EQ(ids("?status=active"), (std::set<int64_t>{a, c}));
  EXPECT_EQ(ids("?status=resolved"), (std::set<int64_t>{b}));
  EXPECT_EQ(ids("?priority=urgent"), (std::set<int64_t>{b}));
  EXPECT_EQ(ids("?q=print"), (std::set<int64_t>{a}));
  EXPECT_EQ(ids("?q=jammed"), (std::set<int64_t>{a}));
  int64_t number = server_.Api(tech_, "GET", T(c)).Json()["number"];
  EXPECT_EQ(ids("?q=%23" + std::to_string(number)), (std::set<int64_t>{c}));
  EXPECT_EQ(ids("?assignee_id=none"), (std::set<int64_t>{a, b, c}));
  EXPECT_EQ(ids("?mine=true"), (std::set<int64_t>{}));
  EXPECT_EQ(ids("?sla=breached"), (std::set<int64_t>{}));
  server_.AdvanceClock(5 * 3600);  // past normal's 4 h first response; b is resolved
  EXPECT_EQ(ids("?sla=breached"), (std::set<int64_t>{a, c}));
  for (const char* bad : {"?status=pending", "?sort=colour", "?sla=late", "?client_id=x"}) {
    EXPECT_EQ(server_.Api(tech_, "GET", std::string("/api/v1/tickets") + bad).status, 422) << bad;
  }
  json sorted = server_.Api(tech_, "GET", "/api/v1/tickets?sort=priority").Json()["items"];
  EXPECT_EQ(sorted[0]["id"], b) << "urgent first";
  json found = server_.Api(tech_, "GET", "/api/v1/search?q=jammed").Json();
  EXPECT_EQ(found["tickets"][0]["id"], a) << found.dump();
}

TEST_F(Tickets, ResolvedTicketsCloseAfterTheConfiguredDays) {
  int64_t id = Open({{"client_id", acme_}, {"subject", "Done soon"}})["id"];
  server_.Api(tech_, "PATCH", T(id), {{"status", "resolved"}});
  server_.AdvanceClock(6 * 86400);
  server_.Tick();
  EXPECT_EQ(server_.Api(tech_, "GET", T(id)).Json()["status"], "resolved");
  server_.AdvanceClock(2 * 86400);
  server_.Tick();
  json t = server_.Api(tech_, "GET", T(id)).Json();
  EXPECT_EQ(t["status"], "closed");
  EXPECT_NE(t["entries"].back()["body"].get<std::string>().find("Closed"), std::string::npos);
}

TEST_F(Tickets, ClientsCountTheirTicketsRefuseDeleteAndMergeMovesThem) {
  int64_t id =
      Open({{"client_id", other_}, {"subject", "Keep me"}, {"contact_id", stranger_}})["id"];
  EXPECT_EQ(server_.Api(tech_, "GET", Client(other_)).Json()["counts"]["tickets"], 1);
  HttpResult del = server_.Api(admin_, "DELETE", Client(other_));
  EXPECT_EQ(del.status, 409) << "C6: archive instead";
  HttpResult merged = server_.Api(admin_, "POST", "/api/v1/clients/merge",
                                  {{"survivor_id", acme_}, {"merged_ids", {other_}}});
  ASSERT_EQ(merged.status, 200) << merged.body;
  json t = server_.Api(tech_, "GET", T(id)).Json();
  EXPECT_EQ(t["client_id"], acme_) << "C5: the ticket moves with its client";
  EXPECT_EQ(t["contact_id"], stranger_) << "and keeps its contact, moved too";
}

TEST_F(Tickets, NumbersStayUniqueWhenManyAreOpenedAtOnce) {
  std::vector<std::thread> threads;
  std::mutex m;
  std::set<int64_t> numbers;
  std::atomic<int> failures{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < 5; ++j) {
        HttpResult r =
            server_.Api(tech_, "POST", "/api/v1/tickets",
                        {{"client_id", acme_}, {"subject", "Race " + std::to_string(i * 10 + j)}});
        if (r.status != 201) {
          ++failures;
          continue;
        }
        std::lock_guard<std::mutex> lock(m);
        numbers.insert(r.Json()["number"].get<int64_t>());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(numbers.size(), 40u);
  EXPECT_EQ(*numbers.rbegin() - *numbers.begin(), 39) << "sequential, no gaps";
}

TEST_F(Tickets, BillingStaffReadTicketsButDoNotWorkThem) {
  std::string billing = server_.AddUserWithKey("billing@msp.example", "billing");
  int64_t id = Open({{"client_id", acme_}, {"subject", "Invoice query"}})["id"];
  EXPECT_EQ(server_.Api(billing, "GET", T(id)).status, 200);
  EXPECT_EQ(
      server_.Api(billing, "POST", "/api/v1/tickets", {{"client_id", acme_}, {"subject", "x"}})
          .status,
      403);
  EXPECT_EQ(server_.Api(billing, "POST", T(id) + "/replies", {{"body", "x"}}).status, 403);
  EXPECT_EQ(server_.Api(billing, "PATCH", T(id), {{"status", "closed"}}).status, 403);
  EXPECT_EQ(server_.Request("GET", T(id)).status, 401);
}

TEST_F(Tickets, SlaTimeCanCountInBusinessHoursOnly) {
  HttpResult bad =
      server_.Api(admin_, "PATCH", "/api/v1/settings",
                  {{"business_hours", {{"days", {"mon"}}, {"start", "18:00"}, {"end", "09:00"}}}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("business_hours"), std::string::npos);
  json hours = {
      {"days", {"mon", "tue", "wed", "thu", "fri"}}, {"start", "09:00"}, {"end", "17:30"}};
  HttpResult ok = server_.Api(admin_, "PATCH", "/api/v1/settings", {{"business_hours", hours}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json()["business_hours"]["end"], "17:30");
  // Wednesday 16:00 (London, GMT): normal's 4 h first response is Thursday 11:30.
  server_.FreezeClock(kStart + 7 * 3600);
  json t = Open({{"client_id", acme_}, {"subject", "After hours"}});
  EXPECT_EQ(t["first_response_due_at"], "2026-12-03T11:30:00Z");
  // Around the clock again.
  ASSERT_EQ(server_.Api(admin_, "PATCH", "/api/v1/settings", {{"business_hours", nullptr}}).status,
            200);
  t = Open({{"client_id", acme_}, {"subject", "Around the clock"}});
  EXPECT_EQ(t["first_response_due_at"], "2026-12-02T20:00:00Z");
}

TEST_F(Tickets, AnEndpointHasATicketsTabAndATicketsContactSiteAndEndpointChangeOnItsPage) {
  std::string a = std::to_string(acme_), o = std::to_string(other_);
  server_.Sql("INSERT INTO endpoints (client_id, hostname, created_at) VALUES (" + a +
              ", 'ACME-LT-042', 'now')");
  server_.Sql("INSERT INTO endpoints (client_id, hostname, created_at) VALUES (" + o +
              ", 'OTHER-PC', 'now')");
  std::string pc = server_.Query("SELECT id FROM endpoints WHERE hostname = 'ACME-LT-042'")[0][0];
  int64_t site = Id(server_.Api(admin_, "POST", Client(acme_) + "/sites", {{"name", "Leeds"}}));
  Browser b(server_);
  ASSERT_EQ(b.SignIn("tech@msp.example", "a long enough password"), 303);
  // + New ticket from the endpoint's page: the endpoint comes along.
  EXPECT_NE(
      b.Get("/endpoints/" + pc).body.find("/tickets/new?client_id=" + a + "&amp;endpoint_id=" + pc),
      std::string::npos);
  HttpResult form = b.Get("/tickets/new?client_id=" + a + "&endpoint_id=" + pc);
  EXPECT_NE(form.body.find("ACME-LT-042"), std::string::npos);
  HttpResult created = b.Post(
      "/tickets",
      {{"client_id", a}, {"endpoint_id", pc}, {"subject", "Fan noise"}, {"priority", "normal"}});
  ASSERT_EQ(created.status, 303);
  std::string url = created.Header("location");
  HttpResult tab = b.Get("/endpoints/" + pc + "/tickets");
  EXPECT_EQ(tab.status, 200);
  EXPECT_NE(tab.body.find("Fan noise"), std::string::npos);
  EXPECT_NE(tab.body.find("Tickets for ACME-LT-042"), std::string::npos);
  // Contact, site and endpoint change on the ticket's page; another client's are refused.
  EXPECT_EQ(b.Post(url, {{"status", "open"},
                         {"priority", "normal"},
                         {"assignee_id", ""},
                         {"contact_id", std::to_string(jane_)},
                         {"site_id", std::to_string(site)},
                         {"endpoint", "acme-lt-042"}})
                .status,
            303);
  json t = server_.Api(tech_, "GET", "/api/v1/tickets/" + url.substr(url.rfind('/') + 1)).Json();
  EXPECT_EQ(t["contact_id"], jane_);
  EXPECT_EQ(t["site_id"], site);
  EXPECT_EQ(std::to_string(t["endpoint_id"].get<int64_t>()), pc);
  HttpResult wrong = b.Post(url, {{"status", "open"},
                                  {"priority", "normal"},
                                  {"assignee_id", ""},
                                  {"contact_id", std::to_string(stranger_)},
                                  {"site_id", ""},
                                  {"endpoint", "OTHER-PC"}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.body.find("This client has no endpoint named OTHER-PC"), std::string::npos);
  wrong = b.Post(url, {{"status", "open"},
                       {"priority", "normal"},
                       {"assignee_id", ""},
                       {"contact_id", std::to_string(stranger_)},
                       {"site_id", ""},
                       {"endpoint", ""}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.body.find("That contact belongs to another client"), std::string::npos);
  t = server_.Api(tech_, "GET", "/api/v1/tickets/" + url.substr(url.rfind('/') + 1)).Json();
  EXPECT_EQ(t["contact_id"], jane_);
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

TEST_F(Tickets, ATechnicianWorksATicketFromThePages) {
  Browser b(server_);
  ASSERT_EQ(b.SignIn("tech@msp.example", "a long enough password"), 303);
  // From the client's Tickets tab: + New ticket, with the client's contacts offered.
  HttpResult tab = b.Get("/clients/" + std::to_string(acme_) + "/tickets");
  ASSERT_EQ(tab.status, 200);
  EXPECT_NE(tab.body.find("No tickets match."), std::string::npos);
  HttpResult form = b.Get("/tickets/new?client_id=" + std::to_string(acme_));
  ASSERT_EQ(form.status, 200);
  EXPECT_NE(form.body.find("Victor Boss (VIP)"), std::string::npos);
  EXPECT_EQ(b.Post("/tickets", {{"client_id", std::to_string(acme_)}, {"subject", " "}}).status,
            422);
  HttpResult created = b.Post("/tickets", {{"client_id", std::to_string(acme_)},
                                           {"contact_id", std::to_string(vip_)},
                                           {"subject", "<b>Board</b> meeting AV"},
                                           {"description", "Projector\nno signal"},
                                           {"priority", "normal"}});
  ASSERT_EQ(created.status, 303) << created.body.substr(0, 500);
  std::string url = created.Header("location");
  HttpResult page = b.Get(url);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("&lt;b&gt;Board&lt;/b&gt; meeting AV"), std::string::npos);
  EXPECT_NE(page.body.find(">VIP</span>"), std::string::npos);
  EXPECT_NE(page.body.find("Projector\nno signal"), std::string::npos);
  // Reply, note, time, status: each lands on the ticket.
  EXPECT_EQ(b.Post(url + "/entries", {{"kind", "reply"}, {"body", ""}}).status, 422);
  EXPECT_EQ(b.Post(url + "/entries", {{"kind", "reply"}, {"body", "On my way."}}).status, 303);
  EXPECT_EQ(
      b.Post(url + "/entries", {{"kind", "note"}, {"body", "Spare cable in cupboard."}}).status,
      303);
  EXPECT_EQ(b.Post(url + "/time", {{"minutes", "abc"}, {"date", "2026-12-02"}}).status, 422);
  EXPECT_EQ(
      b.Post(url + "/time",
             {{"minutes", "30"}, {"date", "2026-12-02"}, {"billable", "on"}, {"note", "Onsite"}})
          .status,
      303);
  EXPECT_EQ(
      b.Post(url, {{"status", "resolved"}, {"priority", "urgent"}, {"assignee_id", ""}}).status,
      303);
  page = b.Get(url);
  EXPECT_NE(page.body.find("On my way."), std::string::npos);
  EXPECT_NE(page.body.find("Internal note"), std::string::npos);
  EXPECT_NE(page.body.find("0 h 30 min"), std::string::npos);
  EXPECT_NE(page.body.find("Status: Open → Resolved"), std::string::npos);
  // The queue: open tickets by default; resolved ones under their status.
  EXPECT_NE(b.Get("/tickets").body.find("No tickets match."), std::string::npos);
  EXPECT_NE(b.Get("/tickets?status=resolved").body.find("meeting AV"), std::string::npos);
  EXPECT_NE(b.Get("/tickets?status=&view=mine&priority=urgent&sla=breached&q=board").status, 500);
  // A new ticket by typed client name; an unknown name is refused by its field.
  ASSERT_EQ(b.Get("/tickets/new").status, 200);
  HttpResult unknown = b.Post("/tickets", {{"client", "Nobody Ltd"}, {"subject", "x"}});
  EXPECT_EQ(unknown.status, 422);
  EXPECT_NE(unknown.body.find("No active client is named Nobody Ltd"), std::string::npos);
  EXPECT_EQ(b.Post("/tickets", {{"client", "acme corp"}, {"subject", "Typed client"}}).status, 303);
  EXPECT_EQ(b.Post("/tickets", {{"client", ""}, {"subject", "Goes to triage"}}).status, 303);
  EXPECT_NE(b.Get("/tickets?view=triage").body.find("Goes to triage"), std::string::npos);
  EXPECT_EQ(b.Get("/tickets/99999").status, 404);
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

TEST_F(Tickets, RepliesAreEmailedToTheContactAndThreadedByOurMessageIds) {
  if (!SmtpSink::Available()) GTEST_SKIP() << "python3-aiosmtpd is not installed (scripts/deps)";
  SmtpSink smtp;
  ASSERT_EQ(server_
                .Api(admin_, "PATCH", "/api/v1/settings",
                     {{"smtp_url", smtp.url()}, {"mail_from", "help@msp.example"}})
                .status,
            200);
  json t = Open({{"client_id", acme_}, {"subject", "Café printer ☕"}, {"contact_id", jane_}});
  int64_t id = t["id"];
  ASSERT_EQ(
      server_.Api(tech_, "POST", T(id) + "/replies", {{"body", "First answer.\nLine two."}}).status,
      201);
  ASSERT_EQ(server_.Api(tech_, "POST", T(id) + "/notes", {{"body", "Internal only."}}).status, 201);
  ASSERT_EQ(server_.Api(tech_, "POST", T(id) + "/replies", {{"body", "Second answer."}}).status,
            201);
  // Queued mail goes out as its transaction commits (the scheduler is asked to
  // send at once, not at the mail job's next period); a tick returns once the pass
  // that sends it is done. The SMTP server received both replies, and each row is
  // marked sent (after the server's OK).
  server_.Tick();
  EXPECT_EQ(server_.Query("SELECT id FROM mail_outbox WHERE status = 'sent'").size(), 2u)
      << server_.Query("SELECT last_error FROM mail_outbox")[0][0];
  std::string box = smtp.Received();
  EXPECT_EQ(box.find("Internal only."), std::string::npos) << "notes are never emailed";
  EXPECT_NE(box.find("To: jane@acmecorp.co.uk"), std::string::npos);
  EXPECT_NE(box.find("Subject: =?UTF-8?B?"), std::string::npos) << "non-ASCII subjects are encoded";
  EXPECT_NE(box.find("X-Auto-Response-Suppress: All"), std::string::npos);
  EXPECT_NE(box.find("X-OpsMerge-Loop: msp.example"), std::string::npos);
  EXPECT_NE(box.find("First answer.\nLine two."), std::string::npos) << box;
  // The second reply refers to the first by the Message-ID we sent.
  std::vector<std::string> ids;
  for (const auto& row : server_.Query("SELECT message_id, status FROM mail_outbox ORDER BY id")) {
    ids.push_back(row[0]);
    EXPECT_EQ(row[1], "sent");
  }
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_NE(box.find("In-Reply-To: " + ids[0]), std::string::npos);
  EXPECT_NE(box.find("Message-ID: " + ids[1]), std::string::npos);
  EXPECT_EQ(ids[0].find("@msp.example>"), ids[0].size() - 13);
}

TEST_F(Tickets, MailThatCannotBeSentWaitsAndIsRetriedNotLost) {
  ASSERT_EQ(server_
                .Api(admin_, "PATCH", "/api/v1/settings",
                     {{"smtp_url", "smtp://127.0.0.1:9"}, {"mail_from", "help@msp.example"}})
                .status,
            200);
  int64_t id =
      Open({{"client_id", acme_}, {"subject", "Offline SMTP"}, {"contact_id", jane_}})["id"];
  ASSERT_EQ(server_.Api(tech_, "POST", T(id) + "/replies", {{"body", "Hello"}}).status, 201);
  // The attempt made as the reply committed failed; it is recorded, and retried.
  server_.Tick();
  auto rows = server_.Query("SELECT status, attempts, last_error FROM mail_outbox");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "queued");
  EXPECT_EQ(rows[0][1], "1");
  EXPECT_FALSE(rows[0][2].empty());
  // Two days of retries later (the 20th attempt), it is marked failed: kept, not
  // sent again, and the reason is there for the admin.
  server_.Sql("UPDATE mail_outbox SET attempts = 19, next_attempt_at = 0");
  server_.AdvanceClock(15);  // the mail job's next period
  server_.Tick();
  rows = server_.Query("SELECT status, attempts, last_error FROM mail_outbox");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], "20");
  EXPECT_EQ(rows[0][0], "failed");
  EXPECT_FALSE(rows[0][2].empty());
}

}  // namespace
}  // namespace opsmerge::testing
