// U1 staff security: two-factor sign-in (TOTP with replay and skew rules, recovery
// codes, the MSP-wide requirement), disabling and removing staff, changing your own
// password, signing out everywhere, and admin-issued one-time reset links.
#include <algorithm>
#include <atomic>
#include <regex>
#include <sstream>
#include <thread>

#include "harness.h"
#include "platform/totp.h"

namespace opsmerge::testing {
namespace {

const char* kPassword = "a long enough password";
// The start of a 30-second step plus 10 s, so "now" is well inside one step.
constexpr int64_t kFrozenAt = 1'800'000'010;
constexpr int64_t kStep = kFrozenAt / 30;

std::string Capture(const std::string& body, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(body, m, std::regex(pattern))) return "";
  return m[1].str();
}

std::string HiddenChallenge(const HttpResult& page) {
  return Capture(page.body, "name=\"challenge\" value=\"([^\"]+)\"");
}

std::string SecretOn(const HttpResult& page) {
  std::string grouped = Capture(page.body, "id=\"totp-key\" value=\"([A-Z2-7 ]+)\"");
  grouped.erase(std::remove(grouped.begin(), grouped.end(), ' '), grouped.end());
  return grouped;
}

std::vector<std::string> RecoveryCodesOn(const HttpResult& page) {
  std::string text = Capture(page.body, "id=\"recovery-codes\"[^>]*>([^<]*)</textarea>");
  std::vector<std::string> codes;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) codes.push_back(line);
  }
  return codes;
}

class StaffSecurity : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<Server>();
    server_->FreezeClock(kFrozenAt);
    admin_key_ = server_->AddUserWithKey("admin@msp.example", "admin");
    tech_key_ = server_->AddUserWithKey("tech@msp.example", "technician");
  }

  // Turns two-factor on for a signed-in browser from My account; returns the secret.
  std::string TurnOnTwoFactor(Browser& b, std::vector<std::string>* codes = nullptr) {
    b.Get("/account");
    EXPECT_EQ(b.Post("/account/two-factor/begin", {}).status, 303);
    HttpResult page = b.Get("/account");
    std::string secret = SecretOn(page);
    EXPECT_EQ(secret.size(), 32u) << page.body;
    EXPECT_NE(page.body.find("data:image/svg+xml;base64,"), std::string::npos) << "a QR code";
    HttpResult wrong = b.Post("/account/two-factor/confirm", {{"code", "000000"}});
    EXPECT_EQ(wrong.status, 422);
    HttpResult ok = b.Post("/account/two-factor/confirm", {{"code", totp::CodeAt(secret, kStep)}});
    EXPECT_EQ(ok.status, 200);
    std::vector<std::string> shown = RecoveryCodesOn(ok);
    EXPECT_EQ(shown.size(), 10u);
    if (codes) *codes = shown;
    return secret;
  }

  // The password step of a sign-in in a fresh page; returns the second step's
  // challenge ("" when the password alone signed in).
  static std::string ChallengeFor(Browser& b, const std::string& email) {
    b.Get("/login");
    return HiddenChallenge(b.Post("/login", {{"email", email}, {"password", kPassword}}));
  }

  std::unique_ptr<Server> server_;
  std::string admin_key_, tech_key_;
};

TEST_F(StaffSecurity, TwoFactorAsksForACodeAfterThePasswordAndRefusesReplays) {
  Browser tech(*server_);
  ASSERT_EQ(tech.SignIn("tech@msp.example", kPassword), 303);
  std::string secret = TurnOnTwoFactor(tech);
  // The confirming code used step kStep: a new sign-in needs a later step.
  server_->AdvanceClock(30);

  Browser b(*server_);
  b.Get("/login");
  HttpResult step = b.Post("/login", {{"email", "tech@msp.example"}, {"password", kPassword}});
  ASSERT_EQ(step.status, 200) << "the password alone does not sign in";
  EXPECT_TRUE(step.Header("set-cookie").find("om_session") == std::string::npos ||
              step.Header("set-cookie").find("om_session=;") != std::string::npos);
  std::string challenge = HiddenChallenge(step);
  ASSERT_GE(challenge.size(), 22u) << "at least 128 bits";
  EXPECT_EQ(b.Get("/clients").status, 302) << "not signed in yet";

  b.Get("/login");
  EXPECT_EQ(b.Post("/login/two-factor", {{"challenge", challenge}, {"code", "123456"}}).status,
            401);
  std::string code = totp::CodeAt(secret, kStep + 1);
  HttpResult in = b.Post("/login/two-factor", {{"challenge", challenge}, {"code", code}});
  ASSERT_EQ(in.status, 303);
  EXPECT_EQ(b.Get("/clients").status, 200);

  // The same code again, on a fresh sign-in: refused (replay within its 30 s).
  Browser c(*server_);
  std::string second = ChallengeFor(c, "tech@msp.example");
  EXPECT_EQ(c.Post("/login/two-factor", {{"challenge", second}, {"code", code}}).status, 401);
  // An older step is refused too; the next one (a phone 30 s fast) is accepted.
  EXPECT_EQ(
      c.Post("/login/two-factor", {{"challenge", second}, {"code", totp::CodeAt(secret, kStep)}})
          .status,
      401);
  EXPECT_EQ(c.Post("/login/two-factor",
                   {{"challenge", second}, {"code", totp::CodeAt(secret, kStep + 2)}})
                .status,
            303);
}

