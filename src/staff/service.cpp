#include "staff/service.h"

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "platform/crypto.h"
#include "platform/errors.h"
#include "platform/rate_limit.h"
#include "platform/settings.h"
#include "platform/text.h"
#include "platform/totp.h"
#include "staff/store.h"

namespace opsmerge::staff {

namespace {

User ToUser(const store::UserRow& r) {
  return User{r.id,
              r.email,
              r.name,
              ParseRole(r.role).value_or(Role::kBilling),
              r.disabled,
              r.created_at,
              !r.totp_secret.empty()};
}

ApiKey ToApiKey(const store::ApiKeyRow& r) {
  return ApiKey{r.id, r.label, r.prefix, r.user_email, r.created_at, r.last_used_at, r.revoked_at};
}

// A hash to verify against when the email is unknown, so both cases cost the same.
const std::string& DummyHash() {
  static const std::string hash = crypto::HashPassword("opsmerge-timing-equaliser");
  return hash;
}

std::string PairBucket(const std::string& email_key, const std::string& ip) {
  return "signin:pair:" + ip + ":" + email_key;
}
std::string AddressBucket(const std::string& ip) { return "signin:ip:" + ip; }
std::string AccountBucket(const std::string& email_key) { return "signin:acct:" + email_key; }
std::string PaceBucket(const std::string& email_key) { return "signin:pace:" + email_key; }

std::string CodeBucket(int64_t user_id) { return "signin:code:" + std::to_string(user_id); }

constexpr int64_t kSetupTokenSeconds = int64_t{24} * 3600;
constexpr int64_t kChallengeSeconds = int64_t{5} * 60;
constexpr int64_t kChallengeAttempts = 5;
// Wrong codes per account per window, across challenges: with a known password,
// guessing a 6-digit code (3 valid at a time) stays hopeless.
constexpr int64_t kCodeFailures = 10;
constexpr int64_t kResetSeconds = int64_t{24} * 3600;
constexpr int kRecoveryCodes = 10;
constexpr const char* kRequireTwoFactor = "staff.require_two_factor";
constexpr const char* kIssuer = "OpsMerge";
constexpr const char* kChallengeGone =
    "This sign-in has expired or had too many wrong codes. Sign in again.";

// Recovery codes are typed by people: upper case and separators do not matter.
std::string NormalizeRecoveryCode(std::string_view code) {
  std::string out;
  for (char c : code) {
    if (c == '-' || c == ' ') continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

bool LooksLikeTotp(std::string_view code) {
  size_t digits = 0;
  for (char c : code) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c != ' ' && c != '-') {
      return false;
    }
  }
  return digits == 6;
}
constexpr const char* kApiKeyPrefix = "om_";

}  // namespace

StaffService::StaffService(db::Database& db, const audit::AuditLog& audit, const Clock& clock,
                           SignInLimits limits, SessionPolicy sessions)
    : db_(db), audit_(audit), clock_(clock), limits_(limits), sessions_(sessions) {}

StaffService::NewUser StaffService::ValidateNewUser(const std::string& email,
                                                    const std::string& name,
                                                    const std::string& role,
                                                    const std::string& password) {
  NewUser u;
  auto normalized = text::NormalizeEmail(email);
  if (!normalized) throw ValidationError("email", "Enter a valid email address");
  u.email = *normalized;
  u.email_key = text::FoldCase(*normalized);
  if (!text::IsValidUtf8(name)) throw ValidationError("name", "Name is not valid text");
  u.name = text::CollapseWhitespace(name);
  if (u.name.empty()) throw ValidationError("name", "Name is required");
  if (text::Utf8Length(u.name) > 200 || text::HasControlCharacters(u.name)) {
    throw ValidationError("name", "Name must be at most 200 characters of text");
  }
  auto parsed_role = ParseRole(role);
  if (!parsed_role) throw ValidationError("role", "Role must be admin, technician or billing");
  u.role = *parsed_role;
  ValidatePassword(password);
  return u;
}

User StaffService::InsertUser(soci::session& sql, const Actor& by, const NewUser& u,
                              const std::string& password_hash) {
  if (auto existing = store::FindUserByEmailKey(sql, u.email_key)) {
    throw Conflict("duplicate", "A staff user with that email already exists", existing->id,
                   "email");
  }
  std::string now = FormatIsoUtc(clock_.NowUnix());
  int64_t id =
      store::InsertUser(sql, u.email, u.email_key, u.name, RoleName(u.role), password_hash, now);
  User user{id, u.email, u.name, u.role, false, now};
  nlohmann::json after = {{"email", user.email}, {"name", user.name}, {"role", RoleName(u.role)}};
  audit_.Write(sql, by.Who(),
               {"create", "staff_user", id, std::nullopt, "Created staff user " + user.email, "",
                after.dump()});
  return user;
}

User StaffService::CreateUser(const Actor& by, const std::string& email, const std::string& name,
                              const std::string& role, const std::string& password) {
  Require(by, Permission::kManageStaff);
  NewUser u = ValidateNewUser(email, name, role, password);
  std::string hash = crypto::HashPassword(password);
  User user;
  db_.Write([&](soci::session& sql) { user = InsertUser(sql, by, u, hash); });
  return user;
}

std::vector<User> StaffService::ListUsers(const Actor& by) {
  Require(by, Permission::kManageStaff);
  std::vector<User> out;
  db_.Read([&](soci::session& sql) {
    for (const auto& r : store::ListUsers(sql)) out.push_back(ToUser(r));
  });
  return out;
}

int64_t StaffService::CountUsers() {
  int64_t n = 0;
  db_.Read([&](soci::session& sql) { n = store::CountUsers(sql); });
  return n;
}

std::string StaffService::IssueSetupToken() {
  std::string token = crypto::RandomToken(32);
  db_.Write([&](soci::session& sql) {
    int64_t now = clock_.NowUnix();
    store::ReplaceSetupToken(sql, crypto::HashToken(token), FormatIsoUtc(now),
                             FormatIsoUtc(now + kSetupTokenSeconds));
  });
  return token;
}

bool StaffService::SetupTokenValid(const std::string& token) {
  if (token.empty()) return false;
  bool ok = false;
  db_.Read([&](soci::session& sql) {
    ok = store::CountUsers(sql) == 0 &&
         store::SetupTokenValid(sql, crypto::HashToken(token), FormatIsoUtc(clock_.NowUnix()));
  });
  return ok;
}

std::string StaffService::CompleteSetup(const std::string& token, const std::string& email,
                                        const std::string& name, const std::string& password,
                                        const std::string& remote_ip) {
  const char* kInvalid =
      "This setup link is not valid any more. Restart opsmerge serve for a new one.";
  if (token.empty() || token.size() > 128) throw Forbidden(kInvalid);
  NewUser u = ValidateNewUser(email, name, "admin", password);
  std::string session;
  db_.Write([&](soci::session& sql) {
    // Consumed first, in the transaction that creates the admin: a concurrent
    // caller waits for this one's row lock (PostgreSQL) or write lock (SQLite) and
    // then finds no token. A failure below rolls the consumption back.
    if (!store::ConsumeSetupToken(sql, crypto::HashToken(token), FormatIsoUtc(clock_.NowUnix())) ||
        store::CountUsers(sql) > 0) {
      throw Forbidden(kInvalid);
    }
    User user = InsertUser(sql, Actor::System(), u, crypto::HashPassword(password));
    store::DeleteSetupTokens(sql);
    session = StartSession(sql, user.id, remote_ip);
  });
  return session;
}

std::string StaffService::StartSession(soci::session& sql, int64_t user_id,
                                       const std::string& remote_ip) {
  std::string token = crypto::RandomToken(32);
  int64_t now = clock_.NowUnix();
  store::InsertSession(sql, crypto::HashToken(token), user_id, FormatIsoUtc(now),
                       FormatIsoUtc(now + sessions_.idle_seconds), remote_ip);
  return token;
}

SignInStep StaffService::SignIn(const std::string& email, const std::string& password,
                                const std::string& remote_ip) {
  auto normalized = text::NormalizeEmail(email);
  std::string key = normalized ? text::FoldCase(*normalized) : text::FoldCase(text::Trim(email));
  if (key.size() > 320) key.resize(320);
  int64_t now = clock_.NowUnix();
  const int64_t window = limits_.window_seconds;
  // This attempt is counted before the password is checked, in one statement per
  // counter, so parallel guesses each see their own count.
  int64_t retry_after = 0;
  db_.Write([&](soci::session& sql) {
    auto pair = ratelimit::Hit(sql, PairBucket(key, remote_ip), now, window);
    auto address = ratelimit::Hit(sql, AddressBucket(remote_ip), now, window);
    if (pair.count > limits_.per_account_failures) {
      retry_after = std::max(retry_after, pair.RetryAfter(now, window));
    }
    if (address.count > limits_.per_address_failures) {
      retry_after = std::max(retry_after, address.RetryAfter(now, window));
    }
    if (retry_after > 0) return;
    auto account = ratelimit::Hit(sql, AccountBucket(key), now, window);
    if (account.count > limits_.per_account_before_slowdown) {
      // Under attack from many addresses: one attempt per few seconds for the
      // account, so guessing slows to a crawl while its owner can still get in.
      auto pace = ratelimit::Hit(sql, PaceBucket(key), now, limits_.slowdown_seconds);
      if (pace.count > 1) retry_after = pace.RetryAfter(now, limits_.slowdown_seconds);
    }
  });
  if (retry_after > 0) {
    std::string wait = retry_after >= 90 ? std::to_string((retry_after + 59) / 60) + " minutes"
                                         : std::to_string(retry_after) + " seconds";
    throw TooManyRequests("Too many sign-in attempts. Try again in " + wait + ".", retry_after);
  }
  std::optional<store::UserRow> user;
  db_.Read([&](soci::session& sql) { user = store::FindUserByEmailKey(sql, key); });
  // Verify even for unknown accounts so timing does not reveal which emails exist.
  bool ok = crypto::VerifyPassword(password, user ? user->password_hash : DummyHash());
  if (!user || user->disabled || !ok) throw Unauthorized("Wrong email or password");
  SignInStep step;
  db_.Write([&](soci::session& sql) {
    ratelimit::Unhit(sql, AddressBucket(remote_ip));
    std::string purpose;
    std::string secret;
    if (!user->totp_secret.empty()) {
      purpose = "two_factor";
    } else if (settings::GetBool(sql, kRequireTwoFactor, false)) {
      purpose = "enrol";
      secret = totp::NewSecret();
    }
    if (purpose.empty()) {
      // Only failures count against the person and their address.
      ratelimit::Clear(sql, PairBucket(key, remote_ip));
      step.session = StartSession(sql, user->id, remote_ip);
      return;
    }
    // The pair's counter is cleared only once the second step succeeds, so a
    // stolen password does not buy unlimited rounds of code guessing.
    step.challenge = crypto::RandomToken(32);
    step.enrol = purpose == "enrol";
    std::string now_text = FormatIsoUtc(now);
    store::InsertChallenge(sql, crypto::HashToken(step.challenge), user->id, purpose, secret,
                           now_text, FormatIsoUtc(now + kChallengeSeconds));
  });
  return step;
}

store::ChallengeRow StaffService::TakeChallengeAttempt(const std::string& challenge_hash) {
  std::optional<store::ChallengeRow> row;
  db_.Write([&](soci::session& sql) {
    int64_t attempts = store::CountChallengeAttempt(sql, challenge_hash);
    if (attempts == 0) return;
    row = store::FindChallenge(sql, challenge_hash);
    if (row &&
        (attempts > kChallengeAttempts || row->expires_at <= FormatIsoUtc(clock_.NowUnix()))) {
      store::ConsumeChallenge(sql, challenge_hash);
      row.reset();
    }
  });
  if (!row) throw Unauthorized(kChallengeGone);
  // Wrong codes also count per account, across challenges, before the check.
  int64_t now = clock_.NowUnix();
  int64_t retry_after = 0;
  db_.Write([&](soci::session& sql) {
    auto hit = ratelimit::Hit(sql, CodeBucket(row->user_id), now, limits_.window_seconds);
    if (hit.count > kCodeFailures) retry_after = hit.RetryAfter(now, limits_.window_seconds);
  });
  if (retry_after > 0) {
    throw TooManyRequests("Too many wrong codes. Try again in " +
                              std::to_string((retry_after + 59) / 60) + " minutes.",
                          retry_after);
  }
  return *row;
}

store::UserRow StaffService::RequireUser(soci::session& sql, int64_t user_id) {
  auto user = store::FindUser(sql, user_id);
  if (!user) throw NotFound("Staff user");
  return *user;
}

std::vector<std::string> StaffService::NewRecoveryCodes(soci::session& sql, int64_t user_id) {
  std::vector<std::string> codes, hashes;
  for (int i = 0; i < kRecoveryCodes; ++i) {
    // 130 bits each, in groups people can copy by hand.
    std::string raw = totp::Base32Encode(crypto::RandomBytes(16));
    for (char& c : raw) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    std::string shown;
    for (size_t j = 0; j < raw.size(); ++j) {
      if (j > 0 && j % 5 == 0 && raw.size() - j > 1) shown += '-';
      shown += raw[j];
    }
    hashes.push_back(crypto::HashToken(raw));
    codes.push_back(shown);
  }
  store::ReplaceRecoveryCodes(sql, user_id, hashes);
  return codes;
}

std::string StaffService::CompleteTwoFactor(const std::string& challenge, const std::string& code,
                                            const std::string& remote_ip) {
  if (challenge.empty() || challenge.size() > 128) throw Unauthorized(kChallengeGone);
  std::string hash = crypto::HashToken(challenge);
  store::ChallengeRow row = TakeChallengeAttempt(hash);
  if (row.purpose != "two_factor") throw Unauthorized(kChallengeGone);
  int64_t now = clock_.NowUnix();
  bool ok = false;
  bool used_recovery = false;
  std::string session;
  db_.Write([&](soci::session& sql) {
    store::UserRow user = RequireUser(sql, row.user_id);
    if (user.disabled || user.totp_secret.empty()) throw Unauthorized(kChallengeGone);
    if (LooksLikeTotp(code)) {
      auto step = totp::Match(user.totp_secret, code, now, user.totp_last_step);
      // The conditional update makes a code single-use even under concurrent posts.
      ok = step && store::AdvanceTotpStep(sql, user.id, *step);
    } else if (code.size() <= 64) {
      ok = store::UseRecoveryCode(sql, user.id, crypto::HashToken(NormalizeRecoveryCode(code)),
                                  FormatIsoUtc(now));
      used_recovery = ok;
    }
    if (!ok) return;
    if (!store::ConsumeChallenge(sql, hash)) {
      ok = false;
      return;
    }
    ratelimit::Clear(sql, PairBucket(text::FoldCase(user.email), remote_ip));
    ratelimit::Clear(sql, CodeBucket(user.id));
    if (used_recovery) {
      audit_.Write(sql, audit::Who{user.id, user.name},
                   {"recovery_code", "staff_user", user.id, std::nullopt,
                    "Signed in with a recovery code (" +
                        std::to_string(store::CountUnusedRecoveryCodes(sql, user.id)) + " left)",
                    "", ""});
    }
    session = StartSession(sql, user.id, remote_ip);
  });
  if (!ok)
    throw Unauthorized("That code is not right. Check the time on your phone and try again.");
  return session;
}

TotpSetup StaffService::EnrolmentSecret(const std::string& challenge) {
  if (challenge.empty() || challenge.size() > 128) throw Unauthorized(kChallengeGone);
  std::optional<store::ChallengeRow> row;
  std::optional<store::UserRow> user;
  db_.Read([&](soci::session& sql) {
    row = store::FindChallenge(sql, crypto::HashToken(challenge));
    if (row) user = store::FindUser(sql, row->user_id);
  });
  if (!row || !user || row->purpose != "enrol" ||
      row->expires_at <= FormatIsoUtc(clock_.NowUnix())) {
    throw Unauthorized(kChallengeGone);
  }
  return TotpSetup{row->secret, totp::ProvisioningUri(kIssuer, user->email, row->secret)};
}

std::pair<std::string, std::vector<std::string>> StaffService::CompleteEnrolment(
    const std::string& challenge, const std::string& code, const std::string& remote_ip) {
  if (challenge.empty() || challenge.size() > 128) throw Unauthorized(kChallengeGone);
  std::string hash = crypto::HashToken(challenge);
  store::ChallengeRow row = TakeChallengeAttempt(hash);
  if (row.purpose != "enrol") throw Unauthorized(kChallengeGone);
  auto step = totp::Match(row.secret, code, clock_.NowUnix(), 0);
  if (!step) {
    throw ValidationError("code",
                          "That code is not right. Check the time on your phone and try again.");
  }
  std::pair<std::string, std::vector<std::string>> out;
  db_.Write([&](soci::session& sql) {
    store::UserRow user = RequireUser(sql, row.user_id);
    if (user.disabled || !store::ConsumeChallenge(sql, hash)) throw Unauthorized(kChallengeGone);
    store::SetTotp(sql, user.id, row.secret);
    store::AdvanceTotpStep(sql, user.id, *step);
    out.second = NewRecoveryCodes(sql, user.id);
    ratelimit::Clear(sql, PairBucket(text::FoldCase(user.email), remote_ip));
    ratelimit::Clear(sql, CodeBucket(user.id));
    audit_.Write(sql, audit::Who{user.id, user.name},
                 {"enable_two_factor", "staff_user", user.id, std::nullopt,
                  "Turned on two-factor sign-in", "", ""});
    out.first = StartSession(sql, user.id, remote_ip);
  });
  return out;
}

AccountSecurity StaffService::Security(const Actor& me) {
  AccountSecurity out;
  db_.Read([&](soci::session& sql) {
    store::UserRow user = RequireUser(sql, me.user_id);
    out.two_factor = !user.totp_secret.empty();
    out.setting_up = !out.two_factor && !user.totp_pending_secret.empty();
    out.recovery_codes_left = store::CountUnusedRecoveryCodes(sql, me.user_id);
    out.required = settings::GetBool(sql, kRequireTwoFactor, false);
  });
  return out;
}

TotpSetup StaffService::BeginTwoFactor(const Actor& me) {
  TotpSetup setup;
  db_.Write([&](soci::session& sql) {
    store::UserRow user = RequireUser(sql, me.user_id);
    if (!user.totp_secret.empty()) {
      throw Conflict("two_factor_on", "Two-factor sign-in is already on.");
    }
    setup.secret = user.totp_pending_secret.empty() ? totp::NewSecret() : user.totp_pending_secret;
    store::SetPendingTotp(sql, user.id, setup.secret);
    setup.uri = totp::ProvisioningUri(kIssuer, user.email, setup.secret);
  });
  return setup;
}

std::vector<std::string> StaffService::ConfirmTwoFactor(const Actor& me, const std::string& code) {
  std::vector<std::string> codes;
  db_.Write([&](soci::session& sql) {
    store::UserRow user = RequireUser(sql, me.user_id);
    if (!user.totp_secret.empty()) {
      throw Conflict("two_factor_on", "Two-factor sign-in is already on.");
    }
    if (user.totp_pending_secret.empty()) {
      throw ValidationError("code", "Start setting up two-factor sign-in first.");
    }
    auto step = totp::Match(user.totp_pending_secret, code, clock_.NowUnix(), 0);
    if (!step) {
      throw ValidationError("code",
                            "That code is not right. Check the time on your phone and try again.");
    }
    store::SetTotp(sql, user.id, user.totp_pending_secret);
    store::AdvanceTotpStep(sql, user.id, *step);
    codes = NewRecoveryCodes(sql, user.id);
    audit_.Write(sql, me.Who(),
                 {"enable_two_factor", "staff_user", user.id, std::nullopt,
                  "Turned on two-factor sign-in", "", ""});
  });
  return codes;
}

void StaffService::CheckPassword(const store::UserRow& user, const std::string& password) {
  if (!crypto::VerifyPassword(password, user.password_hash)) {
    throw ValidationError("current_password", "That is not your current password");
  }
}

void StaffService::DisableTwoFactor(const Actor& me, const std::string& password) {
  store::UserRow user;
  db_.Read([&](soci::session& sql) { user = RequireUser(sql, me.user_id); });
  CheckPassword(user, password);
  db_.Write([&](soci::session& sql) {
    if (settings::GetBool(sql, kRequireTwoFactor, false)) {
      throw Conflict("two_factor_required",
                     "Two-factor sign-in is required for all staff here, so it stays on.");
    }
    store::SetTotp(sql, user.id, "");
    store::ReplaceRecoveryCodes(sql, user.id, {});
    audit_.Write(sql, me.Who(),
                 {"disable_two_factor", "staff_user", user.id, std::nullopt,
                  "Turned off two-factor sign-in", "", ""});
  });
}

std::vector<std::string> StaffService::RegenerateRecoveryCodes(const Actor& me,
                                                               const std::string& password) {
  store::UserRow user;
  db_.Read([&](soci::session& sql) { user = RequireUser(sql, me.user_id); });
  CheckPassword(user, password);
  std::vector<std::string> codes;
  db_.Write([&](soci::session& sql) {
    if (!RequireUser(sql, me.user_id).totp_secret.size()) {
      throw Conflict("two_factor_off", "Turn on two-factor sign-in first.");
    }
    codes = NewRecoveryCodes(sql, user.id);
    audit_.Write(sql, me.Who(),
                 {"recovery_codes", "staff_user", user.id, std::nullopt,
                  "Made new recovery codes (the old ones stopped working)", "", ""});
  });
  return codes;
}

void StaffService::ChangePassword(const Actor& me, const std::string& current,
                                  const std::string& next, const std::string& session_token) {
  store::UserRow user;
  db_.Read([&](soci::session& sql) { user = RequireUser(sql, me.user_id); });
  CheckPassword(user, current);
  ValidatePassword(next);
  std::string hash = crypto::HashPassword(next);
  db_.Write([&](soci::session& sql) {
    store::SetPasswordHash(sql, user.id, hash, FormatIsoUtc(clock_.NowUnix()));
    int64_t ended = store::DeleteSessionsOf(sql, user.id, crypto::HashToken(session_token));
    audit_.Write(
        sql, me.Who(),
        {"change_password", "staff_user", user.id, std::nullopt,
         "Changed their password (" + std::to_string(ended) + " other sessions signed out)", "",
         ""});
  });
}

void StaffService::SignOutEverywhere(const Actor& me) {
  db_.Write([&](soci::session& sql) {
    int64_t ended = store::DeleteSessionsOf(sql, me.user_id);
    audit_.Write(sql, me.Who(),
                 {"sign_out_everywhere", "staff_user", me.user_id, std::nullopt,
                  "Signed out everywhere (" + std::to_string(ended) + " sessions)", "", ""});
  });
}

store::UserRow StaffService::TargetOfAdminAction(soci::session& sql, const Actor& by,
                                                 int64_t user_id, bool refuse_self) {
  Require(by, Permission::kManageStaff);
  store::UserRow user = RequireUser(sql, user_id);
  if (refuse_self && user_id == by.user_id) {
    throw Conflict("self", "You cannot do that to your own account.");
  }
  return user;
}

void StaffService::SetDisabled(const Actor& by, int64_t user_id, bool disabled) {
  db_.Write([&](soci::session& sql) {
    store::UserRow user = TargetOfAdminAction(sql, by, user_id, true);
    if (user.disabled == disabled) return;
    if (disabled && user.role == "admin" && store::CountActiveAdmins(sql) <= 1) {
      throw Conflict("last_admin", "This is the only active administrator.");
    }
    std::string now = FormatIsoUtc(clock_.NowUnix());
    store::SetDisabled(sql, user.id, disabled, now);
    if (disabled) {
      store::DeleteSessionsOf(sql, user.id);
      store::RevokeApiKeysOf(sql, user.id, now);
    }
    nlohmann::json before = {{"disabled", user.disabled}}, after = {{"disabled", disabled}};
    audit_.Write(sql, by.Who(),
                 {disabled ? "disable" : "enable", "staff_user", user.id, std::nullopt,
                  (disabled ? "Disabled staff user " : "Enabled staff user ") + user.email +
                      (disabled ? " (sessions and API keys ended)" : ""),
                  before.dump(), after.dump()});
  });
}

void StaffService::RemoveUser(const Actor& by, int64_t user_id) {
  db_.Write([&](soci::session& sql) {
    store::UserRow user = TargetOfAdminAction(sql, by, user_id, true);
    if (user.role == "admin" && !user.disabled && store::CountActiveAdmins(sql) <= 1) {
      throw Conflict("last_admin", "This is the only active administrator.");
    }
    store::DeleteUser(sql, user.id);  // sessions, keys, codes go with it
    nlohmann::json before = {{"email", user.email}, {"name", user.name}, {"role", user.role}};
    audit_.Write(sql, by.Who(),
                 {"delete", "staff_user", user.id, std::nullopt, "Removed staff user " + user.email,
                  before.dump(), ""});
  });
}

void StaffService::ResetTwoFactor(const Actor& by, int64_t user_id) {
  db_.Write([&](soci::session& sql) {
    store::UserRow user = TargetOfAdminAction(sql, by, user_id, false);
    store::SetTotp(sql, user.id, "");
    store::ReplaceRecoveryCodes(sql, user.id, {});
    audit_.Write(sql, by.Who(),
                 {"reset_two_factor", "staff_user", user.id, std::nullopt,
                  "Reset two-factor sign-in of " + user.email, "", ""});
  });
}

std::string StaffService::IssuePasswordReset(const Actor& by, int64_t user_id) {
  std::string token = crypto::RandomToken(32);
  db_.Write([&](soci::session& sql) {
    store::UserRow user = TargetOfAdminAction(sql, by, user_id, false);
    int64_t now = clock_.NowUnix();
    store::ReplacePasswordReset(sql, user.id, crypto::HashToken(token), by.name, FormatIsoUtc(now),
                                FormatIsoUtc(now + kResetSeconds));
    audit_.Write(sql, by.Who(),
                 {"password_reset_link", "staff_user", user.id, std::nullopt,
                  "Issued a password reset link for " + user.email, "", ""});
  });
  return token;
}

std::optional<User> StaffService::PasswordResetFor(const std::string& token) {
  if (token.empty() || token.size() > 128) return std::nullopt;
  std::optional<User> out;
  db_.Read([&](soci::session& sql) {
    auto id =
        store::FindPasswordReset(sql, crypto::HashToken(token), FormatIsoUtc(clock_.NowUnix()));
    if (!id) return;
    auto user = store::FindUser(sql, *id);
    if (user && !user->disabled) out = ToUser(*user);
  });
  return out;
}

void StaffService::CompletePasswordReset(const std::string& token, const std::string& password) {
  const char* kInvalid =
      "This reset link is not valid any more. Ask an administrator for a new one.";
  if (token.empty() || token.size() > 128) throw Forbidden(kInvalid);
  ValidatePassword(password);  // a typo does not burn the link
  std::string hash = crypto::HashPassword(password);
  std::string token_hash = crypto::HashToken(token);
  db_.Write([&](soci::session& sql) {
    std::string now = FormatIsoUtc(clock_.NowUnix());
    auto id = store::FindPasswordReset(sql, token_hash, now);
    // Consumed in the transaction that sets the password: of concurrent posts,
    // one succeeds.
    if (!id || !store::ConsumePasswordReset(sql, token_hash, now)) throw Forbidden(kInvalid);
    store::UserRow user = RequireUser(sql, *id);
    if (user.disabled) throw Forbidden(kInvalid);
    store::SetPasswordHash(sql, user.id, hash, now);
    store::DeleteSessionsOf(sql, user.id);
    ratelimit::Clear(sql, AccountBucket(text::FoldCase(user.email)));
    audit_.Write(sql, audit::Who{user.id, user.name},
                 {"reset_password", "staff_user", user.id, std::nullopt,
                  "Set a new password with a reset link", "", ""});
  });
}

StaffService::AuditPage StaffService::SearchAudit(const Actor& by, const audit::Filter& filter,
                                                  int64_t offset, int64_t limit) {
  Require(by, Permission::kManageStaff);
  AuditPage page;
  db_.Read([&](soci::session& sql) {
    page.items = audit_.Search(sql, filter, offset, limit);
    page.total = audit_.CountSearch(sql, filter);
    page.actions = audit_.Actions(sql);
  });
  return page;
}

bool StaffService::TwoFactorRequired() {
  bool on = false;
  db_.Read([&](soci::session& sql) { on = settings::GetBool(sql, kRequireTwoFactor, false); });
  return on;
}

void StaffService::SetTwoFactorRequired(const Actor& by, bool required) {
  Require(by, Permission::kManageStaff);
  db_.Write([&](soci::session& sql) {
    bool was = settings::GetBool(sql, kRequireTwoFactor, false);
    if (was == required) return;
    if (required && by.user_id != 0 && RequireUser(sql, by.user_id).totp_secret.empty()) {
      throw Conflict("two_factor_off",
                     "Turn on two-factor sign-in for your own account first (My account).");
    }
    settings::SetBool(sql, kRequireTwoFactor, required, FormatIsoUtc(clock_.NowUnix()));
    nlohmann::json before = {{"require_two_factor", was}},
                   after = {{"require_two_factor", required}};
    audit_.Write(sql, by.Who(),
                 {"update", "setting", std::nullopt, std::nullopt,
                  required ? "Required two-factor sign-in for all staff"
                           : "Made two-factor sign-in optional",
                  before.dump(), after.dump()});
  });
}

void StaffService::SignOut(const std::string& session_token) {
  if (session_token.empty()) return;
  db_.Write(
      [&](soci::session& sql) { store::DeleteSession(sql, crypto::HashToken(session_token)); });
}

std::string StaffService::PurgeExpired() {
  store::Purged purged;
  db_.Write([&](soci::session& sql) {
    int64_t now = clock_.NowUnix();
    purged = store::DeleteExpired(sql, FormatIsoUtc(now));
    purged.rate_counters = ratelimit::Purge(sql, now - limits_.window_seconds);
  });
  return std::to_string(purged.sessions) + " sessions, " + std::to_string(purged.setup_tokens) +
         " setup tokens, " + std::to_string(purged.rate_counters) + " sign-in counters removed";
}

std::optional<http::Principal> StaffService::FromSession(const std::string& session_token) {
  if (session_token.size() < 22 || session_token.size() > 128) return std::nullopt;
  std::string hash = crypto::HashToken(session_token);
  int64_t now = clock_.NowUnix();
  std::string now_text = FormatIsoUtc(now);
  std::optional<store::SessionRow> session;
  std::optional<store::UserRow> user;
  db_.Read([&](soci::session& sql) {
    session = store::FindSession(sql, hash);
    if (session) user = store::FindUser(sql, session->user_id);
  });
  if (!session || !user || user->disabled || session->expires_at <= now_text) return std::nullopt;
  // Slide the idle expiry at most once a minute, never past the absolute limit.
  if (FormatIsoUtc(now - 60) >= session->last_seen_at) {
    int64_t created = ParseIsoUtc(session->created_at);
    int64_t expires = std::min(now + sessions_.idle_seconds, created + sessions_.absolute_seconds);
    db_.Write([&](soci::session& sql) {
      store::TouchSession(sql, hash, now_text, FormatIsoUtc(expires));
    });
  }
  return http::Principal{user->id, user->name, user->email, user->role, false};
}

std::optional<http::Principal> StaffService::FromApiKey(const std::string& api_key) {
  if (api_key.size() < 22 || api_key.size() > 128) return std::nullopt;
  std::string hash = crypto::HashToken(api_key);
  std::optional<store::ApiKeyRow> key;
  std::optional<store::UserRow> user;
  db_.Read([&](soci::session& sql) {
    key = store::FindApiKeyByHash(sql, hash);
    if (key) user = store::FindUser(sql, key->user_id);
  });
  if (!key || !crypto::ConstantTimeEquals(key->key_hash, hash) || !key->revoked_at.empty() ||
      !user || user->disabled) {
    return std::nullopt;
  }
  int64_t now = clock_.NowUnix();
  if (key->last_used_at.empty() || FormatIsoUtc(now - 60) >= key->last_used_at) {
    db_.Write([&](soci::session& sql) { store::TouchApiKey(sql, key->id, FormatIsoUtc(now)); });
  }
  return http::Principal{user->id, user->name, user->email, user->role, true};
}

IssuedApiKey StaffService::CreateApiKey(const Actor& by, const std::string& owner_email,
                                        const std::string& label) {
  std::string clean_label = text::CollapseWhitespace(label);
  if (clean_label.empty()) throw ValidationError("label", "Give the key a name");
  if (text::Utf8Length(clean_label) > 100) {
    throw ValidationError("label", "Key name must be at most 100 characters");
  }
  std::string secret = kApiKeyPrefix + crypto::RandomToken(32);
  IssuedApiKey issued;
  db_.Write([&](soci::session& sql) {
    auto normalized = text::NormalizeEmail(owner_email);
    auto owner =
        normalized ? store::FindUserByEmailKey(sql, text::FoldCase(*normalized)) : std::nullopt;
    if (!owner) throw ValidationError("email", "No staff user has that email");
    if (owner->id != by.user_id) Require(by, Permission::kManageStaff);
    std::string now = FormatIsoUtc(clock_.NowUnix());
    std::string prefix = secret.substr(0, 10);
    int64_t id =
        store::InsertApiKey(sql, owner->id, clean_label, prefix, crypto::HashToken(secret), now);
    issued.key = ApiKey{id, clean_label, prefix, owner->email, now, "", ""};
    nlohmann::json after = {{"label", clean_label}, {"owner", owner->email}, {"prefix", prefix}};
    audit_.Write(sql, by.Who(),
                 {"create", "api_key", id, std::nullopt, "Created API key " + clean_label, "",
                  after.dump()});
  });
  issued.secret = secret;
  return issued;
}

std::vector<ApiKey> StaffService::ListApiKeys(const Actor& by) {
  std::vector<ApiKey> out;
  db_.Read([&](soci::session& sql) {
    for (const auto& r : store::ListApiKeys(sql)) {
      if (r.user_id == by.user_id || Allows(by.role, Permission::kManageStaff)) {
        out.push_back(ToApiKey(r));
      }
    }
  });
  return out;
}

void StaffService::RevokeApiKey(const Actor& by, int64_t key_id) {
  db_.Write([&](soci::session& sql) {
    auto key = store::FindApiKey(sql, key_id);
    if (!key) throw NotFound("API key");
    if (key->user_id != by.user_id) Require(by, Permission::kManageStaff);
    store::RevokeApiKey(sql, key_id, FormatIsoUtc(clock_.NowUnix()));
    audit_.Write(
        sql, by.Who(),
        {"revoke", "api_key", key_id, std::nullopt, "Revoked API key " + key->label, "", ""});
  });
}

}  // namespace opsmerge::staff
