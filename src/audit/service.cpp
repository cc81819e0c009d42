#include "audit/service.h"

#include <soci/soci.h>

#include "platform/db.h"

namespace opsmerge::audit {

namespace {

constexpr const char* kInsert =
    "INSERT INTO audit_log (at, actor_id, actor_name, action, entity_type, entity_id, "
    "client_id, summary, before_json, after_json) VALUES (:at, :actor_id, :actor_name, "
    ":action, :entity_type, :entity_id, :client_id, :summary, :before_json, :after_json)";

constexpr const char* kListForClient =
    "SELECT id, at, actor_id, actor_name, action, entity_type, entity_id, client_id, summary, "
    "before_json, after_json FROM audit_log WHERE client_id = :client_id "
    "ORDER BY id DESC LIMIT :limit OFFSET :offset";

constexpr const char* kCountForClient =
    "SELECT COUNT(*) FROM audit_log WHERE client_id = :client_id";

constexpr const char* kMoveClient =
    "UPDATE audit_log SET client_id = :to_id WHERE client_id = :from_id";

soci::indicator Ind(bool present) { return present ? soci::i_ok : soci::i_null; }

}  // namespace

void AuditLog::Write(soci::session& sql, const Who& who, const Entry& entry) const {
  std::string at = FormatIsoUtc(clock_.NowUnix());
  long long actor_id = who.user_id.value_or(0);
  long long entity_id = entry.entity_id.value_or(0);
  long long client_id = entry.client_id.value_or(0);
  soci::indicator actor_ind = Ind(who.user_id.has_value());
  soci::indicator entity_ind = Ind(entry.entity_id.has_value());
  soci::indicator client_ind = Ind(entry.client_id.has_value());
  soci::indicator before_ind = Ind(!entry.before_json.empty());
  soci::indicator after_ind = Ind(!entry.after_json.empty());
  sql << kInsert, soci::use(at, "at"), soci::use(actor_id, actor_ind, "actor_id"),
      soci::use(who.name, "actor_name"), soci::use(entry.action, "action"),
      soci::use(entry.entity_type, "entity_type"), soci::use(entity_id, entity_ind, "entity_id"),
      soci::use(client_id, client_ind, "client_id"), soci::use(entry.summary, "summary"),
      soci::use(entry.before_json, before_ind, "before_json"),
      soci::use(entry.after_json, after_ind, "after_json");
}

std::vector<Row> AuditLog::ListForClient(soci::session& sql, int64_t client_id, int64_t offset,
                                         int64_t limit) const {
  std::vector<Row> out;
  long long cid = client_id, off = offset, lim = limit;
  soci::rowset<soci::row> rs = (sql.prepare << kListForClient, soci::use(cid, "client_id"),
                                soci::use(lim, "limit"), soci::use(off, "offset"));
  for (const soci::row& r : rs) {
    Row row;
    row.id = db::RowInt(r, "id");
    row.at = db::RowText(r, "at");
    row.actor_id = db::RowOptInt(r, "actor_id");
    row.actor_name = db::RowText(r, "actor_name");
    row.action = db::RowText(r, "action");
    row.entity_type = db::RowText(r, "entity_type");
    row.entity_id = db::RowOptInt(r, "entity_id");
    row.client_id = db::RowOptInt(r, "client_id");
    row.summary = db::RowText(r, "summary");
    row.before_json = db::RowText(r, "before_json");
    row.after_json = db::RowText(r, "after_json");
    out.push_back(std::move(row));
  }
  return out;
}

int64_t AuditLog::CountForClient(soci::session& sql, int64_t client_id) const {
  long long cid = client_id, n = 0;
  sql << kCountForClient, soci::use(cid, "client_id"), soci::into(n);
  return n;
}

void AuditLog::MoveClient(soci::session& sql, int64_t from_client_id, int64_t to_client_id) const {
  long long from = from_client_id, to = to_client_id;
  sql << kMoveClient, soci::use(to, "to_id"), soci::use(from, "from_id");
}

}  // namespace opsmerge::audit
