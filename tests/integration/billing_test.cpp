// Contracts and recurring invoices (B1-B4) through the API, the command line and
// the pages: live endpoint counts prorated by actual days, one invoice per
// client-month whatever happens (reruns, concurrent runs, two nodes, a run killed
// half-way), gap-free numbers on issue, void and reissue, and who may bill.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;

constexpr int64_t kStart = 1796202000;  // 2026-12-02T09:00:00Z
constexpr const char* kPassword = "a long enough password";

class Billing : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.FreezeClock(kStart);
    admin_ = server_.AddUserWithKey("admin@msp.example", "admin");
    billing_ = server_.AddUserWithKey("billing@msp.example", "billing");
    tech_ = server_.AddUserWithKey("tech@msp.example", "technician");
    acme_ = NewClient("Acme Corp");
  }
  static std::string C(int64_t id) { return "/api/v1/clients/" + std::to_string(id); }
  static std::string I(int64_t id) { return "/api/v1/invoices/" + std::to_string(id); }
  int64_t NewClient(const std::string& name) {
    HttpResult r = server_.Api(admin_, "POST", "/api/v1/clients", {{"name", name}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json().value("id", int64_t{0});
  }
  json Contract(int64_t client, const json& body) {
    HttpResult r = server_.Api(billing_, "POST", C(client) + "/contracts", body);
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json();
  }
  json Run(const std::string& month, const std::string& key = "") {
    HttpResult r = server_.Api(key.empty() ? billing_ : key, "POST", "/api/v1/billing/runs",
                               {{"month", month}});
    EXPECT_EQ(r.status, 201) << r.body;
    return r.Json();
  }
  json Invoices(const std::string& query) {
    HttpResult r = server_.Api(billing_, "GET", "/api/v1/invoices?" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }
  json Invoice(int64_t id) {
    HttpResult r = server_.Api(billing_, "GET", I(id));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }
  // Enrols `n` endpoints for `client` through the agent API; returns their ids.
  std::vector<int64_t> Enrol(int64_t client, int n) {
    HttpResult t = server_.Api(admin_, "POST", C(client) + "/enrollment-tokens", json::object());
    EXPECT_EQ(t.status, 201) << t.body;
    std::vector<int64_t> ids;
    for (int i = 0; i < n; ++i) {
      std::string host = "pc-" + std::to_string(client) + "-" + std::to_string(ids.size() + 1) +
                         "-" + std::to_string(i);
      HttpResult r =
          server_.Request("POST", "/agent/v1/enroll",
                          json({{"token", t.Json()["token"]}, {"hostname", host}}).dump(),
                          {{"Content-Type", "application/json"}});
      EXPECT_EQ(r.status, 201) << r.body;
      ids.push_back(r.Json().value("agent_id", int64_t{0}));
    }
    return ids;
  }
  // Clients with a fixed £100 contract each, made in the database directly (many).
  void ManyClients(const std::string& prefix, int n) {
    server_.Sql(
        "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < " +
        std::to_string(n) +
        ") INSERT INTO clients (name, name_key, name_core, created_at, updated_at) SELECT '" +
        prefix + " ' || i, '" + prefix + " ' || i, '" + prefix + " ' || i, 'x', 'x' FROM k");
    server_.Sql(
        "INSERT INTO contracts (client_id, name, kind, start_date, monthly_fee_pence, created_at, "
        "updated_at) SELECT id, 'Support', 'fixed', '2026-01-01', 10000, 'x', 'x' FROM clients "
        "WHERE name LIKE '" +
        prefix + " %'");
  }
  // Every client-month has one invoice that is not void, and every invoice is whole:
  // lines, and totals that are the sums of its lines.
  void ExpectOnePerClientMonthAndWhole() {
    EXPECT_TRUE(server_
                    .Query("SELECT billing_client_id, month FROM invoices WHERE status <> 'void' "
                           "GROUP BY billing_client_id, month HAVING COUNT(*) > 1")
                    .empty());
    EXPECT_TRUE(server_
                    .Query("SELECT i.id FROM invoices i WHERE NOT EXISTS (SELECT 1 FROM "
                           "invoice_lines l WHERE l.invoice_id = i.id)")
                    .empty())
        << "an invoice without lines is half-made";
    EXPECT_TRUE(
        server_
            .Query("SELECT i.id FROM invoices i WHERE i.net_pence <> (SELECT SUM(net_pence) "
                   "FROM invoice_lines l WHERE l.invoice_id = i.id) OR i.vat_pence <> "
                   "(SELECT SUM(vat_pence) FROM invoice_lines l WHERE l.invoice_id = i.id) "
                   "OR i.gross_pence <> i.net_pence + i.vat_pence")
            .empty());
  }
  int64_t Count(const std::string& select) { return std::stoll(server_.Query(select)[0][0]); }

  Server server_;
  std::string admin_, billing_, tech_;
  int64_t acme_ = 0;
};

TEST_F(Billing, APerEndpointContractBillsTheLiveCountProratedAndRerunningChangesNothing) {
  json k = Contract(acme_, {{"name", "Managed endpoints"},
                            {"kind", "per_endpoint"},
                            {"start_date", "2026-11-11"},
                            {"per_endpoint_pence", 1799}});
  EXPECT_EQ(k["monthly_fee_pence"], 0);
  EXPECT_TRUE(k["end_date"].is_null());
  std::vector<int64_t> eps = Enrol(acme_, 4);
  // R4: retired and non-billable endpoints are not counted.
  ASSERT_EQ(
      server_
          .Api(admin_, "PATCH", "/api/v1/endpoints/" + std::to_string(eps[0]), {{"retired", true}})
          .status,
      200);
  ASSERT_EQ(server_
                .Api(admin_, "PATCH", "/api/v1/endpoints/" + std::to_string(eps[1]),
                     {{"billable", false}})
                .status,
            200);
  json run = Run("2026-11");
  EXPECT_EQ(run["created"], 1);
  EXPECT_EQ(run["existing"], 0);
  json list = Invoices("client_id=" + std::to_string(acme_) + "&month=2026-11");
  ASSERT_EQ(list["total"], 1);
  json inv = Invoice(list["items"][0]["id"]);
  EXPECT_EQ(inv["status"], "draft");
  EXPECT_TRUE(inv["number"].is_null());
  EXPECT_TRUE(inv["issue_date"].is_null());
  EXPECT_EQ(inv["currency"], "GBP");
  EXPECT_EQ(inv["month"], "2026-11");
  ASSERT_EQ(inv["lines"].size(), 1u);
  json line = inv["lines"][0];
  EXPECT_EQ(line["quantity"], 2);
  EXPECT_EQ(line["unit_pence"], 1799);
  EXPECT_EQ(line["period_start"], "2026-11-11");
  EXPECT_EQ(line["period_end"], "2026-11-30");
  EXPECT_EQ(line["net_pence"], 2399) << "2 x 17.99 x 20/30 = 23.9867";
  EXPECT_EQ(line["vat_rate_bp"], 2000);
  EXPECT_EQ(line["vat_pence"], 480);
  EXPECT_EQ(line["working"],
            "2 endpoints x \xC2\xA3"
            "17.99 x 20/30 days");
  EXPECT_NE(line["description"].get<std::string>().find("11 Nov 2026"), std::string::npos);
  EXPECT_EQ(inv["net_pence"], 2399);
  EXPECT_EQ(inv["vat_pence"], 480);
  EXPECT_EQ(inv["gross_pence"], 2879);

  // A rerun changes nothing, even with another endpoint now.
  Enrol(acme_, 1);
  run = Run("2026-11");
  EXPECT_EQ(run["created"], 0);
  EXPECT_EQ(run["existing"], 1);
  EXPECT_EQ(Invoice(inv["id"])["net_pence"], 2399);
  std::string out;
  EXPECT_EQ(server_.Cli({"billing", "run", "--month", "2026-11"}, "", &out), 0);
  EXPECT_NE(out.find("0 drafts made, 1 already invoiced"), std::string::npos) << out;
  EXPECT_EQ(Invoices("month=2026-11")["total"], 1);

  // Regenerating the draft reads the count again.
  HttpResult re = server_.Api(billing_, "POST", I(inv["id"]) + "/regenerate");
  ASSERT_EQ(re.status, 200) << re.body;
  EXPECT_EQ(re.Json()["lines"][0]["quantity"], 3);
  EXPECT_EQ(re.Json()["net_pence"], 3598);  // 3 x 17.99 x 20/30 = 35.98
}

TEST_F(Billing, TheCommandLineRunPrintsWhatItMadeAndNamesABadMonth) {
  Contract(acme_, {{"name", "Support"},
                   {"kind", "fixed"},
                   {"start_date", "2026-01-01"},
                   {"monthly_fee_pence", 45000}});
  std::string out;
  EXPECT_EQ(server_.Cli({"billing", "run", "--month", "2026-11"}, "", &out), 0);
  EXPECT_NE(out.find("Acme Corp"), std::string::npos) << out;
  EXPECT_NE(out.find("\xC2\xA3"
                     "450.00 net"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("November 2026: 1 draft made, 0 already invoiced"), std::string::npos) << out;
  EXPECT_EQ(server_.Cli({"billing", "run", "--month", "2026-13"}, "", &out), 65);
  EXPECT_EQ(server_.Cli({"billing", "run"}, "", &out), 64) << "--month is required";
}

TEST_F(Billing, IssuingGivesGapFreeNumbersAndFreezesTheInvoiceVoidKeepsItsNumber) {
  ASSERT_EQ(server_
                .Api(admin_, "PATCH", "/api/v1/settings",
                     {{"supplier_name", "Northwind IT Ltd"},
                      {"supplier_address", "1 High Street\r\nLeeds LS1 1AA"},
                      {"vat_number", "GB123456789"},
                      {"invoice_number_format", "INV-{n:6}"},
                      {"payment_terms_days", 14}})
                .status,
            200);
  ASSERT_EQ(server_
                .Api(billing_, "PUT", C(acme_) + "/billing-address",
                     {{"billing_address", "2 Low Road\nYork"}})
                .status,
            200);
  int64_t other = NewClient("Zeta Ltd");
  json ka = Contract(acme_, {{"name", "Support"},
                             {"kind", "unlimited"},
                             {"start_date", "2026-01-01"},
                             {"monthly_fee_pence", 45000}});
  Contract(other, {{"name", "Hours"},
                   {"kind", "hours_block"},
                   {"start_date", "2026-01-01"},
                   {"monthly_fee_pence", 30000},
                   {"included_hours", 5},
                   {"overage_rate_pence", 9000}});
  EXPECT_EQ(Run("2026-11")["created"], 2);
  int64_t a = Invoices("client_id=" + std::to_string(acme_))["items"][0]["id"];
  int64_t z = Invoices("client_id=" + std::to_string(other))["items"][0]["id"];

  HttpResult issued = server_.Api(billing_, "POST", I(a) + "/issue");
  ASSERT_EQ(issued.status, 200) << issued.body;
  json ia = issued.Json();
  EXPECT_EQ(ia["status"], "issued");
  EXPECT_EQ(ia["number"], "INV-000001");
  EXPECT_EQ(ia["issue_date"], "2026-12-02");
  EXPECT_EQ(ia["due_date"], "2026-12-16");
  EXPECT_EQ(ia["supplier"]["name"], "Northwind IT Ltd");
  EXPECT_EQ(ia["supplier"]["address"], "1 High Street\nLeeds LS1 1AA");
  EXPECT_EQ(ia["supplier"]["vat_number"], "GB123456789");
  EXPECT_EQ(ia["customer"]["name"], "Acme Corp");
  EXPECT_EQ(ia["customer"]["address"], "2 Low Road\nYork");
  EXPECT_EQ(server_.Api(billing_, "POST", I(z) + "/issue").Json()["number"], "INV-000002");

  // Frozen: not issued twice, not worked out again; later settings do not change it.
  EXPECT_EQ(server_.Api(billing_, "POST", I(a) + "/issue").status, 409);
  EXPECT_EQ(server_.Api(billing_, "POST", I(a) + "/regenerate").status, 409);
  server_.Api(admin_, "PATCH", "/api/v1/settings", {{"supplier_name", "Renamed Ltd"}});
  EXPECT_EQ(Invoice(a)["supplier"]["name"], "Northwind IT Ltd");

  // Void keeps the number; the client-month stays billed until a reissue.
  HttpResult v = server_.Api(billing_, "POST", I(a) + "/void");
  ASSERT_EQ(v.status, 200) << v.body;
  EXPECT_EQ(v.Json()["status"], "void");
  EXPECT_EQ(v.Json()["number"], "INV-000001");
  EXPECT_EQ(server_.Api(billing_, "POST", I(a) + "/void").status, 409);
  EXPECT_EQ(Run("2026-11")["created"], 0);
  EXPECT_EQ(server_.Api(billing_, "POST", I(z) + "/reissue").status, 409) << "not void";
  HttpResult re = server_.Api(billing_, "POST", I(a) + "/reissue");
  ASSERT_EQ(re.status, 201) << re.body;
  EXPECT_EQ(re.Json()["status"], "draft");
  EXPECT_EQ(re.Json()["reissue_of"], a);
  EXPECT_EQ(server_.Api(billing_, "POST", I(a) + "/reissue").status, 409) << "one reissue";
  EXPECT_EQ(server_.Api(billing_, "POST", I(re.Json()["id"]) + "/issue").Json()["number"],
            "INV-000003");

  // Invoiced contracts and clients are kept: end the contract, archive the client.
  std::string contract = "/api/v1/contracts/" + std::to_string(ka["id"].get<int64_t>());
  EXPECT_EQ(server_.Api(billing_, "DELETE", contract).status, 409);
  HttpResult ended = server_.Api(billing_, "PATCH", contract, {{"end_date", "2026-12-31"}});
  ASSERT_EQ(ended.status, 200) << ended.body;
  EXPECT_EQ(ended.Json()["end_date"], "2026-12-31");
  EXPECT_EQ(server_.Api(admin_, "DELETE", C(acme_)).status, 409);
  // Every step is in the client's history.
  EXPECT_GE(Count("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'invoice' AND client_id = " +
                  std::to_string(acme_)),
            4);
}

TEST_F(Billing, ArchivedClientsAreNotInvoicedAndAContractNeverInvoicedCanBeDeleted) {
  json k = Contract(acme_, {{"name", "Support"},
                            {"kind", "fixed"},
                            {"start_date", "2026-01-01"},
                            {"monthly_fee_pence", 100}});
  ASSERT_EQ(server_.Api(admin_, "POST", C(acme_) + "/archive").status, 200);
  EXPECT_EQ(Run("2026-11")["created"], 0);
  EXPECT_EQ(
      server_.Api(billing_, "DELETE", "/api/v1/contracts/" + std::to_string(k["id"].get<int64_t>()))
          .status,
      204);
  // No contract and no time: nothing to bill, no invoice.
  int64_t idle = NewClient("Idle Ltd");
  EXPECT_EQ(Run("2026-11")["created"], 0);
  EXPECT_EQ(Invoices("client_id=" + std::to_string(idle))["total"], 0);
}

TEST_F(Billing, OnlyAdminsAndTheBillingRoleTouchBillingAndBillingTouchesNothingElse) {
  json k = Contract(acme_, {{"name", "Support"},
                            {"kind", "fixed"},
                            {"start_date", "2026-01-01"},
                            {"monthly_fee_pence", 100}});
  EXPECT_EQ(server_.Api(tech_, "GET", C(acme_) + "/contracts").status, 200)
      << "technicians see them";
  EXPECT_EQ(server_
                .Api(tech_, "POST", C(acme_) + "/contracts",
                     {{"name", "X"}, {"kind", "fixed"}, {"start_date", "2026-01-01"}})
                .status,
            403);
  EXPECT_EQ(server_
                .Api(tech_, "PATCH", "/api/v1/contracts/" + std::to_string(k["id"].get<int64_t>()),
                     {{"name", "Y"}})
                .status,
            403);
  EXPECT_EQ(server_.Api(tech_, "GET", "/api/v1/invoices").status, 403);
  EXPECT_EQ(server_.Api(tech_, "POST", "/api/v1/billing/runs", {{"month", "2026-11"}}).status, 403);
  EXPECT_EQ(Run("2026-11", admin_)["created"], 1);
  // The billing role cannot change staff, settings or the RMM.
  EXPECT_EQ(server_.Api(billing_, "PATCH", "/api/v1/settings", {{"supplier_name", "X"}}).status,
            403);
  EXPECT_EQ(server_.Api(billing_, "GET", "/api/v1/settings").status, 403);
  Browser b(server_);
  ASSERT_EQ(b.SignIn("billing@msp.example", kPassword), 303);
  EXPECT_EQ(b.Get("/settings/staff").status, 403);
  EXPECT_EQ(b.Get("/settings/general").status, 403);
  EXPECT_EQ(b.Get("/invoices").status, 200);
  std::vector<int64_t> eps = Enrol(acme_, 1);
  EXPECT_EQ(server_
                .Api(billing_, "PATCH", "/api/v1/endpoints/" + std::to_string(eps[0]),
                     {{"billable", false}})
                .status,
            403);
  EXPECT_EQ(server_.Api(billing_, "POST", C(acme_) + "/enrollment-tokens", json::object()).status,
            403);
}

TEST_F(Billing, BadInputIsRefusedNamingTheField) {
  json ok = {{"name", "Support"}, {"kind", "fixed"}, {"start_date", "2026-01-01"}};
  auto field = [&](const std::string& key, const json& value) {
    json body = ok;
    body[key] = value;
    HttpResult r = server_.Api(billing_, "POST", C(acme_) + "/contracts", body);
    EXPECT_EQ(r.status, 422) << r.body;
    return r.Json()["error"].value("field", "");
  };
  EXPECT_EQ(field("kind", "weekly"), "kind");
  EXPECT_EQ(field("start_date", "2026-02-30"), "start_date");
  EXPECT_EQ(field("end_date", "2025-12-31"), "end_date");
  EXPECT_EQ(field("monthly_fee_pence", -5), "monthly_fee_pence");
  EXPECT_EQ(field("monthly_fee_pence", 12.5), "monthly_fee_pence");
  EXPECT_EQ(field("name", "bad\x01name"), "name");
  EXPECT_EQ(field("per_endpoint_pence", 100), "per_endpoint_pence");
  EXPECT_EQ(field("surprise", 1), "surprise");
  HttpResult r = server_.Api(billing_, "POST", "/api/v1/billing/runs", {{"month", "2026-13"}});
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.Json()["error"]["field"], "month");
  EXPECT_EQ(server_.Api(billing_, "GET", "/api/v1/invoices?month=nov").status, 422);
  EXPECT_EQ(server_.Api(billing_, "GET", "/api/v1/invoices?status=paid").status, 422);
  for (const std::string& bad : {std::string("line\x01"), std::string(1001, 'a')}) {
    HttpResult a =
        server_.Api(billing_, "PUT", C(acme_) + "/billing-address", {{"billing_address", bad}});
    EXPECT_EQ(a.status, 422) << a.body;
    EXPECT_EQ(a.Json()["error"]["field"], "billing_address");
  }
  EXPECT_EQ(server_.Api(billing_, "POST", C(999999) + "/contracts", ok).status, 404);
  EXPECT_EQ(server_.Api(billing_, "GET", I(999999)).status, 404);
  HttpResult s =
      server_.Api(admin_, "PATCH", "/api/v1/settings", {{"invoice_number_format", "INV"}});
  EXPECT_EQ(s.status, 422);
  EXPECT_EQ(s.Json()["error"]["field"], "invoice_number_format");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM contracts"), 0) << "nothing half-written";
}

TEST_F(Billing, ConcurrentRunsAndIssuesMakeOneInvoicePerClientMonthAndGapFreeNumbers) {
  ManyClients("Busy", 40);
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      HttpResult r = server_.Api(billing_, "POST", "/api/v1/billing/runs", {{"month", "2026-11"}});
      if (r.status == 201) created += r.Json()["created"].get<int>();
    });
  }
  std::string out;
  int rc = server_.Cli({"billing", "run", "--month", "2026-11"}, "", &out);
  for (auto& t : threads) t.join();
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM invoices WHERE month = '2026-11'"), 40);
  ExpectOnePerClientMonthAndWhole();

  // Everyone issues everything at once: each invoice once, numbers 1..40 without a gap.
  std::vector<int64_t> ids;
  for (const auto& row : server_.Query("SELECT id FROM invoices ORDER BY id")) {
    ids.push_back(std::stoll(row[0]));
  }
  std::atomic<int> ok{0}, refused{0};
  threads.clear();
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      std::vector<int64_t> mine = ids;
      std::shuffle(mine.begin(), mine.end(), std::mt19937(static_cast<unsigned>(t)));
      for (int64_t id : mine) {
        int status = server_.Api(billing_, "POST", I(id) + "/issue").status;
        (status == 200 ? ok : refused)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 40);
  EXPECT_EQ(refused, 5 * 40);
  std::set<std::string> numbers;
  for (const auto& row : server_.Query("SELECT number FROM invoices")) numbers.insert(row[0]);
  ASSERT_EQ(numbers.size(), 40u);
  EXPECT_EQ(*numbers.begin(), "INV-000001");
  EXPECT_EQ(*numbers.rbegin(), "INV-000040");
}

