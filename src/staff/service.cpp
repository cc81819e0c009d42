#include "staff/service.h"

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "platform/crypto.h"
#include "platform/errors.h"
#include "platform/rate_limit.h"
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

std::string PairBucket(const std::string& email_key, const std::string& ip) {
  return "signin:pair:" + ip + ":" + email_key;
}
std::string AddressBucket(const std::string& ip) { return "signin:ip:" + ip; }
std::string AccountBucket(const std::string& email_key) { return "signin:acct:" + email_key; }
std::string PaceBucket(const std::string& email_key) { return "signin:pace:" + email_key; }

constexpr int64_t kSetupTokenSeconds = int64_t{24} * 3600;
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

std::string StaffService::SignIn(const std::string& email, const std::string& password,
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
  std::string token;
  db_.Write([&](soci::session& sql) {
    // Only failures count against the person and their address.
    ratelimit::Clear(sql, PairBucket(key, remote_ip));
    ratelimit::Unhit(sql, AddressBucket(remote_ip));
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
