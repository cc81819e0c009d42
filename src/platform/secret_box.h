#pragma once

#include <optional>
#include <string>
#include <string_view>

// Secrets kept in the database (SMTP and IMAP passwords, later API credentials),
// encrypted at rest with libsodium's secretbox (XSalsa20-Poly1305) under a key
// that lives outside the database: `secret.key` in the data directory (created,
// mode 0600, on first start) or the file OPSMERGE_SECRET_KEY_FILE names. Every node
// of one installation needs the same key file. Thread-safe after construction.
namespace opsmerge {

class SecretBox {
 public:
  // Reads (or creates) the key. Throws std::runtime_error naming the file when it
  // cannot be read, is not 64 hex digits, or is readable by other users.
  static SecretBox Load(const std::string& data_dir);
  // From a raw 32-byte key (tests).
  static SecretBox FromKey(std::string key);

  // "v1:" + base64 of nonce and ciphertext; a fresh nonce each time.
  std::string Seal(std::string_view plaintext) const;
  // nullopt when `sealed` was not made by this key (or was tampered with).
  std::optional<std::string> Open(std::string_view sealed) const;

 private:
  explicit SecretBox(std::string key) : key_(std::move(key)) {}
  std::string key_;
};

}  // namespace opsmerge