TEST_F(Billing, TwoNodesRunningTheMonthAtOnceMakeOneInvoicePerClientMonth) {
  ManyClients("Node", 60);
  Server second({}, &server_);
  std::string second_key = second.AddUserWithKey("billing2@msp.example", "billing");
  std::thread other([&] {
    EXPECT_EQ(second.Api(second_key, "POST", "/api/v1/billing/runs", {{"month", "2026-11"}}).status,
              201);
  });
  Run("2026-11");
  other.join();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM invoices WHERE month = '2026-11'"), 60);
  ExpectOnePerClientMonthAndWhole();
}

TEST_F(Billing, ARunKilledAtAnyPointAndRunAgainEndsWithEveryInvoiceWholeAndOnce) {
  ManyClients("Crash", 400);
  // The test build dies like kill -9 once N drafts are written (before their batch
  // commits): at the first draft, at a batch boundary, and at seeded random points.
  std::mt19937 rng(20261202);
  std::vector<int> points = {1, 100, 101};
  for (int i = 0; i < 3; ++i) points.push_back(std::uniform_int_distribution<int>(2, 399)(rng));
  int64_t before = 0;
  for (int point : points) {
    setenv("OPSMERGE_TEST_KILL_AFTER_DRAFTS", std::to_string(point).c_str(), 1);
    int pid = server_.CliStart({"billing", "run", "--month", "2026-11"});
    unsetenv("OPSMERGE_TEST_KILL_AFTER_DRAFTS");
    int status = 0;
    waitpid(pid, &status, 0);
    int64_t now = Count("SELECT COUNT(*) FROM invoices WHERE month = '2026-11'");
    if (now < 400) {
      EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "killed at " << point;
    }
    EXPECT_EQ(now % 100, 0) << "a batch commits whole or not at all (killed at " << point << ")";
    EXPECT_GE(now, before);
    before = now;
    ExpectOnePerClientMonthAndWhole();
  }
  std::string out;
  EXPECT_EQ(server_.Cli({"billing", "run", "--month", "2026-11"}, "", &out), 0) << out;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM invoices WHERE month = '2026-11'"), 400);
  ExpectOnePerClientMonthAndWhole();
}

