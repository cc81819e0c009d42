#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

// Microsoft 365 through CIPP (I1-I2): what CIPP's API answers, read into plain
// values, and the rules of what a sync imports. Pure: no I/O; unit-tested.
namespace opsmerge::cipp {

// Entra's token endpoint; {tenant_id} stands for the partner's tenant id.
inline constexpr const char* kDefaultTokenUrl =
    "https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token";

// What CIPP said when it failed, or what we could not read of its answer.
struct CippError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Tenant {
  std::string id;  // customerId: the Entra tenant id, the stable key
  std::string display_name;
  std::string default_domain;  // defaultDomainName
  std::string initial_domain;  // initialDomainName (*.onmicrosoft.com)
};

struct User {
  std::string id;
  bool enabled = false;
  std::string display_name, given_name, surname;
  std::string mail, user_principal_name;
  std::string job_title, mobile_phone;
  std::vector<std::string> business_phones;
  int licences = 0;
  std::string user_type;  // "Member", "Guest"
};

// GET /api/ListTenants: the customer tenants (the "AllTenants" row and the
// partner's own are skipped). CippError when the answer is not the array CIPP
// sends, or is CIPP's failure shape (one element, customerId "", Results).
std::vector<Tenant> ParseTenants(std::string_view body);
// GET /api/ListUsers: CippError when it is not an array of user objects, or is
// the failure shape. Null strings read as ""; unknown members are ignored.
std::vector<User> ParseUsers(std::string_view body);

enum class ImportMode { kLicensedEnabled, kAllEnabled };
ImportMode ParseImportMode(std::string_view setting);  // "" and unknown: licensed
// Whether a user is imported (members only, enabled, licensed unless kAllEnabled).
bool Wanted(const User& u, ImportMode mode);
// A user's address: mail, else the UPN (lower-cased); "" when neither is one.
std::string EmailOf(const User& u);
// The name to show: displayName, else given + surname, else the address.
std::string NameOf(const User& u);
// mobilePhone, else the first business phone; "" when none.
std::string PhoneOf(const User& u);

// The token URL with {tenant_id} filled in.
std::string TokenUrl(const std::string& configured, const std::string& tenant_id);

}  // namespace opsmerge::cipp
