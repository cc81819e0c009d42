#include "mail/model.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>

#include <sodium.h>

#include "platform/text.h"

namespace opsmerge::mail {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool StartsWithI(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && Lower(s.substr(0, prefix.size())) == prefix;
}

void AppendCodePoint(std::string& out, uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// "&amp;" at s[i] (s[i] == '&'): appends what it stands for, returns its length; 0
// when it is not an entity.
size_t DecodeEntity(std::string_view s, size_t i, std::string& out) {
  static const std::map<std::string, uint32_t> kNamed = {
      {"amp", '&'},       {"lt", '<'},       {"gt", '>'},       {"quot", '"'},
      {"apos", '\''},     {"nbsp", 0xA0},    {"copy", 0xA9},    {"reg", 0xAE},
      {"pound", 0xA3},    {"euro", 0x20AC},  {"ndash", 0x2013}, {"mdash", 0x2014},
      {"lsquo", 0x2018},  {"rsquo", 0x2019}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
      {"hellip", 0x2026}, {"bull", 0x2022},  {"middot", 0xB7},  {"trade", 0x2122},
      {"zwnj", 0x200C},   {"zwj", 0x200D},   {"shy", 0xAD},     {"times", 0xD7},
      {"deg", 0xB0}};
  size_t semi = s.find(';', i + 1);
  if (semi == std::string_view::npos || semi - i > 12 || semi == i + 1) return 0;
  std::string_view name = s.substr(i + 1, semi - i - 1);
  uint32_t cp = 0;
  if (name[0] == '#') {
    bool hex = name.size() > 1 && (name[1] == 'x' || name[1] == 'X');
    std::string_view digits = name.substr(hex ? 2 : 1);
    if (digits.empty() || digits.size() > 7) return 0;
    for (char c : digits) {
      int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
              : hex && std::isxdigit(static_cast<unsigned char>(c))
                  ? std::tolower(static_cast<unsigned char>(c)) - 'a' + 10
                  : -1;
      if (d < 0) return 0;
      cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(d);
    }
  } else {
    auto it = kNamed.find(std::string(name));
    if (it == kNamed.end()) return 0;
    cp = it->second;
  }
  if (cp == 0xA0) cp = ' ';
  if (cp == 0xAD || cp == 0x200C || cp == 0x200D) return semi - i + 1;  // invisible
  AppendCodePoint(out, cp);
  return semi - i + 1;
}

std::string DecodeEntities(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '&') {
      if (size_t n = DecodeEntity(s, i, out)) {
        i += n - 1;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// The value of attribute `name` in a tag's text ("a href=\"x\" ..."), "" if none.
std::string Attribute(std::string_view tag, std::string_view name) {
  std::string lower = Lower(tag);
  size_t pos = 0;
  while ((pos = lower.find(name, pos)) != std::string::npos) {
    bool starts = pos > 0 && std::isspace(static_cast<unsigned char>(lower[pos - 1]));
    size_t p = pos + name.size();
    while (p < lower.size() && lower[p] == ' ') ++p;
    if (starts && p < lower.size() && lower[p] == '=') {
      ++p;
      while (p < lower.size() && lower[p] == ' ') ++p;
      if (p >= tag.size()) return "";
      char q = tag[p];
      if (q == '"' || q == '\'') {
        size_t end = tag.find(q, p + 1);
        return std::string(tag.substr(p + 1, end == std::string_view::npos ? end : end - p - 1));
      }
      size_t end = p;
      while (end < tag.size() && !std::isspace(static_cast<unsigned char>(tag[end]))) ++end;
      return std::string(tag.substr(p, end - p));
    }
    pos = p;
  }
  return "";
}

}  // namespace

std::string LoopReason(const Message& m) {
  auto token = [](const std::string& v) {
    std::string t = text::Trim(v.substr(0, v.find(';')));
    return Lower(t);
  };
  if (m.our_loop) return "our own loop header (X-OpsMerge-Loop): mail we sent came back";
  if (!m.auto_submitted.empty() && token(m.auto_submitted) != "no") {
    return "Auto-Submitted: " + token(m.auto_submitted);
  }
  std::string precedence = token(m.precedence);
  if (precedence == "bulk" || precedence == "junk" || precedence == "list") {
    return "Precedence: " + precedence;
  }
  if (!m.list_id.empty()) return "mailing list mail (List-Id)";
  if (m.x_autoreply) return "an auto-reply (X-Autoreply/X-Autorespond)";
  if (text::Trim(m.return_path) == "<>") return "a null sender (Return-Path: <>)";
  for (const auto& a : m.from) {
    std::string local = Lower(a.substr(0, a.find('@')));
    if (local == "mailer-daemon" || local == "postmaster") return "sent by " + local;
  }
  return "";
}

std::optional<int64_t> SubjectTag(std::string_view subject) {
  size_t pos = 0;
  while ((pos = subject.find("[#", pos)) != std::string_view::npos) {
    size_t p = pos + 2, end = p;
    while (end < subject.size() && end - p < 15 &&
           std::isdigit(static_cast<unsigned char>(subject[end]))) {
      ++end;
    }
    if (end > p && end < subject.size() && subject[end] == ']') {
      return std::stoll(std::string(subject.substr(p, end - p)));
    }
    pos = p;
  }
  return std::nullopt;
}

std::string TicketSubject(std::string_view subject) {
  std::string s = text::CollapseWhitespace(CleanText(subject));
  return s.empty() ? "(no subject)" : text::Utf8Prefix(s, 200);
}

std::string HtmlToText(std::string_view html) {
  static const char* kBlocks[] = {
      "p",  "div", "br",         "tr",     "li",     "h1",      "h2",      "h3",    "h4",
      "h5", "h6",  "blockquote", "pre",    "table",  "ul",      "ol",      "hr",    "dl",
      "dt", "dd",  "section",    "header", "footer", "article", "address", "center"};
  static const char* kDropped[] = {"script",   "style",  "head",   "title", "template",
                                   "noscript", "iframe", "object", "svg",   "math"};
  std::string out;
  std::string link;  // the href of the open <a>, to show after its text
  size_t link_text_start = 0;
  bool space = false;
  auto newline = [&](int max) {
    int have = 0;
    for (size_t k = out.size(); k > 0 && out[k - 1] == '\n'; --k) ++have;
    if (out.empty()) return;
    while (have < max) {
      out += '\n';
      ++have;
    }
    space = false;
  };
  size_t i = 0;
  while (i < html.size()) {
    char c = html[i];
    if (c == '<') {
      if (html.compare(i, 4, "<!--") == 0) {
        size_t end = html.find("-->", i + 4);
        i = end == std::string_view::npos ? html.size() : end + 3;
        continue;
      }
      size_t end = html.find('>', i + 1);
      if (end == std::string_view::npos) break;  // an unterminated tag: the rest is not text
      std::string_view tag = html.substr(i + 1, end - i - 1);
      bool closing = !tag.empty() && tag[0] == '/';
      std::string_view body = closing ? tag.substr(1) : tag;
      size_t name_end = 0;
      while (name_end < body.size() && (std::isalnum(static_cast<unsigned char>(body[name_end])) ||
                                        body[name_end] == '-' || body[name_end] == ':')) {
        ++name_end;
      }
      std::string name = Lower(body.substr(0, name_end));
      i = end + 1;
      if (!closing && std::find_if(std::begin(kDropped), std::end(kDropped), [&](const char* d) {
                        return name == d;
                      }) != std::end(kDropped)) {
        // Skip to the matching close tag; its content is never text.
        std::string lower_rest = Lower(html.substr(i));
        size_t close = lower_rest.find("</" + name);
        if (close == std::string::npos) break;
        size_t gt = lower_rest.find('>', close);
        i += gt == std::string::npos ? lower_rest.size() : gt + 1;
        continue;
      }
      if (name == "a") {
        if (!closing) {
          std::string href = text::Trim(DecodeEntities(Attribute(body, "href")));
          link = StartsWithI(href, "http://") || StartsWithI(href, "https://") ? href : "";
          link_text_start = out.size();
        } else if (!link.empty()) {
          std::string shown = text::Trim(out.substr(std::min(link_text_start, out.size())));
          if (shown != link && shown.find(link) == std::string::npos) out += " <" + link + ">";
          link.clear();
        }
        continue;
      }
      if (name == "img" && !closing) {
        std::string alt = text::Trim(DecodeEntities(Attribute(body, "alt")));
        if (!alt.empty()) {
          if (space) out += ' ';
          out += "[" + alt + "]";
          space = false;
        }
        continue;
      }
      if (name == "td" || name == "th") {
        if (!closing && !out.empty() && out.back() != '\n') out += ' ';
        continue;
      }
      bool block = std::find_if(std::begin(kBlocks), std::end(kBlocks),
                                [&](const char* b) { return name == b; }) != std::end(kBlocks);
      if (block) {
        bool paragraph = name == "p" || name == "blockquote" || name == "table" || name == "ul" ||
                         name == "ol" || (name[0] == 'h' && name.size() == 2);
        newline(name == "br" || name == "li" || name == "tr" || name == "div" ? 1
                : paragraph                                                   ? 2
                                                                              : 1);
        if (name == "li" && !closing) out += "- ";
        if (name == "hr") out += "----\n";
      }
      continue;
    }
    // Text: white space collapses as a browser would.
    size_t next = html.find('<', i);
    std::string_view run = html.substr(i, next == std::string_view::npos ? next : next - i);
    std::string decoded = DecodeEntities(run);
    for (char ch : decoded) {
      if (std::isspace(static_cast<unsigned char>(ch))) {
        space = !out.empty() && out.back() != '\n';
      } else {
        if (space) out += ' ';
        space = false;
        out += ch;
      }
    }
    i = next == std::string_view::npos ? html.size() : next;
  }
  return CleanText(out);
}

std::string Unflow(std::string_view text, bool delsp) {
  std::string out;
  size_t i = 0;
  bool joining = false;
  while (i <= text.size()) {
    size_t nl = text.find('\n', i);
    std::string_view line = text.substr(i, nl == std::string_view::npos ? nl : nl - i);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Quote depth stays as is; space-stuffing (one leading space) goes.
    size_t depth = 0;
    while (depth < line.size() && line[depth] == '>') ++depth;
    std::string_view rest = line.substr(depth);
    if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
    bool soft = !rest.empty() && rest.back() == ' ' && rest != "-- ";
    if (soft && delsp) rest.remove_suffix(1);
    if (!joining) out += std::string(depth, '>') + (depth ? " " : "");
    out += rest;
    joining = soft;
    if (!soft) out += '\n';
    if (nl == std::string_view::npos) break;
    i = nl + 1;
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string TrimQuoted(std::string_view input) {
  std::vector<std::string> lines;
  size_t i = 0;
  while (i <= input.size()) {
    size_t nl = input.find('\n', i);
    lines.emplace_back(input.substr(i, nl == std::string_view::npos ? nl : nl - i));
    if (nl == std::string_view::npos) break;
    i = nl + 1;
  }
  static const std::regex kWrote(
      R"(^\s*(On\s.+\s(wrote|writes)|Am\s.+\sschrieb.*|Le\s.+\sa\s[ée]crit\s?|El\s.+\sescribi[óo]|Op\s.+\sschreef.*|Il\s.+\sha\sscritto)\s*:\s*$)",
      std::regex::icase | std::regex::optimize);
  static const std::regex kOriginal(
      R"(^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Forwarded message)\s*-{2,}\s*$)",
      std::regex::icase | std::regex::optimize);
  static const std::regex kHeaderFrom(R"(^\s*\*?(From|Von|De)\s*:\*?\s.+)",
                                      std::regex::icase | std::regex::optimize);
  static const std::regex kHeaderSent(R"(^\s*\*?(Sent|Date|Gesendet|Envoyé)\s*:\*?\s.+)",
                                      std::regex::icase | std::regex::optimize);
  auto is_rule = [](const std::string& l) {
    std::string t = text::Trim(l);
    return t.size() >= 10 && t.find_first_not_of('_') == std::string::npos;
  };
  // What a line must have for a pattern to match it at all, checked first: almost
  // no line of a message has it, and the patterns cost far more than these checks.
  static constexpr const char* kSpace = " \t\r\n\f\v";
  auto ends_with_colon = [](const std::string& l) {
    size_t e = l.find_last_not_of(kSpace);
    return e != std::string::npos && l[e] == ':';
  };
  auto header_like = [](const std::string& l, std::string_view initials) {
    size_t b = l.find_first_not_of(" \t\r\n\f\v*");
    if (b == std::string::npos || l.find(':', b) == std::string::npos) return false;
    char c = static_cast<char>(std::tolower(static_cast<unsigned char>(l[b])));
    return initials.find(c) != std::string_view::npos;
  };
  auto from_line = [&](const std::string& l) {
    return l.size() < 1000 && header_like(l, "fvd") && std::regex_match(l, kHeaderFrom);
  };
  size_t cut = lines.size();
  for (size_t n = 0; n < lines.size() && cut == lines.size(); ++n) {
    const std::string& l = lines[n];
    if (l.size() > 1000) continue;  // no pattern is that long; keep regex time bounded
    // "On Mon, 1 Dec 2026 at 10:00, Jane Doe <jane@acme.example>" may wrap before "wrote:".
    bool wrapped_wrote = n + 1 < lines.size() && lines[n + 1].size() < 1000 &&
                         l.rfind("On ", 0) == 0 && ends_with_colon(lines[n + 1]) &&
                         std::regex_match(l + " " + lines[n + 1], kWrote);
    // Outlook's rule above its header block.
    bool rule = is_rule(l) && n + 1 < lines.size() && from_line(lines[n + 1]);
    if ((ends_with_colon(l) && std::regex_match(l, kWrote)) ||
        (l.find("--") != std::string::npos && std::regex_match(l, kOriginal)) || wrapped_wrote ||
        rule) {
      cut = n;
    } else if (from_line(l)) {
      for (size_t k = n + 1; k < lines.size() && k <= n + 3; ++k) {
        if (lines[k].size() < 1000 && header_like(lines[k], "sdge") &&
            std::regex_match(lines[k], kHeaderSent)) {
          cut = n;
          break;
        }
      }
    }
  }
  if (cut == lines.size()) {
    // A trailing run of quoted lines (and blank lines among them).
    size_t k = lines.size();
    while (k > 0 && (text::Trim(lines[k - 1]).empty() || lines[k - 1].rfind('>', 0) == 0)) --k;
    bool any_quote = false;
    for (size_t q = k; q < lines.size(); ++q) any_quote |= lines[q].rfind('>', 0) == 0;
    if (any_quote) cut = k;
  }
  std::string out;
  for (size_t n = 0; n < cut; ++n) out += lines[n] + "\n";
  std::string trimmed = text::Trim(out);
  return trimmed.empty() ? text::Trim(input) : trimmed;
}

std::string CleanText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = text::Utf8SequenceLength(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD for a byte that is not UTF-8
      ++i;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (n == 1) {
      if (c == '\r') {
        if (i + 1 >= s.size() || s[i + 1] != '\n') out += '\n';
      } else if (c == '\n' || c == '\t' || c >= 0x20) {
        if (c != 0x7F) out += static_cast<char>(c);
      }
    } else if (!(n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0)) {
      out.append(s.substr(i, n));  // C1 controls (U+0080-009F) dropped
    }
    i += n;
  }
  // Trailing spaces per line, at most two blank lines in a row.
  std::string tidy;
  int blank = 0;
  size_t p = 0;
  while (p <= out.size()) {
    size_t nl = out.find('\n', p);
    std::string line = out.substr(p, nl == std::string::npos ? nl : nl - p);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (line.empty()) {
      if (++blank <= 2) tidy += '\n';
    } else {
      blank = 0;
      tidy += line + '\n';
    }
    if (nl == std::string::npos) break;
    p = nl + 1;
  }
  return text::Trim(tidy);
}

std::string SafeFilename(std::string_view name) {
  std::string clean = CleanText(name);
  size_t slash = clean.find_last_of("/\\");
  if (slash != std::string::npos) clean = clean.substr(slash + 1);
  std::string out;
  for (char c : clean) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || c == '"' || c == '\n' || c == ':' || c == '*' || c == '?' || c == '<' ||
        c == '>' || c == '|') {
      out += '_';
    } else {
      out += c;
    }
  }
  out = text::Trim(out);
  while (!out.empty() && (out.front() == '.' || out.front() == ' ')) out.erase(0, 1);
  out = text::Utf8Prefix(out, 150);
  return out.empty() ? "attachment" : out;
}

std::string SafeContentType(std::string_view type) {
  std::string t = Lower(text::Trim(type.substr(0, type.find(';'))));
  static const std::regex kType(
      R"([a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,127})");
  return std::regex_match(t, kType) ? t : "application/octet-stream";
}

std::string DerivedMessageId(std::string_view raw) {
  // The header block ends at the first empty line (CRLF or LF).
  size_t split = raw.find("\n\n");
  size_t crlf = raw.find("\r\n\r\n");
  size_t end = std::min(split, crlf);
  std::string_view headers = raw.substr(0, end);
  std::string_view body = end == std::string_view::npos ? "" : raw.substr(end);
  std::string key;
  for (const char* name : {"from:", "date:", "subject:"}) {
    size_t p = 0;
    while (p < headers.size()) {
      size_t nl = headers.find('\n', p);
      std::string_view line = headers.substr(p, nl == std::string_view::npos ? nl : nl - p);
      if (StartsWithI(line, name)) {
        key += text::Trim(line.substr(std::string_view(name).size()));
        break;
      }
      if (nl == std::string_view::npos) break;
      p = nl + 1;
    }
    key += '\n';
  }
  std::string text_body = CleanText(body);  // line endings as a relay may have changed them
  key += text_body;
  unsigned char hash[32];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(key.data()),
                     key.size(), nullptr, 0);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : hash) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out + "@derived.opsmerge";
}

}  // namespace opsmerge::mail
