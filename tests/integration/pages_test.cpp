// The staff pages, driven like a browser without JavaScript: the guide's steps,
// duplicates, merge from the list, archive, delete, htmx fragments.
#include <regex>

#include "harness.h"

namespace opsmerge::testing {
namespace {

const char* kPassword = "a long enough password";

class Pages : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new Server();
    server_->AddUserWithKey("admin@msp.example", "admin");
    server_->AddUserWithKey("tech@msp.example", "technician");
  }
  static void TearDownTestSuite() { delete server_; }
  void SetUp() override { ASSERT_EQ(admin_.SignIn("admin@msp.example", kPassword), 303); }
  int64_t CreateClient(const std::string& name, const std::string& domain = "") {
    admin_.Get("/clients/new");
    HttpResult r =
        admin_.Post("/clients", {{"name", name}, {"domain", domain}, {"contact_email", ""}});
    EXPECT_EQ(r.status, 303) << r.body.substr(0, 500);
    return IdFromLocation(r.Header("location"));
  }
  static Server* server_;
  Browser admin_{*server_};
};
Server* Pages::server_ = nullptr;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_F(Pages, GuideStep1CreatesAClientFromTheSidebar) {
  HttpResult list = admin_.Get("/clients");
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(Contains(list.body, ">Clients</span></a>")) << "Clients in the left sidebar";
  EXPECT_TRUE(Contains(list.body, "+ New client"));
  HttpResult form = admin_.Get("/clients/new");
  for (const char* label :
       {">Name</label>", ">Domain</label>", ">Contact email</label>", ">Create</button>"}) {
    EXPECT_TRUE(Contains(form.body, label)) << label;
  }
  HttpResult created = admin_.Post("/clients", {{"name", "Acme Corp"},
                                                {"domain", "acmecorp.co.uk"},
                                                {"contact_email", "it@acmecorp.co.uk"}});
  ASSERT_EQ(created.status, 303);
  int64_t id = IdFromLocation(created.Header("location"));
  HttpResult page = admin_.Get(created.Header("location"));
  EXPECT_TRUE(Contains(page.body, "Acme Corp"));
  EXPECT_TRUE(Contains(page.body, "acmecorp.co.uk"));
  EXPECT_TRUE(Contains(page.body, "No contract: billed ad-hoc")) << "the default no-frills setup";
  for (const char* tab : {">Overview</a>", ">Contacts <", ">Sites <", ">History</a>"}) {
    EXPECT_TRUE(Contains(page.body, tab)) << tab;
  }
  EXPECT_TRUE(Contains(admin_.Get("/clients/" + std::to_string(id) + "/history").body,
                       "Created client Acme Corp"));
}

