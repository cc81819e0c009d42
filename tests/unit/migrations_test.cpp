#include <set>

#include <gtest/gtest.h>

#include "platform/db.h"

namespace opsmerge::db {
namespace {

TEST(Migrations, NumbersAreUniqueInEachDialect) {
  for (Dialect d : {Dialect::kSqlite, Dialect::kPostgresql}) {
    std::set<int> numbers;
    for (const MigrationFile& m : MigrationFiles(d)) {
      EXPECT_TRUE(numbers.insert(m.number).second)
          << "two migrations numbered " << m.number << " (" << m.name << ")";
      EXPECT_GT(m.script.size(), 0u) << m.name;
    }
    EXPECT_FALSE(numbers.empty());
  }
}

TEST(Migrations, BothDialectsHoldTheSameMigrations) {
  std::vector<std::string> sqlite, postgres;
  for (const MigrationFile& m : MigrationFiles(Dialect::kSqlite)) sqlite.push_back(m.name);
  for (const MigrationFile& m : MigrationFiles(Dialect::kPostgresql)) postgres.push_back(m.name);
  EXPECT_EQ(sqlite, postgres) << "every migration needs a twin of the same name in the other "
                                 "dialect's folder";
}

TEST(Migrations, NumbersRunInOrderFromOne) {
  int expected = 1;
  for (const MigrationFile& m : MigrationFiles(Dialect::kSqlite)) {
    EXPECT_EQ(m.number, expected++) << m.name << ": numbers have no gaps";
  }
}

}  // namespace
}  // namespace opsmerge::db
