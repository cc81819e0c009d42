#pragma once

#include <string>
#include <string_view>

// Secrets, hashes and passwords, all through libsodium. Thread-safe once
// InitCrypto() has run (app/ calls it first thing in main).
namespace opsmerge::crypto {

void InitCrypto();

// A new random secret of `bytes` bytes (>= 16), URL-safe base64 without padding.
std::string RandomToken(size_t bytes = 32);

// The form every issued secret (session, API key, setup token) is stored in:
// hex BLAKE2b-256 of the secret. Secrets are high-entropy, so no salt is needed.
std::string HashToken(std::string_view token);

// Equality that takes the same time wherever the first difference is.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// argon2id in libsodium's encoded form (parameters and salt included).
std::string HashPassword(std::string_view password);
bool VerifyPassword(std::string_view password, const std::string& encoded);

// Random hex, for request ids and other non-secret identifiers.
std::string RandomHex(size_t bytes);

}  // namespace opsmerge::crypto
