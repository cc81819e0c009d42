#pragma once

#include <string>
#include <string_view>
#include <vector>

// CSV as spreadsheets write and read it (RFC 4180): what people import from and
// export to Excel, Google Sheets and other PSAs. Pure functions, thread-safe.
namespace opsmerge::csv {

struct Table {
  std::vector<std::string> header;             // the first non-empty line's cells, trimmed
  std::vector<std::vector<std::string>> rows;  // each padded to the header's width
  std::vector<size_t> lines;                   // the line each row starts on (1-based)
};

// Parses `text`: a UTF-8 byte-order mark is dropped; the separator is ',' or, when
// the header holds more of them, ';' (Excel in much of Europe) or a tab; quoted
// values may hold separators, "" and line breaks; CRLF or LF; blank lines are
// skipped. Throws ValidationError(field, message naming the line) for a quote left
// open, text that is not UTF-8, a row with more values than the header, no header,
// or more than `max_rows` rows.
Table Parse(std::string_view text, const std::string& field, size_t max_rows);

// One value for a spreadsheet: quoted when it holds a separator, quote or line
// break; a value a spreadsheet would run as a formula (starting with = + - @, tab or
// CR) is prefixed with ' so it is shown as text (CSV injection).
std::string Cell(std::string_view value);
// A row of cells, comma-separated, ending in CRLF.
std::string Row(const std::vector<std::string>& cells);

}  // namespace opsmerge::csv
