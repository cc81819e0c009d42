#include "platform/outbox.h"

#include <cctype>
#include <ctime>

#include <soci/soci.h>
#include <sodium.h>

#include "platform/clock.h"
#include "platform/crypto.h"
#include "platform/db.h"
#include "platform/secret_box.h"
#include "platform/settings.h"
#include "platform/smtp.h"

namespace opsmerge::outbox {

namespace {

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  }
  return s;
}

bool Ascii(const std::string& s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

std::string Base64(const std::string& bytes) {
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

// RFC 2047 encoded words of at most 45 bytes each (whole UTF-8 characters).
std::string EncodeHeader(const std::string& value) {
  if (Ascii(value)) return value;
  std::string out;
  size_t i = 0;
  while (i < value.size()) {
    size_t n = std::min<size_t>(45, value.size() - i);
    while (i + n < value.size() && (static_cast<unsigned char>(value[i + n]) & 0xC0) == 0x80) --n;
    out += (out.empty() ? "" : "\r\n ") + std::string("=?UTF-8?B?") + Base64(value.substr(i, n)) +
           "?=";
    i += n;
  }
  return out;
}

// Quoted-printable (RFC 2045): lines of at most 76 characters, CRLF line breaks.
std::string QuotedPrintable(const std::string& text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out, line;
  auto flush = [&](bool soft) {
    out += line + (soft ? "=\r\n" : "\r\n");
    line.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\r') continue;
    if (c == '\n') {
      if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
        char last = line.back();
        line.pop_back();
        line += std::string("=") + kHex[last >> 4] + kHex[last & 15];
      }
      flush(false);
      continue;
    }
    std::string piece;
    if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t') {
      piece = std::string(1, static_cast<char>(c));
    } else {
      piece = std::string("=") + kHex[c >> 4] + kHex[c & 15];
    }
    if (line.size() + piece.size() > 75) flush(true);
    line += piece;
  }
  if (!line.empty()) flush(false);
  return out;
}

std::string RfcDate(int64_t now) {
  std::time_t t = static_cast<std::time_t>(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string DomainOf(const std::string& address) {
  size_t at = address.rfind('@');
  return at == std::string::npos ? "localhost" : address.substr(at + 1);
}

std::string Join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

// A file name any mail client takes as it is, quoted or not.
std::string SafeFileName(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == '_';
    out += ok ? c : '_';
  }
  return out.empty() ? "file" : out.substr(0, 100);
}

// "type/subtype" of token characters, else application/octet-stream.
std::string MediaType(const std::string& type) {
  size_t slash = type.find('/');
  bool ok = slash != std::string::npos && slash > 0 && slash + 1 < type.size() && type.size() < 100;
  for (char c : type) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '.' && c != '-' &&
        c != '+') {
      ok = false;
    }
  }
  return ok ? type : "application/octet-stream";
}

}  // namespace

