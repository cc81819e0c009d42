#include "staff/service.h"

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "platform/crypto.h"
#include "platform/errors.h"
#include "platform/text.h"
#include "staff/store.h"

namespace opsmerge::staff {

namespace {

User ToUser(const store::UserRow& r) {
  return User{r.id,       r.email,     r.name, ParseRole(r.role).value_or(Role::kBilling),
              r.disabled, r.created_at};
}

ApiKey ToApiKey(const store::ApiKeyRow& r) {
  return ApiKey{r.id, r.label, r.prefix, r.user_email, r.created_at, r.last_used_at, r.revoked_at};
}

// A hash to verify against when the email is unknown, so both cases cost the same.
const std::string& DummyHash() {
  static const std::string hash = crypto::HashPassword("opsmerge-timing-equaliser");
  return hash;
}

std::string AccountBucket(const std::string& email_key) { return "signin:acct:" + email_key; }
std::string AddressBucket(const std::string& ip) { return "signin:ip:" + ip; }

constexpr int64_t kSetupTokenSeconds = 24 * 3600;
constexpr const char* kApiKeyPrefix = "om_";

}  // namespace

StaffService::StaffService(db::Database& db, const audit::AuditLog& audit, const Clock& clock,
                           SignInLimits limits, SessionPolicy sessions)
    : db_(db), audit_(audit), clock_(clock), limits_(limits), sessions_(sessions) {}

User StaffService::CreateUser(const Actor& by, const std::string& email, const std::string& name,
                              const std::string& role, const std::string& password) {
  Require(by, Permission::kManageStaff);
  auto normalized = text::NormalizeEmail(email);
  if (!normalized) throw ValidationError("email", "Enter a valid email address");
  std::string clean_name = text::CollapseWhitespace(name);
  if (clean_name.empty()) throw ValidationError("name", "Name is required");
  if (text::Utf8Length(clean_name) > 200 || !text::IsValidUtf8(clean_name)) {
    throw ValidationError("name", "Name must be at most 200 characters of text");
  }
  auto parsed_role = ParseRole(role);
  if (!parsed_role) throw ValidationError("role", "Role must be admin, technician or billing");
  ValidatePassword(password);
  std::string hash = crypto::HashPassword(password);
  std::string key = text::FoldCase(*normalized);
  User user;
  db_.Write([&](soci::session& sql) {
    if (auto existing = store::FindUserByEmailKey(sql, key)) {
      throw Conflict("duplicate", "A staff user with that email already exists", existing->id,
                     "email");
    }
    std::string now = FormatIsoUtc(clock_.NowUnix());
    int64_t id =
        store::InsertUser(sql, *normalized, key, clean_name, RoleName(*parsed_role), hash, now);
    user = User{id, *normalized, clean_name, *parsed_role, false, now};
    nlohmann::json after = {{"email", user.email}, {"name", user.name}, {"role", role}};
    audit_.Write(sql, by.Who(),
                 {"create", "staff_user", id, std::nullopt, "Created staff user " + user.email, "",
                  after.dump()});
  });
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
  if (!SetupTokenValid(token)) {
    throw Forbidden("This setup link is not valid any more. Restart opsmerge serve for a new one.");
  }
  CreateUser(Actor::System(), email, name, "admin", password);
  std::string session;
  db_.Write([&](soci::session& sql) {
    store::DeleteSetupTokens(sql);
    auto normalized = text::NormalizeEmail(email);
    auto user = store::FindUserByEmailKey(sql, text::FoldCase(*normalized));
    session = StartSession(sql, user->id, remote_ip);
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

std::string StaffService::SignIn(const std::string& email, const std::string& password,
                                 const std::string& remote_ip) {
  auto normalized = text::NormalizeEmail(email);
  std::string key = normalized ? text::FoldCase(*normalized) : text::FoldCase(text::Trim(email));
  int64_t now = clock_.NowUnix();
  int64_t retry_after = 0;
  db_.Read([&](soci::session& sql) {
    auto account = store::ReadRate(sql, AccountBucket(key), now, limits_.window_seconds);
    auto address = store::ReadRate(sql, AddressBucket(remote_ip), now, limits_.window_seconds);
    if (account.count >= limits_.per_account_failures) {
      retry_after = std::max(retry_after, account.window_start + limits_.window_seconds - now);
    }
    if (address.count >= limits_.per_address_failures) {
      retry_after = std::max(retry_after, address.window_start + limits_.window_seconds - now);
    }
  });
  if (retry_after > 0) {
    throw TooManyRequests("Too many sign-in attempts. Try again in " +
                              std::to_string((retry_after + 59) / 60) + " minutes.",
                          retry_after);
  }
  std::optional<store::UserRow> user;
  db_.Read([&](soci::session& sql) { user = store::FindUserByEmailKey(sql, key); });
  // Verify even for unknown accounts so timing does not reveal which emails exist.
  bool ok = crypto::VerifyPassword(password, user ? user->password_hash : DummyHash());
  if (!user || user->disabled || !ok) {
    db_.Write([&](soci::session& sql) {
      store::AddRate(sql, AccountBucket(key), now, limits_.window_seconds);
      store::AddRate(sql, AddressBucket(remote_ip), now, limits_.window_seconds);
    });
    throw Unauthorized("Wrong email or password");
  }
  std::string token;
  db_.Write([&](soci::session& sql) {
    store::ClearRate(sql, AccountBucket(key));
    token = StartSession(sql, user->id, remote_ip);
  });
  return token;
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
    purged = store::DeleteExpired(sql, FormatIsoUtc(now), now - limits_.window_seconds);
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
