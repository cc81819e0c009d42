#include "platform/db.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

#include <Poco/URI.h>
#include <soci/postgresql/soci-postgresql.h>
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
  sql << "PRAGMA temp_store=MEMORY";
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// libpq key=value quoting: single quotes and backslashes escaped.
std::string ConnValue(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string PostgresConnInfo(const std::string& url) {
  // SOCI's PostgreSQL backend takes libpq "key=value" text, not URLs.
  Poco::URI uri(url);
  std::string info = "host=" + ConnValue(uri.getHost());
  if (uri.getPort() != 0) info += " port=" + std::to_string(uri.getPort());
  std::string db = uri.getPath();
  if (!db.empty() && db[0] == '/') db = db.substr(1);
  if (!db.empty()) info += " dbname=" + ConnValue(db);
  const std::string& user_info = uri.getUserInfo();
  if (!user_info.empty()) {
    size_t colon = user_info.find(':');
    std::string user, password;
    Poco::URI::decode(user_info.substr(0, colon), user);
    info += " user=" + ConnValue(user);
    if (colon != std::string::npos) {
      Poco::URI::decode(user_info.substr(colon + 1), password);
      info += " password=" + ConnValue(password);
    }
  }
  for (const auto& [k, v] : uri.getQueryParameters()) info += " " + k + "=" + ConnValue(v);
  return info;
}

// Commits append to the WAL; a checkpoint copies it back into the database file
// (with an fsync) so that it can start over. SQLite's own checkpoint runs in the
// commit that crosses 1,000 pages, which then takes several times as long as the
// others; here that commit only wakes this thread. Should the thread fall far
// behind (readers holding old snapshots), a commit checkpoints as SQLite would.
struct Database::Checkpointer {
  // SOCI's header declares SQLite's API in this namespace.
  using sqlite3 = sqlite_api::sqlite3;
  static constexpr int kPages = 1000;
  static constexpr int kInlinePages = 16000;

  explicit Checkpointer(const std::string& path) {
    if (sqlite_api::sqlite3_open_v2(path.c_str(), &conn, SQLITE_OPEN_READWRITE, nullptr) !=
        SQLITE_OK) {
      std::string why = conn ? sqlite_api::sqlite3_errmsg(conn) : "out of memory";
      sqlite_api::sqlite3_close(conn);
      throw std::runtime_error("cannot open database " + path + ": " + why);
    }
    sqlite_api::sqlite3_busy_timeout(conn, 10000);
    // A connection learns that the database is in WAL mode (and opens the WAL) at
    // its first read; until then a checkpoint on it does nothing.
    sqlite_api::sqlite3_exec(conn, "SELECT COUNT(*) FROM sqlite_master", nullptr, nullptr, nullptr);
    thread = std::thread([this] { Run(); });
  }
  ~Checkpointer() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_one();
    thread.join();
    sqlite_api::sqlite3_close(conn);
  }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Installed on each connection of the pool: runs after each commit.
  static int Hook(void* self, sqlite3* db, const char* name, int pages) {
    if (pages >= kInlinePages) {
      sqlite_api::sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    } else if (pages >= kPages) {
      auto* c = static_cast<Checkpointer*>(self);
      {
        std::lock_guard<std::mutex> lock(c->mu);
        c->due = true;
      }
      c->cv.notify_one();
    }
    return SQLITE_OK;
  }

  void Run() {
    std::unique_lock<std::mutex> lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return due || stop; });
      if (stop) return;
      due = false;
      running = true;
      lock.unlock();
      sqlite_api::sqlite3_wal_checkpoint_v2(conn, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                            nullptr);
      lock.lock();
      running = false;
      idle.notify_all();
    }
  }

  bool WaitIdle(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mu);
    return idle.wait_for(lock, limit, [&] { return !due && !running; });
  }

  sqlite3* conn = nullptr;
  std::mutex mu;
  std::condition_variable cv;
  std::condition_variable idle;
  bool due = false;
  bool running = false;
  bool stop = false;
  std::thread thread;
};

