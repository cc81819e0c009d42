#include "platform/crypto.h"

#include <set>

#include <gtest/gtest.h>

namespace opsmerge::crypto {
namespace {

class Crypto : public ::testing::Test {
 protected:
  void SetUp() override { InitCrypto(); }
};

TEST_F(Crypto, TokensAreRandomAndAtLeast128Bits) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(RandomToken(16));
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(RandomToken(32).size(), 43u) << "256 bits in URL-safe base64";
  EXPECT_GE(RandomToken(1).size(), 22u) << "never below 128 bits";
  EXPECT_EQ(RandomToken().find_first_of("+/="), std::string::npos);
}

TEST_F(Crypto, TokenHashesAreStableAndDiffer) {
  EXPECT_EQ(HashToken("abc"), HashToken("abc"));
  EXPECT_NE(HashToken("abc"), HashToken("abd"));
  EXPECT_EQ(HashToken("abc").size(), 64u);
}

TEST_F(Crypto, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secrets"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST_F(Crypto, PasswordsUseArgon2id) {
  std::string hash = HashPassword("correct horse battery staple");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifyPassword("correct horse battery staple", hash));
  EXPECT_FALSE(VerifyPassword("correct horse battery stapler", hash));
  EXPECT_FALSE(VerifyPassword("x", ""));
  EXPECT_NE(HashPassword("same"), HashPassword("same")) << "salted";
}

}  // namespace
}  // namespace opsmerge::crypto

namespace opsmerge::crypto {
namespace {

TEST(Base64, MatchesRfc4648AndRoundTripsAnyBytes) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64(plain), encoded);
    EXPECT_EQ(FromBase64(encoded), plain);
  }
  std::string all;
  for (int i = 0; i < 256 * 3 + 1; ++i) all += static_cast<char>(i * 7 % 256);
  for (size_t n = 0; n < all.size(); n += 37) {
    EXPECT_EQ(FromBase64(Base64(all.substr(0, n))), all.substr(0, n));
  }
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zm9v!A==", "Zg==Zg==", "=Zg="}) {
    EXPECT_THROW(FromBase64(bad), std::invalid_argument) << bad;
  }
}

}  // namespace
}  // namespace opsmerge::crypto
