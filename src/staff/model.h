#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "audit/service.h"
#include "platform/http/request.h"

// Staff roles and what each may do (U1). Pure rules, no I/O.
namespace opsmerge::staff {

enum class Role { kAdmin, kTechnician, kBilling };

std::optional<Role> ParseRole(std::string_view name);
const char* RoleName(Role role);

enum class Permission {
  kReadClients,    // see clients, contacts, sites, history
  kEditClients,    // create/edit clients, contacts, sites, links; archive/unarchive
  kMergeClients,   // merge clients
  kDeleteClients,  // delete clients
  kManageStaff,    // staff users, API keys of others, settings
  kWorkTickets,    // open, answer, assign and log time on tickets
  kManageBilling,  // contracts, invoice runs, issuing, voiding, invoices' PDFs
};

bool Allows(Role role, Permission permission);

// The person behind a request or command, as services see them.
struct Actor {
  int64_t user_id = 0;  // 0: the system (command line, first-run setup)
  std::string name;
  Role role = Role::kBilling;

  static Actor System() { return Actor{0, "system", Role::kAdmin}; }
  audit::Who Who() const {
    return audit::Who{user_id ? std::optional<int64_t>(user_id) : std::nullopt, name};
  }
};

// Throws Forbidden unless `actor`'s role allows `permission`.
void Require(const Actor& actor, Permission permission);

// The actor for a signed-in request; throws Unauthorized when nobody is signed in.
Actor ActorFrom(const http::Request& request);

// Password rules: valid UTF-8, 12 to 256 characters (not bytes; white space at
// the ends not counted), and not a common password. ValidationError("password").
void ValidatePassword(std::string_view password);
// True for a password from the shapes of breached-password lists: a bundled list,
// a dictionary word with digits/symbols/leetspeak around it, a keyboard walk, a
// counting run or a repeated unit.
bool IsCommonPassword(std::string_view password);

}  // namespace opsmerge::staff
