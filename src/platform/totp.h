#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 6 digits,
// 30-second steps, the parameters every authenticator app uses by default.
namespace opsmerge::totp {

constexpr int64_t kStepSeconds = 30;

// RFC 4648 base32 (upper case, no padding), the form authenticator apps take.
std::string Base32Encode(std::string_view bytes);
// Accepts lower case, spaces and '=' padding; nullopt on any other character.
std::optional<std::string> Base32Decode(std::string_view text);

// A new random secret: 20 bytes (160 bits, RFC 4226's recommendation), base32.
std::string NewSecret();

// The code for one time step (unix time / 30) of a base32 secret, zero-padded.
std::string CodeAt(const std::string& secret_base32, int64_t step);

// The step a code matches, within `skew` steps either side of `now` (phone clocks
// drift), and only a step after `after_step`: a code once used (or any earlier
// one) is refused, so an observed code cannot be replayed. Codes are compared in
// constant time. nullopt when nothing matches.
std::optional<int64_t> Match(const std::string& secret_base32, std::string_view code, int64_t now,
                             int64_t after_step, int skew = 1);

// otpauth://totp/Issuer:account?secret=...&issuer=Issuer (the QR code's text).
std::string ProvisioningUri(const std::string& issuer, const std::string& account,
                            const std::string& secret_base32);

// The QR code of `text` as an SVG image (dark modules on white, with a quiet zone).
std::string QrSvg(const std::string& text);
// The same as a data: URI for an <img src> (the page's CSP allows data: images).
std::string QrDataUri(const std::string& text);

}  // namespace opsmerge::totp
