// The global search's terms: what a technician types must find the person or
// machine they mean, whatever the case, punctuation or phone format.
#include "platform/search_terms.h"

#include <algorithm>

#include <gtest/gtest.h>

namespace opsmerge::search {
namespace {

bool Has(const std::vector<std::string>& terms, const std::string& t) {
  return std::find(terms.begin(), terms.end(), t) != terms.end();
}

// True when every query word starts some term, as Match decides it in SQL.
bool Finds(const std::vector<std::string>& texts, const std::string& query) {
  std::vector<std::string> terms = TermsOf(texts), words = QueryWords(query);
  if (words.empty()) return false;
  return std::all_of(words.begin(), words.end(), [&](const std::string& w) {
    return std::any_of(terms.begin(), terms.end(),
                       [&](const std::string& t) { return t.rfind(w, 0) == 0; });
  });
}

TEST(SearchTerms, APersonIsFoundByAnyNameEmailOrPhoneTheyAreKnownBy) {
  std::vector<std::string> jane = {"Jane O'Brien-Smith", "Jane.OBrien@AcmeCorp.co.uk",
                                   "+44 20 7946 0958"};
  for (const char* q : {"jane", "JANE", "smi", "o'brien", "brien", "jane smith", "jane.obrien@acme",
                        "acmecorp.co", "acmecorp", "+44 20 7946 0958", "020 7946 0958", "020 7946",
                        "442079460958", "(020) 7946-0958"}) {
    EXPECT_TRUE(Finds(jane, q)) << q;
  }
  for (const char* q : {"john", "jane jones", "orp", "7946 0958 9999", ""}) {
    EXPECT_FALSE(Finds(jane, q)) << q;
  }
}

TEST(SearchTerms, AMachineIsFoundByHostnameAddressOrSerial) {
  std::vector<std::string> web = {"WEB-01.acme.local", "SN-ABC123", "10.0.0.12", "fd00::12"};
  for (const char* q :
       {"web", "web-01", "web-01.acme", "acme", "10.0.0", "10.0.0.12", "sn-abc", "abc1", "fd00:"}) {
    EXPECT_TRUE(Finds(web, q)) << q;
  }
  for (const char* q : {"10.0.1", "eb-01", "0.0.12"}) EXPECT_FALSE(Finds(web, q)) << q;
}

TEST(SearchTerms, NonAsciiNamesFoldAndStayWholeCharacters) {
  EXPECT_TRUE(Finds({"Zoë Ångström"}, "zoë"));
  EXPECT_TRUE(Finds({"Zoë Ångström"}, "ÅNG"));
  // A term cut to 64 bytes is cut between characters, never inside one.
  std::string longname(63, 'a');
  longname += "é";
  for (const auto& t : TermsOf({longname})) EXPECT_LE(t.size(), 64u);
  EXPECT_TRUE(Has(TermsOf({longname}), std::string(63, 'a')));
}

TEST(SearchTerms, BoundedWhateverIsIndexedOrTyped) {
  std::string many;
  for (int i = 0; i < 500; ++i) many += "word" + std::to_string(i) + " ";
  EXPECT_LE(TermsOf({many}).size(), 64u);
  EXPECT_LE(QueryWords(many).size(), 4u);
  // The longest words are kept: they narrow the most.
  EXPECT_EQ(QueryWords("a bb ccc dddd eeeee")[0], "eeeee");
  EXPECT_TRUE(QueryWords("   ").empty());
  EXPECT_TRUE(QueryWords("\xff\xfe").empty());
  EXPECT_TRUE(TermsOf({"\xff\xfe"}).empty());
  // SQL wildcards are ordinary characters here (Match compares ranges, not LIKE).
  EXPECT_EQ(QueryWords("50%_off"), std::vector<std::string>{"50%_off"});
}

}  // namespace
}  // namespace opsmerge::search
