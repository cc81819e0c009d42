#include "staff/store.h"

#include <soci/soci.h>

#include "platform/db.h"

namespace opsmerge::staff::store {

namespace {

constexpr const char* kUserColumns =
    "SELECT id, email, name, role, password_hash, disabled, created_at FROM staff_users ";

UserRow ToUser(const soci::row& r) {
  UserRow u;
  u.id = db::RowInt(r, 0);
  u.email = db::RowText(r, 1);
  u.name = db::RowText(r, 2);
  u.role = db::RowText(r, 3);
  u.password_hash = db::RowText(r, 4);
  u.disabled = db::RowBool(r, 5);
  u.created_at = db::RowText(r, 6);
  return u;
}

constexpr const char* kApiKeyColumns =
    "SELECT k.id, k.user_id, k.label, k.prefix, k.key_hash, k.created_at, k.last_used_at, "
    "k.revoked_at, u.email FROM api_keys k JOIN staff_users u ON u.id = k.user_id ";

ApiKeyRow ToApiKey(const soci::row& r) {
  ApiKeyRow k;
  k.id = db::RowInt(r, 0);
  k.user_id = db::RowInt(r, 1);
  k.label = db::RowText(r, 2);
  k.prefix = db::RowText(r, 3);
  k.key_hash = db::RowText(r, 4);
  k.created_at = db::RowText(r, 5);
  k.last_used_at = db::RowText(r, 6);
  k.revoked_at = db::RowText(r, 7);
  k.user_email = db::RowText(r, 8);
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

}  // namespace opsmerge::staff::store
