#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "audit/service.h"
#include "platform/clock.h"
#include "platform/db.h"
#include "platform/secret_box.h"
#include "staff/model.h"

// The installation's general settings (issue "tickets and email", item 2), kept in
// the settings store so every node sees the same: public_url, mail_from, smtp_url,
// imap_url, imap_poll_seconds, sla, auto_close_days, time_zone. Passwords inside
// smtp_url / imap_url (or given as smtp_password / imap_password) are sealed with
// the SecretBox and never returned: the API and page say "set". Admins only.
namespace opsmerge::admin {

class SettingsService {
 public:
  SettingsService(db::Database& db, const audit::AuditLog& audit, const Clock& clock,
                  const SecretBox& secrets)
      : db_(db), audit_(audit), clock_(clock), secrets_(secrets) {}

  // Every setting, defaults filled in; secrets as "set" or null.
  nlohmann::json Get(const staff::Actor& actor);
  // Validates every member first (ValidationError naming it; unknown members are
  // refused), then writes them all in one transaction with one audit entry that
  // names the keys changed (secrets never in it). Returns Get's view.
  nlohmann::json Update(const staff::Actor& actor, const nlohmann::json& patch);

  // For the features that use them (mail): a secret in clear text, "" when unset.
  std::string Secret(soci::session& sql, const std::string& key) const;

  // The time zone the settings name, "" when none (start-up applies it).
  std::string TimeZone();

 private:
  nlohmann::json View(soci::session& sql);
  db::Database& db_;
  const audit::AuditLog& audit_;
  const Clock& clock_;
  const SecretBox& secrets_;
};

}  // namespace opsmerge::admin
