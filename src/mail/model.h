#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The email gateway's pure rules (E1-E4): what a parsed message is, the loop
// guard, the subject tag, and turning mail text into what a technician reads.
// No I/O; unit tests reach every rule here.
namespace opsmerge::mail {

// Caps on what one message may bring in. A message over a cap still becomes a
// ticket; what was left out is noted on it.
struct Limits {
  size_t max_message_bytes = 50u << 20;     // beyond this the raw input is cut
  size_t max_attachment_bytes = 20u << 20;  // one file
  size_t max_total_attachment_bytes = 40u << 20;
  size_t max_attachments = 50;
  int max_depth = 20;                   // MIME nesting
  size_t max_text_characters = 100000;  // a ticket entry's limit
};

struct File {
  std::string filename;  // safe: SafeFilename
  std::string content_type;
  std::string content;
};

// One message as the gateway sees it: addresses lower-cased and checked, text in
// UTF-8. Built by ParseMessage (mime.h).
struct Message {
  std::string message_id;          // without angle brackets; "" when it had none
  std::vector<std::string> from;   // every address the From names (valid ones)
  bool from_malformed = false;     // a From that is not exactly one valid mailbox
  std::string from_name;           // the display name of a single From
  std::string from_header;         // the From as written, cleaned, for people to read
  std::vector<std::string> to_cc;  // every valid address in To and Cc
  std::string subject;
  std::vector<std::string> in_reply_to;
  std::vector<std::string> references;
  // Loop-guard headers, as written (lower-cased), "" when absent.
  std::string auto_submitted, precedence, list_id, return_path;
  bool x_autoreply = false;  // X-Autoreply or X-Autorespond present
  bool our_loop = false;     // our X-OpsMerge-Loop header present
  // A delivery report (multipart/report; report-type=delivery-status): the
  // Message-ID of the message it reports on, and the report's human text.
  bool is_dsn = false;
  std::string dsn_original_id;
  std::string dsn_text;
  std::string text;  // the readable body: text/plain, else HTML turned into text
  std::vector<File> files;
  std::vector<std::string> left_out;  // what a cap or damage left out
};

// E4: why a message must get neither a ticket nor a reply, or "" when it may.
// (Delivery reports are handled before this: they become notes.)
std::string LoopReason(const Message& m);

// E3: the N of the first "[#N]" in a subject.
std::optional<int64_t> SubjectTag(std::string_view subject);

// A subject as a ticket keeps it: one line, no "Re:"/"Fwd:"/tag clutter kept as
// is (people recognise it), 1-200 characters; "(no subject)" when empty.
std::string TicketSubject(std::string_view subject);

// HTML mail as plain text: block elements become line breaks, list items "- ",
// links keep their address when it differs from their text; script, style and
// head content, comments and every tag and attribute are dropped; entities decoded.
std::string HtmlToText(std::string_view html);

// RFC 3676 format=flowed: soft line breaks joined, space-stuffing removed.
std::string Unflow(std::string_view text, bool delsp);

// Quoted history in a reply cut off: "On ... wrote:" (Gmail, Apple Mail, and a
// few other languages), Outlook's "-----Original Message-----" and "From: / Sent:"
// blocks, and a trailing run of "> " lines. Returns the text unchanged when the cut
// would leave nothing.
std::string TrimQuoted(std::string_view text);

// Text safe to store and show: valid UTF-8 (bad bytes replaced), CRLF as LF, no
// control characters but tab and newline, trailing spaces and runs of more than
// two blank lines dropped, trimmed.
std::string CleanText(std::string_view text);

// A file name safe to store and offer: the last path part only (no '/' or '\\'),
// no control characters or quotes, not empty or a dot name, at most 150
// characters; "attachment" when nothing usable is left.
std::string SafeFilename(std::string_view name);
// "type/subtype" in lower case when it is one, else "application/octet-stream".
std::string SafeContentType(std::string_view type);

// A stable id for a message without a Message-ID: a hash of what a relay does not
// change (the From, Date and Subject as written, and the body), so a copy that came
// through a backup MX with more Received lines is the same message.
std::string DerivedMessageId(std::string_view raw);

}  // namespace opsmerge::mail
