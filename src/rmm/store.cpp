#include "rmm/store.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "platform/db.h"
#include "platform/search_terms.h"
#include "platform/text.h"

namespace opsmerge::rmm::store {

namespace {

soci::indicator Ind(bool present) { return present ? soci::i_ok : soci::i_null; }

constexpr const char* kTokenColumns =
    "SELECT id, client_id, site_id, prefix, created_by, created_at, expires_at, max_uses, uses, "
    "revoked_at FROM enrollment_tokens ";

EnrollmentToken ToToken(const soci::row& r) {
  EnrollmentToken t;
  t.id = db::RowInt(r, "id");
  t.client_id = db::RowInt(r, "client_id");
  t.site_id = db::RowOptInt(r, "site_id");
  t.prefix = db::RowText(r, "prefix");
  t.created_by = db::RowText(r, "created_by");
  t.created_at = db::RowText(r, "created_at");
  t.expires_at = db::RowInt(r, "expires_at");
  t.max_uses = db::RowOptInt(r, "max_uses");
  t.uses = db::RowInt(r, "uses");
  t.revoked_at = db::RowText(r, "revoked_at");
  return t;
}

// A list reads what its rows show; the whole inventory (software lists included)
// only the endpoint's own page reads.
#define OPSMERGE_ENDPOINT_COLUMNS                                                                 \
  "SELECT e.id, e.client_id, c.name AS client_name, e.site_id, s.name AS site_name, e.hostname, " \
  "e.os_name, e.os_version, e.serial, e.primary_ip, e.signed_in, "                                \
  "e.billable, e.retired, e.notes, e.last_seen_at, e.cpu_percent, e.memory_percent, "             \
  "e.disk_percent, e.inventory_at, e.created_at"
#define OPSMERGE_ENDPOINT_FROM \
  " FROM endpoints e JOIN clients c ON c.id = e.client_id LEFT JOIN sites s ON s.id = e.site_id "
constexpr const char* kEndpointColumns = OPSMERGE_ENDPOINT_COLUMNS OPSMERGE_ENDPOINT_FROM;
constexpr const char* kEndpointWithInventory =
    OPSMERGE_ENDPOINT_COLUMNS ", e.inventory_json" OPSMERGE_ENDPOINT_FROM;
#undef OPSMERGE_ENDPOINT_COLUMNS
#undef OPSMERGE_ENDPOINT_FROM

Endpoint ToEndpoint(const soci::row& r, bool with_inventory = false) {
  Endpoint e;
  e.id = db::RowInt(r, "id");
  e.client_id = db::RowInt(r, "client_id");
  e.client_name = db::RowText(r, "client_name");
  e.site_id = db::RowOptInt(r, "site_id");
  e.site_name = db::RowText(r, "site_name");
  e.hostname = db::RowText(r, "hostname");
  e.os_name = db::RowText(r, "os_name");
  e.os_version = db::RowText(r, "os_version");
  e.billable = db::RowBool(r, "billable");
  e.retired = db::RowBool(r, "retired");
  e.notes = db::RowText(r, "notes");
  e.last_seen_at = db::RowOptInt(r, "last_seen_at");
  if (!db::RowIsNull(r, "cpu_percent")) {
    e.metrics = Metrics{db::RowDouble(r, "cpu_percent"), db::RowDouble(r, "memory_percent"),
                        db::RowDouble(r, "disk_percent")};
  }
  e.serial = db::RowText(r, "serial");
  e.primary_ip = db::RowText(r, "primary_ip");
  e.signed_in = db::RowText(r, "signed_in");
  if (with_inventory) e.inventory_json = db::RowText(r, "inventory_json");
  e.inventory_at = db::RowOptInt(r, "inventory_at");
  e.created_at = db::RowText(r, "created_at");
  return e;
}

// WHERE fragments, all constant; the values are bound in the same order.
std::string Where(const EndpointFilter& f) {
  std::string w = " WHERE 1 = 1";
  if (f.client_id) w += " AND e.client_id = :client_id";
  if (f.pool_only) {
    w += " AND e.site_id IS NULL";
  } else if (f.site_id) {
    w += " AND e.site_id = :site_id";
  }
  if (f.status == EndpointFilter::Status::kOnline) w += " AND e.last_seen_at >= :since";
  if (f.status == EndpointFilter::Status::kOffline) {
    // A retired endpoint is not offline: it is gone (R4).
    w += " AND e.retired = 0 AND (e.last_seen_at IS NULL OR e.last_seen_at < :since)";
  }
  if (!f.search.empty()) w += " AND lower(e.hostname) LIKE :search ESCAPE '!'";
  if (!f.client_search.empty()) w += " AND c.name_key LIKE :client_search ESCAPE '!'";
  return w;
}

// A whitelisted ORDER BY: the sort name never reaches the SQL text itself.
std::string OrderBy(const std::string& sort) {
  bool desc = !sort.empty() && sort[0] == '-';
  std::string key = desc ? sort.substr(1) : sort;
  std::string dir = desc ? " DESC" : "";
  if (key == "client") return " ORDER BY c.name_key" + dir + ", lower(e.hostname), e.id";
  if (key == "os") return " ORDER BY lower(e.os_name)" + dir + ", lower(e.hostname), e.id";
  if (key == "last_seen") {
    // Never seen sorts last either way.
    return " ORDER BY e.last_seen_at IS NULL, e.last_seen_at" + dir + ", e.id";
  }
  return " ORDER BY lower(e.hostname)" + dir + ", e.id" + dir;
}

// Matched against lower(e.hostname): SQL's lower() folds ASCII letters only.
std::string LikeOf(const std::string& text) {
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return db::LikeContains(lower);
}

struct Binds {
  long long client_id = 0, site_id = 0, since = 0;
  std::string search, client_search;
};

void Bind(soci::statement& st, const EndpointFilter& f, Binds& b) {
  b.client_id = f.client_id.value_or(0);
  b.site_id = f.site_id.value_or(0);
  b.since = f.online_since;
  b.search = LikeOf(f.search);
  b.client_search = LikeOf(text::FoldCase(text::CollapseWhitespace(f.client_search)));
  if (f.client_id) st.exchange(soci::use(b.client_id));
  if (!f.pool_only && f.site_id) st.exchange(soci::use(b.site_id));
  if (f.status != EndpointFilter::Status::kAny) st.exchange(soci::use(b.since));
  if (!f.search.empty()) st.exchange(soci::use(b.search));
  if (!f.client_search.empty()) st.exchange(soci::use(b.client_search));
}

}  // namespace

int64_t InsertToken(soci::session& sql, int64_t client_id, std::optional<int64_t> site_id,
                    const std::string& hash, const std::string& prefix,
                    const std::string& created_by, const std::string& now, int64_t expires_at,
                    std::optional<int64_t> max_uses) {
  long long cid = client_id, sid = site_id.value_or(0), exp = expires_at,
            max = max_uses.value_or(0), id = 0;
  soci::indicator si = Ind(site_id.has_value()), mi = Ind(max_uses.has_value());
  sql << "INSERT INTO enrollment_tokens (client_id, site_id, token_hash, prefix, created_by, "
         "created_at, expires_at, max_uses) VALUES (:c, :s, :h, :p, :b, :n, :e, :m) RETURNING id",
      soci::use(cid), soci::use(sid, si), soci::use(hash), soci::use(prefix), soci::use(created_by),
      soci::use(now), soci::use(exp), soci::use(max, mi), soci::into(id);
  return id;
}

std::vector<EnrollmentToken> ListTokens(soci::session& sql, int64_t client_id) {
  long long cid = client_id;
  std::vector<EnrollmentToken> out;
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kTokenColumns) + "WHERE client_id = :c ORDER BY id DESC",
       soci::use(cid));
  for (const auto& r : rs) out.push_back(ToToken(r));
  return out;
}

