#include "platform/search_terms.h"

#include <algorithm>
#include <set>

#include <soci/soci.h>

#include "platform/text.h"

namespace opsmerge::search {

namespace {

constexpr size_t kMaxTerms = 64;
constexpr size_t kMaxTermBytes = 64;
constexpr size_t kMaxQueryWords = 4;
// Sorts after every continuation of a prefix, byte-wise (SQLite BINARY, PostgreSQL
// COLLATE "C"): U+10FFFF, the last code point, as UTF-8.
constexpr const char* kPrefixEnd = "\xF4\x8F\xBF\xBF";

bool IsWordByte(unsigned char c) { return c >= 0x80 || std::isalnum(c) != 0; }
bool IsSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// At most kMaxTermBytes, cut at a character boundary (a term stays valid UTF-8).
std::string Cap(std::string s) {
  if (s.size() <= kMaxTermBytes) return s;
  size_t n = kMaxTermBytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

std::vector<std::string> Chunks(const std::string& folded) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < folded.size()) {
    while (i < folded.size() && IsSpace(static_cast<unsigned char>(folded[i]))) ++i;
    size_t start = i;
    while (i < folded.size() && !IsSpace(static_cast<unsigned char>(folded[i]))) ++i;
    std::string chunk = folded.substr(start, i - start);
    // Punctuation around a chunk is not part of it: "<jane@acme.com>," "(work)".
    static constexpr std::string_view kAround = "<>()[]{},;:\"'!?";
    size_t b = chunk.find_first_not_of(kAround);
    size_t e = chunk.find_last_not_of(kAround);
    if (b != std::string::npos) out.push_back(chunk.substr(b, e - b + 1));
  }
  return out;
}

// A phone number as people write it: digits with spaces, '+', '-', '(', ')'.
// Returns its digits, or "" when `s` is not one (fewer than 4 digits, or other text).
std::string PhoneDigits(std::string_view s) {
  std::string digits;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      digits += c;
    } else if (c != ' ' && c != '+' && c != '-' && c != '(' && c != ')') {
      return "";
    }
  }
  return digits.size() >= 4 ? digits : "";
}

const char* Table(Kind kind) {
  switch (kind) {
    case Kind::kContact:
      return "contact_terms";
    case Kind::kEndpoint:
      return "endpoint_terms";
    case Kind::kTicket:
      return "ticket_terms";
  }
  return "contact_terms";
}
const char* IdColumn(Kind kind) {
  switch (kind) {
    case Kind::kContact:
      return "contact_id";
    case Kind::kEndpoint:
      return "endpoint_id";
    case Kind::kTicket:
      return "ticket_id";
  }
  return "contact_id";
}

}  // namespace

std::vector<std::string> TermsOf(const std::vector<std::string>& texts) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](std::string term) {
    if (term.empty() || out.size() >= kMaxTerms) return;
    term = Cap(std::move(term));
    if (seen.insert(term).second) out.push_back(term);
  };
  for (const auto& text : texts) {
    if (!text::IsValidUtf8(text)) continue;
    std::string folded = text::FoldCase(text);
    for (const auto& chunk : Chunks(folded)) {
      add(chunk);
      if (size_t at = chunk.find('@'); at != std::string::npos) add(chunk.substr(at + 1));
      size_t i = 0;
      while (i < chunk.size()) {
        while (i < chunk.size() && !IsWordByte(static_cast<unsigned char>(chunk[i]))) ++i;
        size_t start = i;
        while (i < chunk.size() && IsWordByte(static_cast<unsigned char>(chunk[i]))) ++i;
        if (i > start) add(chunk.substr(start, i - start));
      }
    }
    std::string digits = PhoneDigits(folded);
    add(digits);
    // An international number is also typed the national way: "+44 20 7946 0958"
    // as "020 7946 0958" (the country code is 1-3 digits; which, we cannot know).
    if (!digits.empty() && folded.find('+') != std::string::npos) {
      for (size_t k = 1; k <= 3 && k + 4 <= digits.size(); ++k) {
        add("0" + digits.substr(k));
        add(digits.substr(k));
      }
    }
  }
  return out;
}

