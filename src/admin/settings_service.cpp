#include "admin/settings_service.h"

#include <set>
#include <stdexcept>

#include <Poco/URI.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "billing/service.h"
#include "cipp/model.h"
#include "clients/model.h"
#include "platform/crypto.h"
#include "platform/errors.h"
#include "platform/outbox.h"
#include "platform/settings.h"
#include "platform/text.h"
#include "tickets/service.h"

namespace opsmerge::admin {

namespace {

using nlohmann::json;

const std::vector<std::string> kKeys = {
    "public_url", "mail_from", "smtp_url", "smtp_password", "imap_url", "imap_password",
    "imap_poll_seconds", "sla", "auto_close_days", "time_zone", "ack_template", "reply_template",
    "business_hours",
    // Billing (issue "contracts and recurring invoices").
    "supplier_name", "supplier_address", "vat_number", "vat_rate_bp", "hourly_rate_pence",
    "billing_day", "invoice_number_format", "payment_terms_days",
    // The client portal's header (issue "client portal").
    "portal_logo",
    // Microsoft 365 through CIPP (issue "CIPP").
    "cipp_base_url", "cipp_token_url", "cipp_tenant_id", "cipp_client_id", "cipp_client_secret",
    "cipp_sync_hours", "cipp_create_clients", "cipp_import"};
constexpr const char* kDefaultCippTokenUrl = cipp::kDefaultTokenUrl;
const std::set<std::string> kSecrets = {"smtp_password", "imap_password", "cipp_client_secret"};

std::string Text(const json& v, const std::string& key, size_t max) {
  if (v.is_null()) return "";
  if (!v.is_string()) throw ValidationError(key, key + " must be text");
  std::string s = text::Trim(v.get<std::string>());
  if (!text::IsValidUtf8(s) || text::HasControlCharacters(s) ||
      s.find_first_of("\r\n") != std::string::npos) {
    throw ValidationError(key, key + " must be one line of text");
  }
  if (s.size() > max) throw ValidationError(key, key + " is too long");
  return s;
}

// The portal's logo: a data: URL of a PNG, JPEG, GIF or WebP image of at most
// 256 KiB (never SVG, which can carry script), its type checked by its first bytes.
// Stored as "<type>;base64,<data>"; "" removes it.
std::string Logo(const json& v) {
  const std::string key = "portal_logo";
  if (v.is_null() || (v.is_string() && v.get<std::string>().empty())) return "";
  const std::string wrong = "portal_logo must be a PNG, JPEG, GIF or WebP image (a data: URL)";
  if (!v.is_string()) throw ValidationError(key, wrong);
  const std::string& s = v.get_ref<const std::string&>();
  static const std::vector<std::pair<std::string, std::string>> kTypes = {
      {"image/png", std::string("\x89PNG\r\n\x1a\n", 8)},
      {"image/jpeg", "\xff\xd8\xff"},
      {"image/gif", "GIF8"},
      {"image/webp", "RIFF"}};
  for (const auto& [type, magic] : kTypes) {
    std::string prefix = "data:" + type + ";base64,";
    if (s.rfind(prefix, 0) != 0) continue;
    std::string data = s.substr(prefix.size());
    if (data.size() > (size_t{256} << 10) * 4 / 3 + 4) {
      throw ValidationError(key, "The logo is larger than 256 KB: use a smaller image");
    }
    std::string bytes;
    try {
      bytes = crypto::FromBase64(data);
    } catch (const std::invalid_argument&) {
      throw ValidationError(key, wrong);
    }
    if (bytes.size() > (size_t{256} << 10)) {
      throw ValidationError(key, "The logo is larger than 256 KB: use a smaller image");
    }
    if (bytes.rfind(magic, 0) != 0 || (type == "image/webp" && bytes.substr(8, 4) != "WEBP")) {
      throw ValidationError(key, "The file is not the " + type + " image it says it is");
    }
    return type + ";base64," + crypto::Base64(bytes);
  }
  throw ValidationError(key, wrong);
}

int64_t Whole(const json& v, const std::string& key, int64_t lo, int64_t hi) {
  if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
    throw ValidationError(key, key + " must be a whole number from " + std::to_string(lo) + " to " +
                                   std::to_string(hi));
  }
  return v.get<int64_t>();
}

// A mail server URL: scheme one of `schemes`, a host, an optional port; user and
// password split off (the password is returned apart, to be sealed).
struct MailUrl {
  std::string url;  // without the password
  std::string password;
  bool had_password = false;
};
MailUrl ParseMailUrl(const std::string& value, const std::string& key,
                     const std::set<std::string>& schemes, bool path_allowed) {
  MailUrl out;
  if (value.empty()) return out;
  Poco::URI uri;
  try {
    uri = Poco::URI(value);
  } catch (const std::exception&) {
    throw ValidationError(key, key + " is not a URL");
  }
  if (!schemes.count(uri.getScheme())) {
    std::string list;
    for (const auto& s : schemes) list += (list.empty() ? "" : " or ") + s + "://";
    throw ValidationError(key, key + " must start with " + list);
  }
  if (uri.getHost().empty()) throw ValidationError(key, key + " needs a host");
  if (!uri.getQuery().empty() || !uri.getFragment().empty() ||
      (!path_allowed && !uri.getPath().empty() && uri.getPath() != "/")) {
    throw ValidationError(key, key + " has parts a mail server address does not");
  }
  std::string user = uri.getUserInfo();
  if (size_t colon = user.find(':'); colon != std::string::npos) {
    // The URL carries it percent-encoded ("p%40ss"); the server wants "p@ss".
    Poco::URI::decode(user.substr(colon + 1), out.password);
    out.had_password = true;
    user = user.substr(0, colon);
  }
  std::string url = uri.getScheme() + "://" + (user.empty() ? "" : user + "@") + uri.getHost();
  if (uri.getSpecifiedPort() != 0) url += ":" + std::to_string(uri.getSpecifiedPort());
  if (path_allowed && !uri.getPath().empty() && uri.getPath() != "/") {
    for (unsigned char c : uri.getPath()) {
      if (c < 0x20 || c == 0x7F || c == '"' || c == '\\' || c == '%' || c == '*') {
        throw ValidationError(key, key + " names a mailbox with characters IMAP cannot take here");
      }
    }
    url += uri.getPath();
  }
  out.url = url;
  return out;
}

// An http(s) URL without user info, query or fragment, trailing slashes dropped.
std::string HttpUrl(const std::string& v, const std::string& key, const std::string& how) {
  if (v.empty()) return v;
  Poco::URI uri;
  try {
    uri = Poco::URI(v);
  } catch (const std::exception&) {
    throw ValidationError(key, key + " is not a URL");
  }
  if ((uri.getScheme() != "https" && uri.getScheme() != "http") || uri.getHost().empty() ||
      !uri.getUserInfo().empty() || !uri.getQuery().empty() || !uri.getFragment().empty()) {
    throw ValidationError(key, key + " must be http(s)://host[:port][/path], " + how);
  }
  std::string s = v;
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

std::string PublicUrl(const std::string& v) {
  return HttpUrl(v, "public_url", "as people reach it");
}

// A tenant (GUID or *.onmicrosoft.com style name) or an application (GUID) id.
std::string EntraId(const json& v, const std::string& key, bool name_allowed) {
  std::string s = Text(v, key, 255);
  if (s.empty()) return s;
  if (auto guid = clients::NormalizeTenantId(s)) return *guid;
  if (name_allowed) {
    if (auto d = text::NormalizeDomain(s)) return *d;
  }
  throw ValidationError(
      key, key + (name_allowed ? " must be a GUID or a domain like contoso.onmicrosoft.com"
                               : " must be a GUID"));
}

bool ValidZone(const std::string& z) {
  if (z.empty() || z.size() > 64 || z.find("..") != std::string::npos || z[0] == '/') return false;
  for (char c : z) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-' &&
        c != '+') {
      return false;
    }
  }
  return access(("/usr/share/zoneinfo/" + z).c_str(), R_OK) == 0;
}

