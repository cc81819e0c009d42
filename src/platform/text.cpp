#include "platform/text.h"

#include <algorithm>
#include <cctype>

#include <Poco/UTF8String.h>
#include <Poco/Unicode.h>

#include "platform/errors.h"

namespace opsmerge::text {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string CollapseWhitespace(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

std::string FoldCase(std::string_view s) { return Poco::UTF8::toLower(std::string(s)); }

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  // RFC 3629: no overlong forms, no UTF-16 surrogates (U+D800-DFFF), nothing
  // above U+10FFFF. The second byte's range depends on the first (Table 3-7 of
  // the Unicode standard).
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  unsigned char second = static_cast<unsigned char>(s[i + 1]);
  if (second < lo || second > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  return n;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string Utf8Prefix(std::string_view s, size_t max_characters) {
  size_t chars = 0, i = 0;
  while (i < s.size() && chars < max_characters) {
    i += std::max<size_t>(1, Utf8SequenceLength(s, i));
    ++chars;
  }
  return std::string(s.substr(0, std::min(i, s.size())));
}

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

std::string CleanField(const std::string& field, const std::string& label, std::string_view value,
                       size_t max, bool multiline) {
  std::string v;
  if (multiline) {
    // Forms send line breaks as CR LF; they are kept as LF.
    for (char c : Trim(value)) {
      if (c != '\r') v += c;
    }
  } else {
    v = CollapseWhitespace(value);
  }
  if (!IsValidUtf8(v)) throw ValidationError(field, label + " is not valid text");
  if (HasControlCharacters(v)) throw ValidationError(field, label + " contains control characters");
  if (Utf8Length(v) > max) {
    throw ValidationError(field, label + " must be at most " + std::to_string(max) + " characters");
  }
  return v;
}

bool HasControlCharacters(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t' && u != '\n' && u != '\r') || u == 0x7F) return true;
  }
  return false;
}

std::optional<std::string> NormalizeDomain(std::string_view input) {
  std::string d = Trim(input);
  for (char& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty() || d.size() > 253) return std::nullopt;
  size_t labels = 0, pos = 0;
  std::string last;
  while (pos <= d.size()) {
    size_t dot = d.find('.', pos);
    std::string label = d.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (label.empty() || label.size() > 63) return std::nullopt;
    if (label.front() == '-' || label.back() == '-') return std::nullopt;
    for (char c : label) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return std::nullopt;
    }
    ++labels;
    last = label;
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  if (labels < 2) return std::nullopt;
  bool alpha_tld = last.size() >= 2;
  for (char c : last) alpha_tld = alpha_tld && std::isalpha(static_cast<unsigned char>(c));
  if (!alpha_tld && last.rfind("xn--", 0) != 0) return std::nullopt;
  return d;
}

std::string CountOf(int64_t n, std::string_view singular, std::string_view plural) {
  return std::to_string(n) + " " + std::string(n == 1 ? singular : plural);
}

std::optional<std::string> DomainFromPasted(std::string_view input) {
  std::string d = Trim(input);
  if (size_t scheme = d.find("://"); scheme != std::string::npos) d.erase(0, scheme + 3);
  if (size_t end = d.find_first_of("/?#"); end != std::string::npos) d.erase(end);
  if (size_t at = d.rfind('@'); at != std::string::npos) d.erase(0, at + 1);
  // A port after the host ("acme.com:8443"); an IPv6 literal is not a domain anyway.
  if (size_t colon = d.rfind(':'); colon != std::string::npos) d.erase(colon);
  auto domain = NormalizeDomain(d);
  if (!domain) return std::nullopt;
  if (domain->rfind("www.", 0) == 0) {
    if (auto bare = NormalizeDomain(domain->substr(4))) return bare;
  }
  return domain;
}

std::string EmailFromPasted(std::string_view input) {
  std::string e = Trim(input);
  size_t open = e.rfind('<');
  size_t close = e.rfind('>');
  if (open != std::string::npos && close != std::string::npos && close > open) {
    e = e.substr(open + 1, close - open - 1);
  }
  if (e.size() >= 7 && FoldCase(e.substr(0, 7)) == "mailto:") e.erase(0, 7);
  if (size_t q = e.find('?'); q != std::string::npos) e.erase(q);
  return Trim(e);
}

std::optional<std::string> NormalizeEmail(std::string_view input) {
  std::string e = Trim(input);
  size_t at = e.rfind('@');
  if (at == std::string::npos || at == 0 || e.find('@') != at) return std::nullopt;
  std::string local = e.substr(0, at);
  if (local.size() > 64 || local.front() == '.' || local.back() == '.') return std::nullopt;
  for (char c : local) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' ||
        c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\') {
      return std::nullopt;
    }
  }
  if (local.find("..") != std::string::npos) return std::nullopt;
  auto domain = NormalizeDomain(e.substr(at + 1));
  if (!domain || e.substr(at + 1) != Trim(e.substr(at + 1))) return std::nullopt;
  return local + "@" + *domain;
}

std::string SizeText(int64_t bytes) {
  constexpr int64_t kKiB = 1024, kMiB = kKiB * kKiB;
  if (bytes < kKiB) return std::to_string(bytes) + " bytes";
  if (bytes < kMiB) return std::to_string((bytes + kKiB - 1) / kKiB) + " KB";
  int64_t tenths = (bytes * 10 + kMiB / 2) / kMiB;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + " MB";
}

}  // namespace opsmerge::text
