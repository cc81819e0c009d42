#include <gtest/gtest.h>

#include "clients/model.h"
#include "platform/errors.h"

namespace opsmerge::clients {
namespace {

TEST(Names, KeysFoldCaseAndWhiteSpace) {
  EXPECT_EQ(CleanName("  Acme   Corp \n"), "Acme Corp");
  EXPECT_EQ(NameKey("  ACME   corp "), "acme corp");
  EXPECT_EQ(NameKey("ÉCOLE Lumière"), "école lumière");
  EXPECT_NE(NameKey("Acme Corp"), NameKey("Acme Corporation"));
}

TEST(Names, CoreIgnoresLegalSuffixesAndPunctuation) {
  struct Case {
    const char* a;
    const char* b;
    bool same;
  };
  for (const auto& c : std::vector<Case>{
           {"Acme Corp", "ACME Corporation Ltd", true},
           {"Acme Corp", "Acme, Inc.", true},
           {"The Acme Company", "acme co.", true},
           {"Smith & Sons", "Smith and Sons Ltd", true},
           {"O'Neil Dental", "ONeil Dental Limited", true},
           {"Acme Corp", "Apex Corp", false},
           {"Acme", "Acme Widgets", false},
       }) {
    EXPECT_EQ(NameCore(c.a) == NameCore(c.b), c.same) << c.a << " / " << c.b;
  }
  EXPECT_FALSE(NameCore("The Company Ltd").empty()) << "a name of filler words keeps a key";
}

TEST(Validation, ClientFieldsNameTheField) {
  auto field_of = [](const ClientInput& in) {
    try {
      ValidateClient(in, nullptr);
    } catch (const ValidationError& e) {
      return e.field();
    }
    return std::string("ok");
  };
  ClientInput ok;
  ok.name = "Acme";
  EXPECT_EQ(field_of(ok), "ok");
  ClientInput none;
  EXPECT_EQ(field_of(none), "name");
  ClientInput blank;
  blank.name = "   ";
  EXPECT_EQ(field_of(blank), "name");
  ClientInput domain = ok;
  domain.domain = "not a domain";
  EXPECT_EQ(field_of(domain), "domain");
  ClientInput email = ok;
  email.contact_email = "nobody";
  EXPECT_EQ(field_of(email), "contact_email");
  ClientInput extra = ok;
  extra.domains = std::vector<std::string>{"fine.com", "bad domain"};
  EXPECT_EQ(field_of(extra), "domains");
  ClientInput long_name;
  long_name.name = std::string(201, 'x');
  EXPECT_EQ(field_of(long_name), "name");
  // The limit is in characters: 200 two-byte "é" (400 bytes) are fine, 201 are not.
  std::string two_hundred;
  for (int i = 0; i < 200; ++i) two_hundred += "é";
  ASSERT_EQ(two_hundred.size(), 400u);
  ClientInput unicode;
  unicode.name = two_hundred;
  EXPECT_EQ(field_of(unicode), "ok");
  ClientInput too_long_unicode;
  too_long_unicode.name = two_hundred + "é";
  EXPECT_EQ(field_of(too_long_unicode), "name");
  ClientInput emoji;  // four bytes each
  emoji.name = "";
  for (int i = 0; i < 200; ++i) emoji.name->append("\xF0\x9F\x98\x80");
  EXPECT_EQ(field_of(emoji), "ok");
}

TEST(Validation, UpdateKeepsWhatIsNotSent) {
  Client existing;
  existing.name = "Acme";
  existing.domain = "acme.com";
  existing.domains = {"acme.net"};
  existing.contact_email = "it@acme.com";
  ClientInput patch;
  patch.notes = "Gate code";
  CleanClient c = ValidateClient(patch, &existing);
  EXPECT_EQ(c.name, "Acme");
  EXPECT_EQ(c.domain, "acme.com");
  EXPECT_EQ(c.domains, std::vector<std::string>{"acme.net"});
  EXPECT_EQ(c.notes, "Gate code");
  ClientInput clear;
  clear.domain = "";
  EXPECT_EQ(ValidateClient(clear, &existing).domain, "");
}

TEST(Merge, RequestMustBeWellFormed) {
  EXPECT_THROW(ValidateMergeRequest(1, {}), ValidationError);
  EXPECT_THROW(ValidateMergeRequest(1, {1}), ValidationError);
  EXPECT_THROW(ValidateMergeRequest(1, {2, 2}), ValidationError);
  EXPECT_THROW(ValidateMergeRequest(0, {2}), ValidationError);
  EXPECT_NO_THROW(ValidateMergeRequest(1, {2, 3}));
}

TEST(Merge, SameEmailContactsBecomeOneWithRolesOred) {
  std::vector<MergeContact> contacts = {
      {10, 1, "jo@acme.com", {true, false, false, false}},
      {20, 2, "jo@acme.com", {false, true, true, false}},
      {21, 2, "pat@acme.com", {false, false, false, false}},
  };
  ContactMergePlan plan = PlanContactMerge(1, contacts);
  EXPECT_EQ(plan.move, std::vector<int64_t>{21});
  ASSERT_EQ(plan.fold_into.size(), 1u);
  EXPECT_EQ(plan.fold_into.at(20), 10);
  ASSERT_TRUE(plan.new_roles.count(10));
  EXPECT_TRUE(plan.new_roles[10].vip);
  EXPECT_TRUE(plan.new_roles[10].portal_user);
  EXPECT_TRUE(plan.new_roles[10].billing_recipient);
  EXPECT_FALSE(plan.new_roles.count(21)) << "unchanged roles are not rewritten";
}

TEST(Merge, OnePrimaryTechnicalContactSurvives) {
  // Survivor has one: every merged primary is demoted.
  std::vector<MergeContact> with = {
      {10, 1, "a@x.com", {false, false, false, true}},
      {20, 2, "b@x.com", {false, false, false, true}},
  };
  ContactMergePlan p1 = PlanContactMerge(1, with);
  ASSERT_TRUE(p1.new_roles.count(20));
  EXPECT_FALSE(p1.new_roles[20].primary_technical);
  // Survivor has none: the first merged primary keeps it, later ones are demoted.
  std::vector<MergeContact> without = {
      {10, 1, "a@x.com", {}},
      {20, 2, "b@x.com", {false, false, false, true}},
      {30, 3, "c@x.com", {false, false, false, true}},
  };
  ContactMergePlan p2 = PlanContactMerge(1, without);
  EXPECT_FALSE(p2.new_roles.count(20));
  ASSERT_TRUE(p2.new_roles.count(30));
  EXPECT_FALSE(p2.new_roles[30].primary_technical);
  // A folded contact hands its primary role to the kept one when there is none.
  std::vector<MergeContact> folded = {
      {10, 1, "a@x.com", {}},
      {20, 2, "a@x.com", {false, false, false, true}},
  };
  ContactMergePlan p3 = PlanContactMerge(1, folded);
  ASSERT_TRUE(p3.new_roles.count(10));
  EXPECT_TRUE(p3.new_roles[10].primary_technical);
}

TEST(Duplicates, GroupsBySameNameDomainAndSimilarName) {
  std::vector<DuplicateCandidate> clients = {
      {1, "acme corp", NameCore("Acme Corp"), {"acme.com"}, false},
      {2, "acme corporation ltd", NameCore("ACME Corporation Ltd"), {}, false},
      {3, "apex", NameCore("Apex"), {"apex.com"}, false},
      {4, "apex", NameCore("Apex"), {}, true},
      {5, "old one", NameCore("Old One"), {"old.com"}, true},
      {6, "old one", NameCore("Old One"), {"old.com"}, true},
      {7, "zeta", NameCore("Zeta"), {"acme.com"}, true},
  };
  std::vector<DuplicateGroup> groups = FindDuplicates(clients);
  // 1 and 2 have similar names, 1 and 7 share a domain: one group, so a client is
  // never offered in two places at once.
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].client_ids, (std::vector<int64_t>{1, 2, 7}));
  EXPECT_EQ(groups[0].reasons, (std::vector<std::string>{"same_domain", "similar_name"}));
  EXPECT_EQ(groups[0].reason, "same_domain");
  EXPECT_EQ(groups[1].client_ids, (std::vector<int64_t>{3, 4}))
      << "an archived twin of an active client is shown";
  EXPECT_EQ(groups[1].reasons, (std::vector<std::string>{"same_name"}))
      << "same name is reported once, as same_name";
  // 5 and 6 are both archived: not shown.