TEST_F(Billing, AMergedClientBillsUnderItsSurvivorAndNothingIsBilledTwice) {
  int64_t beta = NewClient("Beta Ltd");
  Contract(acme_, {{"name", "Acme support"},
                   {"kind", "fixed"},
                   {"start_date", "2026-01-01"},
                   {"monthly_fee_pence", 10000}});
  Contract(beta, {{"name", "Beta support"},
                  {"kind", "fixed"},
                  {"start_date", "2026-01-01"},
                  {"monthly_fee_pence", 5000}});
  EXPECT_EQ(Run("2026-11")["created"], 2);
  HttpResult m = server_.Api(admin_, "POST", "/api/v1/clients/merge",
                             {{"survivor_id", acme_}, {"merged_ids", {beta}}});
  ASSERT_EQ(m.status, 200) << m.body;
  EXPECT_EQ(Invoices("client_id=" + std::to_string(acme_) + "&month=2026-11")["total"], 2)
      << "Beta's invoice shows under Acme";
  EXPECT_EQ(Run("2026-11")["created"], 0) << "the month is billed: Beta's contract not twice";
  json dec = Run("2026-12");
  EXPECT_EQ(dec["created"], 1);
  json inv = Invoice(dec["invoice_ids"][0]);
  EXPECT_EQ(inv["client_id"], acme_);
  EXPECT_EQ(inv["lines"].size(), 2u) << "both contracts, under the survivor";
  EXPECT_EQ(inv["net_pence"], 15000);
}

