#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Reads a mailbox over IMAP. libcurl makes the connection and signs in (imap://
// with STARTTLS when offered, or imaps://; certificates verified; its SASL
// mechanisms); the commands after that are ours, so that many messages come in one
// command (libcurl's own IMAP commands fetch one message per round trip, and drop
// the literals of any other command's answer). Throws std::runtime_error with the server's or
// libcurl's reason. Not thread-safe: one client per poll.
namespace opsmerge::imap {

struct Mailbox {
  std::string url;  // "imap://user@host:143/INBOX" (no password; mailbox INBOX if none)
  std::string password;
};

// One response from the server: its line(s), and the literals ({N} then N bytes)
// it carried, in order. `text` keeps each literal's "{N}" marker where it stood
// and none of its bytes, so nothing a message says can look like protocol.
struct Response {
  std::string text;
  std::vector<std::string> literals;
};

// Splits what the server sends into responses. Pure; fuzzed. Throws
// std::runtime_error for a literal over `max_literal` bytes or a line over
// `max_line` bytes (a server gone wrong must not take the memory with it).
class ResponseReader {
 public:
  explicit ResponseReader(size_t max_literal, size_t max_line = 16u << 20)
      : max_literal_(max_literal), max_line_(max_line) {}
  void Feed(std::string_view data);
  void set_max_literal(size_t bytes) { max_literal_ = bytes; }
  // The next complete response, or nothing until more is fed.
  std::optional<Response> Next();

 private:
  size_t max_literal_;
  size_t max_line_;
  std::string buf_;
  size_t pos_ = 0;
  Response partial_;
  std::optional<size_t> literal_;  // bytes of the literal being read
};

// What one "* n FETCH (...)" response says, for the items we ask for.
struct Fetched {
  std::optional<int64_t> uid;
  std::optional<int64_t> size;      // RFC822.SIZE
  std::optional<std::string> body;  // BODY[] or BODY[]<0>
};
// Parses an untagged FETCH response; nothing when `r` is not one. Pure; fuzzed.
std::optional<Fetched> ParseFetch(const Response& r);

// "1:3,7,9:10" for ascending UIDs.
std::string UidSet(const std::vector<int64_t>& uids);

class Client {
 public:
  // Connects and signs in.
  explicit Client(const Mailbox& mailbox);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Selects the mailbox and returns its UIDVALIDITY (UIDs are only comparable
  // while it stays the same).
  int64_t UidValidity();
  // UIDs matching an IMAP search ("UNSEEN", "UID 10:*"), ascending.
  std::vector<int64_t> Search(const std::string& criteria);
  // The size in bytes of each message that still exists.
  std::map<int64_t, int64_t> Sizes(const std::vector<int64_t>& uids);
  // These messages (one command), at most `max_bytes` of each, by UID; a message
  // deleted meanwhile is missing. They are not marked \Seen (see SetSeen).
  std::map<int64_t, std::string> Fetch(const std::vector<int64_t>& uids, size_t max_bytes);
  // Sets (`on`) or clears the \Seen flag of messages (one command).
  void SetSeen(const std::vector<int64_t>& uids, bool on);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsmerge::imap
