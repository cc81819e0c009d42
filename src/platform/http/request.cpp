#include "platform/http/request.h"

#include <algorithm>
#include <cctype>
#include <string_view>

#include "platform/errors.h"

namespace opsmerge::http {

namespace {

const std::string* FindPair(const Pairs& pairs, const std::string& name) {
  for (const auto& [k, v] : pairs) {
    if (k == name) return &v;
  }
  return nullptr;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decode(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string Request::Header(const std::string& lower_name) const {
  const std::string* v = FindPair(headers, lower_name);
  return v ? *v : std::string();
}

std::string Request::Query(const std::string& name, const std::string& fallback) const {
  const std::string* v = FindPair(query, name);
  return v ? *v : fallback;
}

std::string Request::Form(const std::string& name, const std::string& fallback) const {
  const std::string* v = FindPair(form, name);
  return v ? *v : fallback;
}

bool Request::HasForm(const std::string& name) const { return FindPair(form, name) != nullptr; }

std::vector<std::string> Request::FormAll(const std::string& name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : form) {
    if (k == name) out.push_back(v);
  }
  return out;
}

int64_t Request::ParamId(size_t i, const std::string& what) const {
  if (i >= params.size()) throw NotFound(what);
  const std::string& p = params[i];
  if (p.empty() || p.size() > 18) throw NotFound(what);
  int64_t id = 0;
  for (char c : p) {
    if (c < '0' || c > '9') throw NotFound(what);
    id = id * 10 + (c - '0');
  }
  if (id <= 0) throw NotFound(what);
  return id;
}

Response Response::Html(std::string body, int status) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::Text(std::string body, int status) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Response Response::Redirect(const std::string& location, int status) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Location", location);
  return r;
}

void Response::SetHeader(const std::string& name, const std::string& value) {
  for (auto& [k, v] : headers) {
    if (k == name) {
      v = value;
      return;
    }
  }
  headers.emplace_back(name, value);
}

Response Response::Download(std::string body, const std::string& filename,
                            const std::string& content_type) {
  Response r;
  bool plain_type = !content_type.empty() && content_type.size() <= 128 &&
                    std::count(content_type.begin(), content_type.end(), '/') == 1;
  for (char c : content_type) {
    plain_type = plain_type && (std::isalnum(static_cast<unsigned char>(c)) ||
                                std::string_view("!#$&^_.+-/").find(c) != std::string_view::npos);
  }
  r.content_type = plain_type ? content_type : "application/octet-stream";
  size_t slash = filename.find_last_of("/\\");
  std::string name = filename.substr(slash == std::string::npos ? 0 : slash + 1);
  std::string ascii;
  for (char ch : name) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool safe = c >= 0x20 && c < 0x7F && c != '"' && c != '\\' && c != '%' && c != ';';
    ascii += safe ? ch : '_';
  }
  std::string encoded = UrlEncode(name);  // RFC 5987: the attr-chars stay, the rest %XX
  if (ascii.empty()) ascii = encoded = "download";
  r.SetHeader("Content-Disposition",
              "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded);
  r.body = std::move(body);
  return r;
}

std::string BaseUrl(const Request& request, const std::string& public_url) {
  if (!public_url.empty()) return public_url;
  std::string host = request.Header("host");
  if (host.empty() || host.find_first_not_of(
                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
                          std::string::npos) {
    host = "localhost";
  }
  return std::string(request.secure ? "https://" : "http://") + host;
}

Pairs ParseUrlEncoded(const std::string& text) {
  Pairs out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t amp = text.find('&', pos);
    std::string part = text.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    pos = amp == std::string::npos ? text.size() : amp + 1;
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string::npos) {
      out.emplace_back(Decode(part), "");
    } else {
      out.emplace_back(Decode(part.substr(0, eq)), Decode(part.substr(eq + 1)));
    }
  }
  return out;
}

std::string UrlEncode(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::map<std::string, std::string> ParseCookies(const std::string& header) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < header.size()) {
    size_t semi = header.find(';', pos);
    std::string part =
        header.substr(pos, semi == std::string::npos ? std::string::npos : semi - pos);
    pos = semi == std::string::npos ? header.size() : semi + 1;
    size_t eq = part.find('=');
    if (eq == std::string::npos) continue;
    size_t b = part.find_first_not_of(' ');
    std::string name = part.substr(b, eq - b);
    std::string value = part.substr(eq + 1);
    if (!out.count(name)) out[name] = value;
  }
  return out;
}

}  // namespace opsmerge::http