std::optional<EnrollmentToken> FindToken(soci::session& sql, int64_t id) {
  long long tid = id;
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kTokenColumns) + "WHERE id = :id", soci::use(tid));
  for (const auto& r : rs) return ToToken(r);
  return std::nullopt;
}

std::optional<EnrollmentToken> FindTokenByHash(soci::session& sql, const std::string& hash) {
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kTokenColumns) + "WHERE token_hash = :h", soci::use(hash));
  for (const auto& r : rs) return ToToken(r);
  return std::nullopt;
}

void RevokeToken(soci::session& sql, int64_t id, const std::string& now) {
  long long tid = id;
  sql << "UPDATE enrollment_tokens SET revoked_at = :n WHERE id = :id AND revoked_at IS NULL",
      soci::use(now), soci::use(tid);
}

bool ConsumeToken(soci::session& sql, int64_t id, int64_t now) {
  long long tid = id, at = now;
  soci::statement st =
      (sql.prepare << "UPDATE enrollment_tokens SET uses = uses + 1 WHERE id = :id AND "
                      "revoked_at IS NULL AND expires_at > :now AND "
                      "(max_uses IS NULL OR uses < max_uses)",
       soci::use(tid), soci::use(at));
  st.execute(true);
  return st.get_affected_rows() == 1;
}

