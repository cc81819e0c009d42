#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace soci {
class session;
}

// The staff tables' SQL and nothing else. Callers own the transaction.
namespace opsmerge::staff::store {

struct UserRow {
  int64_t id = 0;
  std::string email;
  std::string name;
  std::string role;
  std::string password_hash;
  bool disabled = false;
  std::string created_at;
  std::string totp_secret;  // "" while two-factor is off
  int64_t totp_last_step = 0;
  std::string totp_pending_secret;
};

struct SessionRow {
  int64_t user_id = 0;
  std::string created_at;
  std::string last_seen_at;
  std::string expires_at;
};

struct ApiKeyRow {
  int64_t id = 0;
  int64_t user_id = 0;
  std::string label;
  std::string prefix;
  std::string key_hash;
  std::string created_at;
  std::string last_used_at;
  std::string revoked_at;
  std::string user_email;
};

int64_t CountUsers(soci::session& sql);
std::optional<UserRow> FindUserByEmailKey(soci::session& sql, const std::string& email_key);
std::optional<UserRow> FindUser(soci::session& sql, int64_t id);
std::vector<UserRow> ListUsers(soci::session& sql);
int64_t InsertUser(soci::session& sql, const std::string& email, const std::string& email_key,
                   const std::string& name, const std::string& role,
                   const std::string& password_hash, const std::string& now);

void InsertSession(soci::session& sql, const std::string& token_hash, int64_t user_id,
                   const std::string& now, const std::string& expires_at,
                   const std::string& remote_ip);
std::optional<SessionRow> FindSession(soci::session& sql, const std::string& token_hash);
void TouchSession(soci::session& sql, const std::string& token_hash, const std::string& now,
                  const std::string& expires_at);
void DeleteSession(soci::session& sql, const std::string& token_hash);
struct Purged {
  int64_t sessions = 0;
  int64_t setup_tokens = 0;
  int64_t rate_counters = 0;
};
// Removes sessions and setup tokens expired at `now`.
Purged DeleteExpired(soci::session& sql, const std::string& now);

int64_t InsertApiKey(soci::session& sql, int64_t user_id, const std::string& label,
                     const std::string& prefix, const std::string& key_hash,
                     const std::string& now);
std::optional<ApiKeyRow> FindApiKeyByHash(soci::session& sql, const std::string& key_hash);
std::optional<ApiKeyRow> FindApiKey(soci::session& sql, int64_t id);
std::vector<ApiKeyRow> ListApiKeys(soci::session& sql);
void TouchApiKey(soci::session& sql, int64_t id, const std::string& now);
void RevokeApiKey(soci::session& sql, int64_t id, const std::string& now);

void ReplaceSetupToken(soci::session& sql, const std::string& token_hash, const std::string& now,
                       const std::string& expires_at);
// True if a setup token with this hash exists and has not expired.
bool SetupTokenValid(soci::session& sql, const std::string& token_hash, const std::string& now);
// Deletes the token if it exists and has not expired; true if it did (the one
// caller that gets true may create the first admin).
bool ConsumeSetupToken(soci::session& sql, const std::string& token_hash, const std::string& now);
void DeleteSetupTokens(soci::session& sql);

// Account changes. Each returns whether a row changed.
void SetPasswordHash(soci::session& sql, int64_t user_id, const std::string& hash,
                     const std::string& now);
void SetDisabled(soci::session& sql, int64_t user_id, bool disabled, const std::string& now);
void DeleteUser(soci::session& sql, int64_t user_id);
int64_t CountActiveAdmins(soci::session& sql);
// Ends every session of a user, except the one with `keep_hash` (may be "").
int64_t DeleteSessionsOf(soci::session& sql, int64_t user_id, const std::string& keep_hash = "");
void RevokeApiKeysOf(soci::session& sql, int64_t user_id, const std::string& now);

// Two-factor. SetTotp turns it on (secret) or off (""), clearing any pending one.
void SetTotp(soci::session& sql, int64_t user_id, const std::string& secret);
void SetPendingTotp(soci::session& sql, int64_t user_id, const std::string& secret);
// Records the step a code was accepted for, only if it is later than the last one:
// false when another request already used this step (or a later one).
bool AdvanceTotpStep(soci::session& sql, int64_t user_id, int64_t step);
void ReplaceRecoveryCodes(soci::session& sql, int64_t user_id,
                          const std::vector<std::string>& code_hashes);
// Marks an unused code as used; true for the one caller that did.
bool UseRecoveryCode(soci::session& sql, int64_t user_id, const std::string& code_hash,
                     const std::string& now);
int64_t CountUnusedRecoveryCodes(soci::session& sql, int64_t user_id);

struct ChallengeRow {
  int64_t user_id = 0;
  std::string purpose;  // "two_factor" | "enrol"
  std::string secret;   // the secret being enrolled
  int64_t attempts = 0;
  std::string expires_at;
};
void InsertChallenge(soci::session& sql, const std::string& token_hash, int64_t user_id,
                     const std::string& purpose, const std::string& secret, const std::string& now,
                     const std::string& expires_at);
std::optional<ChallengeRow> FindChallenge(soci::session& sql, const std::string& token_hash);
// Counts one attempt, atomically; returns the attempts made including this one.
int64_t CountChallengeAttempt(soci::session& sql, const std::string& token_hash);
// True for the one caller that deleted it.
bool ConsumeChallenge(soci::session& sql, const std::string& token_hash);

void ReplacePasswordReset(soci::session& sql, int64_t user_id, const std::string& token_hash,
                          const std::string& created_by, const std::string& now,
                          const std::string& expires_at);
// The user a valid (unexpired) reset token belongs to.
std::optional<int64_t> FindPasswordReset(soci::session& sql, const std::string& token_hash,
                                         const std::string& now);
// Deletes the token if valid; true for the one caller that did.
bool ConsumePasswordReset(soci::session& sql, const std::string& token_hash,
                          const std::string& now);

}  // namespace opsmerge::staff::store