// A mail template: text of at most 10,000 characters whose {{placeholders}} are
// among `names`; "" (the default) when it is empty. A reply template keeps {{body}}.
std::string Template(const json& v, const std::string& key, const std::set<std::string>& names) {
  if (v.is_null()) return "";
  if (!v.is_string()) throw ValidationError(key, key + " must be text");
  std::string s;
  for (char c : v.get<std::string>()) {
    if (c != '\r') s += c;
  }
  if (!text::IsValidUtf8(s) || text::Utf8Length(s) > 10000) {
    throw ValidationError(key, key + " must be text of at most 10,000 characters");
  }
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
      throw ValidationError(key, key + " must not hold control characters");
    }
  }
  if (text::Trim(s).empty()) return "";
  for (size_t p = s.find("{{"); p != std::string::npos; p = s.find("{{", p + 2)) {
    size_t end = s.find("}}", p);
    std::string name = end == std::string::npos ? "" : s.substr(p + 2, end - p - 2);
    if (!names.count(name)) {
      std::string list;
      for (const auto& n : names)
        list.append(list.empty() ? "" : ", ").append("{{").append(n).append("}}");
      throw ValidationError(key, key + " may use " + std::move(list));
    }
  }
  if (names.count("body") && s.find("{{body}}") == std::string::npos) {
    throw ValidationError(key, key + " must keep {{body}}: where the reply goes");
  }
  return s;
}