Database::Database(Dialect dialect, size_t pool_size)
    : dialect_(dialect), pool_(new soci::connection_pool(pool_size)) {}

Database::~Database() = default;

std::unique_ptr<Database> Database::OpenSqlite(const std::string& path, size_t pool_size) {
  if (pool_size == 0) pool_size = 1;
  std::unique_ptr<Database> db(new Database(Dialect::kSqlite, pool_size));
  try {
    for (size_t i = 0; i < pool_size; ++i) {
      soci::session& s = db->pool_->at(i);
      s.open(soci::sqlite3, "db=\"" + path + "\" timeout=10");
      ConfigureSqlite(s);
      if (i == 0) db->checkpointer_ = std::make_unique<Checkpointer>(path);
      sqlite_api::sqlite3_wal_hook(
          static_cast<soci::sqlite3_session_backend*>(s.get_backend())->conn_, &Checkpointer::Hook,
          db->checkpointer_.get());
    }
  } catch (const soci::soci_error& e) {
    throw std::runtime_error("cannot open database " + path + ": " + e.what());
  }
  return db;
}

std::unique_ptr<Database> Database::OpenPostgres(const std::string& url, size_t pool_size) {
  if (pool_size == 0) pool_size = 1;
  std::unique_ptr<Database> db(new Database(Dialect::kPostgresql, pool_size));
  // Each connection costs a round trip or several (and TLS, in production): open
  // them eight at a time instead of one after another, so a node with a pool of
  // thirty starts in a fraction of the time. The first failure is reported.
  std::string first_error;
  {
    std::mutex m;
    std::atomic<size_t> next{0};
    std::vector<std::thread> openers;
    for (size_t t = 0; t < std::min<size_t>(8, pool_size); ++t) {
      openers.emplace_back([&] {
        for (size_t i; (i = next++) < pool_size;) {
          try {
            soci::session& s = db->pool_->at(i);
            s.open(soci::postgresql, PostgresConnInfo(url));
            s << "SET TIME ZONE 'UTC'";
          } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lock(m);
            if (first_error.empty()) first_error = e.what();
          }
        }
      });
    }
    for (auto& t : openers) t.join();
  }
  if (!first_error.empty()) {
    // libpq's message can echo the URL; never print the password.
    std::string why = first_error;
    size_t at = url.find('@'), colon = url.find(':', url.find("//") + 2);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      std::string password = url.substr(colon + 1, at - colon - 1);
      for (size_t p; !password.empty() && (p = why.find(password)) != std::string::npos;) {
        why.replace(p, password.size(), "***");
      }
    }
    throw std::runtime_error("cannot connect to PostgreSQL: " + why);
  }
  return db;
}

std::unique_ptr<Database> Database::Open(const std::string& url_or_path, size_t pool_size) {
  if (url_or_path.rfind("postgresql://", 0) == 0 || url_or_path.rfind("postgres://", 0) == 0) {
    return OpenPostgres(url_or_path, pool_size);
  }
  return OpenSqlite(url_or_path, pool_size);
}

namespace {

// The transaction this thread is in, per database (a thread is in at most one at a
// time for a given database).
struct Current {
  const Database* db = nullptr;
  Tx* tx = nullptr;
};
thread_local Current g_current;

}  // namespace

void Tx::AfterCommit(std::function<void()> fn) { after_commit_.push_back(std::move(fn)); }

void AfterCommit(soci::session& sql, std::function<void()> fn) {
  if (g_current.tx != nullptr && &g_current.tx->sql() == &sql) {
    g_current.tx->AfterCommit(std::move(fn));
  } else {
    fn();
  }
}