TEST_F(StaffSecurity, ClockSkewOfOneStepEitherSideIsAcceptedAndTwoIsNot) {
  Browser tech(*server_);
  ASSERT_EQ(tech.SignIn("tech@msp.example", kPassword), 303);
  std::string secret = TurnOnTwoFactor(tech);
  server_->AdvanceClock(300);  // now at step kStep + 10
  const int64_t now_step = kStep + 10;
  auto attempt = [&](int64_t step) {
    Browser b(*server_);
    b.Get("/login");
    std::string ch =
        HiddenChallenge(b.Post("/login", {{"email", "tech@msp.example"}, {"password", kPassword}}));
    return b.Post("/login/two-factor", {{"challenge", ch}, {"code", totp::CodeAt(secret, step)}})
        .status;
  };
  EXPECT_EQ(attempt(now_step - 2), 401) << "a phone a minute slow";
  EXPECT_EQ(attempt(now_step + 2), 401) << "a phone a minute fast";
  EXPECT_EQ(attempt(now_step - 1), 303) << "a phone 30 s slow";
  EXPECT_EQ(attempt(now_step + 1), 303) << "a phone 30 s fast";
}

TEST_F(StaffSecurity, ARecoveryCodeWorksOnceAndTheSameCodeTwiceConcurrentlySignsInOnce) {
  Browser tech(*server_);
  ASSERT_EQ(tech.SignIn("tech@msp.example", kPassword), 303);
  std::vector<std::string> codes;
  std::string secret = TurnOnTwoFactor(tech, &codes);
  ASSERT_EQ(codes.size(), 10u);
  EXPECT_GE(codes[0].size(), 26u) << "128 bits or more";

  auto challenge_for = [](Browser& b) { return ChallengeFor(b, "tech@msp.example"); };
  Browser a(*server_);
  std::string ch = challenge_for(a);
  // Typed in upper case without dashes: still the code.
  std::string typed = codes[3];
  typed.erase(std::remove(typed.begin(), typed.end(), '-'), typed.end());
  std::transform(typed.begin(), typed.end(), typed.begin(), ::toupper);
  EXPECT_EQ(a.Post("/login/two-factor", {{"challenge", ch}, {"code", typed}}).status, 303);
  Browser again(*server_);
  ch = challenge_for(again);
  EXPECT_EQ(again.Post("/login/two-factor", {{"challenge", ch}, {"code", codes[3]}}).status, 401);

  // Two sign-ins racing with one TOTP code: exactly one gets in.
  server_->AdvanceClock(30);
  std::string code = totp::CodeAt(secret, kStep + 1);
  for (int round = 0; round < 3; ++round) {
    std::vector<std::unique_ptr<Browser>> browsers;
    std::vector<std::string> challenges;
    for (int i = 0; i < 6; ++i) {
      browsers.push_back(std::make_unique<Browser>(*server_));
      challenges.push_back(challenge_for(*browsers.back()));
    }
    std::atomic<int> signed_in{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 6; ++i) {
      threads.emplace_back([&, i] {
        if (browsers[i]
                ->Post("/login/two-factor", {{"challenge", challenges[i]}, {"code", code}})
                .status == 303) {
          ++signed_in;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(signed_in.load(), round == 0 ? 1 : 0) << "round " << round;
  }
}

TEST_F(StaffSecurity, NewRecoveryCodesReplaceTheOldOnesAndTurningTwoFactorOffNeedsThePassword) {
  Browser tech(*server_);
  ASSERT_EQ(tech.SignIn("tech@msp.example", kPassword), 303);
  std::vector<std::string> old_codes;
  TurnOnTwoFactor(tech, &old_codes);
  tech.Get("/account");
  EXPECT_EQ(tech.Post("/account/recovery-codes", {{"current_password", "wrong password!!"}}).status,
            422)
      << "the form again, with the error beside the password";
  HttpResult fresh = tech.Post("/account/recovery-codes", {{"current_password", kPassword}});
  ASSERT_EQ(fresh.status, 200);
  std::vector<std::string> new_codes = RecoveryCodesOn(fresh);
  ASSERT_EQ(new_codes.size(), 10u);
  EXPECT_EQ(fresh.Header("cache-control"), "no-store") << "shown once, never cached";
  Browser a(*server_);
  std::string ch = ChallengeFor(a, "tech@msp.example");
  EXPECT_EQ(a.Post("/login/two-factor", {{"challenge", ch}, {"code", old_codes[0]}}).status, 401)
      << "the old codes are gone";
  EXPECT_EQ(a.Post("/login/two-factor", {{"challenge", ch}, {"code", new_codes[0]}}).status, 303);

  tech.Get("/account");
  EXPECT_EQ(
      tech.Post("/account/two-factor/disable", {{"current_password", "wrong password!!"}}).status,
      422);
  EXPECT_EQ(tech.Post("/account/two-factor/disable", {{"current_password", kPassword}}).status,
            303);
  Browser b(*server_);
  b.Get("/login");
  EXPECT_EQ(b.Post("/login", {{"email", "tech@msp.example"}, {"password", kPassword}}).status, 303)
      << "the password alone signs in again";
  EXPECT_EQ(server_->Query("SELECT id FROM audit_log WHERE action = 'disable_two_factor'").size(),
            1u)
      << "audited";
}

TEST_F(StaffSecurity, AChallengeEndsAfterFiveWrongCodesOrFiveMinutes) {
  Browser tech(*server_);
  ASSERT_EQ(tech.SignIn("tech@msp.example", kPassword), 303);
  std::string secret = TurnOnTwoFactor(tech);
  server_->AdvanceClock(30);
  Browser b(*server_);
  b.Get("/login");
  std::string ch =
      HiddenChallenge(b.Post("/login", {{"email", "tech@msp.example"}, {"password", kPassword}}));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(b.Post("/login/two-factor", {{"challenge", ch}, {"code", "111111"}}).status, 401);
  }
  HttpResult late =
      b.Post("/login/two-factor", {{"challenge", ch}, {"code", totp::CodeAt(secret, kStep + 1)}});
  EXPECT_EQ(late.status, 401);
  EXPECT_NE(late.body.find("Sign in again"), std::string::npos);

  b.Get("/login");
  ch = HiddenChallenge(b.Post("/login", {{"email", "tech@msp.example"}, {"password", kPassword}}));
  server_->AdvanceClock(301);
  EXPECT_EQ(
      b.Post("/login/two-factor", {{"challenge", ch}, {"code", totp::CodeAt(secret, kStep + 11)}})
          .status,
      401)
      << "expired after 5 minutes";
}

TEST_F(StaffSecurity, RequiringTwoFactorMakesStaffSetItUpAtSignIn) {
  Browser admin(*server_);
  ASSERT_EQ(admin.SignIn("admin@msp.example", kPassword), 303);
  admin.Get("/settings/staff");
  HttpResult refused = admin.Post("/settings/staff/two-factor-policy", {{"required", "1"}});
  EXPECT_EQ(refused.status, 409) << "an admin without two-factor cannot require it";
  EXPECT_NE(refused.body.find("your own account first"), std::string::npos);
  TurnOnTwoFactor(admin);
  admin.Get("/settings/staff");
  EXPECT_EQ(admin.Post("/settings/staff/two-factor-policy", {{"required", "1"}}).status, 303);

  Browser tech(*server_);
  tech.Get("/login");
  HttpResult enrol = tech.Post("/login", {{"email", "tech@msp.example"}, {"password", kPassword}});
  ASSERT_EQ(enrol.status, 200);
  EXPECT_NE(enrol.body.find("requires two-factor sign-in"), std::string::npos);
  std::string secret = SecretOn(enrol);
  std::string ch = HiddenChallenge(enrol);
  ASSERT_FALSE(secret.empty());
  EXPECT_EQ(tech.Post("/login/enrol", {{"challenge", ch}, {"code", "000000"}}).status, 422);
  HttpResult done =
      tech.Post("/login/enrol", {{"challenge", ch}, {"code", totp::CodeAt(secret, kStep)}});
  ASSERT_EQ(done.status, 200);
  EXPECT_EQ(RecoveryCodesOn(done).size(), 10u);
  EXPECT_EQ(tech.Get("/clients").status, 200) << "signed in once it is on";
  // It cannot be turned off while required.
  tech.Get("/account");
  EXPECT_EQ(tech.Post("/account/two-factor/disable", {{"current_password", kPassword}}).status,
            409);
}

TEST_F(StaffSecurity, DisablingOrRemovingStaffEndsTheirSessionsAndKeysAtOnce) {
  server_->AddUserWithKey("second@msp.example", "technician");
  Browser tech(*server_), second(*server_), admin(*server_);
  ASSERT_EQ(tech.SignIn("tech@msp.example", kPassword), 303);
  ASSERT_EQ(second.SignIn("second@msp.example", kPassword), 303);
  ASSERT_EQ(admin.SignIn("admin@msp.example", kPassword), 303);
  EXPECT_EQ(server_->Api(tech_key_, "GET", "/api/v1/clients").status, 200);

  auto id_of = [&](const std::string& email) {
    return server_->Query("SELECT id FROM staff_users WHERE email = '" + email + "'")[0][0];
  };
  admin.Get("/settings/staff");
  EXPECT_EQ(admin.Post("/settings/staff/" + id_of("tech@msp.example") + "/disable", {}).status,
            303);
  EXPECT_EQ(tech.Get("/clients").status, 302) << "the session ended";
  EXPECT_EQ(server_->Api(tech_key_, "GET", "/api/v1/clients").status, 401) << "the key ended";
  EXPECT_EQ(tech.SignIn("tech@msp.example", kPassword), 401) << "cannot sign in";

  admin.Get("/settings/staff");
  EXPECT_EQ(admin.Post("/settings/staff/" + id_of("second@msp.example") + "/remove", {}).status,
            303);
  EXPECT_EQ(second.Get("/clients").status, 302);
  EXPECT_TRUE(
      server_->Query("SELECT id FROM staff_users WHERE email = 'second@msp.example'").empty());
  EXPECT_FALSE(server_
                   ->Query("SELECT id FROM audit_log WHERE action = 'delete' AND "
                           "entity_type = 'staff_user'")
                   .empty());

  // Nobody disables or removes themselves; a technician does neither to anyone.
  admin.Get("/settings/staff");
  HttpResult self = admin.Post("/settings/staff/" + id_of("admin@msp.example") + "/disable", {});
  EXPECT_EQ(self.status, 409);
  EXPECT_NE(self.body.find("your own account"), std::string::npos);
  Browser other(*server_);
  server_->AddUserWithKey("third@msp.example", "technician");
  ASSERT_EQ(other.SignIn("third@msp.example", kPassword), 303);
  other.Get("/clients");
  EXPECT_EQ(other.Post("/settings/staff/" + id_of("admin@msp.example") + "/remove", {}).status,
            403);
}

TEST_F(StaffSecurity, ChangingYourPasswordEndsYourOtherSessionsAndSignOutEverywhereEndsAll) {
  Browser here(*server_), there(*server_);
  ASSERT_EQ(here.SignIn("tech@msp.example", kPassword), 303);
  ASSERT_EQ(there.SignIn("tech@msp.example", kPassword), 303);
  here.Get("/account");
  HttpResult wrong = here.Post("/account/password", {{"current_password", "not my password!"},
                                                     {"password", "plum cactus violin ninety"}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.body.find("not your current password"), std::string::npos);
  EXPECT_EQ(here.Post("/account/password", {{"current_password", kPassword}, {"password", "short"}})
                .status,
            422);
  EXPECT_EQ(here.Post("/account/password",
                      {{"current_password", kPassword}, {"password", "plum cactus violin ninety"}})
                .status,
            303);
  EXPECT_EQ(here.Get("/clients").status, 200) << "this session continues";
  EXPECT_EQ(there.Get("/clients").status, 302) << "the other one ended";
  Browser fresh(*server_);
  EXPECT_EQ(fresh.SignIn("tech@msp.example", kPassword), 401);
  EXPECT_EQ(fresh.SignIn("tech@msp.example", "plum cactus violin ninety"), 303);

  here.Get("/account");
  EXPECT_EQ(here.Post("/account/sign-out-everywhere", {}).status, 303);
  EXPECT_EQ(here.Get("/clients").status, 302);
  EXPECT_EQ(fresh.Get("/clients").status, 302);
}

TEST_F(StaffSecurity, AResetLinkWorksOnceEvenUnderConcurrentPostsAndItsGetConsumesNothing) {
  Browser tech(*server_);
  ASSERT_EQ(tech.SignIn("tech@msp.example", kPassword), 303);
  Browser admin(*server_);
  ASSERT_EQ(admin.SignIn("admin@msp.example", kPassword), 303);
  std::string tech_id =
      server_->Query("SELECT id FROM staff_users WHERE email = 'tech@msp.example'")[0][0];
  admin.Get("/settings/staff");
  HttpResult issued = admin.Post("/settings/staff/" + tech_id + "/reset-password", {});
  ASSERT_EQ(issued.status, 200);
  std::string link = Capture(issued.body, "id=\"reset-link\" value=\"([^\"]+)\"");
  std::string path = link.substr(link.find("/reset-password/"));
  std::string token = path.substr(std::string("/reset-password/").size());
  EXPECT_GE(token.size(), 43u) << "256 bits";
  EXPECT_TRUE(
      server_
          ->Query("SELECT token_hash FROM staff_password_resets WHERE token_hash = '" + token + "'")
          .empty())
      << "stored hashed";

  Browser person(*server_);
  for (int i = 0; i < 2; ++i) {
    HttpResult page = person.Get(path);  // a mail scanner's GET consumes nothing
    ASSERT_EQ(page.status, 200);
    EXPECT_EQ(page.Header("referrer-policy"), "no-referrer");
    EXPECT_EQ(page.Header("cache-control"), "no-store");
  }
  EXPECT_EQ(person.Post(path, {{"password", "short"}}).status, 422) << "a typo burns nothing";

  std::atomic<int> accepted{0};
  std::vector<std::unique_ptr<Browser>> racers;
  for (int i = 0; i < 6; ++i) {
    racers.push_back(std::make_unique<Browser>(*server_));
    racers.back()->Get(path);
  }
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      HttpResult r = racers[i]->Post(
          path, {{"password", "attacker" + std::to_string(i) + " picked this long one"}});
      if (r.status == 303) ++accepted;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 1);
  EXPECT_EQ(person.Get(path).status, 403) << "used";
  EXPECT_EQ(tech.Get("/clients").status, 302) << "a reset ends the user's sessions";

  // A technician cannot issue links.
  Browser other(*server_);
  server_->AddUserWithKey("third@msp.example", "technician");
  ASSERT_EQ(other.SignIn("third@msp.example", kPassword), 303);
  other.Get("/clients");
  EXPECT_EQ(other.Post("/settings/staff/" + tech_id + "/reset-password", {}).status, 403);
}

TEST_F(StaffSecurity, AnAdminCanResetALostTwoFactorAndEveryChangeIsAudited) {
  Browser tech(*server_);
  ASSERT_EQ(tech.SignIn("tech@msp.example", kPassword), 303);
  TurnOnTwoFactor(tech);
  Browser admin(*server_);
  ASSERT_EQ(admin.SignIn("admin@msp.example", kPassword), 303);
  std::string tech_id =
      server_->Query("SELECT id FROM staff_users WHERE email = 'tech@msp.example'")[0][0];
  admin.Get("/settings/staff");
  EXPECT_EQ(admin.Post("/settings/staff/" + tech_id + "/reset-two-factor", {}).status, 303);
  Browser b(*server_);
  EXPECT_EQ(b.SignIn("tech@msp.example", kPassword), 303) << "password alone again";
  auto actions =
      server_->Query("SELECT action FROM audit_log WHERE entity_type = 'staff_user' ORDER BY id");
  std::vector<std::string> seen;
  for (const auto& row : actions) seen.push_back(row[0]);
  EXPECT_NE(std::find(seen.begin(), seen.end(), "enable_two_factor"), seen.end());
  EXPECT_NE(std::find(seen.begin(), seen.end(), "reset_two_factor"), seen.end());
}

}  // namespace
}  // namespace opsmerge::testing
