// What people upload and type: a CSV file for import, and the words of a search.
// Whatever the bytes, parsing never crashes or hangs, every row it accepts has the
// header's width, and every search term is short, valid UTF-8.
#include <cstddef>
#include <cstdint>
#include <string>

#include "platform/csv.h"
#include "platform/errors.h"
#include "platform/search_terms.h"
#include "platform/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    opsmerge::csv::Table t = opsmerge::csv::Parse(text, "csv", 1000);
    if (t.rows.size() != t.lines.size() || t.header.empty()) __builtin_trap();
    for (const auto& row : t.rows) {
      if (row.size() != t.header.size()) __builtin_trap();
      opsmerge::csv::Row(row);
    }
  } catch (const opsmerge::ValidationError&) {
  }
  for (const auto& term : opsmerge::search::TermsOf({text})) {
    if (term.empty() || term.size() > 64 || !opsmerge::text::IsValidUtf8(term)) __builtin_trap();
  }
  for (const auto& word : opsmerge::search::QueryWords(text)) {
    if (word.empty() || word.size() > 64 || !opsmerge::text::IsValidUtf8(word)) __builtin_trap();
  }
  return 0;
}
