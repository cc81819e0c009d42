#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace soci {
class session;
class connection_pool;
class soci_error;
class row;
}  // namespace soci

// The database: a pool of SOCI sessions, transactions, and the migration runner.
// Thread-safe: any thread may call Read/Write; each outermost call borrows its own
// session for the duration of the callback (SOCI sessions themselves are not
// thread-safe, so never keep the session or the Tx past the callback).
namespace opsmerge::db {

enum class Dialect { kSqlite, kPostgresql };

// One write transaction: what a use case that crosses features passes to the other
// feature's `...In(Tx&, ...)` methods, so client, contact, ticket and audit rows of
// one use case commit or roll back together. Not thread-safe; lives only inside
// Database::Write's callback.
class Tx {
 public:
  soci::session& sql() { return sql_; }
  Dialect dialect() const { return dialect_; }
  // Runs `fn` after the outermost transaction commits, never after a rollback:
  // cache evictions, waking a sender. Hooks run in order on the committing thread
  // and must not throw. Hooks added inside a savepoint that rolls back are dropped.
  void AfterCommit(std::function<void()> fn);

 private:
  friend class Database;
  Tx(soci::session& sql, Dialect dialect) : sql_(sql), dialect_(dialect) {}
  soci::session& sql_;
  Dialect dialect_;
  std::vector<std::function<void()>> after_commit_;
  int savepoints_ = 0;
};

class Database {
 public:
  // SQLite at `path` (created if missing) in WAL mode with a busy timeout and foreign
  // keys on. Throws std::runtime_error with an operator-readable message.
  static std::unique_ptr<Database> OpenSqlite(const std::string& path, size_t pool_size);
  // PostgreSQL at a libpq URL ("postgresql://user:pass@host:port/db").
  static std::unique_ptr<Database> OpenPostgres(const std::string& url, size_t pool_size);
  // "postgresql://..." opens PostgreSQL; anything else is a SQLite file path.
  static std::unique_ptr<Database> Open(const std::string& url_or_path, size_t pool_size);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Dialect dialect() const { return dialect_; }

  // Runs `fn` in one write transaction (SQLite: BEGIN IMMEDIATE, so concurrent
  // writers queue instead of failing half-way). Commits if `fn` returns, rolls back
  // and rethrows if it throws. Every use case's writes go through one call.
  // Called again on the same thread inside `fn` (a service calling another), it
  // does not start a second transaction, which would deadlock on SQLite's one
  // writer or an exhausted pool: it runs as a SAVEPOINT of the outer one, rolled
  // back alone if it throws (the outer one decides whether to go on).
  void Write(const std::function<void(Tx&)>& fn);
  void Write(const std::function<void(soci::session&)>& fn);
  // Runs `fn` with a borrowed session and no explicit transaction; inside a Write
  // on the same thread, on that transaction (so it sees its own uncommitted rows).
  void Read(const std::function<void(soci::session&)>& fn);

  // Applies the embedded migrations for this dialect that are not yet recorded in
  // schema_migrations, in number order, all in one transaction. Returns the names
  // applied. Several processes may call it at once: PostgreSQL serialises them on an
  // advisory lock, SQLite on its write lock, so each migration applies once.
  std::vector<std::string> Migrate();

  // Leases name a piece of scheduled work and who does it. TryLease takes the
  // lease `name` for `holder` until now + ttl if it is free, lapsed, or already
  // held by `holder` (a renewal). Returns true when `holder` holds it afterwards.
  // One statement in both dialects (INSERT ... ON CONFLICT DO UPDATE ... WHERE).
  bool TryLease(const std::string& name, const std::string& holder, int64_t now,
                int64_t ttl_seconds);
  void ReleaseLease(const std::string& name, const std::string& holder);

  // SQLite: waits until the WAL checkpointer has nothing due and nothing running
  // (at most `limit`); true once idle. For shutdown paths and tests.
  bool WaitForCheckpointer(std::chrono::milliseconds limit);

 private:
  Database(Dialect dialect, size_t pool_size);
  Dialect dialect_;
  // SQLite: copies the WAL back into the database on a thread of its own, so that a
  // commit never waits for a checkpoint (declared before the pool: it outlives it).
  struct Checkpointer;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<soci::connection_pool> pool_;
  // SQLite has one writer at a time. Queueing writers of this process here keeps
  // them off SQLite's busy handler, which polls with sleeps of up to 100 ms.
  std::mutex sqlite_writer_;
};

// Tx::AfterCommit for code that holds only the session (a helper called with
// tx.sql()): `fn` runs after the transaction `sql` belongs to on this thread
// commits; at once when `sql` is in none (its statements were committed as they ran).
void AfterCommit(soci::session& sql, std::function<void()> fn);

// "postgresql://user:pass@host:port/db?sslmode=require" as libpq key=value text.
std::string PostgresConnInfo(const std::string& url);

// True for a PostgreSQL session (for the few statements that differ, such as
// SELECT ... FOR UPDATE, which SQLite's whole-database write lock makes moot).
bool IsPostgres(soci::session& sql);

// A LIKE pattern matching any text containing `text` literally: '%', '_' and '!'
// escaped with '!', so the statement says `LIKE :p ESCAPE '!'`. Fold the text as
// the column it is matched against is folded.
std::string LikeContains(std::string_view text);

// True when `e` reports a UNIQUE / primary-key violation (either dialect).
bool IsUniqueViolation(const soci::soci_error& e);

// Typed column reads that accept whichever integer width the backend reports
// (SQLite says int or long long by declared type, PostgreSQL by int4/int8).
int64_t RowInt(const soci::row& row, size_t column);  // 0 when NULL
std::optional<int64_t> RowOptInt(const soci::row& row, size_t column);
std::string RowText(const soci::row& row, size_t column);  // "" when NULL
bool RowBool(const soci::row& row, size_t column);
double RowDouble(const soci::row& row, size_t column);  // 0 when NULL
// The same by column name, as the query names it (`c.name AS client_name` is
// "client_name"): a mapper that names its columns cannot silently read the wrong
// one when a query's column list changes. An absent name throws std::logic_error.
size_t ColumnIndex(const soci::row& row, std::string_view name);
int64_t RowInt(const soci::row& row, std::string_view name);
std::optional<int64_t> RowOptInt(const soci::row& row, std::string_view name);
std::string RowText(const soci::row& row, std::string_view name);
bool RowBool(const soci::row& row, std::string_view name);
double RowDouble(const soci::row& row, std::string_view name);
bool RowIsNull(const soci::row& row, std::string_view name);

// Copies the SQLite database at `source_path` to `dest_path` with SQLite's online
// backup API: consistent while the server keeps writing. Throws on failure.
void BackupSqlite(const std::string& source_path, const std::string& dest_path);

// The embedded migrations of a dialect, in number order ("0003_rmm.sql" is 3).
struct MigrationFile {
  std::string name;
  int number = 0;
  std::string_view script;
};
std::vector<MigrationFile> MigrationFiles(Dialect dialect);

// For queries over a list of ids: `query` is a named constant holding "$ids" where
// the list goes ("SELECT client_id, COUNT(*) FROM endpoints WHERE client_id IN
// ($ids) GROUP BY client_id"); the number of ids, never a value, shapes the text,
// and every id is bound. Returns the first two columns as key -> count.
std::map<int64_t, int64_t> CountIn(soci::session& sql, const std::string& query,
                                   const std::vector<int64_t>& ids);

// Splits a migration script into statements (on ';' at the end of a line).
std::vector<std::string> SplitSqlScript(const std::string& script);

}  // namespace opsmerge::db
