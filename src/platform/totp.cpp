#include "platform/totp.h"

#include <array>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <qrencode.h>

#include "platform/crypto.h"
#include "platform/http/request.h"

namespace opsmerge::totp {

namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string Hotp(const std::string& key, uint64_t counter) {
  std::array<unsigned char, 8> message{};
  for (int i = 7; i >= 0; --i) {
    message[static_cast<size_t>(i)] = static_cast<unsigned char>(counter & 0xff);
    counter >>= 8;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_length = 0;
  if (HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), message.data(), message.size(),
           mac.data(), &mac_length) == nullptr ||
      mac_length != 20) {
    throw std::runtime_error("HMAC-SHA1 failed");
  }
  // RFC 4226 5.3, dynamic truncation.
  size_t offset = mac[19] & 0x0f;
  uint32_t binary = (static_cast<uint32_t>(mac[offset] & 0x7f) << 24) |
                    (static_cast<uint32_t>(mac[offset + 1]) << 16) |
                    (static_cast<uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  std::string code = std::to_string(binary % 1000000);
  return std::string(6 - code.size(), '0') + code;
}

}  // namespace

std::string Base32Encode(std::string_view bytes) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::optional<std::string> Base32Decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char raw : text) {
    if (raw == ' ' || raw == '=' || raw == '-') continue;
    char c = (raw >= 'a' && raw <= 'z') ? static_cast<char>(raw - 'a' + 'A') : raw;
    size_t value = kAlphabet.find(c);
    if (value == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      out += static_cast<char>((buffer >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return out;
}

std::string NewSecret() { return Base32Encode(crypto::RandomBytes(20)); }

std::string CodeAt(const std::string& secret_base32, int64_t step) {
  auto key = Base32Decode(secret_base32);
  if (!key || key->empty()) throw std::invalid_argument("not a base32 secret");
  return Hotp(*key, static_cast<uint64_t>(step));
}

std::optional<int64_t> Match(const std::string& secret_base32, std::string_view code, int64_t now,
                             int64_t after_step, int skew) {
  std::string digits;
  for (char c : code) {
    if (c == ' ' || c == '-') continue;
    if (c < '0' || c > '9') return std::nullopt;
    digits += c;
  }
  if (digits.size() != 6) return std::nullopt;
  int64_t current = now / kStepSeconds;
  std::optional<int64_t> found;
  // Every candidate is computed and compared, so timing says nothing about which.
  for (int64_t step = current - skew; step <= current + skew; ++step) {
    bool same = crypto::ConstantTimeEquals(CodeAt(secret_base32, step), digits);
    if (same && step > after_step && !found) found = step;
  }
  return found;
}

std::string ProvisioningUri(const std::string& issuer, const std::string& account,
                            const std::string& secret_base32) {
  std::string label = http::UrlEncode(issuer) + ":" + http::UrlEncode(account);
  return "otpauth://totp/" + label + "?secret=" + secret_base32 +
         "&issuer=" + http::UrlEncode(issuer) + "&algorithm=SHA1&digits=6&period=30";
}

std::string QrSvg(const std::string& text) {
  std::unique_ptr<QRcode, decltype(&QRcode_free)> qr(
      QRcode_encodeString8bit(text.c_str(), 0, QR_ECLEVEL_M), &QRcode_free);
  if (!qr) throw std::runtime_error("QR encoding failed");
  const int width = qr->width, quiet = 4, size = width + 2 * quiet;
  std::string path;
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      if (qr->data[y * width + x] & 1) {
        path += "M" + std::to_string(x + quiet) + " " + std::to_string(y + quiet) + "h1v1h-1z";
      }
    }
  }
  std::string n = std::to_string(size);
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + n + " " + n +
         "\" width=\"200\" height=\"200\" shape-rendering=\"crispEdges\"><rect width=\"" + n +
         "\" height=\"" + n + "\" fill=\"#fff\"/><path fill=\"#000\" d=\"" + path + "\"/></svg>";
}

std::string QrDataUri(const std::string& text) {
  std::string svg = QrSvg(text);
  std::string encoded(4 * ((svg.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                          reinterpret_cast<const unsigned char*>(svg.data()),
                          static_cast<int>(svg.size()));
  encoded.resize(static_cast<size_t>(n));
  return "data:image/svg+xml;base64," + encoded;
}

}  // namespace opsmerge::totp