int64_t InsertEndpoint(soci::session& sql, int64_t client_id, std::optional<int64_t> site_id,
                       const std::string& hostname, const std::string& secret_hash,
                       int64_t token_id, const std::string& now) {
  long long cid = client_id, sid = site_id.value_or(0), tid = token_id, id = 0;
  soci::indicator si = Ind(site_id.has_value());
  sql << "INSERT INTO endpoints (client_id, site_id, hostname, agent_secret_hash, "
         "enrollment_token_id, created_at, updated_at) VALUES (:c, :s, :h, :x, :t, :n, :u) "
         "RETURNING id",
      soci::use(cid), soci::use(sid, si), soci::use(hostname), soci::use(secret_hash),
      soci::use(tid), soci::use(now), soci::use(now), soci::into(id);
  return id;
}

std::optional<AgentRow> FindAgent(soci::session& sql, int64_t endpoint_id) {
  long long id = endpoint_id;
  std::string hash, inv;
  soci::indicator hi = soci::i_null;
  sql << "SELECT agent_secret_hash, inventory_hash FROM endpoints WHERE id = :id AND retired = 0",
      soci::use(id), soci::into(hash, hi), soci::into(inv);
  if (!sql.got_data() || hi != soci::i_ok) return std::nullopt;
  return AgentRow{hash, inv};
}

void ClearAgentSecret(soci::session& sql, int64_t endpoint_id, const std::string& now) {
  long long id = endpoint_id;
  sql << "UPDATE endpoints SET agent_secret_hash = NULL, updated_at = :u WHERE id = :id",
      soci::use(now), soci::use(id);
}

void DeleteEndpoint(soci::session& sql, int64_t endpoint_id) {
  long long id = endpoint_id;
  sql << "DELETE FROM endpoints WHERE id = :id", soci::use(id);
}

void RecordRevocation(soci::session& sql, int64_t endpoint_id, int64_t now) {
  long long id = endpoint_id, at = now;
  sql << "INSERT INTO agent_revocations (endpoint_id, at) VALUES (:e, :at)", soci::use(id),
      soci::use(at);
}

std::vector<MachineMatch> FindByMachine(soci::session& sql, const std::string& machine_id) {
  std::vector<MachineMatch> out;
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT id, client_id, hostname, serial FROM endpoints WHERE machine_id = :m "
                      "ORDER BY id DESC LIMIT 50",
       soci::use(machine_id));
  for (const auto& r : rs) {
    out.push_back(MachineMatch{db::RowInt(r, "id"), db::RowInt(r, "client_id"),
                               db::RowText(r, "hostname"), db::RowText(r, "serial")});
  }
  return out;
}

