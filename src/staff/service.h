#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/service.h"
#include "platform/clock.h"
#include "platform/db.h"
#include "platform/http/server.h"
#include "staff/model.h"

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
  std::string SignIn(const std::string& email, const std::string& password,
                     const std::string& remote_ip);
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
