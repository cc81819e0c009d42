#include <gtest/gtest.h>

#include "platform/errors.h"
#include "staff/model.h"

namespace opsmerge::staff {
namespace {

TEST(Roles, WhoMayDoWhat) {
  struct Case {
    Role role;
    Permission permission;
    bool allowed;
  };
  std::vector<Case> cases = {
      {Role::kAdmin, Permission::kReadClients, true},
      {Role::kAdmin, Permission::kEditClients, true},
      {Role::kAdmin, Permission::kMergeClients, true},
      {Role::kAdmin, Permission::kDeleteClients, true},
      {Role::kAdmin, Permission::kManageStaff, true},
      {Role::kTechnician, Permission::kReadClients, true},
      {Role::kTechnician, Permission::kEditClients, true},
      {Role::kTechnician, Permission::kMergeClients, false},
      {Role::kTechnician, Permission::kDeleteClients, false},
      {Role::kTechnician, Permission::kManageStaff, false},
      {Role::kBilling, Permission::kReadClients, true},
      {Role::kBilling, Permission::kEditClients, false},
      {Role::kBilling, Permission::kMergeClients, false},
      {Role::kBilling, Permission::kDeleteClients, false},
      {Role::kBilling, Permission::kManageStaff, false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Allows(c.role, c.permission), c.allowed)
        << RoleName(c.role) << " / " << static_cast<int>(c.permission);
  }
}

TEST(Roles, RequireThrowsForbidden) {
  Actor tech{7, "Tess", Role::kTechnician};
  EXPECT_NO_THROW(Require(tech, Permission::kEditClients));
  EXPECT_THROW(Require(tech, Permission::kMergeClients), Forbidden);
}

TEST(Roles, ParseRoundTrips) {
  for (Role r : {Role::kAdmin, Role::kTechnician, Role::kBilling})
    EXPECT_EQ(ParseRole(RoleName(r)), r);
  EXPECT_FALSE(ParseRole("root").has_value());
  EXPECT_FALSE(ParseRole("Admin").has_value());
}

TEST(Roles, ActorFromRequestNeedsAPrincipal) {
  http::Request req;
  EXPECT_THROW(ActorFrom(req), Unauthorized);
  req.principal = http::Principal{3, "Ann", "ann@x.example", "admin", true};
  Actor a = ActorFrom(req);
  EXPECT_EQ(a.user_id, 3);
  EXPECT_EQ(a.role, Role::kAdmin);
  req.principal->role = "garbage";
  EXPECT_EQ(ActorFrom(req).role, Role::kBilling) << "unknown roles get the least";
}

TEST(Passwords, LengthRules) {
  EXPECT_THROW(ValidatePassword("short"), ValidationError);
  EXPECT_NO_THROW(ValidatePassword("twelve chars"));
  EXPECT_THROW(ValidatePassword(std::string(257, 'x')), ValidationError);
}

}  // namespace
}  // namespace opsmerge::staff

namespace opsmerge::staff {
namespace {

TEST(Passwords, CommonShapesAreRefusedAndOwnPhrasesAccepted) {
  for (const char* common :
       {"password1234", "Password1234!", "P@ssw0rd2025", "Summer2025!!!", "!!welcome!!123",
        "qwertyuiop12", "1q2w3e4r5t6y", "123456789012", "987654321098", "abcabcabcabc",
        "aaaaaaaaaaaa", "passwordpassword", "Correct Horse Battery Staple", "letmein!2024",
        "iloveyou1234", "Administrator1", "abcdefghijkl", "  opsmerge2026  "}) {
    EXPECT_TRUE(IsCommonPassword(common)) << common;
  }
  for (const char* own :
       {"a long enough password", "tram-lemon-ladder-47", "éclair au café du matin",
        "My cat Biscuit likes rain", "Xk9#vQ2$mT7!pL", "2931-8812-0475-6630"}) {
    EXPECT_FALSE(IsCommonPassword(own)) << own;
  }
}

TEST(Passwords, AreCountedInCharacters) {
  EXPECT_THROW(ValidatePassword(std::string(12, ' ')), ValidationError) << "blank";
  EXPECT_THROW(ValidatePassword("éééééé"), ValidationError) << "12 bytes, 6 characters";
  EXPECT_THROW(ValidatePassword("  short one  "), ValidationError) << "ends do not count";
  EXPECT_THROW(ValidatePassword("\xED\xA0\x80 not valid text"), ValidationError);
  EXPECT_NO_THROW(ValidatePassword("éléphant rose vole"));
  EXPECT_THROW(ValidatePassword(std::string(257, 'x') + "y"), ValidationError);
}

}  // namespace
}  // namespace opsmerge::staff
