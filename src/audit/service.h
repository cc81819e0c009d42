#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "platform/clock.h"

namespace soci {
class session;
}

// The audit log (U2): who did what, when, with the record before and after.
// Writers pass the session of their own transaction, so the audit row commits or
// rolls back with the change it describes. Thread-safe (holds no mutable state).
namespace opsmerge::audit {

struct Who {
  std::optional<int64_t> user_id;  // empty for the system / command line
  std::string name;
};

struct Entry {
  std::string action;       // "create", "update", "delete", "archive", "merge", "link" ...
  std::string entity_type;  // "client", "contact", "site", "client_link", "staff_user" ...
  std::optional<int64_t> entity_id;
  std::optional<int64_t> client_id;  // the client whose History tab shows it
  std::string summary;               // one line for people: "Created client Acme Ltd"
  std::string before_json;           // empty when there was no "before"
  std::string after_json;
};

struct Row {
  int64_t id = 0;
  std::string at;
  std::optional<int64_t> actor_id;
  std::string actor_name;
  std::string action;
  std::string entity_type;
  std::optional<int64_t> entity_id;
  std::optional<int64_t> client_id;
  std::string summary;
  std::string before_json;
  std::string after_json;
  std::string client_name;  // Search only: the client's current name ("" if none)
};

// The admin-wide audit page's filters; empty members do not filter.
struct Filter {
  std::optional<int64_t> actor_id;  // 0: the system / command line
  std::string client_search;        // part of the client's current name, any case
  std::string action;               // exactly
  std::string from_iso;             // "2026-12-01T00:00:00Z", inclusive
  std::string to_iso;               // exclusive
  bool clients_only = false;        // only entries about a client (not staff, settings)
  std::string entity_type;          // with entity_id: one record's entries ("contact", 12)
  std::optional<int64_t> entity_id;
};

class AuditLog {
 public:
  explicit AuditLog(const Clock& clock) : clock_(clock) {}

  void Write(soci::session& sql, const Who& who, const Entry& entry) const;

  // Newest first.
  std::vector<Row> ListForClient(soci::session& sql, int64_t client_id, int64_t offset,
                                 int64_t limit) const;
  int64_t CountForClient(soci::session& sql, int64_t client_id) const;

  // Everything, newest first, narrowed by `filter` (the admin's audit page).
  std::vector<Row> Search(soci::session& sql, const Filter& filter, int64_t offset,
                          int64_t limit) const;
  int64_t CountSearch(soci::session& sql, const Filter& filter) const;
  // The actions recorded so far, for the filter's choices.
  std::vector<std::string> Actions(soci::session& sql) const;

  // Re-points the history of a merged client to its survivor.
  void MoveClient(soci::session& sql, int64_t from_client_id, int64_t to_client_id) const;

 private:
  const Clock& clock_;
};

}  // namespace opsmerge::audit