TEST_F(Billing, TimeIsBilledAgainstAnHoursBlockOrAdHoc) {
  ASSERT_EQ(server_.Api(admin_, "PATCH", "/api/v1/settings", {{"hourly_rate_pence", 8500}}).status,
            200);
  int64_t adhoc = NewClient("Adhoc Ltd");
  Contract(acme_, {{"name", "Block"},
                   {"kind", "hours_block"},
                   {"start_date", "2026-11-16"},
                   {"monthly_fee_pence", 30000},
                   {"included_hours", 1},
                   {"overage_rate_pence", 9000}});
  auto log = [&](int64_t client, int minutes, const std::string& date, bool billable = true) {
    HttpResult t =
        server_.Api(tech_, "POST", "/api/v1/tickets", {{"client_id", client}, {"subject", "Work"}});
    ASSERT_EQ(t.status, 201) << t.body;
    HttpResult e = server_.Api(
        tech_, "POST",
        "/api/v1/tickets/" + std::to_string(t.Json()["id"].get<int64_t>()) + "/time-entries",
        {{"minutes", minutes}, {"date", date}, {"billable", billable}});
    ASSERT_EQ(e.status, 201) << e.body;
  };
  log(acme_, 50, "2026-11-02");  // before the contract started, but in the month
  log(acme_, 17, "2026-11-30");
  log(acme_, 500, "2026-12-01");        // another month
  log(acme_, 90, "2026-11-20", false);  // not billable
  log(adhoc, 95, "2026-11-05");
  json run = Run("2026-11");
  EXPECT_EQ(run["created"], 2);
  json a = Invoice(Invoices("client_id=" + std::to_string(acme_))["items"][0]["id"]);
  ASSERT_EQ(a["lines"].size(), 2u);
  EXPECT_EQ(a["lines"][0]["net_pence"], 15000) << "fee x 15/30, hours not prorated";
  EXPECT_EQ(a["lines"][1]["net_pence"], 1050) << "67 - 60 = 7 min x 90/h";
  json h = Invoice(Invoices("client_id=" + std::to_string(adhoc))["items"][0]["id"]);
  ASSERT_EQ(h["lines"].size(), 1u);
  EXPECT_EQ(h["lines"][0]["net_pence"], 13458) << "95 min x 85/h";
  EXPECT_EQ(h["lines"][0]["quantity"], 1.583);
}

