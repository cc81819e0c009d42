#pragma once

#include <string>
#include <string_view>

// Secrets, hashes and passwords, all through libsodium. Thread-safe once
// InitCrypto() has run (app/ calls it first thing in main).
namespace opsmerge::crypto {

void InitCrypto();

// A new random secret of `bytes` bytes (>= 16), URL-safe base64 without padding.
std::string RandomToken(size_t bytes = 32);

// `bytes` raw random bytes (for keys that are not shown as text, e.g. a TOTP secret).
std::string RandomBytes(size_t bytes);

// The form every issued secret (session, API key, setup token) is stored in:
// hex BLAKE2b-256 of the secret. Secrets are high-entropy, so no salt is needed.
std::string HashToken(std::string_view token);

// Equality that takes the same time wherever the first difference is.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// argon2id cost. The default is OWASP's guidance (64 MiB, 3 passes). Only the test
// build of the server lowers it (so hundreds of sign-ins in the test suite cost
// milliseconds); a hash records its own cost, so verifying is unaffected.
struct PasswordCost {
  unsigned long long passes = 3;
  size_t memory_bytes = 64ull * 1024 * 1024;
};
// Call once at start-up, before any thread hashes.
void SetPasswordCost(PasswordCost cost);

// argon2id in libsodium's encoded form (parameters and salt included). At most one
// hash per core runs at a time (callers beyond that wait), so a burst of sign-ins
// cannot take a gigabyte of memory.
std::string HashPassword(std::string_view password);
bool VerifyPassword(std::string_view password, const std::string& encoded);

// Standard base64 with padding (RFC 4648 section 4), for bytes kept in text
// columns; FromBase64 throws std::invalid_argument on anything else.
std::string Base64(std::string_view bytes);
std::string FromBase64(std::string_view text);

// Random hex, for request ids and other non-secret identifiers.
std::string RandomHex(size_t bytes);

}  // namespace opsmerge::crypto
