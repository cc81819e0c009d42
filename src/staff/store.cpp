#include "staff/store.h"

#include <soci/soci.h>

#include "platform/db.h"

namespace opsmerge::staff::store {

namespace {

constexpr const char* kUserColumns =
    "SELECT id, email, name, role, password_hash, disabled, created_at, totp_secret, "
    "totp_last_step, totp_pending_secret FROM staff_users ";

UserRow ToUser(const soci::row& r) {
  UserRow u;
  u.id = db::RowInt(r, "id");
  u.email = db::RowText(r, "email");
  u.name = db::RowText(r, "name");
  u.role = db::RowText(r, "role");
  u.password_hash = db::RowText(r, "password_hash");
  u.disabled = db::RowBool(r, "disabled");
  u.created_at = db::RowText(r, "created_at");
  u.totp_secret = db::RowText(r, "totp_secret");
  u.totp_last_step = db::RowInt(r, "totp_last_step");
  u.totp_pending_secret = db::RowText(r, "totp_pending_secret");
  return u;
}

constexpr const char* kApiKeyColumns =
    "SELECT k.id, k.user_id, k.label, k.prefix, k.key_hash, k.created_at, k.last_used_at, "
    "k.revoked_at, u.email AS user_email FROM api_keys k JOIN staff_users u ON u.id = k.user_id ";

ApiKeyRow ToApiKey(const soci::row& r) {
  ApiKeyRow k;
  k.id = db::RowInt(r, "id");
  k.user_id = db::RowInt(r, "user_id");
  k.label = db::RowText(r, "label");
  k.prefix = db::RowText(r, "prefix");
  k.key_hash = db::RowText(r, "key_hash");
  k.created_at = db::RowText(r, "created_at");
  k.last_used_at = db::RowText(r, "last_used_at");
  k.revoked_at = db::RowText(r, "revoked_at");
  k.user_email = db::RowText(r, "user_email");
  return k;
}

}  // namespace

int64_t CountUsers(soci::session& sql) {
  long long n = 0;
  sql << "SELECT COUNT(*) FROM staff_users", soci::into(n);
  return n;
}

std::optional<UserRow> FindUserByEmailKey(soci::session& sql, const std::string& email_key) {
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kUserColumns) + "WHERE email_key = :k", soci::use(email_key));
  for (const auto& r : rs) return ToUser(r);
  return std::nullopt;
}

std::optional<UserRow> FindUser(soci::session& sql, int64_t id) {
  long long uid = id;
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kUserColumns) + "WHERE id = :id", soci::use(uid));
  for (const auto& r : rs) return ToUser(r);
  return std::nullopt;
}

std::vector<UserRow> ListUsers(soci::session& sql) {
  std::vector<UserRow> out;
  soci::rowset<soci::row> rs = (sql.prepare << std::string(kUserColumns) + "ORDER BY name");
  for (const auto& r : rs) out.push_back(ToUser(r));
  return out;
}

int64_t InsertUser(soci::session& sql, const std::string& email, const std::string& email_key,
                   const std::string& name, const std::string& role,
                   const std::string& password_hash, const std::string& now) {
  long long id = 0;
  sql << "INSERT INTO staff_users (email, email_key, name, role, password_hash, created_at, "
         "updated_at) VALUES (:email, :email_key, :name, :role, :hash, :now, :now2) RETURNING id",
      soci::use(email), soci::use(email_key), soci::use(name), soci::use(role),
      soci::use(password_hash), soci::use(now), soci::use(now), soci::into(id);
  return id;
}

void InsertSession(soci::session& sql, const std::string& token_hash, int64_t user_id,
                   const std::string& now, const std::string& expires_at,
                   const std::string& remote_ip) {
  long long uid = user_id;
  sql << "INSERT INTO staff_sessions (token_hash, user_id, created_at, last_seen_at, expires_at, "
         "remote_ip) VALUES (:h, :u, :c, :l, :e, :ip)",
      soci::use(token_hash), soci::use(uid), soci::use(now), soci::use(now), soci::use(expires_at),
      soci::use(remote_ip);
}