void Database::Write(const std::function<void(Tx&)>& fn) {
  if (g_current.db == this) {
    Tx& tx = *g_current.tx;
    std::string name = "om_sp" + std::to_string(++tx.savepoints_);
    tx.sql() << "SAVEPOINT " + name;
    const size_t hooks = tx.after_commit_.size();
    try {
      fn(tx);
    } catch (...) {
      // What the rolled-back part meant to do after the commit is undone with it.
      tx.after_commit_.erase(tx.after_commit_.begin() + static_cast<std::ptrdiff_t>(hooks),
                             tx.after_commit_.end());
      try {
        tx.sql() << "ROLLBACK TO SAVEPOINT " + name;
        tx.sql() << "RELEASE SAVEPOINT " + name;
      } catch (const soci::soci_error&) {
        // The outer transaction is gone; the original error matters.
      }
      throw;
    }
    tx.sql() << "RELEASE SAVEPOINT " + name;
    return;
  }
  std::unique_lock<std::mutex> writer(sqlite_writer_, std::defer_lock);
  if (dialect_ == Dialect::kSqlite) writer.lock();
  soci::session sql(*pool_);
  Tx tx(sql, dialect_);
  sql << (dialect_ == Dialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
  g_current = Current{this, &tx};
  try {
    fn(tx);
    sql << "COMMIT";
    g_current = Current{};
  } catch (...) {
    g_current = Current{};
    try {
      sql << "ROLLBACK";
    } catch (const soci::soci_error&) {
      // The connection is already out of its transaction; the original error matters.
    }
    throw;
  }
  if (writer.owns_lock()) writer.unlock();  // hooks run outside SQLite's writer lock
  for (auto& hook : tx.after_commit_) hook();
}

void Database::Write(const std::function<void(soci::session&)>& fn) {
  Write(std::function<void(Tx&)>([&](Tx& tx) { fn(tx.sql()); }));
}

void Database::Read(const std::function<void(soci::session&)>& fn) {
  if (g_current.db == this) return fn(g_current.tx->sql());
  soci::session sql(*pool_);
  fn(sql);
}

std::vector<MigrationFile> MigrationFiles(Dialect dialect) {
  const std::string dir =
      std::string("migrations/") + (dialect == Dialect::kSqlite ? "sqlite/" : "postgresql/");
  std::vector<MigrationFile> out;
  for (std::string_view path : assets::List(dir)) {
    MigrationFile m;
    m.name = std::string(path.substr(dir.size()));
    size_t digits = m.name.find_first_not_of("0123456789");
    if (digits == 0 || digits == std::string::npos || m.name[digits] != '_') {
      throw std::runtime_error("migration " + m.name + " is not named NNNN_what.sql");
    }
    m.number = std::stoi(m.name.substr(0, digits));
    m.script = *assets::Find(path);
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(),
            [](const MigrationFile& a, const MigrationFile& b) { return a.number < b.number; });
  return out;
}

std::vector<std::string> Database::Migrate() {
  std::vector<std::string> applied;
  Write([&](soci::session& sql) {
    // Two nodes starting at once: the second waits here until the first commits.
    if (dialect_ == Dialect::kPostgresql) sql << "SELECT pg_advisory_xact_lock(7263541)";
    sql << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
           "name TEXT NOT NULL, applied_at TEXT NOT NULL)";
    // Applied migrations are known by their whole file name ("0004_tickets.sql"), so
    // a file is never skipped because another one shares its number. The number
    // orders them and stays the primary key: two files with one number fail loudly
    // here (and a unit test refuses them before that).
    std::set<std::string> done;
    soci::rowset<std::string> rs = (sql.prepare << "SELECT name FROM schema_migrations");
    for (const std::string& n : rs) done.insert(n);
    for (const MigrationFile& m : MigrationFiles(dialect_)) {
      if (done.count(m.name)) continue;
      for (const std::string& stmt : SplitSqlScript(std::string(m.script))) {
        sql << stmt;
      }
      std::string now = FormatIsoUtc(SystemClock().NowUnix());
      int version = m.number;
      sql << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)",
          soci::use(version), soci::use(m.name), soci::use(now);
      applied.push_back(m.name);
    }
  });
  return applied;
}

