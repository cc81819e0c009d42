#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "audit/service.h"
#include "platform/clock.h"
#include "platform/db.h"
#include "platform/http/server.h"
#include "staff/model.h"
#include "staff/store.h"

// Staff accounts, sign-in, sessions, API keys and first-run setup (U1).
// Also the server's Authenticator. Thread-safe: all state is in the database.
namespace opsmerge::staff {

struct User {
  int64_t id = 0;
  std::string email;
  std::string name;
  Role role = Role::kBilling;
  bool disabled = false;
  std::string created_at;
  bool two_factor = false;
};

// Where a sign-in stands after the password: signed in (`session`), or a second
// step owed on `challenge` (a code, or with `enrol` setting two-factor up first
// because the MSP requires it).
struct SignInStep {
  std::string session;
  std::string challenge;
  bool enrol = false;
};

// Two-factor being set up: the secret to show (as a QR code and as text).
struct TotpSetup {
  std::string secret;
  std::string uri;  // otpauth://
};

struct AccountSecurity {
  bool two_factor = false;
  bool setting_up = false;  // a secret is pending confirmation
  int64_t recovery_codes_left = 0;
  bool required = false;  // the MSP requires two-factor for all staff
};

struct ApiKey {
  int64_t id = 0;
  std::string label;
  std::string prefix;  // the first characters, shown so people can tell keys apart
  std::string owner_email;
  std::string created_at;
  std::string last_used_at;
  std::string revoked_at;
};

struct IssuedApiKey {
  ApiKey key;
  std::string secret;  // shown once; only its hash is stored
};

// Sign-in attempts are counted before the password is checked, atomically, so
// parallel guesses cannot slip past a limit. An attacker elsewhere cannot lock a
// person out: the tight limit is per account *and* address; across all addresses
// an account is only slowed down (one attempt per `slowdown_seconds`).
struct SignInLimits {
  int64_t window_seconds = int64_t{15} * 60;
  int64_t per_account_failures = 5;          // per account and address
  int64_t per_address_failures = 30;         // per address, any accounts
  int64_t per_account_before_slowdown = 20;  // per account, all addresses
  int64_t slowdown_seconds = 2;
};

struct SessionPolicy {
  int64_t idle_seconds = int64_t{12} * 3600;          // ends after this long unused
  int64_t absolute_seconds = int64_t{7} * 24 * 3600;  // and never lives longer than this
};

class StaffService final : public http::Authenticator {
 public:
  StaffService(db::Database& db, const audit::AuditLog& audit, const Clock& clock,
               SignInLimits limits = {}, SessionPolicy sessions = {});

  // Creates a staff user. `by` must be allowed kManageStaff (the command line acts
  // as Actor::System()). ValidationError for bad fields, Conflict if the email exists.
  User CreateUser(const Actor& by, const std::string& email, const std::string& name,
                  const std::string& role, const std::string& password);
  std::vector<User> ListUsers(const Actor& by);
  int64_t CountUsers();

  // First run: a one-time token (valid 24 h) for creating the first admin in the
  // browser; issuing a new one voids the old. Returns the raw token.
  std::string IssueSetupToken();
  bool SetupTokenValid(const std::string& token);
  // Creates the first admin with a valid setup token and returns a new session
  // token for them. Forbidden if the token is wrong or an admin already exists.
  // The token is consumed atomically before the password is hashed: of any
  // number of concurrent calls, one creates an admin. Bad fields are refused
  // before the token is touched, so a typo does not burn it.
  std::string CompleteSetup(const std::string& token, const std::string& email,
                            const std::string& name, const std::string& password,
                            const std::string& remote_ip);

  // Returns a new session token. Unauthorized for a wrong email or password (the
  // same message for both); TooManyRequests when the account or the address has
  // had too many attempts in the window.
  SignInStep SignIn(const std::string& email, const std::string& password,
                    const std::string& remote_ip);
  // The second step: a TOTP code (RFC 6238, one step of clock skew either side,
  // never a step already used) or an unused recovery code. Returns a session.
  // Unauthorized for a wrong code; five wrong codes void the challenge (sign in
  // again); the challenge lives 5 minutes.
  std::string CompleteTwoFactor(const std::string& challenge, const std::string& code,
                                const std::string& remote_ip);
  // Setting two-factor up during sign-in when the MSP requires it: the secret of
  // an "enrol" challenge, then its first code turns two-factor on and returns a
  // session and the recovery codes (shown once).
  TotpSetup EnrolmentSecret(const std::string& challenge);
  std::pair<std::string, std::vector<std::string>> CompleteEnrolment(const std::string& challenge,
                                                                     const std::string& code,
                                                                     const std::string& remote_ip);