std::optional<SessionRow> FindSession(soci::session& sql, const std::string& token_hash) {
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT user_id, created_at, last_seen_at, expires_at FROM staff_sessions "
                      "WHERE token_hash = :h",
       soci::use(token_hash));
  for (const auto& r : rs) {
    return SessionRow{db::RowInt(r, 0), db::RowText(r, 1), db::RowText(r, 2), db::RowText(r, 3)};
  }
  return std::nullopt;
}

void TouchSession(soci::session& sql, const std::string& token_hash, const std::string& now,
                  const std::string& expires_at) {
  sql << "UPDATE staff_sessions SET last_seen_at = :now, expires_at = :e WHERE token_hash = :h",
      soci::use(now), soci::use(expires_at), soci::use(token_hash);
}

void DeleteSession(soci::session& sql, const std::string& token_hash) {
  sql << "DELETE FROM staff_sessions WHERE token_hash = :h", soci::use(token_hash);
}

Purged DeleteExpired(soci::session& sql, const std::string& now) {
  Purged p;
  soci::statement sessions =
      (sql.prepare << "DELETE FROM staff_sessions WHERE expires_at <= :now", soci::use(now));
  sessions.execute(true);
  p.sessions = sessions.get_affected_rows();
  soci::statement tokens =
      (sql.prepare << "DELETE FROM setup_tokens WHERE expires_at <= :now", soci::use(now));
  tokens.execute(true);
  p.setup_tokens = tokens.get_affected_rows();
  return p;
}

int64_t InsertApiKey(soci::session& sql, int64_t user_id, const std::string& label,
                     const std::string& prefix, const std::string& key_hash,
                     const std::string& now) {
  long long uid = user_id, id = 0;
  sql << "INSERT INTO api_keys (user_id, label, prefix, key_hash, created_at) VALUES "
         "(:u, :l, :p, :h, :now) RETURNING id",
      soci::use(uid), soci::use(label), soci::use(prefix), soci::use(key_hash), soci::use(now),
      soci::into(id);
  return id;
}

std::optional<ApiKeyRow> FindApiKeyByHash(soci::session& sql, const std::string& key_hash) {
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kApiKeyColumns) + "WHERE k.key_hash = :h", soci::use(key_hash));
  for (const auto& r : rs) return ToApiKey(r);
  return std::nullopt;
}

std::optional<ApiKeyRow> FindApiKey(soci::session& sql, int64_t id) {
  long long kid = id;
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kApiKeyColumns) + "WHERE k.id = :id", soci::use(kid));
  for (const auto& r : rs) return ToApiKey(r);
  return std::nullopt;
}

std::vector<ApiKeyRow> ListApiKeys(soci::session& sql) {
  std::vector<ApiKeyRow> out;
  soci::rowset<soci::row> rs = (sql.prepare << std::string(kApiKeyColumns) + "ORDER BY k.id");
  for (const auto& r : rs) out.push_back(ToApiKey(r));
  return out;
}

void TouchApiKey(soci::session& sql, int64_t id, const std::string& now) {
  long long kid = id;
  sql << "UPDATE api_keys SET last_used_at = :now WHERE id = :id", soci::use(now), soci::use(kid);
}

void RevokeApiKey(soci::session& sql, int64_t id, const std::string& now) {
  long long kid = id;
  sql << "UPDATE api_keys SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL",
      soci::use(now), soci::use(kid);
}

void ReplaceSetupToken(soci::session& sql, const std::string& token_hash, const std::string& now,
                       const std::string& expires_at) {
  sql << "DELETE FROM setup_tokens";
  sql << "INSERT INTO setup_tokens (token_hash, created_at, expires_at) VALUES (:h, :n, :e)",
      soci::use(token_hash), soci::use(now), soci::use(expires_at);
}

bool SetupTokenValid(soci::session& sql, const std::string& token_hash, const std::string& now) {
  std::string stored;
  soci::indicator ind = soci::i_null;
  sql << "SELECT token_hash FROM setup_tokens WHERE token_hash = :h AND expires_at > :now",
      soci::use(token_hash), soci::use(now), soci::into(stored, ind);
  return sql.got_data() && ind == soci::i_ok;
}

