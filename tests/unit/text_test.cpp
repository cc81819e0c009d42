#include "platform/text.h"

#include <gtest/gtest.h>

namespace opsmerge::text {
namespace {

TEST(Domain, ValidNamesAreNormalised) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (const auto& c : std::vector<Case>{{"acmecorp.co.uk", "acmecorp.co.uk"},
                                         {"  AcmeCorp.CO.UK. ", "acmecorp.co.uk"},
                                         {"mail.acme-corp.com", "mail.acme-corp.com"},
                                         {"xn--bcher-kva.example", "xn--bcher-kva.example"},
                                         {"a1.io", "a1.io"},
                                         {"shop.xn--p1ai", "shop.xn--p1ai"}}) {
    auto d = NormalizeDomain(c.in);
    ASSERT_TRUE(d.has_value()) << c.in;
    EXPECT_EQ(*d, c.out);
  }
}

TEST(Domain, InvalidNamesAreRefused) {
  for (const char* in : {"", "localhost", "acme", ".acme.com", "acme..com", "-acme.com",
                         "acme-.com", "acme.c", "acme.123", "ac me.com", "acme.com/x",
                         "https://acme.com", "user@acme.com", "acme_corp.com"}) {
    EXPECT_FALSE(NormalizeDomain(in).has_value()) << in;
  }
  EXPECT_FALSE(NormalizeDomain(std::string(64, 'a') + ".com").has_value()) << "label over 63";
  std::string long_name;
  for (int i = 0; i < 51; ++i) long_name += "abcd.";
  EXPECT_FALSE(NormalizeDomain(long_name + "com").has_value()) << "over 253";
}

TEST(Email, AddressesAreValidatedAndTheDomainLowerCased) {
  EXPECT_EQ(NormalizeEmail(" Jo.Bloggs+it@AcmeCorp.CO.UK "), "Jo.Bloggs+it@acmecorp.co.uk");
  for (const char* bad : {"", "jo", "jo@", "@acme.com", "jo@acme", "jo@@acme.com",
                          "jo bloggs@acme.com", "jo@acme .com", ".jo@acme.com", "jo.@acme.com",
                          "jo..b@acme.com", "<jo@acme.com>", "jo@acme.com,x@y.com"}) {
    EXPECT_FALSE(NormalizeEmail(bad).has_value()) << bad;
  }
  EXPECT_FALSE(NormalizeEmail(std::string(65, 'a') + "@acme.com").has_value());
}

TEST(Text, WhiteSpaceAndCase) {
  EXPECT_EQ(CollapseWhitespace("  Acme \t  Corp\n Ltd  "), "Acme Corp Ltd");
  EXPECT_EQ(Trim("\n x y \t"), "x y");
  EXPECT_EQ(FoldCase("ÉCOLE Ünïon"), "école ünïon");
  EXPECT_TRUE(IsValidUtf8("£ café"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));
  EXPECT_EQ(Utf8Length("£5"), 2u);
  EXPECT_TRUE(HasControlCharacters(std::string("a\x01") + "b"));
  EXPECT_FALSE(HasControlCharacters("a\tb\r\n"));
}

}  // namespace
}  // namespace opsmerge::text
