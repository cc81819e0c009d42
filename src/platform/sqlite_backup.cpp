// Kept apart from db.cpp: SOCI's SQLite header wraps sqlite3.h in its own
// namespace and cannot share a translation unit with the plain C API.
#include <stdexcept>
#include <string>

#include <sqlite3.h>

#include "platform/db.h"

namespace opsmerge::db {

void BackupSqlite(const std::string& source_path, const std::string& dest_path) {
  sqlite3* src = nullptr;
  sqlite3* dst = nullptr;
  auto fail = [&](const std::string& what) {
    std::string msg = what + ": " + (dst ? sqlite3_errmsg(dst) : src ? sqlite3_errmsg(src) : "");
    sqlite3_close(src);
    sqlite3_close(dst);
    throw std::runtime_error(msg);
  };
  if (sqlite3_open_v2(source_path.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    fail("cannot open " + source_path);
  }
  sqlite3_busy_timeout(src, 10000);
  if (sqlite3_open_v2(dest_path.c_str(), &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    fail("cannot create " + dest_path);
  }
  sqlite3_backup* backup = sqlite3_backup_init(dst, "main", src, "main");
  if (!backup) fail("cannot start the backup");
  int rc;
  // Copy in steps so a busy server is never blocked for the whole copy.
  while ((rc = sqlite3_backup_step(backup, 256)) == SQLITE_OK || rc == SQLITE_BUSY ||
         rc == SQLITE_LOCKED) {
    if (rc != SQLITE_OK) sqlite3_sleep(20);
  }
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) fail("backup failed");
  sqlite3_close(src);
  sqlite3_close(dst);
}

}  // namespace opsmerge::db