bool ConsumeSetupToken(soci::session& sql, const std::string& token_hash, const std::string& now) {
  soci::statement st = (sql.prepare << "DELETE FROM setup_tokens WHERE token_hash = :h AND "
                                       "expires_at > :now",
                        soci::use(token_hash), soci::use(now));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

void DeleteSetupTokens(soci::session& sql) { sql << "DELETE FROM setup_tokens"; }

namespace {

int64_t Affected(soci::statement& st) {
  st.execute(true);
  return st.get_affected_rows();
}

}  // namespace

void SetPasswordHash(soci::session& sql, int64_t user_id, const std::string& hash,
                     const std::string& now) {
  long long uid = user_id;
  sql << "UPDATE staff_users SET password_hash = :h, updated_at = :n WHERE id = :id",
      soci::use(hash), soci::use(now), soci::use(uid);
}

void SetDisabled(soci::session& sql, int64_t user_id, bool disabled, const std::string& now) {
  long long uid = user_id;
  int flag = disabled ? 1 : 0;
  sql << "UPDATE staff_users SET disabled = :d, updated_at = :n WHERE id = :id", soci::use(flag),
      soci::use(now), soci::use(uid);
}

void DeleteUser(soci::session& sql, int64_t user_id) {
  long long uid = user_id;
  sql << "DELETE FROM staff_users WHERE id = :id", soci::use(uid);
}

int64_t CountActiveAdmins(soci::session& sql) {
  long long n = 0;
  sql << "SELECT COUNT(*) FROM staff_users WHERE role = 'admin' AND disabled = 0", soci::into(n);
  return n;
}

int64_t DeleteSessionsOf(soci::session& sql, int64_t user_id, const std::string& keep_hash) {
  long long uid = user_id;
  soci::statement st = (sql.prepare << "DELETE FROM staff_sessions WHERE user_id = :u AND "
                                       "token_hash <> :keep",
                        soci::use(uid), soci::use(keep_hash));
  return Affected(st);
}

void RevokeApiKeysOf(soci::session& sql, int64_t user_id, const std::string& now) {
  long long uid = user_id;
  sql << "UPDATE api_keys SET revoked_at = :n WHERE user_id = :u AND revoked_at IS NULL",
      soci::use(now), soci::use(uid);
}

void SetTotp(soci::session& sql, int64_t user_id, const std::string& secret) {
  long long uid = user_id;
  soci::indicator ind = secret.empty() ? soci::i_null : soci::i_ok;
  sql << "UPDATE staff_users SET totp_secret = :s, totp_pending_secret = NULL, "
         "totp_last_step = 0 WHERE id = :id",
      soci::use(secret, ind), soci::use(uid);
}

void SetPendingTotp(soci::session& sql, int64_t user_id, const std::string& secret) {
  long long uid = user_id;
  soci::indicator ind = secret.empty() ? soci::i_null : soci::i_ok;
  sql << "UPDATE staff_users SET totp_pending_secret = :s WHERE id = :id", soci::use(secret, ind),
      soci::use(uid);
}

bool AdvanceTotpStep(soci::session& sql, int64_t user_id, int64_t step) {
  long long uid = user_id, s = step;
  soci::statement st = (sql.prepare << "UPDATE staff_users SET totp_last_step = :s "
                                       "WHERE id = :id AND totp_last_step < :s2",
                        soci::use(s), soci::use(uid), soci::use(s));
  return Affected(st) == 1;
}

void ReplaceRecoveryCodes(soci::session& sql, int64_t user_id,
                          const std::vector<std::string>& code_hashes) {
  long long uid = user_id;
  sql << "DELETE FROM staff_recovery_codes WHERE user_id = :u", soci::use(uid);
  for (const auto& hash : code_hashes) {
    sql << "INSERT INTO staff_recovery_codes (user_id, code_hash) VALUES (:u, :h)", soci::use(uid),
        soci::use(hash);
  }
}

bool UseRecoveryCode(soci::session& sql, int64_t user_id, const std::string& code_hash,
                     const std::string& now) {
  long long uid = user_id;
  soci::statement st = (sql.prepare << "UPDATE staff_recovery_codes SET used_at = :n WHERE "
                                       "user_id = :u AND code_hash = :h AND used_at IS NULL",
                        soci::use(now), soci::use(uid), soci::use(code_hash));
  return Affected(st) >= 1;
}

int64_t CountUnusedRecoveryCodes(soci::session& sql, int64_t user_id) {
  long long uid = user_id, n = 0;
  sql << "SELECT COUNT(*) FROM staff_recovery_codes WHERE user_id = :u AND used_at IS NULL",
      soci::use(uid), soci::into(n);
  return n;
}

void InsertChallenge(soci::session& sql, const std::string& token_hash, int64_t user_id,
                     const std::string& purpose, const std::string& secret, const std::string& now,
                     const std::string& expires_at) {
  long long uid = user_id;
  soci::indicator ind = secret.empty() ? soci::i_null : soci::i_ok;
  sql << "INSERT INTO staff_challenges (token_hash, user_id, purpose, secret, created_at, "
         "expires_at) VALUES (:h, :u, :p, :s, :n, :e)",
      soci::use(token_hash), soci::use(uid), soci::use(purpose), soci::use(secret, ind),
      soci::use(now), soci::use(expires_at);
}

std::optional<ChallengeRow> FindChallenge(soci::session& sql, const std::string& token_hash) {
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT user_id, purpose, secret, attempts, expires_at FROM "
                      "staff_challenges WHERE token_hash = :h",
       soci::use(token_hash));
  for (const auto& r : rs) {
    return ChallengeRow{db::RowInt(r, "user_id"), db::RowText(r, "purpose"),
                        db::RowText(r, "secret"), db::RowInt(r, "attempts"),
                        db::RowText(r, "expires_at")};
  }
  return std::nullopt;
}

