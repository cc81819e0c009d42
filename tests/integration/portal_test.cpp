// The client portal (M1-M2, P2-P5) through a browser's requests: sign-in by a
// link that a mail scanner's GET and HEAD do not burn, single use under races,
// expiry, the newest link only, access ending with the tick or the client; the
// portal's tickets and invoices; and every portal route walked with another
// client's ids.
#include <atomic>
#include <regex>
#include <string_view>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"
#include "platform/text.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;

constexpr int64_t kStart = 1796202000;  // 2026-12-02T09:00:00Z

class Portal : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.FreezeClock(kStart);
    admin_ = server_.AddUserWithKey("admin@msp.example", "admin");
    ASSERT_EQ(server_
                  .Api(admin_, "PATCH", "/api/v1/settings",
                       {{"mail_from", "help@msp.example"},
                        {"public_url", "https://psa.msp.example"},
                        {"supplier_name", "Northwind IT"}})
                  .status,
              200);
    acme_ = Id(server_.Api(admin_, "POST", "/api/v1/clients",
                           {{"name", "Acme Corp"}, {"domain", "acmecorp.co.uk"}}));
    other_ = Id(server_.Api(admin_, "POST", "/api/v1/clients", {{"name", "Other Ltd"}}));
    jane_ = Contact(acme_, "Jane Smith", "jane@acmecorp.co.uk", {{"portal_user", true}});
    boss_ = Contact(acme_, "Victor Boss", "ceo@acmecorp.co.uk",
                    {{"portal_user", true}, {"vip", true}, {"billing_recipient", true}});
    olga_ = Contact(other_, "Olga", "olga@other.example", {{"portal_user", true}});
  }
  static int64_t Id(const HttpResult& r) {
    EXPECT_TRUE(r.status == 200 || r.status == 201) << r.status << " " << r.body;
    return r.Json().value("id", int64_t{0});
  }
  int64_t Contact(int64_t client, const std::string& name, const std::string& email, json roles) {
    roles["name"] = name;
    roles["email"] = email;
    return Id(server_.Api(admin_, "POST", "/api/v1/clients/" + std::to_string(client) + "/contacts",
                          roles));
  }
  // The newest sign-in link emailed to `email` (after message `after`), read from
  // the outbound queue.
  std::string LinkFor(const std::string& email, const std::string& after = "0") {
    auto rows = server_.Query("SELECT recipients, message FROM mail_outbox WHERE id > " + after +
                              " ORDER BY id DESC");
    for (const auto& row : rows) {
      if (row[0].find(email) == std::string::npos) continue;
      // Quoted-printable: soft line breaks first.
      std::string text = std::regex_replace(row[1], std::regex("=\r?\n"), "");
      std::smatch m;
      if (std::regex_search(
              text, m, std::regex("https://psa\\.msp\\.example(/portal/auth/[A-Za-z0-9_-]+)"))) {
        return m[1];
      }
    }
    return "";
  }
  // Asks for a link as `email` from `b` and returns its path ("" when none was sent).
  std::string Ask(Browser& b, const std::string& email) {
    std::string before = server_.Query("SELECT COALESCE(MAX(id), 0) FROM mail_outbox")[0][0];
    b.Get("/portal");
    HttpResult r = b.Post("/portal/login", {{"email", email}});
    EXPECT_EQ(r.status, 200) << r.body;
    return LinkFor(text::FoldCase(email), before);
  }
  static int64_t TicketFrom(const std::string& location) {
    std::smatch m;
    if (!std::regex_search(location, m, std::regex("/portal/tickets/(\\d+)$"))) return 0;
    return std::stoll(m[1]);
  }
  // A browser signed in to the portal as `email`.
  std::unique_ptr<Browser> SignedIn(const std::string& email) {
    auto b = std::make_unique<Browser>(server_);
    std::string link = Ask(*b, email);
    EXPECT_FALSE(link.empty());
    EXPECT_EQ(b->Get(link).status, 200);
    HttpResult r = b->Post(link, {});
    EXPECT_EQ(r.status, 303) << r.body;
    EXPECT_EQ(r.Header("location"), "/portal/tickets");
    EXPECT_EQ(b->Get("/portal/tickets").status, 200);  // and the page's form token
    return b;
  }
  int64_t StaffTicket(int64_t client, int64_t contact, const std::string& subject) {
    return Id(server_.Api(admin_, "POST", "/api/v1/tickets",
                          {{"client_id", client}, {"contact_id", contact}, {"subject", subject}}));
  }

  Server server_;
  std::string admin_;
  int64_t acme_ = 0, other_ = 0, jane_ = 0, boss_ = 0, olga_ = 0;
};

