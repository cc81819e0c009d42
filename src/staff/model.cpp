#include "staff/model.h"

#include "platform/errors.h"
#include "platform/text.h"

namespace opsmerge::staff {

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "admin") return Role::kAdmin;
  if (name == "technician") return Role::kTechnician;
  if (name == "billing") return Role::kBilling;
  return std::nullopt;
}

const char* RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kTechnician:
      return "technician";
    case Role::kBilling:
      return "billing";
  }
  return "billing";
}

bool Allows(Role role, Permission permission) {
  switch (permission) {
    case Permission::kReadClients:
      return true;
    case Permission::kEditClients:
    case Permission::kWorkTickets:
      return role == Role::kAdmin || role == Role::kTechnician;
    case Permission::kManageBilling:
      return role == Role::kAdmin || role == Role::kBilling;
    case Permission::kMergeClients:
    case Permission::kDeleteClients:
    case Permission::kManageStaff:
      return role == Role::kAdmin;
  }
  return false;
}

void Require(const Actor& actor, Permission permission) {
  if (!Allows(actor.role, permission)) {
    throw Forbidden(std::string("Your role (") + RoleName(actor.role) +
                    ") is not allowed to do that");
  }
}

Actor ActorFrom(const http::Request& request) {
  if (!request.principal) throw Unauthorized();
  Actor a;
  a.user_id = request.principal->user_id;
  a.name = request.principal->name;
  // An unknown role string can only come from a corrupted row: grant the least.
  a.role = ParseRole(request.principal->role).value_or(Role::kBilling);
  return a;
}

void ValidatePassword(std::string_view password) {
  if (!text::IsValidUtf8(password)) {
    throw ValidationError("password", "Password is not valid text (UTF-8)");
  }
  // Characters, not bytes ("éééééé" is 6, not 12); white space at the ends does
  // not count.
  size_t length = text::Utf8Length(text::Trim(password));
  if (length < 12) {
    throw ValidationError("password", "Password must be at least 12 characters");
  }
  if (text::Utf8Length(password) > 256 || password.size() > 1024) {
    throw ValidationError("password", "Password must be at most 256 characters");
  }
  if (IsCommonPassword(password)) {
    throw ValidationError("password",
                          "That password is one attackers try first: choose a longer phrase of "
                          "your own");
  }
}

}  // namespace opsmerge::staff