// Text of several lines (an address), as printed.
std::string MultiLine(const json& v, const std::string& key, size_t max_chars) {
  if (v.is_null()) return "";
  if (!v.is_string()) throw ValidationError(key, key + " must be text");
  return text::CleanField(key, key, v.get<std::string>(), max_chars, true);
}

}  // namespace

json SettingsService::View(soci::session& sql) {
  auto get = [&](const std::string& k) { return settings::Get(sql, k).value_or(""); };
  auto number = [&](const std::string& k, int64_t fallback) {
    std::string v = get(k);
    return v.empty() ? fallback : std::stoll(v);
  };
  tickets::SlaTargets sla = tickets::StoredSla(sql);
  json out = {
      {"public_url", get("public_url")},
      {"mail_from", get("mail_from")},
      {"smtp_url", get("smtp_url")},
      {"imap_url", get("imap_url")},
      {"imap_poll_seconds", number("imap_poll_seconds", 60)},
      {"sla", json::parse(tickets::SlaTargetsJson(sla))},
      {"auto_close_days", number("auto_close_days", 7)},
      {"business_hours", sla.hours ? json::parse(tickets::BusinessHoursJson(*sla.hours)) : json()},
      {"time_zone", get("time_zone")},
      {"ack_template", settings::Get(sql, "ack_template").value_or(outbox::kAckTemplate)},
      {"reply_template", settings::Get(sql, "reply_template").value_or(outbox::kReplyTemplate)}};
  billing::BillingSettings b = billing::StoredBillingSettings(sql);
  out["supplier_name"] = b.supplier_name;
  out["supplier_address"] = b.supplier_address;
  out["vat_number"] = b.vat_number;
  out["vat_rate_bp"] = b.vat_rate_bp;
  out["hourly_rate_pence"] = b.hourly_rate_pence;
  out["billing_day"] = b.billing_day;
  out["invoice_number_format"] = b.invoice_number_format;
  out["payment_terms_days"] = b.payment_terms_days;
  out["cipp_base_url"] = get("cipp_base_url");
  out["cipp_token_url"] = settings::Get(sql, "cipp_token_url").value_or(kDefaultCippTokenUrl);
  out["cipp_tenant_id"] = get("cipp_tenant_id");
  out["cipp_client_id"] = get("cipp_client_id");
  out["cipp_sync_hours"] = number("cipp_sync_hours", 0);
  out["cipp_create_clients"] = get("cipp_create_clients") != "false";
  out["cipp_import"] = settings::Get(sql, "cipp_import").value_or("licensed_enabled");
  std::string logo = get("portal_logo");
  out["portal_logo"] = logo.empty() ? json() : json("data:" + logo);
  for (const auto& k : kSecrets) out[k] = get(k).empty() ? json() : json("set");
  return out;
}

json SettingsService::Get(const staff::Actor& actor) {
  staff::Require(actor, staff::Permission::kManageStaff);
  json out;
  db_.Read([&](soci::session& sql) { out = View(sql); });
  return out;
}