void TakeOverEndpoint(soci::session& sql, int64_t endpoint_id, std::optional<int64_t> site_id,
                      const std::string& secret_hash, int64_t token_id, const std::string& now) {
  long long id = endpoint_id, sid = site_id.value_or(0), tid = token_id;
  soci::indicator si = Ind(site_id.has_value());
  sql << "UPDATE endpoints SET agent_secret_hash = :x, enrollment_token_id = :t, retired = 0, "
         "replaced_by = NULL, site_id = COALESCE(:s, site_id), updated_at = :u WHERE id = :id",
      soci::use(secret_hash), soci::use(tid), soci::use(sid, si), soci::use(now), soci::use(id);
}

void RetireReplaced(soci::session& sql, int64_t endpoint_id, int64_t replaced_by,
                    const std::string& now) {
  long long id = endpoint_id, by = replaced_by;
  sql << "UPDATE endpoints SET retired = 1, agent_secret_hash = NULL, replaced_by = :b, "
         "updated_at = :u WHERE id = :id",
      soci::use(by), soci::use(now), soci::use(id);
}

std::vector<Revocation> RevocationsAfter(soci::session& sql, int64_t after_id) {
  long long after = after_id;
  std::vector<Revocation> out;
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT id, endpoint_id FROM agent_revocations WHERE id > :a ORDER BY id",
       soci::use(after));
  for (const auto& r : rs) out.push_back(Revocation{db::RowInt(r, 0), db::RowInt(r, 1)});
  return out;
}

int64_t LatestRevocationId(soci::session& sql) {
  long long id = 0;
  soci::indicator ind = soci::i_null;
  sql << "SELECT MAX(id) FROM agent_revocations", soci::into(id, ind);
  return ind == soci::i_ok ? id : 0;
}

int64_t PruneRevocations(soci::session& sql, int64_t before) {
  long long b = before;
  soci::statement st = (sql.prepare << "DELETE FROM agent_revocations WHERE at < :b", soci::use(b));
  st.execute(true);
  return st.get_affected_rows();
}

void RecordInventory(soci::session& sql, int64_t endpoint_id, int64_t now, const Inventory& inv,
                     const std::string& inventory_hash) {
  long long id = endpoint_id, at = now;
  soci::indicator mi = Ind(!inv.machine_id.empty()), si = Ind(!inv.serial.empty());
  sql << "UPDATE endpoints SET hostname = :h, os_name = :o, os_version = :v, machine_id = :m, "
         "serial = :s, primary_ip = :ip, signed_in = :u, inventory_json = :j, inventory_hash = :x, "
         "inventory_at = :at WHERE id = :id",
      soci::use(inv.hostname), soci::use(inv.os_name), soci::use(inv.os_version),
      soci::use(inv.machine_id, mi), soci::use(inv.serial, si), soci::use(inv.primary_ip),
      soci::use(inv.signed_in), soci::use(inv.json), soci::use(inventory_hash), soci::use(at),
      soci::use(id);
  search::SetTerms(sql, search::Kind::kEndpoint, endpoint_id,
                   search::TermsOf(EndpointSearchTexts(inv.hostname, inv.addresses, inv.serial)));
}