  // Your own account (any role).
  AccountSecurity Security(const Actor& me);
  // A new pending secret (replacing any earlier pending one) ...
  TotpSetup BeginTwoFactor(const Actor& me);
  // ... turned on by its first code; returns ten recovery codes, shown once.
  std::vector<std::string> ConfirmTwoFactor(const Actor& me, const std::string& code);
  // Turning it off or new recovery codes need the current password.
  void DisableTwoFactor(const Actor& me, const std::string& password);
  std::vector<std::string> RegenerateRecoveryCodes(const Actor& me, const std::string& password);
  // Ends every other session of yours.
  void ChangePassword(const Actor& me, const std::string& current, const std::string& next,
                      const std::string& session_token);
  // Ends all your sessions, this one included.
  void SignOutEverywhere(const Actor& me);

  // Admin actions on other staff (kManageStaff). Nobody can disable or remove
  // themselves, nor the last active admin. Disabling or removing ends the user's
  // sessions and API keys at once.
  void SetDisabled(const Actor& by, int64_t user_id, bool disabled);
  void RemoveUser(const Actor& by, int64_t user_id);
  // Turns a user's two-factor off (a lost phone); they set it up again.
  void ResetTwoFactor(const Actor& by, int64_t user_id);
  // A one-time reset link's token, valid 24 hours; a newer one voids the older.
  std::string IssuePasswordReset(const Actor& by, int64_t user_id);
  // The reset page: whose token it is (nullopt when invalid). The POST consumes
  // it atomically, sets the password and ends the user's sessions; two-factor
  // stays on. Forbidden when the token is not valid (any more).
  std::optional<User> PasswordResetFor(const std::string& token);
  void CompletePasswordReset(const std::string& token, const std::string& password);

  // The admin-wide audit log (U2), newest first, filtered; kManageStaff.
  struct AuditPage {
    std::vector<audit::Row> items;
    int64_t total = 0;
    std::vector<std::string> actions;  // every action recorded, for the filter
  };
  AuditPage SearchAudit(const Actor& by, const audit::Filter& filter, int64_t offset,
                        int64_t limit);

  // The MSP-wide rule "require two-factor for all staff".
  bool TwoFactorRequired();
  void SetTwoFactorRequired(const Actor& by, bool required);
  void SignOut(const std::string& session_token);
  // Deletes expired sessions and setup tokens and lapsed sign-in counters; returns
  // a one-line summary. Run by the scheduler's "cleanup" job.
  std::string PurgeExpired();

  // API keys act with their owner's role. Admins create keys for anyone; others
  // only for themselves.
  IssuedApiKey CreateApiKey(const Actor& by, const std::string& owner_email,
                            const std::string& label);
  std::vector<ApiKey> ListApiKeys(const Actor& by);
  void RevokeApiKey(const Actor& by, int64_t key_id);

  // http::Authenticator
  std::optional<http::Principal> FromSession(const std::string& session_token) override;
  std::optional<http::Principal> FromApiKey(const std::string& api_key) override;

  const SessionPolicy& session_policy() const { return sessions_; }

 private:
  std::string StartSession(soci::session& sql, int64_t user_id, const std::string& remote_ip);
  // Counts an attempt on a challenge and returns it, or throws Unauthorized when
  // it is unknown, expired or out of attempts.
  store::ChallengeRow TakeChallengeAttempt(const std::string& challenge_hash);
  std::vector<std::string> NewRecoveryCodes(soci::session& sql, int64_t user_id);
  store::UserRow RequireUser(soci::session& sql, int64_t user_id);
  void CheckPassword(const store::UserRow& user, const std::string& password);
  store::UserRow TargetOfAdminAction(soci::session& sql, const Actor& by, int64_t user_id,
                                     bool refuse_self);
  struct NewUser {
    std::string email, email_key, name;
    Role role = Role::kBilling;
  };
  // Checks and cleans the fields of a new user (no database, no hashing).
  static NewUser ValidateNewUser(const std::string& email, const std::string& name,
                                 const std::string& role, const std::string& password);
  User InsertUser(soci::session& sql, const Actor& by, const NewUser& user,
                  const std::string& password_hash);

  db::Database& db_;
  const audit::AuditLog& audit_;
  const Clock& clock_;
  SignInLimits limits_;
  SessionPolicy sessions_;
};

}  // namespace opsmerge::staff
