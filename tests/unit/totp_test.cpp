// Two-factor codes as authenticator apps compute them (RFC 6238 with SHA-1).
#include "platform/totp.h"

#include <gtest/gtest.h>

namespace opsmerge::totp {
namespace {

// RFC 6238 appendix B's key, "12345678901234567890", as apps take it.
const std::string kRfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

TEST(Totp, MatchesTheRfc6238TestVectors) {
  EXPECT_EQ(Base32Encode("12345678901234567890"), kRfcSecret);
  // The RFC's 8-digit values, of which apps show the last six.
  EXPECT_EQ(CodeAt(kRfcSecret, 59 / 30), "287082");
  EXPECT_EQ(CodeAt(kRfcSecret, 1111111109 / 30), "081804");
  EXPECT_EQ(CodeAt(kRfcSecret, 1111111111 / 30), "050471");
  EXPECT_EQ(CodeAt(kRfcSecret, 1234567890 / 30), "005924");
  EXPECT_EQ(CodeAt(kRfcSecret, 2000000000 / 30), "279037");
  EXPECT_EQ(CodeAt(kRfcSecret, 20000000000 / 30), "353130");
}

TEST(Totp, Base32RoundTripsAndForgivesHowPeopleTypeIt) {
  for (std::string bytes : {std::string(""), std::string("f"), std::string("fo"),
                            std::string("foobar"), std::string("\x00\xff\x10", 3)}) {
    EXPECT_EQ(Base32Decode(Base32Encode(bytes)), bytes);
  }
  EXPECT_EQ(Base32Decode("gezd gnbv gy3t qojq gezd gnbv gy3t qojq"), "12345678901234567890");
  EXPECT_FALSE(Base32Decode("GEZD1"));  // '1' is not in the alphabet
  EXPECT_EQ(NewSecret().size(), 32u) << "160 bits";
  EXPECT_NE(NewSecret(), NewSecret());
}

TEST(Totp, AcceptsOneStepOfClockSkewEitherSideAndNoMore) {
  const int64_t now = 1111111111;  // step 37037037
  const int64_t step = now / 30;
  EXPECT_EQ(Match(kRfcSecret, CodeAt(kRfcSecret, step), now, 0), step);
  EXPECT_EQ(Match(kRfcSecret, CodeAt(kRfcSecret, step - 1), now, 0), step - 1) << "phone 30 s slow";
  EXPECT_EQ(Match(kRfcSecret, CodeAt(kRfcSecret, step + 1), now, 0), step + 1) << "phone 30 s fast";
  EXPECT_FALSE(Match(kRfcSecret, CodeAt(kRfcSecret, step - 2), now, 0)) << "a minute old";
  EXPECT_FALSE(Match(kRfcSecret, CodeAt(kRfcSecret, step + 2), now, 0));
  EXPECT_EQ(Match(kRfcSecret, "050 471", now, 0), step) << "spaces as apps show them";
  EXPECT_FALSE(Match(kRfcSecret, "05047", now, 0));
  EXPECT_FALSE(Match(kRfcSecret, "0504710", now, 0));
  EXPECT_FALSE(Match(kRfcSecret, "05047a", now, 0));
}

TEST(Totp, ACodeOnceUsedOrOlderIsRefused) {
  const int64_t now = 1111111111, step = now / 30;
  std::string code = CodeAt(kRfcSecret, step);
  EXPECT_FALSE(Match(kRfcSecret, code, now, step)) << "replay of the same step";
  EXPECT_FALSE(Match(kRfcSecret, CodeAt(kRfcSecret, step - 1), now, step)) << "an older step";
  EXPECT_EQ(Match(kRfcSecret, CodeAt(kRfcSecret, step + 1), now, step), step + 1);
}

TEST(Totp, TheQrCodeCarriesTheProvisioningUri) {
  std::string uri = ProvisioningUri("OpsMerge", "jane@msp.example", kRfcSecret);
  EXPECT_EQ(uri, "otpauth://totp/OpsMerge:jane%40msp.example?secret=" + kRfcSecret +
                     "&issuer=OpsMerge&algorithm=SHA1&digits=6&period=30");
  std::string svg = QrSvg(uri);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("h1v1h-1z"), std::string::npos) << "dark modules drawn";
  EXPECT_EQ(QrDataUri(uri).rfind("data:image/svg+xml;base64,", 0), 0u);
}

}  // namespace
}  // namespace opsmerge::totp
