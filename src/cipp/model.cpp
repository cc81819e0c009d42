#include "cipp/model.h"

#include <nlohmann/json.hpp>

#include "platform/text.h"

namespace opsmerge::cipp {

namespace {

using nlohmann::json;

std::string Str(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_string()) return "";
  return text::Trim(it->get<std::string>());
}

json ParseArray(std::string_view body, const char* what) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded()) throw CippError(std::string("CIPP's ") + what + " answer is not JSON");
  if (!doc.is_array()) {
    throw CippError(std::string("CIPP's ") + what + " answer is not a list");
  }
  // CIPP reports a failure as HTTP 200 with one element whose customerId is ""
  // (or missing) and whose Results holds the message.
  if (doc.size() == 1 && doc[0].is_object() && doc[0].contains("Results") &&
      Str(doc[0], "customerId").empty() && Str(doc[0], "id").empty()) {
    const json& r = doc[0]["Results"];
    std::string message = r.is_string() ? r.get<std::string>() : r.dump();
    throw CippError("CIPP: " + text::Utf8Prefix(message, 500));
  }
  return doc;
}

}  // namespace

std::vector<Tenant> ParseTenants(std::string_view body) {
  std::vector<Tenant> out;
  for (const json& t : ParseArray(body, "ListTenants")) {
    if (!t.is_object()) throw CippError("CIPP's ListTenants answer holds a non-object");
    Tenant x;
    x.id = text::FoldCase(Str(t, "customerId"));
    if (x.id.empty() || x.id == "alltenants") continue;
    if (Str(t, "domains") == "PartnerTenant") continue;  // the partner's own tenant
    x.display_name = Str(t, "displayName");
    x.default_domain = text::FoldCase(Str(t, "defaultDomainName"));
    x.initial_domain = text::FoldCase(Str(t, "initialDomainName"));
    if (x.display_name.empty()) x.display_name = x.default_domain;
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<User> ParseUsers(std::string_view body) {
  std::vector<User> out;
  for (const json& u : ParseArray(body, "ListUsers")) {
    if (!u.is_object()) throw CippError("CIPP's ListUsers answer holds a non-object");
    User x;
    x.id = text::FoldCase(Str(u, "id"));
    if (x.id.empty()) throw CippError("CIPP's ListUsers answer holds a user without an id");
    auto enabled = u.find("accountEnabled");
    x.enabled = enabled != u.end() && enabled->is_boolean() && enabled->get<bool>();
    x.display_name = Str(u, "displayName");
    x.given_name = Str(u, "givenName");
    x.surname = Str(u, "surname");
    x.mail = Str(u, "mail");
    x.user_principal_name = Str(u, "userPrincipalName");
    x.job_title = Str(u, "jobTitle");
    x.mobile_phone = Str(u, "mobilePhone");
    if (auto p = u.find("businessPhones"); p != u.end() && p->is_array()) {
      for (const json& n : *p) {
        if (n.is_string() && !text::Trim(n.get<std::string>()).empty()) {
          x.business_phones.push_back(text::Trim(n.get<std::string>()));
        }
      }
    }
    if (auto l = u.find("assignedLicenses"); l != u.end() && l->is_array()) {
      x.licences = static_cast<int>(l->size());
    }
    x.user_type = Str(u, "userType");
    out.push_back(std::move(x));
  }
  return out;
}

ImportMode ParseImportMode(std::string_view setting) {
  return setting == "all_enabled" ? ImportMode::kAllEnabled : ImportMode::kLicensedEnabled;
}

bool Wanted(const User& u, ImportMode mode) {
  if (!u.enabled || u.user_type == "Guest") return false;
  if (EmailOf(u).empty()) return false;
  return mode == ImportMode::kAllEnabled || u.licences > 0;
}

std::string EmailOf(const User& u) {
  for (const std::string* s : {&u.mail, &u.user_principal_name}) {
    if (auto e = text::NormalizeEmail(*s)) return text::FoldCase(*e);
  }
  return "";
}

std::string NameOf(const User& u) {
  if (!u.display_name.empty()) return u.display_name;
  std::string both = text::CollapseWhitespace(u.given_name + " " + u.surname);
  return both.empty() ? EmailOf(u) : both;
}

std::string PhoneOf(const User& u) {
  if (!u.mobile_phone.empty()) return u.mobile_phone;
  return u.business_phones.empty() ? "" : u.business_phones.front();
}

std::string TokenUrl(const std::string& configured, const std::string& tenant_id) {
  std::string url = configured.empty() ? kDefaultTokenUrl : configured;
  if (size_t at = url.find("{tenant_id}"); at != std::string::npos) url.replace(at, 11, tenant_id);
  return url;
}

}  // namespace opsmerge::cipp