TEST_F(Pages, GuideStep2AddsAContactWithRoles) {
  int64_t id = CreateClient("Step Two Ltd", "steptwo.example");
  std::string base = "/clients/" + std::to_string(id);
  HttpResult tab = admin_.Get(base + "/contacts");
  EXPECT_TRUE(Contains(tab.body, "+ New contact"));
  HttpResult form = admin_.Get(base + "/contacts/new");
  for (const char* label :
       {">Name</label>", ">Email</label>", ">Phone</label>", ">Job title</label>", ">VIP</span>",
        ">Portal user</span>", ">Save</button>"}) {
    EXPECT_TRUE(Contains(form.body, label)) << label;
  }
  HttpResult saved = admin_.Post(base + "/contacts", {{"name", "Jo Bloggs"},
                                                      {"email", "jo@steptwo.example"},
                                                      {"phone", "01234 567890"},
                                                      {"job_title", "Office manager"},
                                                      {"vip", "1"},
                                                      {"portal_user", "1"}});
  ASSERT_EQ(saved.status, 303);
  HttpResult after = admin_.Get(saved.Header("location"));
  EXPECT_TRUE(Contains(after.body, "Jo Bloggs"));
  EXPECT_TRUE(Contains(after.body, ">VIP</span>"));
  EXPECT_TRUE(Contains(after.body, ">Portal user</span>"));
  EXPECT_FALSE(Contains(after.body, ">Billing recipient</span>"));
  HttpResult bad = admin_.Post(base + "/contacts", {{"name", "No Email"}, {"email", "nope"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_TRUE(Contains(bad.body, "is-invalid"));
  EXPECT_TRUE(Contains(bad.body, "value=\"No Email\"")) << "what was typed is kept";
}

TEST_F(Pages, GuideStep3AddsASite) {
  int64_t id = CreateClient("Step Three Ltd");
  std::string base = "/clients/" + std::to_string(id);
  EXPECT_TRUE(Contains(admin_.Get(base + "/sites").body, "+ New site"));
  admin_.Get(base + "/sites/new");
  HttpResult saved =
      admin_.Post(base + "/sites", {{"name", "London office"}, {"address", "1 High St"}});
  ASSERT_EQ(saved.status, 303);
  EXPECT_TRUE(Contains(admin_.Get(base + "/sites").body, "London office"));
}

TEST_F(Pages, DuplicatesAreRefusedWithALinkOrConfirmed) {
  int64_t first = CreateClient("Twin Peaks Ltd", "twinpeaks.example");
  admin_.Get("/clients/new");
  HttpResult domain =
      admin_.Post("/clients", {{"name", "Other Name"}, {"domain", "twinpeaks.example"}});
  EXPECT_EQ(domain.status, 409);
  EXPECT_TRUE(Contains(domain.body, "href=\"/clients/" + std::to_string(first) + "\""));
  HttpResult name = admin_.Post("/clients", {{"name", "twin peaks ltd"}});
  EXPECT_EQ(name.status, 409);
  EXPECT_TRUE(Contains(name.body, "confirm_duplicate_name"));
  HttpResult confirmed =
      admin_.Post("/clients", {{"name", "twin peaks ltd"}, {"confirm_duplicate_name", "1"}});
  EXPECT_EQ(confirmed.status, 303);
  EXPECT_TRUE(Contains(admin_.Get("/clients/duplicates").body, "Same name"));
}

TEST_F(Pages, PossibleDuplicatesAreNotPreTickedAndNotDuplicatesIsRemembered) {
  int64_t a = CreateClient("Wombat Supplies Ltd", "wombat-supplies.example");
  int64_t b = CreateClient("Wombat Supplies Limited");
  HttpResult page = admin_.Get("/clients/duplicates");
  ASSERT_TRUE(Contains(page.body, "Wombat Supplies Limited"));
  EXPECT_FALSE(Contains(page.body, " checked>")) << "nothing is ticked for merge by default";
  HttpResult dismissed = admin_.Post("/clients/duplicates/dismiss",
                                     {{"group", std::to_string(a)}, {"group", std::to_string(b)}});
  EXPECT_EQ(dismissed.status, 303);
  EXPECT_FALSE(Contains(admin_.Get("/clients/duplicates").body, "Wombat Supplies Limited"));
  EXPECT_TRUE(Contains(admin_.Get("/clients/" + std::to_string(a) + "/history").body,
                       "not a duplicate of Wombat Supplies Limited"));
}

TEST_F(Pages, ArchivingASelectionKeepsTheSearch) {
  int64_t a = CreateClient("Kept Search Archive One");
  admin_.Get("/clients?q=kept+search");
  HttpResult done =
      admin_.Post("/clients/selection",
                  {{"ids", std::to_string(a)}, {"action", "archive"}, {"q", "kept search"}});
  EXPECT_EQ(done.status, 303);
  EXPECT_EQ(done.Header("location"), "/clients?notice=archived&q=kept%20search");
}

TEST_F(Pages, HistoryReadsAsFieldChangesAndTheAuditPageFilters) {
  int64_t id = CreateClient("Numbat Audit Ltd", "numbat-audit.example");
  std::string base = "/clients/" + std::to_string(id);
  admin_.Get(base + "/edit");
  ASSERT_EQ(admin_
                .Post(base, {{"name", "Numbat Audit Group"},
                             {"domain", "numbat-audit.example"},
                             {"contact_email", ""}})
                .status,
            303);
  HttpResult history = admin_.Get(base + "/history");
  EXPECT_TRUE(Contains(history.body,
                       "Name:</span> <del>Numbat Audit Ltd</del> → "
                       "<ins>Numbat Audit Group</ins>"))
      << history.body.substr(0, 3000);
  size_t raw = history.body.find("{&quot;");
  EXPECT_EQ(raw, std::string::npos)
      << "no raw JSON: " << history.body.substr(raw == std::string::npos ? 0 : raw, 200);

  HttpResult all = admin_.Get("/settings/audit");
  ASSERT_EQ(all.status, 200);
  EXPECT_TRUE(Contains(all.body, "Numbat Audit Group"));
  HttpResult by_client = admin_.Get("/settings/audit?client=NUMBAT&action=update");
  EXPECT_TRUE(Contains(by_client.body, "Edited client Numbat Audit Group"));
  EXPECT_FALSE(Contains(by_client.body, "Created client Numbat")) << "action filter";
  EXPECT_FALSE(Contains(
      admin_.Get("/settings/audit?client=numbat&from=2001-01-01&to=2001-01-02").body, "Numbat"))
      << "date filter";
  EXPECT_FALSE(Contains(admin_.Get("/settings/audit?actor=system").body, "Numbat"))
      << "the admin's changes are not the system's";
  EXPECT_EQ(admin_.Get("/settings/audit?from=yesterday").status, 422);
  Browser tech(*server_);
  ASSERT_EQ(tech.SignIn("tech@msp.example", kPassword), 303);
  EXPECT_EQ(tech.Get("/settings/audit").status, 403) << "admins only";
}

TEST_F(Pages, MergeFromTheListKeepsTheChosenClient) {
  int64_t a = CreateClient("Merge Page Alpha", "alpha-merge.example");
  int64_t b = CreateClient("Merge Page Beta");
  admin_.Get("/clients");
  HttpResult review =
      admin_.Post("/clients/selection",
                  {{"ids", std::to_string(a)}, {"ids", std::to_string(b)}, {"action", "merge"}});
  ASSERT_EQ(review.status, 200);
  EXPECT_TRUE(Contains(review.body, "Choose the client to keep"));
  HttpResult done = admin_.Post(
      "/clients/merge",
      {{"ids", std::to_string(a)}, {"ids", std::to_string(b)}, {"survivor_id", std::to_string(b)}});
  ASSERT_EQ(done.status, 303);
  EXPECT_EQ(IdFromLocation(done.Header("location")), b);
  HttpResult old = admin_.Get("/clients/" + std::to_string(a) + "/contacts");
  EXPECT_EQ(old.status, 301);
  EXPECT_EQ(old.Header("location"), "/clients/" + std::to_string(b) + "/contacts");
  EXPECT_TRUE(Contains(admin_.Get("/clients/" + std::to_string(b)).body, "alpha-merge.example"));
}

TEST_F(Pages, TechniciansCannotMergeOrDelete) {
  int64_t a = CreateClient("Tech Limits A");
  int64_t b = CreateClient("Tech Limits B");
  Browser tech(*server_);
  ASSERT_EQ(tech.SignIn("tech@msp.example", kPassword), 303);
  HttpResult list = tech.Get("/clients");
  EXPECT_FALSE(Contains(list.body, "value=\"merge\""));
  EXPECT_EQ(tech.Post("/clients/merge", {{"ids", std::to_string(a)},
                                         {"ids", std::to_string(b)},
                                         {"survivor_id", std::to_string(a)}})
                .status,
            403);
  EXPECT_EQ(tech.Post("/clients/" + std::to_string(a) + "/delete", {}).status, 403);
  EXPECT_EQ(tech.Get("/clients/" + std::to_string(b)).status, 200);
}

TEST_F(Pages, ArchiveFromTheListAndShowArchived) {
  int64_t id = CreateClient("Archive Via List Ltd");
  admin_.Get("/clients");
  HttpResult r =
      admin_.Post("/clients/selection", {{"ids", std::to_string(id)}, {"action", "archive"}});
  ASSERT_EQ(r.status, 303);
  EXPECT_FALSE(Contains(admin_.Get("/clients?q=archive+via").body, "Archive Via List Ltd"));
  HttpResult all = admin_.Get("/clients?q=archive+via&archived=all");
  EXPECT_TRUE(Contains(all.body, "Archive Via List Ltd"));
  EXPECT_TRUE(Contains(all.body, ">Archived</span>"));
}

TEST_F(Pages, DeleteIsRefusedWithArchiveInstead) {
  int64_t id = CreateClient("Has Tickets Ltd");
  server_->Sql("INSERT INTO tickets (client_id, subject, created_at) VALUES (" +
               std::to_string(id) + ", 'x', 'now')");
  HttpResult page = admin_.Get("/clients/" + std::to_string(id) + "/delete");
  EXPECT_TRUE(Contains(page.body, "Archive instead"));
  HttpResult refused = admin_.Post("/clients/" + std::to_string(id) + "/delete", {});
  EXPECT_EQ(refused.status, 409);
  EXPECT_TRUE(Contains(refused.body, "archive instead"));
  int64_t empty = CreateClient("Deletable Ltd");
  admin_.Get("/clients/" + std::to_string(empty) + "/delete");
  EXPECT_EQ(admin_.Post("/clients/" + std::to_string(empty) + "/delete", {}).status, 303);
  EXPECT_EQ(admin_.Get("/clients/" + std::to_string(empty)).status, 404);
}

TEST_F(Pages, CrossLinksShowOnBothPages) {
  int64_t a = CreateClient("Link Page Parent");
  int64_t b = CreateClient("Link Page Child");
  admin_.Get("/clients/" + std::to_string(b));
  HttpResult r = admin_.Post("/clients/" + std::to_string(b) + "/links",
                             {{"other", "link page parent"}, {"label", "Subsidiary of"}});
  ASSERT_EQ(r.status, 303);
  // Each side reads its own way round: the child is "Subsidiary of" the parent,
  // the parent is "Parent of" the child.
  EXPECT_TRUE(Contains(
      admin_.Get("/clients/" + std::to_string(b)).body,
      "Subsidiary of</span> <a href=\"/clients/" + std::to_string(a) + "\">Link Page Parent</a>"));
  EXPECT_TRUE(Contains(
      admin_.Get("/clients/" + std::to_string(a)).body,
      "Parent of</span> <a href=\"/clients/" + std::to_string(b) + "\">Link Page Child</a>"));
}

TEST_F(Pages, HtmxSearchGetsJustTheResults) {
  CreateClient("Htmx Search Target");
  HttpResult frag = admin_.Get("/clients?q=htmx+search",
                               {{"HX-Request", "true"}, {"HX-Target", "client-results"}});
  EXPECT_EQ(frag.status, 200);
  EXPECT_TRUE(Contains(frag.body, "Htmx Search Target"));
  EXPECT_FALSE(Contains(frag.body, "<html"));
  HttpResult full = admin_.Get("/clients?q=htmx+search");
  EXPECT_TRUE(Contains(full.body, "<html"));
}

TEST_F(Pages, AContactOrSiteIsOnlyReachableUnderItsOwnClient) {
  int64_t mine = CreateClient("Owner Check Mine");
  int64_t theirs = CreateClient("Owner Check Theirs");
  std::string t = "/clients/" + std::to_string(theirs);
  admin_.Get(t + "/contacts/new");
  ASSERT_EQ(
      admin_.Post(t + "/contacts", {{"name", "Secret"}, {"email", "s@theirs.example"}}).status,
      303);
  admin_.Get(t + "/sites/new");
  ASSERT_EQ(admin_.Post(t + "/sites", {{"name", "Hidden site"}}).status, 303);
  std::string contact =
      server_->Query("SELECT id FROM contacts WHERE email = 's@theirs.example'")[0][0];
  std::string site = server_->Query("SELECT id FROM sites WHERE name = 'Hidden site'")[0][0];
  std::string m = "/clients/" + std::to_string(mine);
  EXPECT_EQ(admin_.Get(m + "/contacts/" + contact + "/edit").status, 404);
  EXPECT_EQ(admin_.Post(m + "/contacts/" + contact + "/delete", {}).status, 404);
  EXPECT_EQ(admin_.Get(m + "/sites/" + site + "/edit").status, 404);
  EXPECT_EQ(admin_.Post(m + "/sites/" + site, {{"name", "Renamed"}}).status, 404);
  EXPECT_EQ(server_->Query("SELECT COUNT(*) FROM contacts WHERE email = 's@theirs.example'")[0][0],
            "1");
}

TEST_F(Pages, UserTextIsEscaped) {
  int64_t id = CreateClient("<script>alert(1)</script> Ltd");
  HttpResult page = admin_.Get("/clients/" + std::to_string(id));
  EXPECT_FALSE(Contains(page.body, "<script>alert(1)"));
  EXPECT_TRUE(Contains(page.body, "&lt;script&gt;alert(1)&lt;/script&gt; Ltd"));
  EXPECT_FALSE(std::regex_search(page.body, std::regex("<script>[^<]")));
}

}  // namespace
}  // namespace opsmerge::testing