  // "Not duplicates": 1 and 7 said different; 1-2 still similar, 7 alone now.
  groups = FindDuplicates(clients, {{1, 7}});
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].client_ids, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(groups[0].reasons, (std::vector<std::string>{"similar_name"}));
  groups = FindDuplicates(clients, {{1, 7}, {1, 2}, {3, 4}});
  EXPECT_TRUE(groups.empty());
}

TEST(Links, KnownRelationshipsHaveTheirInverse) {
  EXPECT_EQ(InverseLabel("Subsidiary of"), "Parent of");
  EXPECT_EQ(InverseLabel("  parent   OF "), "Subsidiary of");
  EXPECT_EQ(InverseLabel("Sister company of"), "Sister company of");
  EXPECT_EQ(InverseLabel("Managed by"), "Manages");
  EXPECT_EQ(InverseLabel("Hosting provider for"), "") << "free labels are not guessed";
  ClientLink in{1, 2, "Acme Corp", "Subsidiary of", "Parent of", "incoming"};
  EXPECT_EQ(in.shown_label(), "Parent of");
  ClientLink out{1, 2, "Acme Holdings", "Subsidiary of", "Parent of", "outgoing"};
  EXPECT_EQ(out.shown_label(), "Subsidiary of");
}

TEST(Lists, FiltersAndSortsParse) {
  EXPECT_EQ(ParseArchivedFilter(""), ArchivedFilter::kActive);
  EXPECT_EQ(ParseArchivedFilter("false"), ArchivedFilter::kActive);
  EXPECT_EQ(ParseArchivedFilter("true"), ArchivedFilter::kArchived);
  EXPECT_EQ(ParseArchivedFilter("all"), ArchivedFilter::kAll);
  EXPECT_FALSE(ParseArchivedFilter("maybe").has_value());
  EXPECT_EQ(ParseClientSort("created"), ClientSort::kCreated);
  EXPECT_FALSE(ParseClientSort("id; DROP TABLE clients").has_value());
}

TEST(Contacts, ValidationAndRoles) {
  ContactInput in;
  in.name = " Jo ";
  in.email = "Jo@ACME.com";
  in.vip = true;
  Contact c = ValidateContact(in, nullptr);
  EXPECT_EQ(c.name, "Jo");
  EXPECT_EQ(c.email, "Jo@acme.com");
  EXPECT_TRUE(c.roles.vip);
  ContactInput missing;
  missing.name = "Jo";
  EXPECT_THROW(ValidateContact(missing, nullptr), ValidationError);
  ContactInput patch;
  patch.portal_user = true;
  Contact updated = ValidateContact(patch, &c);
  EXPECT_TRUE(updated.roles.vip) << "roles not sent are kept";
  EXPECT_TRUE(updated.roles.portal_user);
}

}  // namespace
}  // namespace opsmerge::clients