TEST_F(Billing, TheScheduledRunBillsTheMonthOnItsBillingDayAndCatchesUpMissedMonths) {
  Contract(acme_, {{"name", "Support"},
                   {"kind", "fixed"},
                   {"start_date", "2026-01-01"},
                   {"monthly_fee_pence", 10000}});
  auto months = [&] {
    std::vector<std::string> out;
    for (const auto& r : server_.Query("SELECT month FROM invoices ORDER BY month")) {
      out.push_back(r[0]);
    }
    return out;
  };
  // The job runs hourly (it ran at start, before the contract).
  server_.AdvanceClock(3601);
  server_.Tick();  // 2 Dec 2026, billing day 1: December is due
  EXPECT_EQ(months(), std::vector<std::string>({"2026-12"}));
  server_.AdvanceClock(3601);
  server_.Tick();
  EXPECT_EQ(months().size(), 1u) << "nothing twice";
  // A contract added during the month is billed for it at the next pass.
  int64_t late = NewClient("Late Ltd");
  Contract(late, {{"name", "Support"},
                  {"kind", "fixed"},
                  {"start_date", "2026-12-15"},
                  {"monthly_fee_pence", 3100}});
  server_.AdvanceClock(3601);
  server_.Tick();
  json lates = Invoices("client_id=" + std::to_string(late));
  ASSERT_EQ(lates["total"], 1);
  EXPECT_EQ(lates["items"][0]["net_pence"], 1700) << "17 of 31 days";
  server_.Sql(
      "DELETE FROM invoice_lines WHERE invoice_id IN (SELECT id FROM invoices WHERE "
      "client_id = " +
      std::to_string(late) + ")");
  server_.Sql("DELETE FROM invoices WHERE client_id = " + std::to_string(late));
  server_.Sql("DELETE FROM contracts WHERE client_id = " + std::to_string(late));
  server_.FreezeClock(1804237200);  // 5 Mar 2027: January and February were missed
  server_.Tick();
  EXPECT_EQ(months(), std::vector<std::string>({"2026-12", "2027-01", "2027-02", "2027-03"}));
  ASSERT_EQ(server_.Api(admin_, "PATCH", "/api/v1/settings", {{"billing_day", 10}}).status, 200);
  server_.FreezeClock(1806915600);  // 5 Apr 2027: before the billing day
  server_.Tick();
  EXPECT_EQ(months().size(), 4u);
  server_.FreezeClock(1807347600);  // 10 Apr 2027
  server_.Tick();
  EXPECT_EQ(months().back(), "2027-04");
  EXPECT_EQ(server_.Api(admin_, "PATCH", "/api/v1/settings", {{"billing_day", 29}}).status, 422)
      << "every month has the billing day";
}