TEST_F(Portal, ALinkSignsInOnceAndAScannerOpeningItFirstDoesNotBurnIt) {
  Browser person(server_);
  std::string link = Ask(person, "Jane@AcmeCorp.co.uk");
  ASSERT_FALSE(link.empty());
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM portal_links")[0][0], "1");
  // Stored hashed: the token is nowhere in the database.
  std::string token = link.substr(link.rfind('/') + 1);
  EXPECT_GE(token.size(), 43u) << "256 bits";
  EXPECT_TRUE(
      server_.Query("SELECT id FROM portal_links WHERE token_hash = '" + token + "'").empty());

  // A mail scanner: GET and HEAD, twice, before the person.
  for (int i = 0; i < 2; ++i) {
    HttpResult get = server_.Request("GET", link);
    EXPECT_EQ(get.status, 200);
    EXPECT_NE(get.body.find(">Sign in</button>"), std::string::npos);
    EXPECT_EQ(get.Header("referrer-policy"), "no-referrer");
    EXPECT_EQ(get.Header("cache-control"), "no-store");
    EXPECT_EQ(server_.Request("HEAD", link).status, 200);
  }
  // The person: the page, then the button.
  ASSERT_EQ(person.Get(link).status, 200);
  HttpResult signed_in = person.Post(link, {});
  ASSERT_EQ(signed_in.status, 303) << signed_in.body;
  std::string cookie = signed_in.Header("set-cookie");
  EXPECT_EQ(cookie.rfind("om_portal=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos);
  HttpResult tickets = person.Get("/portal/tickets");
  EXPECT_EQ(tickets.status, 200);
  EXPECT_NE(tickets.body.find("Acme Corp"), std::string::npos);
  EXPECT_NE(tickets.body.find("Northwind IT"), std::string::npos) << "the MSP's name heads it";
  // The contact page shows when they last signed in.
  EXPECT_FALSE(server_
                   .Query("SELECT last_portal_sign_in_at FROM contacts WHERE id = " +
                          std::to_string(jane_))[0][0]
                   .empty());

  // A replay, by the scanner or anyone: a page offering a new link, no session.
  Browser replay(server_);
  replay.Get(link);
  HttpResult again = replay.Post(link, {});
  EXPECT_EQ(again.status, 410);
  EXPECT_NE(again.body.find("Email me a new link"), std::string::npos);
  EXPECT_EQ(again.Header("set-cookie").find("om_portal="), std::string::npos);
  EXPECT_EQ(replay.Get("/portal/tickets").status, 303) << "no session";

  // Signing out ends the session.
  EXPECT_EQ(person.Post("/portal/logout", {}).status, 303);
  EXPECT_EQ(person.Get("/portal/tickets").status, 303);
}

TEST_F(Portal, TwentyConcurrentPostsOfOneLinkMakeExactlyOneSession) {
  Browser asker(server_);
  std::string link = Ask(asker, "jane@acmecorp.co.uk");
  ASSERT_FALSE(link.empty());
  std::vector<std::unique_ptr<Browser>> browsers;
  for (int i = 0; i < 20; ++i) {
    browsers.push_back(std::make_unique<Browser>(server_));
    browsers.back()->Get(link);
  }
  std::atomic<int> won{0}, lost{0};
  std::vector<std::thread> threads;
  for (auto& b : browsers) {
    threads.emplace_back([&, browser = b.get()] {
      int status = browser->Post(link, {}).status;
      (status == 303 ? won : lost)++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), 19);
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM portal_sessions")[0][0], "1");
}

TEST_F(Portal, LinksExpireAfterFifteenMinutesAndOnlyTheNewestWorks) {
  Browser b(server_);
  std::string first = Ask(b, "jane@acmecorp.co.uk");
  std::string second = Ask(b, "jane@acmecorp.co.uk");
  ASSERT_FALSE(first.empty());
  ASSERT_NE(first, second);
  EXPECT_EQ(b.Get(first).status, 410) << "an older link stops working when a newer one is sent";
  EXPECT_EQ(b.Post(first, {}).status, 410);
  server_.AdvanceClock(15 * 60 + 1);
  EXPECT_EQ(b.Get(second).status, 410) << "expired";
  EXPECT_EQ(b.Post(second, {}).status, 410);
  std::string third = Ask(b, "jane@acmecorp.co.uk");
  server_.AdvanceClock(14 * 60);
  EXPECT_EQ(b.Get(third).status, 200);
  EXPECT_EQ(b.Post(third, {}).status, 303);
}

TEST_F(Portal, TheAnswerIsTheSameForAnyAddressAndOnlyPortalUsersGetALink) {
  int64_t plain = Contact(acme_, "No Portal", "noportal@acmecorp.co.uk", json::object());
  (void)plain;
  Browser b(server_);
  std::string pages[4];
  const char* who[4] = {"jane@acmecorp.co.uk", "nobody@acmecorp.co.uk", "noportal@acmecorp.co.uk",
                        "someone@elsewhere.example"};
  for (int i = 0; i < 4; ++i) {
    b.Get("/portal");
    HttpResult r = b.Post("/portal/login", {{"email", who[i]}});
    EXPECT_EQ(r.status, 200);
    // The page differs only by the address it repeats.
    pages[i] = std::regex_replace(r.body, std::regex(who[i]), "ADDRESS");
    pages[i] = std::regex_replace(pages[i], std::regex("name=\"_csrf\" value=\"[^\"]*\""), "");
  }
  EXPECT_EQ(pages[0], pages[1]);
  EXPECT_EQ(pages[0], pages[2]);
  EXPECT_EQ(pages[0], pages[3]);
  EXPECT_FALSE(LinkFor("jane@acmecorp.co.uk").empty());
  EXPECT_TRUE(LinkFor("noportal@acmecorp.co.uk").empty()) << "not a portal user";
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM portal_links")[0][0], "1");
  // A malformed address is an error beside the field (it says nothing of anyone).
  b.Get("/portal");
  HttpResult bad = b.Post("/portal/login", {{"email", "not an address"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("Enter your email address"), std::string::npos);
  // Without the form's CSRF token: refused.
  Browser naked(server_);
  EXPECT_EQ(naked.Post("/portal/login", {{"email", "jane@acmecorp.co.uk"}}, false).status, 403);
}

TEST_F(Portal, LinkRequestsAreLimitedPerAddressAndPerIp) {
  Browser b(server_);
  for (int i = 0; i < 5; ++i) Ask(b, "jane@acmecorp.co.uk");
  b.Get("/portal");
  HttpResult limited = b.Post("/portal/login", {{"email", "jane@acmecorp.co.uk"}});
  EXPECT_EQ(limited.status, 429);
  EXPECT_FALSE(limited.Header("retry-after").empty());
  // An unknown address is limited the same way (the limit tells nothing).
  for (int i = 0; i < 5; ++i) Ask(b, "ghost@acmecorp.co.uk");
  b.Get("/portal");
  EXPECT_EQ(b.Post("/portal/login", {{"email", "ghost@acmecorp.co.uk"}}).status, 429);
  // Per IP: many addresses from one place.
  int limited_ip = 0;
  for (int i = 0; i < 40; ++i) {
    b.Get("/portal");
    limited_ip +=
        b.Post("/portal/login", {{"email", "x" + std::to_string(i) + "@example.org"}}).status ==
        429;
  }
  EXPECT_GT(limited_ip, 0);
  // A new window.
  server_.AdvanceClock(15 * 60 + 1);
  EXPECT_FALSE(Ask(b, "jane@acmecorp.co.uk").empty());
}

TEST_F(Portal, AccessEndsWithTheTickTheContactOrTheClientAndDoesNotComeBack) {
  auto b = SignedIn("jane@acmecorp.co.uk");
  ASSERT_EQ(b->Get("/portal/tickets").status, 200);
  // Untick Portal user: every session ends at once; ticking it again does not revive it.
  std::string contact = "/api/v1/contacts/" + std::to_string(jane_);
  ASSERT_EQ(server_.Api(admin_, "PATCH", contact, {{"portal_user", false}}).status, 200);
  EXPECT_EQ(b->Get("/portal/tickets").status, 303);
  ASSERT_EQ(server_.Api(admin_, "PATCH", contact, {{"portal_user", true}}).status, 200);
  EXPECT_EQ(b->Get("/portal/tickets").status, 303);
  // A link asked for before the tick was removed no longer works either.
  Browser c(server_);
  std::string link = Ask(c, "jane@acmecorp.co.uk");
  ASSERT_EQ(server_.Api(admin_, "PATCH", contact, {{"portal_user", false}}).status, 200);
  ASSERT_EQ(server_.Api(admin_, "PATCH", contact, {{"portal_user", true}}).status, 200);
  EXPECT_EQ(c.Get(link).status, 410);

  // Archiving the client ends its people's sessions; unarchiving does not revive them.
  auto boss = SignedIn("ceo@acmecorp.co.uk");
  ASSERT_EQ(boss->Get("/portal/tickets").status, 200);
  std::string client = "/api/v1/clients/" + std::to_string(acme_);
  ASSERT_EQ(server_.Api(admin_, "POST", client + "/archive", json::object()).status, 200);
  EXPECT_EQ(boss->Get("/portal/tickets").status, 303);
  Browser d(server_);
  EXPECT_TRUE(Ask(d, "ceo@acmecorp.co.uk").empty()) << "no link for an archived client";
  ASSERT_EQ(server_.Api(admin_, "POST", client + "/unarchive", json::object()).status, 200);
  EXPECT_EQ(boss->Get("/portal/tickets").status, 303);

  // Deleting the contact ends theirs.
  auto olga = SignedIn("olga@other.example");
  ASSERT_EQ(olga->Get("/portal/tickets").status, 200);
  ASSERT_EQ(server_.Api(admin_, "DELETE", "/api/v1/contacts/" + std::to_string(olga_)).status, 204);
  EXPECT_EQ(olga->Get("/portal/tickets").status, 303);
}

TEST_F(Portal, AMergedContactKeepsAccessUnderTheSurvivor) {
  // Olga's organisation is merged into Acme, where she is already a contact: her
  // contact is folded into the survivor's, and her session stays.
  Contact(acme_, "Olga at Acme", "olga@other.example", {{"portal_user", true}});
  auto olga = SignedIn("olga@other.example");
  ASSERT_EQ(olga->Get("/portal/tickets").status, 200);
  ASSERT_EQ(server_
                .Api(admin_, "POST", "/api/v1/clients/merge",
                     {{"survivor_id", acme_}, {"merged_ids", {other_}}})
                .status,
            200);
  HttpResult after = olga->Get("/portal/tickets");
  EXPECT_EQ(after.status, 200);
  EXPECT_NE(after.body.find("Acme Corp"), std::string::npos);
}

TEST_F(Portal, TicketsOfOnesOwnRaiseFollowAndReply) {
  int64_t janes = StaffTicket(acme_, jane_, "Printer jammed");
  int64_t bosses = StaffTicket(acme_, boss_, "Board laptop");
  int64_t others = StaffTicket(other_, olga_, "Other's secret");
  ASSERT_EQ(server_
                .Api(admin_, "POST", "/api/v1/tickets/" + std::to_string(janes) + "/notes",
                     {{"body", "Internal: the printer is ancient"}})
                .status,
            201);
  ASSERT_EQ(server_
                .Api(admin_, "POST", "/api/v1/tickets/" + std::to_string(janes) + "/replies",
                     {{"body", "We are on it."}})
                .status,
            201);
  auto jane = SignedIn("jane@acmecorp.co.uk");
  HttpResult list = jane->Get("/portal/tickets");
  EXPECT_NE(list.body.find("Printer jammed"), std::string::npos);
  EXPECT_EQ(list.body.find("Board laptop"), std::string::npos) << "another person's ticket";
  EXPECT_EQ(list.body.find("Other's secret"), std::string::npos);
  HttpResult page = jane->Get("/portal/tickets/" + std::to_string(janes));
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("We are on it."), std::string::npos);
  EXPECT_EQ(page.body.find("ancient"), std::string::npos) << "internal notes never appear";
  EXPECT_EQ(jane->Get("/portal/tickets/" + std::to_string(bosses)).status, 404);
  EXPECT_EQ(jane->Get("/portal/tickets/" + std::to_string(others)).status, 404);

  // Reply: a public entry from her; the ticket's assignee hears of it.
  int64_t admin_id = std::stoll(
      server_.Query("SELECT id FROM staff_users WHERE email = 'admin@msp.example'")[0][0]);
  ASSERT_EQ(server_
                .Api(admin_, "PATCH", "/api/v1/tickets/" + std::to_string(janes),
                     {{"assignee_id", admin_id}})
                .status,
            200);
  HttpResult reply =
      jane->Post("/portal/tickets/" + std::to_string(janes) + "/replies", {{"body", "Thanks!"}});
  EXPECT_EQ(reply.status, 303);
  json entries =
      server_.Api(admin_, "GET", "/api/v1/tickets/" + std::to_string(janes)).Json()["entries"];
  bool found = false;
  for (const auto& e : entries) {
    found = found || (e["body"] == "Thanks!" && e["kind"] == "public");
  }
  EXPECT_TRUE(found) << entries;
  auto notified = server_.Query(
      "SELECT recipients FROM mail_outbox WHERE recipients LIKE '%admin@msp.example%'");
  EXPECT_EQ(notified.size(), 1u) << "the assignee is told";
  // An empty reply is an error beside the field.
  HttpResult empty =
      jane->Post("/portal/tickets/" + std::to_string(janes) + "/replies", {{"body", "  "}});
  EXPECT_EQ(empty.status, 422);

  // Raise: source portal, her as contact; a VIP's raise gets the VIP priority (P3).
  HttpResult form = jane->Get("/portal/tickets/new");
  EXPECT_EQ(form.status, 200);
  EXPECT_NE(form.body.find("name=\"subject\""), std::string::npos);
  HttpResult no_subject =
      jane->Post("/portal/tickets", {{"subject", ""}, {"description", "Since 9am"}});
  EXPECT_EQ(no_subject.status, 422);
  EXPECT_NE(no_subject.body.find("Since 9am"), std::string::npos) << "what they typed stays";
  HttpResult raised =
      jane->Post("/portal/tickets", {{"subject", "Email down"}, {"description", "Since 9am"}});
  ASSERT_EQ(raised.status, 303) << raised.body;
  int64_t id = TicketFrom(raised.Header("location"));
  json t = server_.Api(admin_, "GET", "/api/v1/tickets/" + std::to_string(id)).Json();
  EXPECT_EQ(t["source"], "portal");
  EXPECT_EQ(t["contact_id"], jane_);
  EXPECT_EQ(t["client_id"], acme_);
  auto boss = SignedIn("ceo@acmecorp.co.uk");
  HttpResult vip = boss->Post("/portal/tickets", {{"subject", "Urgent"}, {"description", "x"}});
  json vt = server_
                .Api(admin_, "GET",
                     "/api/v1/tickets/" + std::to_string(TicketFrom(vip.Header("location"))))
                .Json();
  EXPECT_EQ(vt["vip"], true);
  // The primary technical contact and VIPs see all of the client's tickets.
  HttpResult all = boss->Get("/portal/tickets");
  EXPECT_NE(all.body.find("Printer jammed"), std::string::npos);
  EXPECT_EQ(all.body.find("Other's secret"), std::string::npos);
}

TEST_F(Portal, PortalSessionsOpenNoStaffPageAndStaffSessionsOpenNoPortalPage) {
  auto jane = SignedIn("jane@acmecorp.co.uk");
  for (const char* path : {"/", "/clients", "/tickets", "/api/v1/clients", "/settings/staff",
                           "/invoices", "/clients/1"}) {
    EXPECT_EQ(jane->Get(path).status, 404) << path;
  }
  // A staff member signed in is not a contact in the portal.
  server_.AddUserWithKey("tech@msp.example", "technician");
  Browser staff(server_);
  ASSERT_EQ(staff.SignIn("tech@msp.example", "a long enough password"), 303);
  EXPECT_EQ(staff.Get("/portal/tickets").status, 303);
  EXPECT_EQ(staff.Get("/portal/tickets").Header("location"), "/portal");
  // And an API key opens no portal page.
  EXPECT_EQ(
      server_.Request("GET", "/portal/tickets", "", {{"Authorization", "Bearer " + admin_}}).status,
      303);
}

TEST_F(Portal, EveryPortalRouteWithAnotherClientsIdsIsNotFound) {
  int64_t others = StaffTicket(other_, olga_, "Other's ticket");
  int64_t mine = StaffTicket(acme_, jane_, "Mine");
  // Invoices: one issued for each client.
  for (int64_t c : {acme_, other_}) {
    ASSERT_EQ(server_
                  .Api(admin_, "POST", "/api/v1/clients/" + std::to_string(c) + "/contracts",
                       {{"name", "Support"},
                        {"kind", "fixed"},
                        {"start_date", "2026-11-01"},
                        {"monthly_fee_pence", 10000}})
                  .status,
              201);
  }
  ASSERT_EQ(server_.Api(admin_, "POST", "/api/v1/billing/runs", {{"month", "2026-11"}}).status,
            201);
  json invoices = server_.Api(admin_, "GET", "/api/v1/invoices").Json()["items"];
  int64_t acme_invoice = 0, other_invoice = 0;
  for (const auto& inv : invoices) {
    (inv["client_id"] == acme_ ? acme_invoice : other_invoice) = inv["id"];
  }
  ASSERT_GT(acme_invoice, 0);
  ASSERT_GT(other_invoice, 0);
  // A draft is never shown; issue Other's and Acme's.
  auto boss = SignedIn("ceo@acmecorp.co.uk");
  EXPECT_EQ(boss->Get("/portal/invoices/" + std::to_string(acme_invoice) + "/pdf").status, 404)
      << "a draft";
  for (int64_t id : {acme_invoice, other_invoice}) {
    ASSERT_EQ(server_
                  .Api(admin_, "POST", "/api/v1/invoices/" + std::to_string(id) + "/issue",
                       json::object())
                  .status,
              200);
  }
  HttpResult pdf = boss->Get("/portal/invoices/" + std::to_string(acme_invoice) + "/pdf");
  EXPECT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.body.substr(0, 5), "%PDF-");
  HttpResult list = boss->Get("/portal/invoices");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("INV-"), std::string::npos);

  auto jane = SignedIn("jane@acmecorp.co.uk");  // not a billing recipient (P5)
  EXPECT_EQ(jane->Get("/portal/invoices").status, 404);
  EXPECT_EQ(jane->Get("/portal/invoices/" + std::to_string(acme_invoice) + "/pdf").status, 404);

  std::string t = std::to_string(others), inv = std::to_string(other_invoice);
  for (Browser* b : {boss.get(), jane.get()}) {
    EXPECT_EQ(b->Get("/portal/tickets/" + t).status, 404);
    b->Get("/portal/tickets");  // a page of theirs, for the form token
    EXPECT_EQ(b->Post("/portal/tickets/" + t + "/replies", {{"body", "hi"}}).status, 404);
    EXPECT_EQ(b->Get("/portal/invoices/" + inv + "/pdf").status, 404);
    EXPECT_EQ(b->Get("/portal/tickets/99999").status, 404);
    EXPECT_EQ(b->Get("/portal/tickets/abc").status, 404);
  }
  // Nothing was written on the other client's ticket.
  json entries = server_.Api(admin_, "GET", "/api/v1/tickets/" + t).Json()["entries"];
  for (const auto& e : entries) EXPECT_NE(e["body"], "hi");
  (void)mine;
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

TEST_F(Portal, StaffSendAPortalLinkFromTheContactPageAndSeeTheLastSignIn) {
  server_.AddUserWithKey("tech@msp.example", "technician");
  Browser tech(server_);
  ASSERT_EQ(tech.SignIn("tech@msp.example", "a long enough password"), 303);
  std::string page = "/clients/" + std::to_string(acme_) + "/contacts/" + std::to_string(jane_);
  HttpResult before = tech.Get(page);
  EXPECT_NE(before.body.find("Never signed in"), std::string::npos);
  std::string sent_before = server_.Query("SELECT COUNT(*) FROM mail_outbox")[0][0];
  HttpResult sent = tech.Post(page + "/portal-link", {});
  ASSERT_EQ(sent.status, 303) << sent.body;
  EXPECT_NE(tech.Get(sent.Header("location")).body.find("A sign-in link is on its way"),
            std::string::npos);
  EXPECT_NE(server_.Query("SELECT COUNT(*) FROM mail_outbox")[0][0], sent_before);
  std::string link = LinkFor("jane@acmecorp.co.uk");
  ASSERT_FALSE(link.empty());
  Browser jane(server_);
  jane.Get(link);
  ASSERT_EQ(jane.Post(link, {}).status, 303);
  EXPECT_NE(tech.Get(page).body.find("Last signed in"), std::string::npos);
  // Checked by the contact's own client: another client's address for her is 404.
  EXPECT_EQ(tech.Post("/clients/" + std::to_string(other_) + "/contacts/" + std::to_string(jane_) +
                          "/portal-link",
                      {})
                .status,
            404);
  // Not a portal user: the reason, nothing sent.
  int64_t plain = Contact(acme_, "Plain", "plain@acmecorp.co.uk", json::object());
  tech.Get(page);
  HttpResult refused = tech.Post(
      "/clients/" + std::to_string(acme_) + "/contacts/" + std::to_string(plain) + "/portal-link",
      {});
  EXPECT_EQ(refused.status, 422);
  EXPECT_TRUE(LinkFor("plain@acmecorp.co.uk").empty());
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

TEST_F(Portal, LinksAskedForAtOnceLeaveOneWorkingLink) {
  std::vector<std::unique_ptr<Browser>> browsers;
  for (int i = 0; i < 5; ++i) {
    browsers.push_back(std::make_unique<Browser>(server_));
    browsers.back()->Get("/portal");
  }
  std::vector<std::thread> threads;
  for (auto& b : browsers) {
    threads.emplace_back([browser = b.get()] {
      EXPECT_EQ(browser->Post("/portal/login", {{"email", "jane@acmecorp.co.uk"}}).status, 200);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM portal_links")[0][0], "1");
  // Of the five emailed links, exactly one signs in: the newest row's.
  int usable = 0;
  for (const auto& row : server_.Query("SELECT message FROM mail_outbox")) {
    std::string text = std::regex_replace(row[0], std::regex("=\r?\n"), "");
    std::smatch m;
    if (!std::regex_search(text, m, std::regex("(/portal/auth/[A-Za-z0-9_-]+)"))) continue;
    Browser b(server_);
    usable += b.Get(m[1]).status == 200;
  }
  EXPECT_EQ(usable, 1);
}

TEST_F(Portal, SessionsEndAfterSevenDaysAndTheCleanupJobRemovesThem) {
  auto jane = SignedIn("jane@acmecorp.co.uk");
  server_.AdvanceClock(7 * 86400 - 60);
  EXPECT_EQ(jane->Get("/portal/tickets").status, 200);
  // Still valid: no cleanup pass may remove it (the server's own scheduler keeps
  // running beside the test, so the expired row may go at any pass after this).
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM portal_sessions")[0][0], "1");
  server_.AdvanceClock(61);
  EXPECT_EQ(jane->Get("/portal/tickets").status, 303) << "expired";
  server_.AdvanceClock(3601);
  server_.Tick();
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM portal_sessions")[0][0], "0");
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM portal_links")[0][0], "0");
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

TEST_F(Portal, HostileAddressesAndTokensAreRefusedWithoutSendingAnything) {
  Browser b(server_);
  for (const std::string& email :
       {std::string("jane@acmecorp.co.uk\r\nBcc: victim@evil.example"),
        std::string("jane@acmecorp.co.uk\nX-Injected: 1"), std::string(300000, 'a') + "@x.example",
        std::string("\"jane\"@acmecorp.co.uk, ceo@acmecorp.co.uk")}) {
    b.Get("/portal");
    HttpResult r = b.Post("/portal/login", {{"email", email}});
    EXPECT_EQ(r.status, 422) << email.substr(0, 60);
  }
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM mail_outbox")[0][0], "0");
  // Tokens of any shape: no link page, no session, no error.
  for (const std::string& token :
       {std::string(10000, 'A'), std::string("x"), std::string("%00%0d%0a"),
        std::string("..%2f..%2fetc%2fpasswd"), std::string(43, '-')}) {
    HttpResult get = b.Get("/portal/auth/" + token);
    // 410 (the link page's "no longer works"), or refused before routing.
    EXPECT_TRUE(get.status == 410 || get.status == 400 || get.status == 404 || get.status == 414)
        << get.status;
    EXPECT_EQ(get.Header("set-cookie").find("om_portal="), std::string::npos);
  }
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM portal_sessions")[0][0], "0");
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

TEST_F(Portal, FilesGoWithATicketOrReplyWithinTheEmailCapsAndOnlyItsPeopleGetThem) {
  auto jane = SignedIn("jane@acmecorp.co.uk");
  jane->Get("/portal/tickets/new");
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(3000, '\0') + "end";
  HttpResult raised = jane->PostMultipart(
      "/portal/tickets", {{"subject", "Printer jam"}, {"description", "See the photo."}},
      {{"attachments", "jam photo.png", "image/png", png},
       // A name built to escape a header or a directory, and a type that is not one.
       {"attachments", "..\\..\\evil\r\nX-Injected: 1.txt", "text/html\r\nX: y", "<b>hi</b>"}});
  ASSERT_EQ(raised.status, 303) << raised.body;
  int64_t id = TicketFrom(raised.Header("location"));
  ASSERT_GT(id, 0);
  HttpResult page = jane->Get("/portal/tickets/" + std::to_string(id));
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("jam photo.png"), std::string::npos);
  std::smatch m;
  std::vector<std::string> links;
  std::string body = page.body;
  std::regex link("href=\"(/portal/tickets/" + std::to_string(id) + "/attachments/\\d+)\"");
  while (std::regex_search(body, m, link)) {
    links.push_back(m[1]);
    body = m.suffix();
  }
  ASSERT_EQ(links.size(), 2u);
  HttpResult file = jane->Get(links[0]);
  EXPECT_EQ(file.status, 200);
  EXPECT_EQ(file.body, png) << "binary intact";
  EXPECT_EQ(file.Header("content-type"), "image/png");
  EXPECT_NE(file.Header("content-disposition").find("attachment"), std::string::npos);
  EXPECT_EQ(file.Header("x-content-type-options"), "nosniff");
  HttpResult evil = jane->Get(links[1]);
  EXPECT_EQ(evil.status, 200);
  // The part's own Content-Type line ended at the CR/LF; what followed was another
  // part header, never one of ours.
  EXPECT_EQ(evil.Header("content-type"), "text/html");
  EXPECT_EQ(evil.Header("x-injected"), "");
  EXPECT_EQ(evil.Header("x"), "");
  EXPECT_EQ(evil.Header("content-disposition").find('\\'), std::string::npos);
  // The technician sees the same files on the ticket.
  json staff = server_.Api(admin_, "GET", "/api/v1/tickets/" + std::to_string(id)).Json();
  EXPECT_EQ(staff["source"], "portal");

  // A reply with a file.
  HttpResult reply = jane->PostMultipart("/portal/tickets/" + std::to_string(id) + "/replies",
                                         {{"body", "And the error log."}},
                                         {{"attachments", "error.log", "text/plain", "E1234"}});
  EXPECT_EQ(reply.status, 303) << reply.body;
  EXPECT_NE(jane->Get("/portal/tickets/" + std::to_string(id)).body.find("error.log"),
            std::string::npos);

  // Over a cap: the form again with the reason beside the field, and nothing stored.
  std::string tickets_before = server_.Query("SELECT COUNT(*) FROM tickets")[0][0];
  std::string files_before = server_.Query("SELECT COUNT(*) FROM ticket_attachments")[0][0];
  jane->Get("/portal/tickets/new");
  HttpResult big = jane->PostMultipart(
      "/portal/tickets", {{"subject", "Big"}, {"description", "Too big"}},
      {{"attachments", "disk.img", "application/octet-stream", std::string((20 << 20) + 1, 'x')}});
  EXPECT_EQ(big.status, 422);
  EXPECT_NE(big.body.find("disk.img is larger than 20 MiB"), std::string::npos);
  EXPECT_NE(big.body.find("id=\"attachments-error\""), std::string::npos);
  // Beyond what the route takes at all: refused before the body is read.
  // (A client still sending when the 413 comes may see the connection reset.)
  try {
    HttpResult huge = jane->PostMultipart(
        "/portal/tickets", {{"subject", "Huge"}, {"description", "Huge"}},
        {{"attachments", "a.bin", "application/octet-stream", std::string(42 << 20, 'x')}});
    EXPECT_EQ(huge.status, 413);
  } catch (const std::exception& e) {
    SUCCEED() << e.what();
  }
  // Without the form's token: refused.
  Browser stranger(server_);
  stranger.cookies() = jane->cookies();
  EXPECT_EQ(stranger
                .PostMultipart("/portal/tickets", {{"subject", "x"}, {"description", "y"}},
                               {{"attachments", "a.txt", "text/plain", "a"}})
                .status,
            403);
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM tickets")[0][0], tickets_before);
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM ticket_attachments")[0][0], files_before);

  // Another client's person: neither the ticket's files nor, under their own
  // ticket's address, a file of Jane's.
  auto olga = SignedIn("olga@other.example");
  for (const std::string& l : links) EXPECT_EQ(olga->Get(l).status, 404) << l;
  olga->Get("/portal/tickets/new");
  int64_t hers = TicketFrom(
      olga->PostMultipart("/portal/tickets", {{"subject", "Hers"}, {"description", "x"}}, {})
          .Header("location"));
  ASSERT_GT(hers, 0);
  std::string janes_file = links[0].substr(links[0].rfind('/') + 1);
  EXPECT_EQ(
      olga->Get("/portal/tickets/" + std::to_string(hers) + "/attachments/" + janes_file).status,
      404);
  // A file on an internal note is not the person's to see, even on their ticket.
  ASSERT_EQ(server_
                .Api(admin_, "POST", "/api/v1/tickets/" + std::to_string(id) + "/notes",
                     {{"body", "Internal: vendor case 42"}})
                .status,
            201);
  server_.Sql(
      "UPDATE ticket_attachments SET entry_id = (SELECT MAX(id) FROM ticket_entries "
      "WHERE kind = 'internal') WHERE id = " +
      janes_file);
  EXPECT_EQ(jane->Get(links[0]).status, 404);
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

TEST_F(Portal, TheMspsLogoFromSettingsHeadsEveryPortalPage) {
  // No logo yet: the name alone.
  Browser person(server_);
  HttpResult plain = person.Get("/portal");
  EXPECT_NE(plain.body.find("Northwind IT"), std::string::npos);
  EXPECT_EQ(plain.body.find("/portal/logo"), std::string::npos);
  EXPECT_EQ(person.Get("/portal/logo").status, 404);

  Browser admin(server_);
  ASSERT_EQ(admin.SignIn("admin@msp.example", "a long enough password"), 303);
  admin.Get("/settings/general");
  // An SVG can carry script: refused, with the reason beside the field.
  HttpResult svg = admin.PostMultipart(
      "/settings/portal-logo", {},
      {{"logo", "logo.svg", "image/svg+xml", "<svg onload=\"alert(1)\"></svg>"}});
  EXPECT_EQ(svg.status, 422);
  EXPECT_NE(svg.body.find("The logo must be a PNG, JPEG, GIF or WebP image"), std::string::npos)
      << svg.body;
  EXPECT_NE(svg.body.find("value=\"Northwind IT\""), std::string::npos)
      << "the other settings show what is saved, not blanks";
  // A PNG, whatever the browser called it.
  std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + std::string(500, '\x01');
  HttpResult up = admin.PostMultipart("/settings/portal-logo", {},
                                      {{"logo", "logo.png", "application/octet-stream", png}});
  ASSERT_EQ(up.status, 303) << up.body;

  HttpResult page = person.Get("/portal");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(page.body, m, std::regex("src=\"(/portal/logo\\?v=[0-9a-f]+)\"")))
      << page.body;
  HttpResult logo = person.Get(m[1]);
  EXPECT_EQ(logo.status, 200);
  EXPECT_EQ(logo.body, png);
  EXPECT_EQ(logo.Header("content-type"), "image/png");
  EXPECT_EQ(logo.Header("x-content-type-options"), "nosniff");
  // Signed in, every page carries it.
  auto jane = SignedIn("jane@acmecorp.co.uk");
  EXPECT_NE(jane->Get("/portal/tickets").body.find(m[1].str()), std::string::npos);
  EXPECT_NE(jane->Get("/portal/tickets/new").body.find(m[1].str()), std::string::npos);

  // The API: a data: URL in, the same out; a lie about the type refused; null removes.
  json settings = server_.Api(admin_, "GET", "/api/v1/settings").Json();
  EXPECT_EQ(settings["portal_logo"].get<std::string>().rfind("data:image/png;base64,", 0), 0u);
  HttpResult lie = server_.Api(admin_, "PATCH", "/api/v1/settings",
                               {{"portal_logo", "data:image/gif;base64,PHN2Zz48L3N2Zz4="}});
  EXPECT_EQ(lie.status, 422);
  EXPECT_EQ(lie.Json()["error"]["field"], "portal_logo");
  EXPECT_EQ(server_.Api(admin_, "PATCH", "/api/v1/settings", {{"portal_logo", nullptr}}).status,
            200);
  EXPECT_EQ(person.Get("/portal/logo").status, 404);
  EXPECT_EQ(person.Get("/portal").body.find("/portal/logo"), std::string::npos);
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

TEST_F(Portal, APersonSeesTheTicketsTheyAreOnAsAParticipantAndNoOthers) {
  // Victor (VIP) mails in with Jane in Cc: she is on that ticket; his other is his.
  std::string out;
  ASSERT_EQ(server_.Cli({"mail", "ingest"},
                        "From: Victor Boss <ceo@acmecorp.co.uk>\r\nTo: help@msp.example\r\n"
                        "Cc: Jane Smith <Jane@AcmeCorp.co.uk>\r\nSubject: Board room screen\r\n"
                        "Message-ID: <screen-1@acmecorp.co.uk>\r\n\r\nThe screen is dark.\r\n",
                        &out),
            0)
      << out;
  ASSERT_EQ(server_.Cli({"mail", "ingest"},
                        "From: ceo@acmecorp.co.uk\r\nTo: help@msp.example\r\n"
                        "Subject: My own laptop\r\nMessage-ID: <laptop-1@acmecorp.co.uk>\r\n\r\n"
                        "Private.\r\n",
                        &out),
            0)
      << out;
  auto jane = SignedIn("jane@acmecorp.co.uk");
  HttpResult list = jane->Get("/portal/tickets");
  EXPECT_NE(list.body.find("Board room screen"), std::string::npos) << "on it by Cc";
  EXPECT_EQ(list.body.find("My own laptop"), std::string::npos);
  auto boss = SignedIn("ceo@acmecorp.co.uk");  // a VIP sees all of the client's
  HttpResult all = boss->Get("/portal/tickets");
  EXPECT_NE(all.body.find("Board room screen"), std::string::npos);
  EXPECT_NE(all.body.find("My own laptop"), std::string::npos);
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

// A raw connection to the server (uploads held open half-way, as a slow or hostile
// client does).
int Open(int port, int answer_seconds = 10) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  timeval tv{answer_seconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string UploadHead(size_t length, std::string_view extra = "") {
  return "POST /portal/tickets HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; "
         "boundary=b\r\nContent-Length: " +
         std::to_string(length) + "\r\n" + std::string(extra) + "\r\n";
}

std::string Answer(int fd) {
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// True when the server closed the connection without a word (not a timeout).
bool ClosedByServer(int fd) {
  char c = 0;
  return recv(fd, &c, 1, 0) == 0;
}

TEST_F(Portal, OnlyAFewLargeUploadsAreTakenAtOnceAndTheSlotsComeBack) {
  // Eight uploads of 30 MB each, bodies held back: every slot taken. Each asks for
  // 100 Continue, which the server sends once the upload has its slot, so the test
  // knows (not guesses) when all eight are held.
  std::vector<int> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(Open(server_.port()));
    std::string head = UploadHead(30u << 20, "Expect: 100-continue\r\n");
    ASSERT_GT(send(held.back(), head.data(), head.size(), MSG_NOSIGNAL), 0);
    ASSERT_EQ(Answer(held.back()).rfind("HTTP/1.1 100 Continue", 0), 0u) << "upload " << i;
    ASSERT_GT(send(held.back(), "--b\r\n", 5, MSG_NOSIGNAL), 0);
  }
  // The ninth is turned away at once, before a byte of its body is read.
  int ninth = Open(server_.port());
  std::string head = UploadHead(30u << 20);
  send(ninth, head.data(), head.size(), MSG_NOSIGNAL);
  std::string refused = Answer(ninth);
  close(ninth);
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused;
  EXPECT_NE(refused.find("Retry-After:"), std::string::npos) << refused;
  // A small form is never held up by them.
  Browser b(server_);
  EXPECT_EQ(b.Get("/portal").status, 200);
  // The held uploads are abandoned halfway. The server closes each (the end of the
  // stream is what the client sees) and gives its slot back before it does.
  for (int fd : held) {
    shutdown(fd, SHUT_WR);
    EXPECT_TRUE(ClosedByServer(fd));
    close(fd);
  }
  // So the next upload is read whole and answered (signed out: to /portal).
  int next = Open(server_.port());
  std::string body = "--b\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n" +
                     std::string(2u << 20, 'x') + "\r\n--b--\r\n";
  head = UploadHead(body.size());
  send(next, head.data(), head.size(), MSG_NOSIGNAL);
  send(next, body.data(), body.size(), MSG_NOSIGNAL);
  std::string answered = Answer(next);
  close(next);
  EXPECT_EQ(answered.rfind("HTTP/1.1 303", 0), 0u) << answered.substr(0, 200);
}

TEST_F(Portal, AFileNameThatIsNotValidTextIsCleanedNotRefused) {
  auto jane = SignedIn("jane@acmecorp.co.uk");
  jane->Get("/portal/tickets/new");
  HttpResult raised = jane->PostMultipart(
      "/portal/tickets", {{"subject", "Odd file"}, {"description", "See attached."}},
      {{"attachments", std::string("r\xff\xfe\xc3(port.txt"), "text/plain", "data"}});
  ASSERT_EQ(raised.status, 303) << raised.body;
  auto rows = server_.Query("SELECT filename FROM ticket_attachments");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(text::IsValidUtf8(rows[0][0])) << rows[0][0];
  // A text field that is not valid UTF-8 is an error naming it.
  jane->Get("/portal/tickets/new");
  HttpResult bad = jane->PostMultipart(
      "/portal/tickets", {{"subject", std::string("Bad \xff subject")}, {"description", "x"}}, {});
  EXPECT_EQ(bad.status, 422);
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM tickets")[0][0], "1");
}

}  // namespace
}  // namespace opsmerge::testing