std::string Build(const Mail& m, const std::string& message_id, int64_t now) {
  std::string h;
  auto header = [&](const std::string& name, const std::string& value) {
    h += name + ": " + value + "\r\n";
  };
  header("From", OneLine(m.from));
  std::vector<std::string> to;
  for (const auto& t : m.to) to.push_back(OneLine(t));
  header("To", Join(to, ", "));
  header("Subject", EncodeHeader(OneLine(m.subject)));
  header("Date", RfcDate(now));
  header("Message-ID", message_id);
  if (!m.in_reply_to.empty()) header("In-Reply-To", OneLine(m.in_reply_to));
  if (!m.references.empty()) {
    std::vector<std::string> refs;
    for (const auto& r : m.references) refs.push_back(OneLine(r));
    header("References", Join(refs, "\r\n "));
  }
  if (m.auto_reply) header("Auto-Submitted", "auto-replied");
  header("X-Auto-Response-Suppress", "All");
  header("X-OpsMerge-Loop", DomainOf(OneLine(m.from)));
  header("MIME-Version", "1.0");
  if (m.attachments.empty()) {
    header("Content-Type", "text/plain; charset=utf-8");
    header("Content-Transfer-Encoding", "quoted-printable");
    return h + "\r\n" + QuotedPrintable(m.body);
  }
  std::string boundary = "=_om_" + crypto::RandomHex(12);
  header("Content-Type", "multipart/mixed; boundary=\"" + boundary + "\"");
  std::string body = "--" + boundary +
                     "\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Transfer-Encoding: quoted-printable\r\n\r\n" +
                     QuotedPrintable(m.body) + "\r\n";
  for (const auto& f : m.attachments) {
    std::string name = SafeFileName(f.filename);
    body.append("--").append(boundary).append("\r\nContent-Type: ");
    body.append(MediaType(f.content_type)).append("; name=\"").append(name);
    body.append("\"\r\nContent-Disposition: attachment; filename=\"").append(name);
    body.append("\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    std::string b64 = crypto::Base64(f.content);
    for (size_t i = 0; i < b64.size(); i += 76) body.append(b64, i, 76).append("\r\n");
  }
  return h + "\r\n" + body + "--" + boundary + "--\r\n";
}

std::string Fill(const std::string& tpl, const std::map<std::string, std::string>& values) {
  std::string out;
  size_t i = 0;
  while (i < tpl.size()) {
    size_t open = tpl.find("{{", i);
    if (open == std::string::npos) break;
    size_t close = tpl.find("}}", open + 2);
    if (close == std::string::npos) break;
    auto it = values.find(tpl.substr(open + 2, close - open - 2));
    out.append(tpl, i, open - i);
    if (it != values.end()) {
      out += it->second;
    } else {
      out.append(tpl, open, close + 2 - open);
    }
    i = close + 2;
  }
  out.append(tpl, i, std::string::npos);
  return out;
}

namespace {
std::function<void()> g_on_queued;  // see OnQueued
}  // namespace

void OnQueued(std::function<void()> notice) { g_on_queued = std::move(notice); }

std::string Enqueue(soci::session& sql, const Mail& mail, int64_t now) {
  std::string id = "<" + crypto::RandomHex(16) + "@" + DomainOf(mail.from) + ">";
  std::string message = Build(mail, id, now);
  std::string to = Join(mail.to, ",");
  long long at = now;
  std::string created = FormatIsoUtc(now);
  sql << "INSERT INTO mail_outbox (ref, message_id, sender, recipients, message, next_attempt_at, "
         "created_at) VALUES (:r, :m, :s, :t, :b, :n, :c)",
      soci::use(mail.ref), soci::use(id), soci::use(mail.from), soci::use(to), soci::use(message),
      soci::use(at), soci::use(created);
  if (g_on_queued) db::AfterCommit(sql, g_on_queued);
  return id;
}

std::vector<std::string> SentFor(soci::session& sql, const std::string& ref) {
  std::vector<std::string> out;
  soci::rowset<std::string> rs =
      (sql.prepare << "SELECT message_id FROM mail_outbox WHERE ref = :r ORDER BY id",
       soci::use(ref));
  for (const auto& id : rs) out.push_back(id);
  return out;
}

std::optional<std::string> RefOf(soci::session& sql, const std::string& message_id) {
  soci::rowset<std::string> rs =
      (sql.prepare << "SELECT ref FROM mail_outbox WHERE message_id = :m", soci::use(message_id));
  for (const auto& r : rs) return r;
  return std::nullopt;
}

std::string SendDue(db::Database& db, const SecretBox& secrets, int64_t now) {
  struct Due {
    long long id, attempts;
    std::string sender, recipients, message;
  };
  std::vector<Due> due;
  smtp::Server server;
  db.Read([&](soci::session& sql) {
    server.url = settings::Get(sql, "smtp_url").value_or("");
    if (server.url.empty()) return;
    if (auto sealed = settings::Get(sql, "smtp_password")) {
      server.password = secrets.Open(*sealed).value_or("");
    }
    long long at = now;
    soci::rowset<soci::row> rs =
        (sql.prepare << "SELECT id, attempts, sender, recipients, message FROM mail_outbox "
                        "WHERE status = 'queued' AND next_attempt_at <= :n ORDER BY id LIMIT 50",
         soci::use(at));
    for (const auto& r : rs) {
      due.push_back({db::RowInt(r, "id"), db::RowInt(r, "attempts"), db::RowText(r, "sender"),
                     db::RowText(r, "recipients"), db::RowText(r, "message")});
    }
  });
  if (server.url.empty() || due.empty()) return "";
  int sent = 0, failed = 0;
  for (const auto& d : due) {
    std::vector<std::string> to;
    size_t pos = 0;
    while (pos <= d.recipients.size()) {
      size_t comma = d.recipients.find(',', pos);
      if (comma == std::string::npos) comma = d.recipients.size();
      if (comma > pos) to.push_back(d.recipients.substr(pos, comma - pos));
      pos = comma + 1;
    }
    std::string error;
    try {
      smtp::Send(server, d.sender, to, d.message);
    } catch (const std::exception& e) {
      error = e.what();
    }
    std::string at = FormatIsoUtc(now);
    db.Write([&](soci::session& sql) {
      long long id = d.id;
      if (error.empty()) {
        sql << "UPDATE mail_outbox SET status = 'sent', sent_at = :a, attempts = attempts + 1 "
               "WHERE id = :id",
            soci::use(at), soci::use(id);
        ++sent;
        return;
      }
      long long attempts = d.attempts + 1;
      long long wait =
          std::min<long long>(60LL << std::min<long long>(attempts - 1, 9), 6LL * 3600);
      long long next = now + wait;
      std::string status = attempts >= 20 ? "failed" : "queued";
      sql << "UPDATE mail_outbox SET attempts = :a, next_attempt_at = :n, last_error = :e, "
             "status = :s WHERE id = :id",
          soci::use(attempts), soci::use(next), soci::use(error), soci::use(status), soci::use(id);
      ++failed;
    });
  }
  return std::to_string(sent) + " mails sent, " + std::to_string(failed) + " to retry";
}

}  // namespace opsmerge::outbox
