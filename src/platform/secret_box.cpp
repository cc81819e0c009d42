#include "platform/secret_box.h"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <sodium.h>
#include <sys/stat.h>

namespace opsmerge {

namespace {

std::string ToHex(const std::string& bytes) {
  std::string out(bytes.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                 bytes.size());
  out.pop_back();
  return out;
}

}  // namespace

SecretBox SecretBox::FromKey(std::string key) {
  if (key.size() != crypto_secretbox_KEYBYTES)
    throw std::runtime_error("secret key must be 32 bytes");
  return SecretBox(std::move(key));
}

SecretBox SecretBox::Load(const std::string& data_dir) {
  const char* env = std::getenv("OPSMERGE_SECRET_KEY_FILE");
  std::string path = env && *env ? env : data_dir + "/secret.key";
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (env && *env)
      throw std::runtime_error("OPSMERGE_SECRET_KEY_FILE " + path + " does not exist");
    std::string key(crypto_secretbox_KEYBYTES, '\0');
    randombytes_buf(key.data(), key.size());
    mkdir(data_dir.c_str(), 0700);  // with --database the data directory may be new
    mode_t old = umask(077);
    {
      std::ofstream out(path, std::ios::trunc);
      out << ToHex(key) << "\n";
      if (!out) {
        umask(old);
        throw std::runtime_error("cannot write the secret key file " + path);
      }
    }
    umask(old);
    chmod(path.c_str(), 0600);
    return SecretBox(std::move(key));
  }
  if ((st.st_mode & 077) != 0) {
    throw std::runtime_error("the secret key file " + path +
                             " is readable by other users: chmod 600 it");
  }
  std::ifstream in(path);
  std::string hex;
  in >> hex;
  std::string key(crypto_secretbox_KEYBYTES, '\0');
  size_t len = 0;
  if (hex.size() != size_t{2} * crypto_secretbox_KEYBYTES ||
      sodium_hex2bin(reinterpret_cast<unsigned char*>(key.data()), key.size(), hex.data(),
                     hex.size(), nullptr, &len, nullptr) != 0 ||
      len != key.size()) {
    throw std::runtime_error("the secret key file " + path + " must hold 64 hex digits");
  }
  return SecretBox(std::move(key));
}

std::string SecretBox::Seal(std::string_view plaintext) const {
  std::string box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                        nonce, reinterpret_cast<const unsigned char*>(key_.data()));
  std::string b64(sodium_base64_ENCODED_LEN(box.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), reinterpret_cast<const unsigned char*>(box.data()),
                    box.size(), sodium_base64_VARIANT_ORIGINAL);
  b64.resize(std::char_traits<char>::length(b64.c_str()));
  return "v1:" + b64;
}

std::optional<std::string> SecretBox::Open(std::string_view sealed) const {
  if (sealed.substr(0, 3) != "v1:") return std::nullopt;
  sealed.remove_prefix(3);
  std::string box(sealed.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(box.data()), box.size(), sealed.data(),
                        sealed.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES) {
    return std::nullopt;
  }
  box.resize(len);
  const auto* nonce = reinterpret_cast<const unsigned char*>(box.data());
  std::string plain(len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()),
                                 nonce + crypto_secretbox_NONCEBYTES,
                                 len - crypto_secretbox_NONCEBYTES, nonce,
                                 reinterpret_cast<const unsigned char*>(key_.data())) != 0) {
    return std::nullopt;
  }
  return plain;
}

}  // namespace opsmerge