void ReindexEndpoints(soci::session& sql) {
  struct Row {
    long long id;
    std::string hostname, serial, inventory;
  };
  std::vector<Row> rows;
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT id, hostname, serial, inventory_json FROM endpoints");
  for (const auto& r : rs) {
    rows.push_back({db::RowInt(r, "id"), db::RowText(r, "hostname"), db::RowText(r, "serial"),
                    db::RowText(r, "inventory_json")});
  }
  for (const auto& row : rows) {
    Identity identity = IdentityOf(nlohmann::json::parse(row.inventory, nullptr, false));
    sql << "UPDATE endpoints SET primary_ip = :ip, signed_in = :u WHERE id = :id",
        soci::use(identity.primary_ip), soci::use(identity.signed_in), soci::use(row.id);
    search::SetTerms(
        sql, search::Kind::kEndpoint, row.id,
        search::TermsOf(EndpointSearchTexts(row.hostname, identity.addresses, row.serial)));
  }
}

FleetCounts CountFleet(soci::session& sql, int64_t online_since) {
  long long since = online_since, total = 0, online = 0;
  sql << "SELECT COUNT(*) FROM endpoints WHERE retired = 0", soci::into(total);
  sql << "SELECT COUNT(*) FROM endpoints WHERE retired = 0 AND last_seen_at >= :s",
      soci::use(since), soci::into(online);
  return {total, online};
}

std::vector<int64_t> LatestOffline(soci::session& sql, int64_t online_since, int64_t limit) {
  std::vector<int64_t> ids;
  long long since = online_since, lim = limit, id = 0;
  soci::statement lost =
      (sql.prepare << "SELECT id FROM endpoints WHERE retired = 0 AND last_seen_at < :s "
                      "ORDER BY last_seen_at DESC, id DESC LIMIT :l",
       soci::use(since), soci::use(lim), soci::into(id));
  lost.execute();
  while (lost.fetch()) ids.push_back(id);
  lim = limit - static_cast<long long>(ids.size());
  if (lim <= 0) return ids;
  soci::statement never =
      (sql.prepare << "SELECT id FROM endpoints WHERE retired = 0 AND last_seen_at IS NULL "
                      "ORDER BY id DESC LIMIT :l",
       soci::use(lim), soci::into(id));
  never.execute();
  while (never.fetch()) ids.push_back(id);
  return ids;
}

std::vector<Endpoint> EndpointsByIds(soci::session& sql, const std::vector<int64_t>& ids) {
  std::vector<Endpoint> out;
  for (int64_t id : ids) {
    long long eid = id;
    soci::rowset<soci::row> rs =
        (sql.prepare << std::string(kEndpointColumns) + "WHERE e.id = :id", soci::use(eid));
    for (const auto& r : rs) out.push_back(ToEndpoint(r));
  }
  return out;
}

namespace {

// PostgreSQL pays a round trip per statement: one statement per slice of the batch
// (at most 400 heartbeats, 2,400 bound values) updates the endpoints and records
// their minute samples together.
void RecordHeartbeatsPostgres(soci::session& sql, const std::vector<Heartbeat>& beats) {
  constexpr size_t kSlice = 400;
  for (size_t from = 0; from < beats.size(); from += kSlice) {
    size_t to = std::min(beats.size(), from + kSlice);
    std::string rows;
    for (size_t i = from; i < to; ++i) {
      const std::string n = std::to_string(i - from);
      rows += (i > from ? ", (" : "(");
      for (const char* column : {":i", ":a", ":n"})
        rows.append(column).append(n).append("::bigint, ");
      rows.append(":c").append(n).append("::double precision, ");
      rows.append(":m").append(n).append("::double precision, ");
      rows.append(":d").append(n).append("::double precision)");
    }
    std::string query =
        "WITH v(id, at, minute, c, m, d) AS (VALUES " + rows +
        "), u AS (UPDATE endpoints e SET last_seen_at = v.at, cpu_percent = v.c, "
        "memory_percent = v.m, disk_percent = v.d FROM v WHERE e.id = v.id RETURNING e.id) "
        "INSERT INTO endpoint_metrics (endpoint_id, at, cpu_percent, memory_percent, "
        "disk_percent) SELECT v.id, v.minute, v.c, v.m, v.d FROM v JOIN endpoints e ON "
        "e.id = v.id ON CONFLICT (endpoint_id, at) DO NOTHING";
    struct Values {
      long long id, at, minute;
      double c, m, d;
    };
    std::vector<Values> values;
    values.reserve(to - from);
    for (size_t i = from; i < to; ++i) {
      const Heartbeat& b = beats[i];
      values.push_back({b.endpoint_id, b.at, b.at - b.at % 60, b.metrics.cpu_percent,
                        b.metrics.memory_percent, b.metrics.disk_percent});
    }
    soci::statement st(sql);
    for (auto& v : values) {
      st.exchange(soci::use(v.id));
      st.exchange(soci::use(v.at));
      st.exchange(soci::use(v.minute));
      st.exchange(soci::use(v.c));
      st.exchange(soci::use(v.m));
      st.exchange(soci::use(v.d));
    }
    st.alloc();
    st.prepare(query);
    st.define_and_bind();
    st.execute(true);
  }
}

}  // namespace