std::string SettingsService::TimeZone() {
  std::string out;
  db_.Read([&](soci::session& sql) { out = settings::Get(sql, "time_zone").value_or(""); });
  return out;
}

std::string SettingsService::Secret(soci::session& sql, const std::string& key) const {
  std::string sealed = settings::Get(sql, key).value_or("");
  if (sealed.empty()) return "";
  return secrets_.Open(sealed).value_or("");
}

json SettingsService::Update(const staff::Actor& actor, const json& patch) {
  staff::Require(actor, staff::Permission::kManageStaff);
  if (!patch.is_object()) throw ValidationError("body", "Send an object of settings");
  for (const auto& [key, value] : patch.items()) {
    (void)value;
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      throw ValidationError(key, "Unknown setting " + key);
    }
  }
  // Every value checked before anything is written.
  std::map<std::string, std::string> plain;   // key -> stored text ("" removes)
  std::map<std::string, std::string> secret;  // key -> clear text ("" removes)
  auto has = [&](const char* k) { return patch.contains(k); };
  if (has("public_url"))
    plain["public_url"] = PublicUrl(Text(patch["public_url"], "public_url", 300));
  if (has("mail_from")) {
    std::string v = Text(patch["mail_from"], "mail_from", 320);
    if (!v.empty()) {
      auto e = text::NormalizeEmail(v);
      if (!e) throw ValidationError("mail_from", "mail_from must be an email address");
      v = *e;
    }
    plain["mail_from"] = v;
  }
  for (const auto& [key, pw, schemes, path] :
       {std::tuple<std::string, std::string, std::set<std::string>, bool>{
            "smtp_url", "smtp_password", {"smtp", "smtps"}, false},
        {"imap_url", "imap_password", {"imap", "imaps"}, true}}) {
    if (has(pw.c_str())) secret[pw] = Text(patch[pw], pw, 500);
    if (!has(key.c_str())) continue;
    MailUrl u = ParseMailUrl(Text(patch[key], key, 500), key, schemes, path);
    plain[key] = u.url;
    if (u.had_password) secret[pw] = u.password;
  }
  if (has("imap_poll_seconds")) {
    plain["imap_poll_seconds"] =
        std::to_string(Whole(patch["imap_poll_seconds"], "imap_poll_seconds", 10, 3600));
  }
  if (has("auto_close_days")) {
    plain["auto_close_days"] =
        std::to_string(Whole(patch["auto_close_days"], "auto_close_days", 0, 365));
  }
  if (has("sla")) {
    if (!patch["sla"].is_object())
      throw ValidationError("sla", "sla must be an object of priorities");
    plain["sla"] = tickets::SlaTargetsJson(tickets::ParseSlaTargets(patch["sla"].dump()));
  }
  if (has("business_hours")) {
    const json& v = patch["business_hours"];
    auto hours = v.is_null() || (v.is_string() && v.get<std::string>().empty())
                     ? std::nullopt
                     : tickets::ParseBusinessHours(v.dump());
    plain["business_hours"] = hours ? tickets::BusinessHoursJson(*hours) : "";
  }
  if (has("time_zone")) {
    std::string z = Text(patch["time_zone"], "time_zone", 64);
    if (!z.empty() && !ValidZone(z)) {
      throw ValidationError("time_zone", "time_zone must be a name like Europe/London");
    }
    plain["time_zone"] = z;
  }
  for (const auto& [key, names] :
       {std::pair<std::string, std::set<std::string>>{"ack_template",
                                                      {"name", "number", "subject"}},
        {"reply_template", {"body", "name", "number", "subject", "technician"}}}) {
    if (!has(key.c_str())) continue;
    plain[key] = Template(patch[key], key, names);
  }
  if (has("supplier_name"))
    plain["supplier_name"] = Text(patch["supplier_name"], "supplier_name", 200);
  if (has("vat_number")) plain["vat_number"] = Text(patch["vat_number"], "vat_number", 40);
  if (has("supplier_address")) {
    // Several lines: the address as it is printed on invoices.
    plain["supplier_address"] = MultiLine(patch["supplier_address"], "supplier_address", 1000);
  }
  if (has("vat_rate_bp")) {
    plain["vat_rate_bp"] = std::to_string(Whole(patch["vat_rate_bp"], "vat_rate_bp", 0, 10000));
  }
  if (has("hourly_rate_pence")) {
    plain["hourly_rate_pence"] =
        std::to_string(Whole(patch["hourly_rate_pence"], "hourly_rate_pence", 0, 1'000'000'000));
  }
  if (has("billing_day")) {
    plain["billing_day"] = std::to_string(Whole(patch["billing_day"], "billing_day", 1, 28));
  }
  if (has("payment_terms_days")) {
    plain["payment_terms_days"] =
        std::to_string(Whole(patch["payment_terms_days"], "payment_terms_days", 0, 365));
  }
  if (has("portal_logo")) plain["portal_logo"] = Logo(patch["portal_logo"]);
  if (has("cipp_base_url")) {
    plain["cipp_base_url"] = HttpUrl(Text(patch["cipp_base_url"], "cipp_base_url", 300),
                                     "cipp_base_url", "your CIPP's address");
  }
  if (has("cipp_token_url")) {
    // "" restores the Entra default; {tenant_id} stands for cipp_tenant_id.
    std::string u = Text(patch["cipp_token_url"], "cipp_token_url", 300);
    std::string check = u;
    if (size_t at = check.find("{tenant_id}"); at != std::string::npos) {
      check.replace(at, 11, "tenant");
    }
    HttpUrl(check, "cipp_token_url", "the token endpoint");
    plain["cipp_token_url"] = u == kDefaultCippTokenUrl ? "" : u;
  }
  if (has("cipp_tenant_id")) {
    plain["cipp_tenant_id"] = EntraId(patch["cipp_tenant_id"], "cipp_tenant_id", true);
  }
  if (has("cipp_client_id")) {
    plain["cipp_client_id"] = EntraId(patch["cipp_client_id"], "cipp_client_id", false);
  }
  if (has("cipp_client_secret")) {
    secret["cipp_client_secret"] = Text(patch["cipp_client_secret"], "cipp_client_secret", 500);
  }
  if (has("cipp_sync_hours")) {
    plain["cipp_sync_hours"] =
        std::to_string(Whole(patch["cipp_sync_hours"], "cipp_sync_hours", 0, 168));
  }
  if (has("cipp_create_clients")) {
    if (!patch["cipp_create_clients"].is_boolean()) {
      throw ValidationError("cipp_create_clients", "cipp_create_clients must be true or false");
    }
    plain["cipp_create_clients"] = patch["cipp_create_clients"].get<bool>() ? "" : "false";
  }
  if (has("cipp_import")) {
    std::string v = Text(patch["cipp_import"], "cipp_import", 40);
    if (!v.empty() && v != "licensed_enabled" && v != "all_enabled") {
      throw ValidationError("cipp_import", "cipp_import must be licensed_enabled or all_enabled");
    }
    plain["cipp_import"] = v == "licensed_enabled" ? "" : v;
  }
  if (has("invoice_number_format")) {
    std::string f = Text(patch["invoice_number_format"], "invoice_number_format", 40);
    if (!f.empty()) billing::ValidateNumberFormat(f);
    plain["invoice_number_format"] = f;
  }
  json out;
  db_.Write([&](soci::session& sql) {
    json before = View(sql);
    std::string now = FormatIsoUtc(clock_.NowUnix());
    for (const auto& [k, v] : plain) {
      if (v.empty()) {
        settings::Remove(sql, k);
      } else {
        settings::Set(sql, k, v, now);
      }
    }
    for (const auto& [k, v] : secret) {
      if (v.empty()) {
        settings::Remove(sql, k);
      } else {
        settings::Set(sql, k, secrets_.Seal(v), now);
      }
    }
    out = View(sql);
    std::string changed;
    for (const auto& k : kKeys) {
      if (before[k] != out[k] || (secret.count(k) && !secret[k].empty())) {
        changed += (changed.empty() ? "" : ", ") + k;
      }
    }
    if (!changed.empty()) {
      audit_.Write(sql, actor.Who(),
                   {"update", "settings", std::nullopt, std::nullopt,
                    "Changed settings: " + changed, before.dump(), out.dump()});
    }
  });
  return out;
}

}  // namespace opsmerge::admin