int64_t CountChallengeAttempt(soci::session& sql, const std::string& token_hash) {
  long long n = 0;
  sql << "UPDATE staff_challenges SET attempts = attempts + 1 WHERE token_hash = :h "
         "RETURNING attempts",
      soci::use(token_hash), soci::into(n);
  return sql.got_data() ? n : 0;
}

bool ConsumeChallenge(soci::session& sql, const std::string& token_hash) {
  soci::statement st =
      (sql.prepare << "DELETE FROM staff_challenges WHERE token_hash = :h", soci::use(token_hash));
  return Affected(st) == 1;
}

void ReplacePasswordReset(soci::session& sql, int64_t user_id, const std::string& token_hash,
                          const std::string& created_by, const std::string& now,
                          const std::string& expires_at) {
  long long uid = user_id;
  sql << "DELETE FROM staff_password_resets WHERE user_id = :u", soci::use(uid);
  sql << "INSERT INTO staff_password_resets (token_hash, user_id, created_by, created_at, "
         "expires_at) VALUES (:h, :u, :b, :n, :e)",
      soci::use(token_hash), soci::use(uid), soci::use(created_by), soci::use(now),
      soci::use(expires_at);
}

std::optional<int64_t> FindPasswordReset(soci::session& sql, const std::string& token_hash,
                                         const std::string& now) {
  long long uid = 0;
  sql << "SELECT user_id FROM staff_password_resets WHERE token_hash = :h AND expires_at > :n",
      soci::use(token_hash), soci::use(now), soci::into(uid);
  if (!sql.got_data()) return std::nullopt;
  return uid;
}

bool ConsumePasswordReset(soci::session& sql, const std::string& token_hash,
                          const std::string& now) {
  soci::statement st = (sql.prepare << "DELETE FROM staff_password_resets WHERE token_hash = :h "
                                       "AND expires_at > :n",
                        soci::use(token_hash), soci::use(now));
  return Affected(st) == 1;
}

}  // namespace opsmerge::staff::store
