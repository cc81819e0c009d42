#include <gtest/gtest.h>

#include "platform/clock.h"
#include "platform/errors.h"
#include "platform/http/multipart.h"
#include "platform/http/request.h"
#include "platform/http/router.h"

namespace opsmerge::http {
namespace {

TEST(UrlEncoded, ParsesPairsAndDecodes) {
  Pairs p = ParseUrlEncoded("name=Acme+Corp&domain=acme.com&ids=1&ids=2&bad=%zz&pct=100%25&empty");
  ASSERT_EQ(p.size(), 7u);
  EXPECT_EQ(p[0].second, "Acme Corp");
  EXPECT_EQ(p[2].second, "1");
  EXPECT_EQ(p[3].second, "2");
  EXPECT_EQ(p[4].second, "%zz");
  EXPECT_EQ(p[5].second, "100%");
  EXPECT_EQ(p[6].first, "empty");
  EXPECT_EQ(UrlEncode("a b/&é"), "a%20b%2F%26%C3%A9");
}

TEST(Cookies, ParseHeader) {
  auto c = ParseCookies("om_session=abc; om_pre=def;theme=dark");
  EXPECT_EQ(c["om_session"], "abc");
  EXPECT_EQ(c["om_pre"], "def");
  EXPECT_EQ(c["theme"], "dark");
}

TEST(Router, MatchesLiteralsBeforeCaptures) {
  Router r;
  r.Add("GET", "/clients/{id}", [](Request&) { return Response::Text("show"); });
  r.Add("GET", "/clients/duplicates", [](Request&) { return Response::Text("dupes"); });
  r.Add("POST", "/clients/{id}", [](Request&) { return Response::Text("update"); });
  Request req;
  auto m = r.Find("GET", "/clients/duplicates");
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->handler(req).body, "dupes");
  m = r.Find("GET", "/clients/42/");
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.params, std::vector<std::string>{"42"});
  m = r.Find("DELETE", "/clients/42");
  EXPECT_FALSE(m.route);
  EXPECT_TRUE(m.path_known) << "405, not 404";
  EXPECT_FALSE(r.Find("GET", "/clients/1/x").route);
}

TEST(Request, ParamIdRejectsNonIds) {
  Request req;
  for (const char* bad : {"abc", "-1", "0", "1.5", "", "99999999999999999999"}) {
    req.params = {bad};
    EXPECT_THROW(req.ParamId(0, "Client"), NotFound) << bad;
  }
  req.params = {"17"};
  EXPECT_EQ(req.ParamId(0, "Client"), 17);
}

}  // namespace
}  // namespace opsmerge::http

namespace opsmerge {
namespace {

TEST(Times, PagesShowTheMsPsTimeZone) {
  ASSERT_TRUE(SetDisplayTimeZone("Europe/London"));
  EXPECT_EQ(FormatForPeople(ParseIsoUtc("2026-11-25T06:55:00Z")), "25 Nov 2026 06:55 GMT");
  EXPECT_EQ(FormatForPeople(ParseIsoUtc("2026-07-01T12:00:00Z")), "01 Jul 2026 13:00 BST");
  EXPECT_FALSE(SetDisplayTimeZone("Mars/Olympus_Mons"));
  EXPECT_FALSE(SetDisplayTimeZone("../../etc/passwd"));
  EXPECT_EQ(ParseIsoUtc("not a time"), 0);
  EXPECT_EQ(FormatIsoUtc(ParseIsoUtc("2026-02-28T23:59:59Z")), "2026-02-28T23:59:59Z");
}

}  // namespace
}  // namespace opsmerge

#include "platform/http/target.h"
#include "platform/log.h"

