#include "platform/imap.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <mutex>
#include <stdexcept>

#include <Poco/URI.h>
#include <curl/curl.h>
#include <poll.h>

#include "platform/http/request.h"

namespace opsmerge::imap {

namespace {

// Silence from the server longer than this ends the poll (the next one retries).
constexpr int kSilenceMs = 120 * 1000;

// A mailbox name in the URL path: each level percent-encoded, the '/' between kept.
std::string EncodePath(const std::string& mailbox) {
  std::string out;
  size_t start = 0;
  for (size_t slash; (slash = mailbox.find('/', start)) != std::string::npos; start = slash + 1) {
    out += http::UrlEncode(mailbox.substr(start, slash - start)) + "/";
  }
  return out + http::UrlEncode(mailbox.substr(start));
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

std::optional<int64_t> Number(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  int64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

// The tokens of a response's text, as FETCH data needs them.
class Tokens {
 public:
  enum class Kind { kAtom, kString, kOpen, kClose, kEnd };
  struct Token {
    Kind kind = Kind::kEnd;
    std::string value;  // the atom, or the string's (or literal's) bytes
    bool nil = false;
  };
  Tokens(const Response& r, size_t pos) : r_(r), pos_(pos) {}

  Token Next() {
    const std::string& t = r_.text;
    while (pos_ < t.size() && t[pos_] == ' ') ++pos_;
    if (pos_ >= t.size()) return {};
    char c = t[pos_];
    if (c == '(') {
      ++pos_;
      return {Kind::kOpen, "", false};
    }
    if (c == ')') {
      ++pos_;
      return {Kind::kClose, "", false};
    }
    if (c == '"') {
      std::string v;
      for (++pos_; pos_ < t.size() && t[pos_] != '"'; ++pos_) {
        if (t[pos_] == '\\' && pos_ + 1 < t.size()) ++pos_;
        v += t[pos_];
      }
      ++pos_;
      return {Kind::kString, v, false};
    }
    if (c == '{') {
      size_t close = t.find('}', pos_);
      if (close != std::string::npos) {
        pos_ = close + 1;
        size_t index = literal_++;
        return {Kind::kString, index < r_.literals.size() ? r_.literals[index] : "", false};
      }
    }
    // An atom; a section ("BODY[HEADER.FIELDS (FROM)]") and a partial ("<0>") are
    // part of it, spaces and parentheses included.
    size_t start = pos_;
    int brackets = 0;
    while (pos_ < t.size()) {
      char d = t[pos_];
      if (d == '[') ++brackets;
      if (d == ']' && brackets > 0) --brackets;
      if (brackets == 0 && (d == ' ' || d == '(' || d == ')')) break;
      ++pos_;
    }
    Token atom{Kind::kAtom, t.substr(start, pos_ - start), false};
    atom.nil = atom.value == "NIL" || atom.value == "nil";
    return atom;
  }

  // Skips a parenthesised list whose "(" was just read.
  void SkipList() {
    for (int depth = 1; depth > 0;) {
      Token k = Next();
      if (k.kind == Kind::kEnd) return;
      if (k.kind == Kind::kOpen) ++depth;
      if (k.kind == Kind::kClose) --depth;
    }
  }

 private:
  const Response& r_;
  size_t pos_;
  size_t literal_ = 0;
};

}  // namespace

void ResponseReader::Feed(std::string_view data) {
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(data);
}

std::optional<Response> ResponseReader::Next() {
  for (;;) {
    if (literal_) {
      if (buf_.size() - pos_ < *literal_) return std::nullopt;
      partial_.literals.push_back(buf_.substr(pos_, *literal_));
      pos_ += *literal_;
      literal_.reset();
      continue;
    }
    size_t eol = buf_.find('\n', pos_);
    if (eol == std::string::npos) {
      if (buf_.size() - pos_ > max_line_)
        throw std::runtime_error("the IMAP server sent too long a line");
      return std::nullopt;
    }
    size_t end = eol > pos_ && buf_[eol - 1] == '\r' ? eol - 1 : eol;
    std::string_view line(buf_.data() + pos_, end - pos_);
    pos_ = eol + 1;
    if (partial_.text.size() + line.size() > max_line_) {
      throw std::runtime_error("the IMAP server sent too long a response");
    }
    partial_.text.append(line);
    // A line ending "{N}" (or "{N+}") is followed by N bytes, then the line goes on.
    if (!line.empty() && line.back() == '}') {
      size_t open = line.rfind('{');
      if (open != std::string_view::npos) {
        std::string_view digits = line.substr(open + 1, line.size() - open - 2);
        if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
        if (auto n = Number(digits)) {
          if (static_cast<uint64_t>(*n) > max_literal_) {
            throw std::runtime_error("the IMAP server sent a literal of " + std::to_string(*n) +
                                     " bytes, more than the " + std::to_string(max_literal_) +
                                     " asked for");
          }
          literal_ = static_cast<size_t>(*n);
          continue;
        }
      }
    }
    Response done = std::move(partial_);
    partial_ = Response{};
    return done;
  }
}

std::optional<Fetched> ParseFetch(const Response& r) {
  // "* 12 FETCH (" ...
  const std::string& t = r.text;
  if (t.size() < 2 || t[0] != '*' || t[1] != ' ') return std::nullopt;
  size_t p = 2;
  while (p < t.size() && std::isdigit(static_cast<unsigned char>(t[p]))) ++p;
  if (p == 2 || !StartsWithNoCase(std::string_view(t).substr(p), " FETCH (")) return std::nullopt;
  Tokens tokens(r, p + 7);
  if (tokens.Next().kind != Tokens::Kind::kOpen) return std::nullopt;
  Fetched f;
  for (;;) {
    Tokens::Token name = tokens.Next();
    if (name.kind != Tokens::Kind::kAtom) break;
    Tokens::Token value = tokens.Next();
    if (value.kind == Tokens::Kind::kOpen) {
      tokens.SkipList();
      continue;
    }
    if (value.kind == Tokens::Kind::kClose || value.kind == Tokens::Kind::kEnd) break;
    std::string key = name.value;
    for (char& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (key == "UID" && value.kind == Tokens::Kind::kAtom) {
      f.uid = Number(value.value);
    } else if (key == "RFC822.SIZE" && value.kind == Tokens::Kind::kAtom) {
      f.size = Number(value.value);
    } else if (key == "BODY[]" || key.rfind("BODY[]<", 0) == 0) {
      f.body = value.nil ? "" : value.value;
    }
  }
  return f;
}

std::string UidSet(const std::vector<int64_t>& uids) {
  std::string out;
  for (size_t i = 0; i < uids.size();) {
    size_t j = i;
    while (j + 1 < uids.size() && uids[j + 1] == uids[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(uids[i]);
    if (j > i) out += ':' + std::to_string(uids[j]);
    i = j + 1;
  }
  return out;
}

struct Client::Impl {
  CURL* curl = nullptr;
  curl_socket_t socket = CURL_SOCKET_BAD;
  std::string mailbox;  // "INBOX"
  ResponseReader reader{1u << 20};
  int next_tag = 0;
  bool selected = false;
  int64_t validity = -1;
  std::vector<int64_t> searched;
  std::map<int64_t, int64_t> sizes;
  std::map<int64_t, std::string> bodies;

  void WaitFor(short events) {
    pollfd p{socket, events, 0};
    int rc = poll(&p, 1, kSilenceMs);
    if (rc == 0) throw std::runtime_error("the IMAP server did not answer for 120 s");
    if (rc < 0 && errno != EINTR) throw std::runtime_error("waiting for the IMAP server failed");
  }

  std::string Send(const std::string& command) {
    std::string tag = "om" + std::to_string(++next_tag);
    std::string line = tag + " " + command + "\r\n";
    size_t sent = 0;
    while (sent < line.size()) {
      size_t n = 0;
      CURLcode rc = curl_easy_send(curl, line.data() + sent, line.size() - sent, &n);
      if (rc == CURLE_AGAIN) {
        WaitFor(POLLOUT);
        continue;
      }
      if (rc != CURLE_OK) throw std::runtime_error(std::string("IMAP: ") + curl_easy_strerror(rc));
      sent += n;
    }
    return tag;
  }

  void Receive() {
    char buf[65536];
    for (;;) {
      size_t n = 0;
      CURLcode rc = curl_easy_recv(curl, buf, sizeof buf, &n);
      if (rc == CURLE_AGAIN) {
        WaitFor(POLLIN);
        continue;
      }
      if (rc != CURLE_OK) throw std::runtime_error(std::string("IMAP: ") + curl_easy_strerror(rc));
      if (n == 0) throw std::runtime_error("the IMAP server closed the connection");
      reader.Feed(std::string_view(buf, n));
      return;
    }
  }

  void Untagged(Response& r) {
    const std::string& t = r.text;
    if (StartsWithNoCase(t, "* SEARCH")) {
      size_t i = 8;
      while (i < t.size()) {
        while (i < t.size() && !std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
        size_t j = i;
        while (j < t.size() && std::isdigit(static_cast<unsigned char>(t[j]))) ++j;
        if (auto n = Number(std::string_view(t).substr(i, j - i))) searched.push_back(*n);
        i = j;
      }
    } else if (StartsWithNoCase(t, "* OK [UIDVALIDITY ")) {
      size_t end = t.find(']', 18);
      if (end != std::string::npos) {
        if (auto n = Number(std::string_view(t).substr(18, end - 18))) validity = *n;
      }
    } else if (StartsWithNoCase(t, "* BYE")) {
      throw std::runtime_error("the IMAP server closed the connection: " + t.substr(2));
    } else if (auto f = ParseFetch(r); f && f->uid) {
      if (f->size) sizes[*f->uid] = *f->size;
      if (f->body) bodies[*f->uid] = std::move(*f->body);
    }
  }

  // Reads until the server has answered `tag` (one command at a time); throws with
  // its words for NO or BAD.
  void Await(const std::string& tag, const std::string& what) {
    for (;;) {
      std::optional<Response> r = reader.Next();
      if (!r) {
        Receive();
        continue;
      }
      if (r->text.rfind("* ", 0) == 0) {
        Untagged(*r);
        continue;
      }
      size_t space = r->text.find(' ');
      if (space == std::string::npos || r->text.compare(0, space, tag) != 0) continue;  // "+ ..."
      std::string status = r->text.substr(space + 1);
      if (StartsWithNoCase(status, "OK")) return;
      std::string error = "IMAP ";
      error += what;
      error += ": ";
      error += status;
      throw std::runtime_error(error);
    }
  }

  void Command(const std::string& command, const std::string& what) { Await(Send(command), what); }

  void Select() {
    if (selected) return;
    Command("SELECT \"" + mailbox + "\"", "SELECT " + mailbox);
    selected = true;
  }
};

Client::Client(const Mailbox& m) : impl_(std::make_unique<Impl>()) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::string url = m.url;
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) throw std::runtime_error("imap_url is not a URL");
  size_t host_start = scheme + 3;
  size_t path = url.find('/', host_start);
  std::string authority =
      url.substr(host_start, path == std::string::npos ? path : path - host_start);
  std::string user;
  if (size_t at = authority.rfind('@'); at != std::string::npos) {
    // Written percent-encoded in the URL ("help%40msp.example"); the server wants it plain.
    Poco::URI::decode(authority.substr(0, at), user);
    authority = authority.substr(at + 1);
  }
  std::string base = url.substr(0, host_start) + authority + "/";
  std::string box = path == std::string::npos ? "" : url.substr(path + 1);
  while (!box.empty() && box.back() == '/') box.pop_back();
  impl_->mailbox = box.empty() ? "INBOX" : box;
  for (unsigned char c : impl_->mailbox) {
    if (c < 0x20 || c == 0x7F || c == '"' || c == '\\' || c == '%' || c == '*') {
      throw std::runtime_error("imap_url names a mailbox with characters IMAP needs quoted");
    }
  }
  CURL* c = impl_->curl = curl_easy_init();
  if (!c) throw std::runtime_error("libcurl could not start");
  std::string target = base + EncodePath(impl_->mailbox);
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_URL, target.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "imap,imaps");
  if (!user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, m.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  // Connect, STARTTLS, sign in; then hand the connection over.
  curl_easy_setopt(c, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) rc = curl_easy_getinfo(c, CURLINFO_ACTIVESOCKET, &impl_->socket);
  if (rc != CURLE_OK || impl_->socket == CURL_SOCKET_BAD) {
    std::string reason = curl_easy_strerror(rc);
    curl_easy_cleanup(c);
    impl_->curl = nullptr;
    throw std::runtime_error(reason + (error[0] ? std::string(": ") + error : ""));
  }
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
}

Client::~Client() {
  if (!impl_->curl) return;
  try {
    impl_->Send("LOGOUT");
  } catch (const std::exception&) {
    // Going anyway.
  }
  curl_easy_cleanup(impl_->curl);
}

int64_t Client::UidValidity() {
  impl_->Select();
  if (impl_->validity < 0) throw std::runtime_error("the server did not say the UIDVALIDITY");
  return impl_->validity;
}

std::vector<int64_t> Client::Search(const std::string& criteria) {
  impl_->Select();
  impl_->searched.clear();
  impl_->Command("UID SEARCH " + criteria, "SEARCH");
  std::vector<int64_t> uids = std::move(impl_->searched);
  impl_->searched.clear();
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

std::map<int64_t, int64_t> Client::Sizes(const std::vector<int64_t>& uids) {
  impl_->Select();
  impl_->sizes.clear();
  // A few thousand UIDs a command keep the line well within servers' limits.
  for (size_t i = 0; i < uids.size(); i += 2000) {
    std::vector<int64_t> part(
        uids.begin() + static_cast<std::ptrdiff_t>(i),
        uids.begin() + static_cast<std::ptrdiff_t>(std::min(uids.size(), i + 2000)));
    impl_->Command("UID FETCH " + UidSet(part) + " (UID RFC822.SIZE)", "FETCH");
  }
  return std::move(impl_->sizes);
}

std::map<int64_t, std::string> Client::Fetch(const std::vector<int64_t>& uids, size_t max_bytes) {
  if (uids.empty()) return {};
  impl_->Select();
  impl_->bodies.clear();
  impl_->reader.set_max_literal(std::max<size_t>(max_bytes, 1u << 20));
  // BODY.PEEK: a message is marked \Seen only once it is stored (SetSeen).
  impl_->Command(
      "UID FETCH " + UidSet(uids) + " (UID BODY.PEEK[]<0." + std::to_string(max_bytes) + ">)",
      "FETCH");
  return std::move(impl_->bodies);
}

void Client::SetSeen(const std::vector<int64_t>& uids, bool on) {
  if (uids.empty()) return;
  impl_->Select();
  impl_->Command("UID STORE " + UidSet(uids) + (on ? " +" : " -") + "FLAGS.SILENT (\\Seen)",
                 "STORE");
}

}  // namespace opsmerge::imap
