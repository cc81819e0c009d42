#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

// Reads a mailbox over IMAP with libcurl: imap:// (STARTTLS when offered) or
// imaps://, certificates verified, one connection kept for the client's life.
// Throws std::runtime_error with the server's or libcurl's reason. Not
// thread-safe: one client per poll.
namespace opsmerge::imap {

struct Mailbox {
  std::string url;  // "imap://user@host:143/INBOX" (no password; mailbox INBOX if none)
  std::string password;
};

class Client {
 public:
  explicit Client(const Mailbox& mailbox);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The mailbox's UIDVALIDITY (UIDs are only comparable while it stays the same).
  int64_t UidValidity();
  // UIDs matching an IMAP search ("UNSEEN", "UID 10:*"), ascending.
  std::vector<int64_t> Search(const std::string& criteria);
  // The whole message with this UID (the server marks it \Seen as it sends it).
  std::string Fetch(int64_t uid);
  // Sets (`on`) or clears the \Seen flag of messages (one command).
  void SetSeen(const std::vector<int64_t>& uids, bool on);

 private:
  std::string Custom(const std::string& command);
  std::string Perform(const std::string& url, const std::string& command);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace opsmerge::imap
