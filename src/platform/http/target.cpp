#include "platform/http/target.h"

#include "platform/text.h"

namespace opsmerge::http {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<Target> ParseTarget(std::string_view target) {
  if (target.size() > 8192) return std::nullopt;
  // Absolute form: drop "scheme://authority".
  if (!target.empty() && target[0] != '/') {
    size_t scheme = target.find("://");
    if (scheme == std::string_view::npos) return std::nullopt;
    size_t end = target.find_first_of("/?", scheme + 3);
    if (end == std::string_view::npos) return Target{"/", ""};
    if (target[end] == '?') return Target{"/", std::string(target.substr(end + 1))};
    target = target.substr(end);
  }
  if (target.empty() || target[0] != '/') return std::nullopt;
  Target out;
  size_t q = target.find('?');
  std::string_view raw_path = target.substr(0, q);
  if (q != std::string_view::npos) out.query = std::string(target.substr(q + 1));
  size_t hash = out.query.find('#');
  if (hash != std::string::npos) out.query.resize(hash);
  out.path.reserve(raw_path.size());
  for (size_t i = 0; i < raw_path.size(); ++i) {
    char c = raw_path[i];
    if (c == '#') break;
    if (c == '%') {
      if (i + 2 >= raw_path.size()) return std::nullopt;
      int hi = HexValue(raw_path[i + 1]), lo = HexValue(raw_path[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.path += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out.path += c;
    }
  }
  for (char c : out.path) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return std::nullopt;
  }
  if (!text::IsValidUtf8(out.path)) return std::nullopt;
  return out;
}

bool IsLocalPath(std::string_view path) {
  if (path.empty() || path.size() > 2000 || path[0] != '/') return false;
  if (path.size() > 1 && (path[1] == '/' || path[1] == '\\')) return false;
  for (char c : path) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '\\') return false;
  }
  return true;
}

bool IsSafeHeaderValue(std::string_view value) {
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

bool IsToken(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    bool ok = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9');
    for (char extra : std::string_view("!#$%&'*+-.^_`|~")) ok = ok || c == extra;
    if (!ok) return false;
  }
  return true;
}

}  // namespace opsmerge::http
