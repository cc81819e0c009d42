// What CIPP answers, whatever it is: ListTenants and ListUsers either read into
// tenants and users or fail with a CippError (the sync then changes nothing); the
// rules over a read user never fail, and every address they give is a valid one.
#include <cstddef>
#include <cstdint>
#include <string>

#include "cipp/model.h"
#include "platform/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string body(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& t : opsmerge::cipp::ParseTenants(body)) {
      if (t.id.empty()) __builtin_trap();
    }
  } catch (const opsmerge::cipp::CippError&) {
  }
  try {
    for (const auto& u : opsmerge::cipp::ParseUsers(body)) {
      opsmerge::cipp::Wanted(u, opsmerge::cipp::ImportMode::kAllEnabled);
      std::string email = opsmerge::cipp::EmailOf(u);
      if (!email.empty() && !opsmerge::text::NormalizeEmail(email)) __builtin_trap();
      opsmerge::cipp::NameOf(u);
      opsmerge::cipp::PhoneOf(u);
    }
  } catch (const opsmerge::cipp::CippError&) {
  }
  return 0;
}
