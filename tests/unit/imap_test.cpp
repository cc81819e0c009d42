// The IMAP poller's reading of what a server sends: responses split into lines and
// literals however the bytes arrive, FETCH data read by item, and nothing a
// message says taken for protocol.
#include "platform/imap.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace opsmerge::imap {
namespace {

std::vector<Response> ReadAll(ResponseReader& reader) {
  std::vector<Response> out;
  while (auto r = reader.Next()) out.push_back(std::move(*r));
  return out;
}

TEST(ImapReader, LiteralsAreTakenByTheirLengthWhateverTheyContain) {
  // A message whose own lines look like the server's: an untagged FETCH, a tagged
  // OK, a line ending in a literal marker.
  const std::string body =
      "From: a@b.example\r\nSubject: x\r\n\r\n* 3 FETCH (UID 9 BODY[] {5}\r\nom2 OK done\r\n";
  const std::string wire = "* 1 FETCH (UID 7 BODY[]<0> {" + std::to_string(body.size()) + "}\r\n" +
                           body + ")\r\n* 2 FETCH (FLAGS (\\Seen))\r\nom2 OK Fetch completed\r\n";
  // Fed whole, and fed a byte at a time: the same responses.
  for (size_t step : {wire.size(), size_t{1}, size_t{7}}) {
    ResponseReader reader(1 << 20);
    std::vector<Response> got;
    for (size_t i = 0; i < wire.size(); i += step) {
      reader.Feed(std::string_view(wire).substr(i, step));
      for (auto& r : ReadAll(reader)) got.push_back(std::move(r));
    }
    ASSERT_EQ(got.size(), 3u) << step;
    EXPECT_EQ(got[0].text, "* 1 FETCH (UID 7 BODY[]<0> {" + std::to_string(body.size()) + "})");
    ASSERT_EQ(got[0].literals.size(), 1u);
    EXPECT_EQ(got[0].literals[0], body);
    EXPECT_EQ(got[2].text, "om2 OK Fetch completed");
    auto f = ParseFetch(got[0]);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->uid, 7);
    EXPECT_EQ(f->body, body);
    auto flags = ParseFetch(got[1]);
    ASSERT_TRUE(flags);
    EXPECT_FALSE(flags->uid);
    EXPECT_FALSE(flags->body);
  }
}

TEST(ImapReader, FetchItemsAreReadInAnyOrderAndAroundOtherData) {
  // UID after the body (some servers), a quoted string with a brace and a
  // parenthesis in it, a section with spaces, a size.
  Response r{
      "* 12 FETCH (BODY[] {3} FLAGS (\\Seen \\Flagged) INTERNALDATE \"01-Dec-2026 {9} (x\" "
      "BODY[HEADER.FIELDS (FROM TO)] {2} UID 4021 RFC822.SIZE 3)",
      {"abc", "hh"}};
  auto f = ParseFetch(r);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->uid, 4021);
  EXPECT_EQ(f->size, 3);
  EXPECT_EQ(f->body, "abc");
  // A body sent as a quoted string, and NIL.
  EXPECT_EQ(ParseFetch({"* 1 FETCH (UID 5 BODY[] \"a \\\"q\\\" b\")", {}})->body, "a \"q\" b");
  EXPECT_EQ(ParseFetch({"* 1 fetch (uid 5 body[] NIL)", {}})->body, "");
  // Not FETCH data.
  EXPECT_FALSE(ParseFetch({"* 3 EXISTS", {}}));
  EXPECT_FALSE(ParseFetch({"* SEARCH 1 2 3", {}}));
  EXPECT_FALSE(ParseFetch({"om1 OK FETCH (UID 1)", {}}));
  // Cut short or nonsense: no crash, nothing made up.
  EXPECT_FALSE(ParseFetch({"* 1 FETCH (UID", {}})->uid);
  EXPECT_FALSE(ParseFetch({"* 1 FETCH (UID 99999999999999999999 BODY[] {4})", {}})->uid);
  EXPECT_EQ(ParseFetch({"* 1 FETCH (UID 3 BODY[] {4})", {}})->body, "")
      << "a marker with no literal behind it reads as empty";
}

TEST(ImapReader, AServerGoneWrongCannotTakeTheMemory) {
  ResponseReader reader(1000, 64);
  reader.Feed("* 1 FETCH (UID 1 BODY[] {1001}\r\n");
  EXPECT_THROW(reader.Next(), std::runtime_error) << "a literal over what was asked for";
  ResponseReader lines(1000, 64);
  lines.Feed(std::string(100, 'x'));
  EXPECT_THROW(lines.Next(), std::runtime_error) << "a line that never ends";
  ResponseReader ok(1000, 64);
  ok.Feed(std::string(60, 'x'));
  EXPECT_FALSE(ok.Next()) << "within the limit, it waits for the rest";
}

TEST(ImapReader, UidSetsAreWrittenAsRanges) {
  EXPECT_EQ(UidSet({1, 2, 3, 7, 9, 10}), "1:3,7,9:10");
  EXPECT_EQ(UidSet({42}), "42");
  EXPECT_EQ(UidSet({}), "");
}

}  // namespace
}  // namespace opsmerge::imap