bool Database::TryLease(const std::string& name, const std::string& holder, int64_t now,
                        int64_t ttl_seconds) {
  long long expires = now + ttl_seconds, at = now;
  std::string current;
  Write([&](soci::session& sql) {
    sql << "INSERT INTO leases (name, holder, expires_at) VALUES (:n, :h, :e) "
           "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
           "expires_at = excluded.expires_at "
           "WHERE leases.holder = excluded.holder OR leases.expires_at <= :now",
        soci::use(name), soci::use(holder), soci::use(expires), soci::use(at);
    sql << "SELECT holder FROM leases WHERE name = :n", soci::use(name), soci::into(current);
  });
  return current == holder;
}

bool Database::WaitForCheckpointer(std::chrono::milliseconds limit) {
  return !checkpointer_ || checkpointer_->WaitIdle(limit);
}

void Database::ReleaseLease(const std::string& name, const std::string& holder) {
  Write([&](soci::session& sql) {
    sql << "DELETE FROM leases WHERE name = :n AND holder = :h", soci::use(name), soci::use(holder);
  });
}

bool IsPostgres(soci::session& sql) { return sql.get_backend_name() == "postgresql"; }

std::string LikeContains(std::string_view text) {
  std::string out = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '!') out += '!';
    out += c;
  }
  return out + "%";
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

size_t ColumnIndex(const soci::row& row, std::string_view name) {
  for (size_t i = 0; i < row.size(); ++i) {
    if (row.get_properties(i).get_name() == name) return i;
  }
  throw std::logic_error("the query has no column \"" + std::string(name) + "\"");
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

double RowDouble(const soci::row& row, size_t column) {
  if (row.get_indicator(column) == soci::i_null) return 0;
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_double:
      return row.get<double>(column);
    case soci::dt_string:
      return std::stod(row.get<std::string>(column));
    default:
      return static_cast<double>(RowInt(row, column));
  }
}

int64_t RowInt(const soci::row& row, std::string_view name) {
  return RowInt(row, ColumnIndex(row, name));
}
std::optional<int64_t> RowOptInt(const soci::row& row, std::string_view name) {
  return RowOptInt(row, ColumnIndex(row, name));
}
std::string RowText(const soci::row& row, std::string_view name) {
  return RowText(row, ColumnIndex(row, name));
}
bool RowBool(const soci::row& row, std::string_view name) {
  return RowBool(row, ColumnIndex(row, name));
}
double RowDouble(const soci::row& row, std::string_view name) {
  return RowDouble(row, ColumnIndex(row, name));
}
bool RowIsNull(const soci::row& row, std::string_view name) {
  return row.get_indicator(ColumnIndex(row, name)) == soci::i_null;
}

std::map<int64_t, int64_t> CountIn(soci::session& sql, const std::string& query,
                                   const std::vector<int64_t>& ids) {
  std::map<int64_t, int64_t> out;
  if (ids.empty()) return out;
  // SQLite binds a repeated placeholder name once: each id gets its own name.
  std::string marks;
  for (size_t i = 0; i < ids.size(); ++i) marks += (i ? ", :i" : ":i") + std::to_string(i);
  std::string text = query;
  size_t at = text.find("$ids");
  if (at == std::string::npos) throw std::logic_error("CountIn query without $ids");
  text.replace(at, 4, marks);
  std::vector<long long> values(ids.begin(), ids.end());
  soci::row r;
  soci::statement st(sql);
  st.exchange(soci::into(r));
  for (auto& v : values) st.exchange(soci::use(v));
  st.alloc();
  st.prepare(text);
  st.define_and_bind();
  st.execute();
  while (st.fetch()) out[RowInt(r, 0)] = RowInt(r, 1);
  return out;
}

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
    // A PostgreSQL function body ($$ ... $$) and a SQLite trigger's BEGIN ... END
    // hold semicolons of their own: the statement ends after them.
    size_t dollars = 0;
    for (size_t p = current.find("$$"); p != std::string::npos; p = current.find("$$", p + 2)) {
      ++dollars;
    }
    std::string head = Trim(current).substr(0, 14);
    for (char& c : head) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    bool in_trigger_body =
        head == "CREATE TRIGGER" && current.find("\nBEGIN") != std::string::npos && t != "END;";
    if (!t.empty() && t.back() == ';' && dollars % 2 == 0 && !in_trigger_body) {
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
