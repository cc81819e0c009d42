#include "platform/csv.h"

#include "platform/errors.h"
#include "platform/text.h"

namespace opsmerge::csv {

namespace {

// The separator the header line uses most, outside quotes.
char DetectSeparator(std::string_view text) {
  size_t commas = 0, semicolons = 0, tabs = 0;
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '\n') break;
    commas += c == ',';
    semicolons += c == ';';
    tabs += c == '\t';
  }
  if (semicolons > commas && semicolons >= tabs) return ';';
  if (tabs > commas && tabs > semicolons) return '\t';
  return ',';
}

bool Blank(const std::vector<std::string>& cells) {
  for (const auto& c : cells) {
    if (!text::Trim(c).empty()) return false;
  }
  return true;
}

}  // namespace

Table Parse(std::string_view text, const std::string& field, size_t max_rows) {
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  if (!text::IsValidUtf8(text)) throw ValidationError(field, "The file is not UTF-8 text");
  const char sep = DetectSeparator(text);
  Table table;
  std::vector<std::string> cells;
  std::string cell;
  size_t line = 1, row_line = 1;
  bool quoted = false, was_quoted = false;
  auto end_row = [&]() {
    cells.push_back(was_quoted ? cell : text::Trim(cell));
    cell.clear();
    was_quoted = false;
    if (!Blank(cells)) {
      if (table.header.empty()) {
        table.header = cells;
      } else {
        if (cells.size() > table.header.size()) {
          throw ValidationError(
              field, "Line " + std::to_string(row_line) + " has " + std::to_string(cells.size()) +
                         " values; the header has " + std::to_string(table.header.size()));
        }
        if (table.rows.size() >= max_rows) {
          throw ValidationError(field,
                                "More than " + std::to_string(max_rows) + " rows: split the file");
        }
        cells.resize(table.header.size());
        table.rows.push_back(std::move(cells));
        table.lines.push_back(row_line);
      }
    }
    cells.clear();
    row_line = line;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
      continue;
    }
    if (c == '"' && text::Trim(cell).empty()) {
      cell.clear();
      quoted = was_quoted = true;
    } else if (c == sep) {
      cells.push_back(was_quoted ? cell : text::Trim(cell));
      cell.clear();
      was_quoted = false;
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;  // the \n ends the row
    } else if (c == '\n' || c == '\r') {
      ++line;
      end_row();
    } else {
      cell += c;
    }
  }
  if (quoted) {
    throw ValidationError(field,
                          "Line " + std::to_string(row_line) + ": a quoted value is not closed");
  }
  if (!cell.empty() || !cells.empty()) end_row();
  if (table.header.empty())
    throw ValidationError(field, "The file is empty: it needs a header row");
  for (auto& h : table.header) h = text::Trim(h);
  return table;
}

std::string Cell(std::string_view value) {
  std::string v(value);
  if (!v.empty() &&
      (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r')) {
    v.insert(0, 1, '\'');
  }
  if (v.find_first_of(",;\"\r\n\t") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Row(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) out += ',';
    out += Cell(cells[i]);
  }
  return out + "\r\n";
}

}  // namespace opsmerge::csv