void RecordHeartbeats(soci::session& sql, const std::vector<Heartbeat>& beats) {
  if (db::IsPostgres(sql)) return RecordHeartbeatsPostgres(sql, beats);
  // SQLite is in-process: one prepared statement of each kind, run per heartbeat.
  long long id = 0, at = 0, minute = 0;
  double cpu = 0, mem = 0, disk = 0;
  soci::statement update =
      (sql.prepare << "UPDATE endpoints SET last_seen_at = :at, cpu_percent = :c, "
                      "memory_percent = :m, disk_percent = :d WHERE id = :id",
       soci::use(at), soci::use(cpu), soci::use(mem), soci::use(disk), soci::use(id));
  // An endpoint deleted while its heartbeat queued gets no sample (and no error).
  soci::statement sample =
      (sql.prepare << "INSERT INTO endpoint_metrics (endpoint_id, at, cpu_percent, "
                      "memory_percent, disk_percent) SELECT e.id, :at, :c, :m, :d "
                      "FROM endpoints e WHERE e.id = :id "
                      "ON CONFLICT (endpoint_id, at) DO NOTHING",
       soci::use(minute), soci::use(cpu), soci::use(mem), soci::use(disk), soci::use(id));
  for (const Heartbeat& b : beats) {
    id = b.endpoint_id;
    at = b.at;
    minute = b.at - b.at % 60;
    cpu = b.metrics.cpu_percent;
    mem = b.metrics.memory_percent;
    disk = b.metrics.disk_percent;
    update.execute(true);
    sample.execute(true);
  }
}

int64_t PruneMetrics(soci::session& sql, int64_t before) {
  long long b = before;
  soci::statement st = (sql.prepare << "DELETE FROM endpoint_metrics WHERE at < :b", soci::use(b));
  st.execute(true);
  return st.get_affected_rows();
}

std::vector<Endpoint> ListEndpoints(soci::session& sql, const EndpointFilter& f, int64_t offset,
                                    int64_t limit) {
  std::vector<Endpoint> out;
  long long lim = limit, off = offset;
  Binds b;
  soci::row r;
  soci::statement st(sql);
  st.exchange(soci::into(r));
  Bind(st, f, b);
  st.exchange(soci::use(lim));
  st.exchange(soci::use(off));
  st.alloc();
  st.prepare(std::string(kEndpointColumns) + Where(f) + OrderBy(f.sort) +
             " LIMIT :limit OFFSET :offset");
  st.define_and_bind();
  st.execute();
  while (st.fetch()) out.push_back(ToEndpoint(r));
  return out;
}

int64_t CountEndpoints(soci::session& sql, const EndpointFilter& f) {
  long long n = 0;
  Binds b;
  soci::statement st(sql);
  st.exchange(soci::into(n));
  Bind(st, f, b);
  st.alloc();
  st.prepare("SELECT COUNT(*) FROM endpoints e JOIN clients c ON c.id = e.client_id" + Where(f));
  st.define_and_bind();
  st.execute(true);
  return n;
}

