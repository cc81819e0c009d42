#include "platform/db.h"

#include <map>
#include <stdexcept>

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "platform/assets.h"
#include "platform/clock.h"

namespace opsmerge::db {

namespace {

void ConfigureSqlite(soci::session& sql) {
  sql << "PRAGMA journal_mode=WAL";
  sql << "PRAGMA synchronous=NORMAL";
  sql << "PRAGMA foreign_keys=ON";
  sql << "PRAGMA busy_timeout=10000";
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

}  // namespace

Database::Database(Dialect dialect, size_t pool_size)
    : dialect_(dialect), pool_size_(pool_size), pool_(new soci::connection_pool(pool_size)) {}

Database::~Database() = default;

std::unique_ptr<Database> Database::OpenSqlite(const std::string& path, size_t pool_size) {
  if (pool_size == 0) pool_size = 1;
  std::unique_ptr<Database> db(new Database(Dialect::kSqlite, pool_size));
  try {
    for (size_t i = 0; i < pool_size; ++i) {
      soci::session& s = db->pool_->at(i);
      s.open(soci::sqlite3, "db=\"" + path + "\" timeout=10");
      ConfigureSqlite(s);
    }
  } catch (const soci::soci_error& e) {
    throw std::runtime_error("cannot open database " + path + ": " + e.what());
  }
  return db;
}

void Database::Write(const std::function<void(soci::session&)>& fn) {
  soci::session sql(*pool_);
  sql << (dialect_ == Dialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
  try {
    fn(sql);
    sql << "COMMIT";
  } catch (...) {
    try {
      sql << "ROLLBACK";
    } catch (const soci::soci_error&) {
      // The connection is already out of its transaction; the original error matters.
    }
    throw;
  }
}

void Database::Read(const std::function<void(soci::session&)>& fn) {
  soci::session sql(*pool_);
  fn(sql);
}

std::vector<std::string> Database::Migrate() {
  const std::string dir =
      std::string("migrations/") + (dialect_ == Dialect::kSqlite ? "sqlite/" : "postgresql/");
  std::vector<std::string> applied;
  Write([&](soci::session& sql) {
    sql << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
           "name TEXT NOT NULL, applied_at TEXT NOT NULL)";
    std::map<int, bool> done;
    soci::rowset<int> rs = (sql.prepare << "SELECT version FROM schema_migrations");
    for (int v : rs) done[v] = true;
    for (std::string_view name : assets::List(dir)) {
      std::string file(name.substr(dir.size()));
      int version = std::stoi(file.substr(0, file.find('_')));
      if (done.count(version)) continue;
      std::string script(*assets::Find(name));
      for (const std::string& stmt : SplitSqlScript(script)) {
        sql << stmt;
      }
      std::string now = FormatIsoUtc(SystemClock().NowUnix());
      sql << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)",
          soci::use(version), soci::use(file), soci::use(now);
      applied.push_back(file);
    }
  });
  return applied;
}

bool IsUniqueViolation(const soci::soci_error& e) {
  std::string m = e.what();
  return m.find("UNIQUE constraint failed") != std::string::npos ||
         m.find("duplicate key value") != std::string::npos;
}

std::optional<int64_t> RowOptInt(const soci::row& row, size_t column) {
  if (row.get_indicator(column) == soci::i_null) return std::nullopt;
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_integer:
      return row.get<int>(column);
    case soci::dt_long_long:
      return row.get<long long>(column);
    case soci::dt_unsigned_long_long:
      return static_cast<int64_t>(row.get<unsigned long long>(column));
    case soci::dt_double:
      return static_cast<int64_t>(row.get<double>(column));
    case soci::dt_string:
      return std::stoll(row.get<std::string>(column));
    default:
      throw std::runtime_error("column " + std::to_string(column) + " is not an integer");
  }
}

int64_t RowInt(const soci::row& row, size_t column) { return RowOptInt(row, column).value_or(0); }

std::string RowText(const soci::row& row, size_t column) {
  if (row.get_indicator(column) == soci::i_null) return "";
  if (row.get_properties(column).get_data_type() != soci::dt_string) {
    return std::to_string(RowInt(row, column));
  }
  return row.get<std::string>(column);
}

bool RowBool(const soci::row& row, size_t column) { return RowInt(row, column) != 0; }

std::vector<std::string> SplitSqlScript(const std::string& script) {
  std::vector<std::string> out;
  std::string current;
  size_t pos = 0;
  while (pos <= script.size()) {
    size_t nl = script.find('\n', pos);
    std::string line = script.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? script.size() + 1 : nl + 1;
    std::string t = Trim(line);
    if (t.rfind("--", 0) == 0) continue;
    current += line + "\n";
    if (!t.empty() && t.back() == ';') {
      std::string stmt = Trim(current);
      stmt.pop_back();
      if (!Trim(stmt).empty()) out.push_back(stmt);
      current.clear();
    }
  }
  if (!Trim(current).empty()) out.push_back(Trim(current));
  return out;
}

}  // namespace opsmerge::db
