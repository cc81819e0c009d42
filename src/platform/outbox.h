#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace soci {
class session;
}

namespace opsmerge {
class SecretBox;
namespace db {
class Database;
}
}  // namespace opsmerge

// The outbound mail queue: a message is written in the caller's transaction (so a
// reply and its email commit together) and sent later by the scheduler over SMTP
// (settings smtp_url, smtp_password), retried with backoff, never lost across
// restarts or nodes. Every message carries our Message-ID, which threading looks up
// to know a reply answers mail we really sent.
namespace opsmerge::outbox {

// A file sent with a message (an invoice's PDF).
struct File {
  std::string filename;  // sent as ASCII letters, digits, '.', '-', '_' (others become '_')
  std::string content_type;
  std::string content;
};

struct Mail {
  std::string from;  // settings mail_from
  std::vector<std::string> to;
  std::string subject;  // one line; non-ASCII is encoded (RFC 2047)
  std::string body;     // plain text
  std::string in_reply_to;
  std::vector<std::string> references;
  bool auto_reply = false;        // an acknowledgement: Auto-Submitted: auto-replied
  std::string ref;                // what it belongs to ("ticket:12"), for threading
  std::vector<File> attachments;  // none: a plain text message; else multipart/mixed
};

// The default templates (settings "ack_template", "reply_template"): text with
// {{name}} placeholders.
inline constexpr const char* kAckTemplate =
    "Hello {{name}},\n\nThank you for your message. We have opened ticket #{{number}} "
    "({{subject}}) and will be in touch soon.\n\nPlease keep [#{{number}}] in the subject "
    "when you write to us about it.\n";
inline constexpr const char* kReplyTemplate =
    "{{body}}\n\n-- \n{{technician}}, ticket #{{number}}\n";
// `tpl` with each {{key}} of `values` replaced (no nesting; unknown keys stay).
std::string Fill(const std::string& tpl, const std::map<std::string, std::string>& values);

// The message as sent (RFC 5322, CRLF, quoted-printable UTF-8 body); `now` is the
// Date. Header values never hold CR or LF from input.
std::string Build(const Mail& mail, const std::string& message_id, int64_t now);

// Queues `mail`; returns its Message-ID ("<hex@domain of from>"). Once the
// transaction commits, the OnQueued notice runs.
std::string Enqueue(soci::session& sql, const Mail& mail, int64_t now);

// What runs after each commit that queued mail: the server asks its scheduler to
// send now rather than at the mail job's next period. Set once at start-up before
// any thread queues mail, and cleared after they have all stopped; unset (a
// command-line run), queued mail waits for a server's next pass.
void OnQueued(std::function<void()> notice);

// The Message-IDs queued for `ref`, oldest first (a reply's References).
std::vector<std::string> SentFor(soci::session& sql, const std::string& ref);
// The ref of a Message-ID we queued, if we did.
std::optional<std::string> RefOf(soci::session& sql, const std::string& message_id);

// The scheduler's job: sends up to 50 due messages, each outside any transaction,
// then marks it sent, or schedules a retry (1 min doubling to 6 h; failed after 20
// attempts). Does nothing while smtp_url is unset. Returns a line for the log, ""
// when there was nothing to send.
std::string SendDue(db::Database& db, const SecretBox& secrets, int64_t now);

}  // namespace opsmerge::outbox
