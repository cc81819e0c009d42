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

TEST(Domain, PastedAddressesAreCleanedToTheirDomain) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"https://www.AcmeCorp.co.uk/", "acmecorp.co.uk"},
      {"http://acme.com/contact?x=1#top", "acme.com"},
      {"  www.acme.com  ", "acme.com"},
      {"https://user:pw@portal.acme.com:8443/login", "portal.acme.com"},
      {"jane@Acme.com", "acme.com"},
      {"www.example", "www.example"},  // nothing left to be a domain without it
      {"acme.com.", "acme.com"},
  };
  for (const auto& c : cases) {
    auto d = DomainFromPasted(c.in);
    ASSERT_TRUE(d.has_value()) << c.in;
    EXPECT_EQ(*d, c.out) << c.in;
  }
  for (const char* in : {"https://", "https://localhost/", "not a domain", "www.", "http://1/"}) {
    EXPECT_FALSE(DomainFromPasted(in).has_value()) << in;
  }
}

TEST(Email, PastedAddressesAreCleaned) {
  EXPECT_EQ(EmailFromPasted("Jane Doe <jane@acme.com>"), "jane@acme.com");
  EXPECT_EQ(EmailFromPasted("mailto:Jane@Acme.com?subject=Hi"), "Jane@Acme.com");
  EXPECT_EQ(EmailFromPasted(" MAILTO:it@acme.com "), "it@acme.com");
  EXPECT_EQ(NormalizeEmail(EmailFromPasted("\"Doe, Jane\" <Jane@ACME.com>")), "Jane@acme.com");
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

TEST(Text, Utf8IsCheckedStrictly) {
  struct Case {
    const char* bytes;
    bool valid;
    const char* what;
  };
  const Case cases[] = {
      {"plain ascii", true, "ASCII"},
      {"\xC2\xA3", true, "U+00A3 pound sign"},
      {"\xE2\x82\xAC", true, "U+20AC euro sign"},
      {"\xED\x9F\xBF", true, "U+D7FF, last before the surrogates"},
      {"\xEE\x80\x80", true, "U+E000, first after the surrogates"},
      {"\xF0\x9F\x98\x80", true, "U+1F600 emoji"},
      {"\xF4\x8F\xBF\xBF", true, "U+10FFFF, the last code point"},
      {"\xED\xA0\x80", false, "U+D800, a high surrogate"},
      {"\xED\xBF\xBF", false, "U+DFFF, a low surrogate"},
      {"\xC0\x80", false, "overlong NUL"},
      {"\xC1\xBF", false, "overlong two-byte"},
      {"\xE0\x80\x80", false, "overlong three-byte NUL"},
      {"\xE0\x9F\xBF", false, "overlong three-byte"},
      {"\xF0\x80\x80\x80", false, "overlong four-byte"},
      {"\xF4\x90\x80\x80", false, "U+110000, above the last code point"},
      {"\xF5\x80\x80\x80", false, "lead byte F5"},
      {"\xFF", false, "byte FF"},
      {"\x80", false, "a lone continuation byte"},
      {"\xE2\x82", false, "truncated"},
      {"\xE2\x28\xA1", false, "bad continuation"},
  };
  for (const Case& c : cases) EXPECT_EQ(IsValidUtf8(c.bytes), c.valid) << c.what;
}

}  // namespace
}  // namespace opsmerge::text
