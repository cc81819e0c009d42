// CSV as people's spreadsheets write it, and as ours must be safe to open.
#include "platform/csv.h"

#include <gtest/gtest.h>

#include "platform/errors.h"

namespace opsmerge::csv {
namespace {

using Rows = std::vector<std::vector<std::string>>;

TEST(Csv, ReadsWhatExcelAndSheetsWrite) {
  Table t = Parse(
      "\xEF\xBB\xBFName,Email,Notes\r\n"
      "Jane Smith,jane@acme.example,\"Likes \"\"quotes\"\", commas\r\nand lines\"\r\n"
      "\r\n"
      "  Bob  ,bob@acme.example\r\n",
      "csv", 100);
  EXPECT_EQ(t.header, (std::vector<std::string>{"Name", "Email", "Notes"}));
  EXPECT_EQ(t.rows,
            (Rows{{"Jane Smith", "jane@acme.example", "Likes \"quotes\", commas\r\nand lines"},
                  {"Bob", "bob@acme.example", ""}}));
  EXPECT_EQ(t.lines, (std::vector<size_t>{2, 5})) << "lines count the quoted line break";
}

TEST(Csv, SemicolonsAndTabsAsEuropeanExcelSavesThem) {
  EXPECT_EQ(Parse("name;email\nA, B;a@x.example\n", "csv", 10).rows,
            (Rows{{"A, B", "a@x.example"}}));
  EXPECT_EQ(Parse("name\temail\nA\ta@x.example", "csv", 10).rows, (Rows{{"A", "a@x.example"}}));
}

TEST(Csv, RefusesWhatItCannotReadNamingTheLine) {
  auto error = [](const std::string& text) {
    try {
      Parse(text, "csv", 2);
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), "csv");
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(error("a,b\n1,\"open\n2,3\n"), "Line 2: a quoted value is not closed");
  EXPECT_EQ(error("a,b\n1,2\n1,2,3\n"), "Line 3 has 3 values; the header has 2");
  EXPECT_EQ(error("a\n1\n2\n3\n"), "More than 2 rows: split the file");
  EXPECT_EQ(error("\n\n"), "The file is empty: it needs a header row");
  EXPECT_EQ(error("a\n\xff\n"), "The file is not UTF-8 text");
}

TEST(Csv, WritesCellsASpreadsheetShowsAsTextNeverRuns) {
  EXPECT_EQ(Cell("plain"), "plain");
  EXPECT_EQ(Cell("a,b"), "\"a,b\"");
  EXPECT_EQ(Cell("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(Cell("=HYPERLINK(\"http://evil.example\")"),
            "\"'=HYPERLINK(\"\"http://evil.example\"\")\"");
  EXPECT_EQ(Cell("+44 20 7946 0958"), "'+44 20 7946 0958");
  EXPECT_EQ(Cell("-1"), "'-1");
  EXPECT_EQ(Cell("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(Row({"a", "b c", "d\ne"}), "a,b c,\"d\ne\"\r\n");
  // What we write, we read back.
  Table t = Parse(Row({"name", "notes"}) + Row({"x", "1, \"2\"\n3"}), "csv", 10);
  EXPECT_EQ(t.rows, (Rows{{"x", "1, \"2\"\n3"}}));
}

}  // namespace
}  // namespace opsmerge::csv