std::optional<Endpoint> FindEndpoint(soci::session& sql, int64_t id) {
  long long eid = id;
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kEndpointWithInventory) + "WHERE e.id = :id", soci::use(eid));
  for (const auto& r : rs) return ToEndpoint(r, /*with_inventory=*/true);
  return std::nullopt;
}

void UpdateEndpoint(soci::session& sql, const Endpoint& e, const std::string& now) {
  long long id = e.id;
  int billable = e.billable, retired = e.retired;
  sql << "UPDATE endpoints SET billable = :b, retired = :r, notes = :n, updated_at = :u "
         "WHERE id = :id",
      soci::use(billable), soci::use(retired), soci::use(e.notes), soci::use(now), soci::use(id);
}

void MoveEndpoint(soci::session& sql, int64_t id, std::optional<int64_t> site_id,
                  const std::string& now) {
  long long eid = id, sid = site_id.value_or(0);
  soci::indicator si = Ind(site_id.has_value());
  sql << "UPDATE endpoints SET site_id = :s, updated_at = :u WHERE id = :id", soci::use(sid, si),
      soci::use(now), soci::use(eid);
}

int64_t CountBillable(soci::session& sql, int64_t client_id) {
  long long cid = client_id, n = 0;
  sql << "SELECT COUNT(*) FROM endpoints WHERE client_id = :c AND billable = 1 AND retired = 0",
      soci::use(cid), soci::into(n);
  return n;
}

std::map<int64_t, int64_t> CountEndpointsByClient(soci::session& sql,
                                                  const std::vector<int64_t>& client_ids) {
  static const std::string kQuery =
      "SELECT client_id, COUNT(*) FROM endpoints WHERE client_id IN ($ids) GROUP BY client_id";
  return db::CountIn(sql, kQuery, client_ids);
}

std::map<int64_t, int64_t> CountEndpointsBySite(soci::session& sql,
                                                const std::vector<int64_t>& site_ids) {
  static const std::string kQuery =
      "SELECT site_id, COUNT(*) FROM endpoints WHERE site_id IN ($ids) GROUP BY site_id";
  return db::CountIn(sql, kQuery, site_ids);
}

std::map<int64_t, int64_t> CountTokensByClient(soci::session& sql,
                                               const std::vector<int64_t>& client_ids) {
  static const std::string kQuery =
      "SELECT client_id, COUNT(*) FROM enrollment_tokens WHERE client_id IN ($ids) "
      "GROUP BY client_id";
  return db::CountIn(sql, kQuery, client_ids);
}

void MoveEndpointsToClient(soci::session& sql, int64_t from_client, int64_t to_client) {
  long long from = from_client, to = to_client;
  sql << "UPDATE endpoints SET client_id = :t WHERE client_id = :f", soci::use(to), soci::use(from);
}

void MoveTokensToClient(soci::session& sql, int64_t from_client, int64_t to_client) {
  long long from = from_client, to = to_client;
  sql << "UPDATE enrollment_tokens SET client_id = :t WHERE client_id = :f", soci::use(to),
      soci::use(from);
}

std::vector<MetricPoint> RecentMetrics(soci::session& sql, int64_t endpoint_id, int64_t limit) {
  long long id = endpoint_id, lim = limit;
  std::vector<MetricPoint> out;
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT at, cpu_percent, memory_percent, disk_percent FROM "
                      "endpoint_metrics WHERE endpoint_id = :id ORDER BY at DESC LIMIT :l",
       soci::use(id), soci::use(lim));
  for (const auto& r : rs) {
    out.push_back(MetricPoint{db::RowInt(r, 0),
                              {db::RowDouble(r, 1), db::RowDouble(r, 2), db::RowDouble(r, 3)}});
  }
  return out;
}

}  // namespace opsmerge::rmm::store