std::vector<std::string> QueryWords(std::string_view query) {
  if (!text::IsValidUtf8(query)) return {};
  std::string folded = text::FoldCase(text::CollapseWhitespace(query));
  // "020 7946 0958", "+44 20 7946 0958": one number, not four words.
  if (folded.find_first_of(" +-()") != std::string::npos) {
    if (std::string digits = PhoneDigits(folded); !digits.empty()) return {Cap(digits)};
  }
  std::vector<std::string> words;
  for (auto& chunk : Chunks(folded)) {
    std::string w = Cap(chunk);
    if (std::find(words.begin(), words.end(), w) == words.end()) words.push_back(w);
  }
  // The longest words narrow the most; the first is the one the index scans.
  std::stable_sort(words.begin(), words.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  if (words.size() > kMaxQueryWords) words.resize(kMaxQueryWords);
  return words;
}

void SetTerms(soci::session& sql, Kind kind, int64_t id, const std::vector<std::string>& terms) {
  long long oid = id;
  sql << std::string("DELETE FROM ") + Table(kind) + " WHERE " + IdColumn(kind) + " = :id",
      soci::use(oid);
  AddTerms(sql, kind, id, terms);
}

void AddTerms(soci::session& sql, Kind kind, int64_t id, const std::vector<std::string>& terms) {
  if (terms.empty()) return;
  long long oid = id;
  std::string term;
  soci::statement st = (sql.prepare << std::string("INSERT INTO ") + Table(kind) + " (" +
                                           IdColumn(kind) + ", term) VALUES (:id, :term)",
                        soci::use(oid), soci::use(term));
  for (const auto& t : terms) {
    term = t;
    st.execute(true);
  }
}

std::string PrefixEnd(const std::string& word) { return word + kPrefixEnd; }

int64_t CountPrefix(soci::session& sql, Kind kind, const std::string& word, int64_t cap) {
  std::string hi = PrefixEnd(word);
  long long n = 0, c = cap;
  sql << std::string("SELECT COUNT(*) FROM (SELECT 1 FROM ") + Table(kind) +
             " WHERE term >= :lo AND term < :hi LIMIT :cap) capped",
      soci::use(word), soci::use(hi), soci::use(c), soci::into(n);
  return n;
}

std::vector<int64_t> Match(soci::session& sql, Kind kind, const std::vector<std::string>& words,
                           int limit) {
  std::vector<int64_t> out;
  if (words.empty() || limit <= 0) return out;
  const std::string table = Table(kind), id = IdColumn(kind);
  std::string q =
      "SELECT DISTINCT t." + id + " FROM " + table + " t WHERE t.term >= :lo0 AND t.term < :hi0";
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string u = "u" + std::to_string(i), n = std::to_string(i);
    q.append(" AND EXISTS (SELECT 1 FROM ").append(table).append(" ").append(u);
    q.append(" WHERE ").append(u).append(".").append(id).append(" = t.").append(id);
    q.append(" AND ").append(u).append(".term >= :lo").append(n);
    q.append(" AND ").append(u).append(".term < :hi").append(n).append(")");
  }
  q += " LIMIT :limit";
  std::vector<std::string> bounds;  // lo, hi per word; reserved so references stay put
  bounds.reserve(words.size() * 2);
  long long oid = 0, lim = limit;
  soci::statement st(sql);
  st.exchange(soci::into(oid));
  for (const auto& w : words) {
    bounds.push_back(w);
    st.exchange(soci::use(bounds.back()));
    bounds.push_back(w + kPrefixEnd);
    st.exchange(soci::use(bounds.back()));
  }
  st.exchange(soci::use(lim));
  st.alloc();
  st.prepare(q);
  st.define_and_bind();
  st.execute();
  while (st.fetch()) out.push_back(oid);
  return out;
}

}  // namespace opsmerge::search