namespace opsmerge::http {
namespace {

TEST(Target, DecodesThePathAndRefusesWhatMustNeverReachAHandler) {
  auto t = ParseTarget("/clients/a%20b?q=x%26y&n=1");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "/clients/a b");
  EXPECT_EQ(t->query, "q=x%26y&n=1") << "the query stays encoded for ParseUrlEncoded";
  EXPECT_EQ(ParseTarget("http://psa.example/healthz?x=1")->path, "/healthz");
  EXPECT_EQ(ParseTarget("http://psa.example")->path, "/");
  for (const char* bad : {"", "clients", "/a%0Ab", "/a%0d%0aSet-Cookie:x", "/%00", "/%zz", "/%4",
                          "/%ED%A0%80", "/%C0%80", "/%F5%80%80%80", "/a\x01"}) {
    EXPECT_FALSE(ParseTarget(bad)) << bad;
  }
}

TEST(Target, OnlyOurOwnVisiblePathsAreRedirectTargets) {
  for (const char* ok : {"/", "/clients", "/clients/5?q=acme&page=2", "/a%20b"}) {
    EXPECT_TRUE(IsLocalPath(ok)) << ok;
  }
  for (const char* bad : {"", "clients", "//evil.example", "/\\evil.example", "/\t/evil.example",
                          "/\r\nSet-Cookie: x=1", "https://evil.example", "/ space", "/é"}) {
    EXPECT_FALSE(IsLocalPath(bad)) << bad;
  }
}

TEST(Headers, ValuesWithLineBreaksAndBadNamesAreRefused) {
  EXPECT_TRUE(IsSafeHeaderValue("text/html; charset=utf-8"));
  EXPECT_FALSE(IsSafeHeaderValue("/\r\nSet-Cookie: x=1"));
  EXPECT_FALSE(IsSafeHeaderValue(std::string("a\0b", 3)));
  EXPECT_TRUE(IsToken("X-Request-Id"));
  EXPECT_FALSE(IsToken("Bad Name"));
  EXPECT_FALSE(IsToken("X:Y"));
}

TEST(Log, ControlCharactersCannotForgeALine) {
  EXPECT_EQ(log::Escape("GET /a\nINFO forged"), "GET /a\\x0aINFO forged");
  EXPECT_EQ(log::Escape("tab\there\x7f"), "tab\\x09here\\x7f");
  EXPECT_EQ(log::Escape("café"), "café");
}

TEST(Multipart, SplitsTextFieldsAndFilesAsABrowserSendsThem) {
  // As Chromium sends a form with two text fields, a file and an empty file input.
  std::string body =
      "------WebKitFormBoundaryX3b\r\n"
      "Content-Disposition: form-data; name=\"_csrf\"\r\n\r\n"
      "tok\r\n"
      "------WebKitFormBoundaryX3b\r\n"
      "Content-Disposition: form-data; name=\"subject\"\r\n\r\n"
      "Printer \xc3\xa9 broken\r\nsecond line\r\n"
      "------WebKitFormBoundaryX3b\r\n"
      "Content-Disposition: form-data; name=\"attachments\"; filename=\"scan 1.png\"\r\n"
      "Content-Type: image/png\r\n\r\n" +
      std::string("\x89PNG\r\n\x1a\n\0\0--", 12) +
      "\r\n"
      "------WebKitFormBoundaryX3b\r\n"
      "Content-Disposition: form-data; name=\"attachments\"; filename=\"\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n"
      "\r\n"
      "------WebKitFormBoundaryX3b--\r\n";
  Pairs form;
  std::vector<UploadedFile> files;
  ParseMultipartForm("multipart/form-data; boundary=----WebKitFormBoundaryX3b", body, form, files);
  ASSERT_EQ(form.size(), 2u);
  EXPECT_EQ(form[0], (std::pair<std::string, std::string>{"_csrf", "tok"}));
  EXPECT_EQ(form[1].second, "Printer \xc3\xa9 broken\r\nsecond line");
  ASSERT_EQ(files.size(), 1u) << "an empty file input sends no file";
  EXPECT_EQ(files[0].field, "attachments");
  EXPECT_EQ(files[0].filename, "scan 1.png");
  EXPECT_EQ(files[0].content_type, "image/png");
  EXPECT_EQ(files[0].content, std::string("\x89PNG\r\n\x1a\n\0\0--", 12)) << "binary intact";
}

TEST(Multipart, MalformedBodiesAreAnErrorOnTheFormAndAddNothing) {
  Pairs form;
  std::vector<UploadedFile> files;
  const std::string type = "multipart/form-data; boundary=b";
  for (const std::string& body :
       {std::string("no boundary here"),
        std::string("--b\r\nContent-Disposition: form-data; "
                    "name=\"a\"\r\n\r\nnever closed"),
        "--b\r\n" + std::string(20000, 'h') + ": x\r\n\r\nv\r\n--b--\r\n"}) {
    try {
      ParseMultipartForm(type, body, form, files);
      ADD_FAILURE() << "accepted: " << body.substr(0, 40);
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), "form");
    }
  }
  EXPECT_THROW(ParseMultipartForm("multipart/form-data", "--b--\r\n", form, files), ValidationError)
      << "no boundary named";
  std::string many;
  for (int i = 0; i < 5; ++i)
    many += "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n1\r\n";
  many += "--b--\r\n";
  EXPECT_THROW(ParseMultipartForm(type, many, form, files, 4), ValidationError) << "too many parts";
  EXPECT_TRUE(form.empty());
  EXPECT_TRUE(files.empty());
}

}  // namespace
}  // namespace opsmerge::http