// pdftotext's reading of a PDF (poppler-utils, installed with the test tools).
std::string PdfText(const std::string& dir, const std::string& pdf) {
  std::string path = dir + "/check.pdf";
  std::ofstream(path, std::ios::binary) << pdf;
  std::string out;
  FILE* p = popen(("pdftotext -layout " + path + " -").c_str(), "r");
  if (!p) return "";
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST_F(Billing, AnIssuedInvoicesPdfCarriesTheVatInvoiceFieldsAndLongOnesBreakOntoPages) {
  ASSERT_EQ(server_
                .Api(admin_, "PATCH", "/api/v1/settings",
                     {{"supplier_name", "Northwind IT Ltd"},
                      {"supplier_address", "1 High Street\nLeeds LS1 1AA"},
                      {"vat_number", "GB123456789"},
                      {"mail_from", "accounts@msp.example"}})
                .status,
            200);
  int64_t cafe = NewClient("Caf\xC3\xA9 Zo\xC3\xAB Ltd");
  ASSERT_EQ(server_
                .Api(billing_, "PUT", C(cafe) + "/billing-address",
                     {{"billing_address", "3 Rue d'\xC3\x89t\xC3\xA9\nLondon"}})
                .status,
            200);
  for (int i = 1; i <= 45; ++i) {
    Contract(cafe, {{"name", "Service " + std::to_string(i)},
                    {"kind", "fixed"},
                    {"start_date", "2026-11-0" + std::to_string(1 + i % 9)},
                    {"monthly_fee_pence", 1000 * i + 99}});
  }
  Run("2026-11");
  int64_t id = Invoices("client_id=" + std::to_string(cafe))["items"][0]["id"];
  HttpResult draft = server_.Api(billing_, "GET", I(id) + "/pdf");
  ASSERT_EQ(draft.status, 200);
  EXPECT_NE(PdfText(server_.data_dir(), draft.body).find("DRAFT"), std::string::npos);
  json inv = server_.Api(billing_, "POST", I(id) + "/issue").Json();
  HttpResult pdf = server_.Api(billing_, "GET", I(id) + "/pdf");
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.Header("content-type"), "application/pdf");
  EXPECT_NE(pdf.Header("content-disposition").find("attachment; filename=\"INV-000001.pdf\""),
            std::string::npos);
  EXPECT_EQ(pdf.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
  std::string text = PdfText(server_.data_dir(), pdf.body);
  for (std::string want :
       {"VAT invoice INV-000001", "Northwind IT Ltd", "1 High Street", "GB123456789",
        "Caf\xC3\xA9 Zo\xC3\xAB Ltd", "3 Rue d'\xC3\x89t\xC3\xA9", "2 Dec 2026", "November 2026",
        "Service 45: monthly fee", "20%", "Page 2"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  // The totals, as the JSON has them.
  auto money = [](int64_t p) {
    std::string pounds = std::to_string(p / 100);
    for (int i = static_cast<int>(pounds.size()) - 3; i > 0; i -= 3) pounds.insert(i, ",");
    std::string pence = std::to_string(p % 100);
    return "\xC2\xA3" + pounds + "." + (pence.size() == 1 ? "0" + pence : pence);
  };
  EXPECT_NE(text.find(money(inv["gross_pence"])), std::string::npos) << text;
  EXPECT_NE(text.find(money(inv["vat_pence"])), std::string::npos);

  // Emailed to the billing recipients (else the contact email) with the PDF.
  EXPECT_EQ(server_.Api(billing_, "POST", I(id) + "/email").status, 409) << "nobody to send to";
  ASSERT_EQ(
      server_.Api(admin_, "PATCH", C(cafe), {{"contact_email", "office@cafe.example"}}).status,
      200);
  HttpResult fallback = server_.Api(billing_, "POST", I(id) + "/email");
  ASSERT_EQ(fallback.status, 202) << fallback.body;
  EXPECT_EQ(fallback.Json()["queued_to"], json::array({"office@cafe.example"}))
      << "no billing recipient: the client's contact email";
  ASSERT_EQ(server_
                .Api(admin_, "POST", C(cafe) + "/contacts",
                     {{"name", "Ann Accounts"},
                      {"email", "ann@cafe.example"},
                      {"billing_recipient", true}})
                .status,
            201);
  HttpResult sent = server_.Api(billing_, "POST", I(id) + "/email");
  ASSERT_EQ(sent.status, 202) << sent.body;
  EXPECT_EQ(sent.Json()["queued_to"], json::array({"ann@cafe.example"}));
  auto rows = server_.Query("SELECT recipients, message FROM mail_outbox WHERE ref = 'invoice:" +
                            std::to_string(id) + "' ORDER BY id DESC");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0], "ann@cafe.example") << "billing recipients first (P5)";
  EXPECT_NE(rows[0][1].find("Subject: Invoice INV-000001 from Northwind IT Ltd"),
            std::string::npos);
  EXPECT_NE(rows[0][1].find("filename=\"INV-000001.pdf\""), std::string::npos);
  EXPECT_NE(rows[0][1].find("JVBERi0"), std::string::npos) << "the PDF, base64";
  EXPECT_EQ(server_.Api(billing_, "POST", I(Run("2026-12")["invoice_ids"][0]) + "/email").status,
            409)
      << "a draft is not emailed";
}

TEST_F(Billing, PagesTakeAContractFromTheClientToAnIssuedInvoice) {
  Browser admin(server_);
  ASSERT_EQ(admin.SignIn("admin@msp.example", kPassword), 303);
  std::string tab = "/clients/" + std::to_string(acme_) + "/contracts";
  HttpResult page = admin.Get(tab);
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("+ New contract"), std::string::npos);
  HttpResult bad = admin.Post(tab, {{"name", "Managed"},
                                    {"kind", "per_endpoint"},
                                    {"start_date", "2026-11-31"},
                                    {"per_endpoint_pence", "£17.99"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("start_date must be a date"), std::string::npos);
  EXPECT_NE(bad.body.find("value=\"Managed\""), std::string::npos) << "what was typed stays";
  HttpResult money = admin.Post(tab, {{"name", "Managed"},
                                      {"kind", "per_endpoint"},
                                      {"start_date", "2026-11-01"},
                                      {"per_endpoint_pence", "17.999"}});
  EXPECT_EQ(money.status, 422);
  EXPECT_NE(money.body.find("Write an amount in pounds"), std::string::npos);
  HttpResult made = admin.Post(tab, {{"name", "Managed"},
                                     {"kind", "per_endpoint"},
                                     {"start_date", "2026-11-01"},
                                     {"per_endpoint_pence", "£17.99"},
                                     {"monthly_fee_pence", ""}});
  EXPECT_EQ(made.status, 303) << made.body;
  page = admin.Get(tab + "?notice=contract_added");
  EXPECT_NE(page.body.find("Contract added."), std::string::npos);
  EXPECT_NE(page.body.find("\xC2\xA3"
                           "17.99 per endpoint"),
            std::string::npos);
  EXPECT_EQ(admin
                .Post("/clients/" + std::to_string(acme_) + "/billing-address",
                      {{"billing_address", "2 Low Road\r\nYork"}})
                .status,
            303);
  int64_t contract = std::stoll(server_.Query("SELECT id FROM contracts")[0][0]);
  EXPECT_EQ(admin.Get("/contracts/" + std::to_string(contract)).status, 200);
  EXPECT_EQ(admin
                .Post("/contracts/" + std::to_string(contract), {{"name", "Managed desktops"},
                                                                 {"kind", "per_endpoint"},
                                                                 {"start_date", "2026-11-01"},
                                                                 {"per_endpoint_pence", "17.99"}})
                .status,
            303);
  Enrol(acme_, 2);

  HttpResult list = admin.Get("/invoices");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("Run a month"), std::string::npos);
  EXPECT_EQ(admin.Post("/invoices/run", {{"month", "2026-11"}}).status, 303);
  list = admin.Get("/invoices?month=2026-11");
  EXPECT_NE(list.body.find("Acme Corp"), std::string::npos);
  int64_t id = std::stoll(server_.Query("SELECT id FROM invoices")[0][0]);
  HttpResult inv = admin.Get("/invoices/" + std::to_string(id));
  ASSERT_EQ(inv.status, 200);
  EXPECT_NE(inv.body.find("Not set yet: your company&apos;s name, your address, your VAT number"),
            std::string::npos)
      << inv.body;
  EXPECT_NE(inv.body.find("2 endpoints x \xC2\xA3"
                          "17.99"),
            std::string::npos);
  EXPECT_NE(inv.body.find("\xC2\xA3"
                          "35.98"),
            std::string::npos);
  EXPECT_EQ(admin.Post("/invoices/" + std::to_string(id) + "/regenerate", {}).status, 303);
  EXPECT_EQ(admin.Post("/invoices/" + std::to_string(id) + "/issue", {}).status, 303);
  inv = admin.Get("/invoices/" + std::to_string(id) + "?notice=issued");
  EXPECT_NE(inv.body.find("Invoice INV-000001"), std::string::npos);
  EXPECT_NE(inv.body.find("2 Low Road\nYork"), std::string::npos);
  HttpResult again = admin.Post("/invoices/" + std::to_string(id) + "/issue", {});
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(again.body.find("only a draft is issued"), std::string::npos);
  EXPECT_EQ(admin.Get("/invoices/" + std::to_string(id) + "/pdf").Header("content-type"),
            "application/pdf");
  EXPECT_EQ(admin.Post("/invoices/" + std::to_string(id) + "/email", {}).status, 409)
      << "no recipient yet";
  EXPECT_EQ(admin.Post("/invoices/issue-all", {{"month", "2026-11"}}).status, 303);
  HttpResult refused = admin.Post("/contracts/" + std::to_string(contract) + "/delete", {});
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body.find("give it an end date"), std::string::npos);
  EXPECT_EQ(admin.Post("/invoices/" + std::to_string(id) + "/void", {}).status, 303);
  HttpResult reissued = admin.Post("/invoices/" + std::to_string(id) + "/reissue", {});
  EXPECT_EQ(reissued.status, 303);
  EXPECT_EQ(admin.Get("/clients/" + std::to_string(acme_) + "/invoices").status, 200);
  EXPECT_EQ(admin.Post("/invoices/run", {{"month", "soon"}}).status, 422);
  // CSRF on every billing form.
  EXPECT_EQ(admin.Post("/invoices/run", {{"month", "2026-10"}}, false).status, 403);

  // Settings -> General -> Billing.
  HttpResult general = admin.Get("/settings/general");
  ASSERT_EQ(general.status, 200);
  EXPECT_NE(general.body.find("value=\"20\""), std::string::npos) << "VAT 20% by default";
  auto post_settings = [&](const std::string& vat, const std::string& rate) {
    return admin.Post("/settings/general", {{"public_url", ""},
                                            {"mail_from", ""},
                                            {"smtp_url", ""},
                                            {"imap_url", ""},
                                            {"time_zone", ""},
                                            {"ack_template", ""},
                                            {"reply_template", ""},
                                            {"imap_poll_seconds", "60"},
                                            {"auto_close_days", "7"},
                                            {"sla_low_first", "480"},
                                            {"sla_low_resolution", "7200"},
                                            {"sla_normal_first", "240"},
                                            {"sla_normal_resolution", "2880"},
                                            {"sla_high_first", "60"},
                                            {"sla_high_resolution", "480"},
                                            {"sla_urgent_first", "30"},
                                            {"sla_urgent_resolution", "240"},
                                            {"supplier_name", "Northwind IT Ltd"},
                                            {"vat_number", "GB123456789"},
                                            {"supplier_address", "1 High Street\r\nLeeds"},
                                            {"vat_rate", vat},
                                            {"hourly_rate", rate},
                                            {"billing_day", "5"},
                                            {"payment_terms_days", "14"},
                                            {"invoice_number_format", "NW-{n:4}"}});
  };
  HttpResult wrong = post_settings("twenty", "85");
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.body.find("Write a percentage"), std::string::npos);
  EXPECT_EQ(post_settings("17.5",
                          "\xC2\xA3"
                          "85.50")
                .status,
            303);
  json saved = server_.Api(admin_, "GET", "/api/v1/settings").Json();
  EXPECT_EQ(saved["vat_rate_bp"], 1750);
  EXPECT_EQ(saved["hourly_rate_pence"], 8550);
  EXPECT_EQ(saved["billing_day"], 5);
  EXPECT_EQ(saved["invoice_number_format"], "NW-{n:4}");
  EXPECT_EQ(saved["supplier_address"], "1 High Street\nLeeds");

  Browser tech(server_);
  ASSERT_EQ(tech.SignIn("tech@msp.example", kPassword), 303);
  EXPECT_EQ(tech.Get("/invoices").status, 403);
  HttpResult read_only = tech.Get(tab);
  EXPECT_EQ(read_only.status, 200);
  EXPECT_EQ(read_only.body.find("+ New contract"), std::string::npos);
  EXPECT_EQ(read_only.body.find("href=\"/invoices\""), std::string::npos) << "no Invoices entry";
}

}  // namespace
}  // namespace opsmerge::testing
