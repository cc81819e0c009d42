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

namespace opsmerge {
namespace {

TEST(MigrationScripts, TriggerBodiesAndFunctionBodiesStayWhole) {
  std::vector<std::string> s = db::SplitSqlScript(
      "CREATE TABLE a (x INTEGER);\n"
      "-- a comment;\n"
      "CREATE TRIGGER t AFTER UPDATE OF x ON a\nWHEN NEW.x = 0\nBEGIN\n"
      "  DELETE FROM b WHERE y = NEW.x;\n  DELETE FROM c;\nEND;\n"
      "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
      "  DELETE FROM b;\n  RETURN NULL;\nEND $$;\n"
      "CREATE TRIGGER u AFTER UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f();\n"
      "SELECT 1;\n");
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s[0], "CREATE TABLE a (x INTEGER)");
  EXPECT_NE(s[1].find("DELETE FROM c;\nEND"), std::string::npos) << s[1];
  EXPECT_NE(s[2].find("RETURN NULL;\nEND $$"), std::string::npos) << s[2];
  EXPECT_EQ(s[3], "CREATE TRIGGER u AFTER UPDATE ON a FOR EACH ROW EXECUTE FUNCTION f()");
  EXPECT_EQ(s[4], "SELECT 1");
}

}  // namespace
}  // namespace opsmerge
