#include "audit/service.h"

#include <soci/soci.h>

#include "platform/db.h"
#include "platform/text.h"

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

Row ToRow(const soci::row& r) {
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
  return row;
}

// The WHERE clause of a search and its values, in placeholder order.
struct Where {
  std::string sql;
  std::vector<long long> ints;
  std::vector<std::string> texts;  // bound after the ints
};

// Matched against clients.name_key, which holds the name folded this way.
std::string LikeOf(const std::string& search) {
  return db::LikeContains(text::FoldCase(text::CollapseWhitespace(search)));
}

Where WhereOf(const Filter& f) {
  Where w;
  std::vector<std::string> parts;
  if (f.actor_id) {
    if (*f.actor_id == 0) {
      parts.push_back("a.actor_id IS NULL");
    } else {
      parts.push_back("a.actor_id = :actor");
      w.ints.push_back(*f.actor_id);
    }
  }
  if (f.clients_only) parts.push_back("a.client_id IS NOT NULL");
  if (f.entity_id) {
    parts.push_back("a.entity_id = :entity_id");
    w.ints.push_back(*f.entity_id);
  }
  // Text values are bound after the integers, so their conditions come last.
  if (!f.client_search.empty()) {
    parts.push_back("c.name_key LIKE :client ESCAPE '!'");
    w.texts.push_back(LikeOf(f.client_search));
  }
  if (!f.entity_type.empty()) {
    parts.push_back("a.entity_type = :entity_type");
    w.texts.push_back(f.entity_type);
  }
  if (!f.action.empty()) {
    parts.push_back("a.action = :action");
    w.texts.push_back(f.action);
  }
  if (!f.from_iso.empty()) {
    parts.push_back("a.at >= :from");
    w.texts.push_back(f.from_iso);
  }
  if (!f.to_iso.empty()) {
    parts.push_back("a.at < :to");
    w.texts.push_back(f.to_iso);
  }
  for (size_t i = 0; i < parts.size(); ++i) w.sql += (i ? " AND " : " WHERE ") + parts[i];
  return w;
}

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
    out.push_back(ToRow(r));
  }
  return out;
}

int64_t AuditLog::CountForClient(soci::session& sql, int64_t client_id) const {
  long long cid = client_id, n = 0;
  sql << kCountForClient, soci::use(cid, "client_id"), soci::into(n);
  return n;
}

std::vector<Row> AuditLog::Search(soci::session& sql, const Filter& filter, int64_t offset,
                                  int64_t limit) const {
  Where w = WhereOf(filter);
  std::string query =
      "SELECT a.id, a.at, a.actor_id, a.actor_name, a.action, a.entity_type, a.entity_id, "
      "a.client_id, a.summary, a.before_json, a.after_json, c.name AS client_name "
      "FROM audit_log a LEFT JOIN clients c ON c.id = a.client_id" +
      w.sql + " ORDER BY a.id DESC LIMIT :limit OFFSET :offset";
  long long lim = limit, off = offset;
  soci::row r;
  soci::statement st(sql);
  st.exchange(soci::into(r));
  for (auto& v : w.ints) st.exchange(soci::use(v));
  for (auto& v : w.texts) st.exchange(soci::use(v));
  st.exchange(soci::use(lim));
  st.exchange(soci::use(off));
  st.alloc();
  st.prepare(query);
  st.define_and_bind();
  st.execute();
  std::vector<Row> out;
  while (st.fetch()) {
    Row row = ToRow(r);
    row.client_name = db::RowText(r, "client_name");
    out.push_back(std::move(row));
  }
  return out;
}

int64_t AuditLog::CountSearch(soci::session& sql, const Filter& filter) const {
  Where w = WhereOf(filter);
  std::string query =
      "SELECT COUNT(*) FROM audit_log a LEFT JOIN clients c ON c.id = a.client_id" + w.sql;
  long long n = 0;
  soci::statement st(sql);
  st.exchange(soci::into(n));
  for (auto& v : w.ints) st.exchange(soci::use(v));
  for (auto& v : w.texts) st.exchange(soci::use(v));
  st.alloc();
  st.prepare(query);
  st.define_and_bind();
  st.execute(true);
  return n;
}

std::vector<std::string> AuditLog::Actions(soci::session& sql) const {
  std::vector<std::string> out;
  soci::rowset<std::string> rs =
      (sql.prepare << "SELECT DISTINCT action FROM audit_log ORDER BY action");
  for (const auto& a : rs) out.push_back(a);
  return out;
}

void AuditLog::MoveClient(soci::session& sql, int64_t from_client_id, int64_t to_client_id) const {
  long long from = from_client_id, to = to_client_id;
  sql << kMoveClient, soci::use(to, "to_id"), soci::use(from, "from_id");
}

}  // namespace opsmerge::audit
