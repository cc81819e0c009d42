// History reads as field changes, not JSON.
#include <gtest/gtest.h>

#include "audit/changes.h"

namespace opsmerge::audit {
namespace {

TEST(FieldChanges, AnUpdateListsOnlyWhatChanged) {
  auto changes =
      FieldChanges(R"({"name":"Acme","domain":"acme.com","notes":"","vip":false})",
                   R"({"name":"Acme Corp","domain":"acme.com","notes":"Key account","vip":true})");
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].field, "Name");
  EXPECT_EQ(changes[0].before, "Acme");
  EXPECT_EQ(changes[0].after, "Acme Corp");
  EXPECT_EQ(changes[1].field, "Notes");
  EXPECT_EQ(changes[1].before, "");
  EXPECT_EQ(changes[2].field, "Vip");
  EXPECT_EQ(changes[2].before, "No");
  EXPECT_EQ(changes[2].after, "Yes");
}

TEST(FieldChanges, CreationsDeletionsListsAndOddInput) {
  auto created = FieldChanges("", R"({"contact_email":"it@acme.com","domains":["a.com","b.com"]})");
  ASSERT_EQ(created.size(), 2u);
  EXPECT_EQ(created[0].field, "Contact email");
  EXPECT_EQ(created[1].after, "a.com, b.com");
  auto deleted = FieldChanges(R"({"name":"Old site"})", "");
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].before, "Old site");
  EXPECT_EQ(deleted[0].after, "");
  EXPECT_TRUE(FieldChanges("[1,2]", "not json").empty());
  EXPECT_TRUE(FieldChanges(R"({"a":1})", R"({"a":1})").empty());
  auto bookkeeping = FieldChanges(
      "", R"({"id":4,"name":"Acme","created_at":"2026-12-02T07:00:00Z","counts":{"sites":0},)"
          R"("links":[{"id":1}]})");
  ASSERT_EQ(bookkeeping.size(), 1u);
  EXPECT_EQ(bookkeeping[0].field, "Name");
}

}  // namespace
}  // namespace opsmerge::audit
