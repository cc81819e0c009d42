// The email gateway's pure rules: loop guard, subject tags, HTML to text,
// format=flowed, quoted history, file names, and the MIME parser on hand-made input.
#include <gtest/gtest.h>

#include "mail/mime.h"
#include "mail/model.h"

namespace opsmerge::mail {
namespace {

TEST(MailLoops, RobotsAreRecognisedAndPeopleAreNot) {
  Message m;
  m.from = {"jane@acme.example"};
  EXPECT_EQ(LoopReason(m), "");
  m.auto_submitted = "no";
  EXPECT_EQ(LoopReason(m), "");
  m.auto_submitted = "auto-generated; owner-email=x";
  EXPECT_EQ(LoopReason(m), "Auto-Submitted: auto-generated");
  m.auto_submitted.clear();
  for (const char* p : {"bulk", "junk", "list", " Bulk "}) {
    m.precedence = p;
    EXPECT_NE(LoopReason(m), "") << p;
  }
  m.precedence = "first-class";
  EXPECT_EQ(LoopReason(m), "");
  m.from = {"mailer-daemon@mx.example"};
  EXPECT_NE(LoopReason(m), "");
  m.from = {"postmaster@mx.example"};
  EXPECT_NE(LoopReason(m), "");
  m.from = {"jane@acme.example"};
  m.return_path = "<>";
  EXPECT_NE(LoopReason(m), "");
  m.return_path = "<jane@acme.example>";
  m.our_loop = true;
  EXPECT_NE(LoopReason(m), "");
}

TEST(MailSubject, TheTagIsTheFirstBracketedNumber) {
  EXPECT_EQ(SubjectTag("Re: [#12] Printer"), 12);
  EXPECT_EQ(SubjectTag("[#] x [#7]"), 7);
  EXPECT_EQ(SubjectTag("#12 Printer"), std::nullopt);
  EXPECT_EQ(SubjectTag("[#12 Printer"), std::nullopt);
  EXPECT_EQ(SubjectTag("[#99999999999999999999]"), std::nullopt);
  EXPECT_EQ(TicketSubject("  Hello\r\n  world "), "Hello world");
  EXPECT_EQ(TicketSubject(""), "(no subject)");
  EXPECT_EQ(TicketSubject(std::string(300, 'x')).size(), 200u);
}

TEST(MailText, HtmlBecomesTextWithoutScriptsOrHandlers) {
  EXPECT_EQ(HtmlToText("<p>Hi&nbsp;&amp; <b>bye</b></p><p>Two</p>"), "Hi & bye\n\nTwo");
  EXPECT_EQ(HtmlToText("a<script>alert(1)</script>b<style>x{}</style>c"), "abc");
  EXPECT_EQ(HtmlToText("<SCRIPT type=x>alert(1)</SCRIPT >ok"), "ok");
  EXPECT_EQ(HtmlToText("<img src=x onerror=alert(1)>"), "");
  EXPECT_EQ(HtmlToText("<a href=\"https://x.example/a\">site</a>"), "site <https://x.example/a>");
  EXPECT_EQ(HtmlToText("<a href=\"javascript:alert(1)\">click</a>"), "click");
  EXPECT_EQ(HtmlToText("<ul><li>a</li><li>b</li></ul>"), "- a\n- b");
  EXPECT_EQ(HtmlToText("x<!-- <script>alert(1)</script> -->y"), "xy");
  EXPECT_EQ(HtmlToText("&#8364;&#x20AC;&euro;&bogus;"), "€€€&bogus;");
  EXPECT_EQ(HtmlToText("unterminated <script"), "unterminated");
  EXPECT_EQ(HtmlToText("<script>never closed"), "");
}

TEST(MailText, FlowedLinesJoinAndQuotedHistoryIsTrimmed) {
  EXPECT_EQ(Unflow("one \ntwo\n\nthree", false), "one two\n\nthree");
  EXPECT_EQ(Unflow("ab  \ncd", true), "ab cd");
  EXPECT_EQ(Unflow(" From here", false), "From here");
  EXPECT_EQ(Unflow("-- \nsig", false), "-- \nsig");

  EXPECT_EQ(TrimQuoted("Thanks!\n\nOn Mon, 1 Dec 2026 at 10:00, Bob <b@x> wrote:\n> old"),
            "Thanks!");
  EXPECT_EQ(TrimQuoted("Thanks!\nOn Mon, 1 Dec 2026 at 10:00, Bob Smith\n<b@x> wrote:\n> old"),
            "Thanks!");
  EXPECT_EQ(TrimQuoted("Yes\n-----Original Message-----\nFrom: a\nSent: b\n"), "Yes");
  EXPECT_EQ(TrimQuoted("Yes\n\n________________________________\nFrom: Help\nSent: now\n"), "Yes");
  EXPECT_EQ(TrimQuoted("Yes\n\nFrom: Help <h@x>\nSent: Tuesday\nTo: me\n"), "Yes");
  EXPECT_EQ(TrimQuoted("Fine\n\n> quoted\n> more\n"), "Fine");
  EXPECT_EQ(TrimQuoted("> only a quote"), "> only a quote");  // nothing would be left
  EXPECT_EQ(TrimQuoted("I said:\n> a\nand then\n> b\nend"), "I said:\n> a\nand then\n> b\nend");
}

TEST(MailText, StoredTextAndNamesAreSafe) {
  EXPECT_EQ(CleanText("a\r\nb\rc\x01\x7f\xc2\x85"
                      "d\xff"),
            "a\nb\ncd\xEF\xBF\xBD");
  EXPECT_EQ(CleanText("a\n\n\n\n\nb"), "a\n\n\nb");
  EXPECT_EQ(SafeFilename("../../etc/passwd"), "passwd");
  EXPECT_EQ(SafeFilename("C:\\Users\\x\\evil.exe"), "evil.exe");
  EXPECT_EQ(SafeFilename("a\"b\r\n.txt"), "a_b_.txt");
  EXPECT_EQ(SafeFilename(".."), "attachment");
  EXPECT_EQ(SafeFilename(""), "attachment");
  EXPECT_EQ(SafeFilename(".htaccess"), "htaccess");
  EXPECT_EQ(SafeContentType("Text/HTML; charset=x"), "text/html");
  EXPECT_EQ(SafeContentType("text/html\r\nX: y"), "application/octet-stream");
  EXPECT_EQ(SafeContentType("nonsense"), "application/octet-stream");
}

TEST(MailParse, AddressesSubjectAndIdsAreRead) {
  Message m = ParseMessage(
      "From: \"Doe, Jane\" <Jane@Acme.Example>\r\nTo: a@x.example, b@y.example\r\n"
      "Cc: c@z.example\r\nSubject: =?utf-8?b?w6l0w6k=?=\r\nMessage-ID: <id1@acme.example>\r\n"
      "In-Reply-To: <p@msp.example>\r\nReferences: <r1@x> <r2@y>\r\n\r\nbody\r\n");
  EXPECT_EQ(m.message_id, "id1@acme.example");
  ASSERT_EQ(m.from.size(), 1u);
  EXPECT_EQ(m.from[0], "jane@acme.example");
  EXPECT_FALSE(m.from_malformed);
  EXPECT_EQ(m.from_name, "Doe, Jane");
  EXPECT_EQ(m.to_cc, (std::vector<std::string>{"a@x.example", "b@y.example", "c@z.example"}));
  EXPECT_EQ(m.subject, "été");
  EXPECT_EQ(m.in_reply_to, std::vector<std::string>{"p@msp.example"});
  EXPECT_EQ(m.references, (std::vector<std::string>{"r1@x", "r2@y"}));
  EXPECT_EQ(m.text, "body");

  EXPECT_TRUE(ParseMessage("From: a@x.example, b@x.example\n\nx").from_malformed);
  EXPECT_TRUE(ParseMessage("From: not an address\n\nx").from_malformed);
  EXPECT_TRUE(ParseMessage("Subject: no from\n\nx").from_malformed);
  EXPECT_TRUE(ParseMessage("From: group: a@x.example;\n\nx").from_malformed);
  EXPECT_THROW(ParseMessage(""), NotAMessage);
  EXPECT_THROW(ParseMessage("\x01\x02 garbage"), NotAMessage);
  EXPECT_THROW(ParseMessage("just some text\nmore"), NotAMessage);
}

TEST(MailParse, CapsLeaveOutWhatIsTooMuchAndSayWhat) {
  Limits limits;
  limits.max_attachments = 1;
  limits.max_attachment_bytes = 10;
  std::string raw =
      "From: a@x.example\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
      "--b\nContent-Type: text/plain\n\nhello\n"
      "--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; "
      "filename=small.bin\n\n12345\n"
      "--b\nContent-Type: application/octet-stream\nContent-Disposition: attachment; "
      "filename=second.bin\n\n12345\n"
      "--b--\n";
  Message m = ParseMessage(raw, limits);
  ASSERT_EQ(m.files.size(), 1u);
  EXPECT_EQ(m.files[0].filename, "small.bin");
  ASSERT_EQ(m.left_out.size(), 1u);
  EXPECT_NE(m.left_out[0].find("second.bin"), std::string::npos);
  EXPECT_EQ(m.text, "hello");
}

TEST(MailParse, AMessageOverTheSizeCapIsCutAndSaysSo) {
  Limits limits;
  limits.max_message_bytes = 200;
  std::string raw = "From: a@x.example\nSubject: big\n\n" + std::string(1000, 'x') + "\n";
  Message m = ParseMessage(raw, limits);
  EXPECT_EQ(m.subject, "big");
  EXPECT_LE(m.text.size(), 200u);
  ASSERT_EQ(m.left_out.size(), 1u);
  EXPECT_EQ(m.left_out[0], "everything after the first 200 bytes of the message");
}

TEST(MailParse, DerivedIdsIgnoreWhatRelaysChange) {
  std::string a = "Received: x\r\nFrom: a@x.example\r\nDate: d\r\nSubject: s\r\n\r\nbody\r\n";
  std::string b = "Received: y\nReceived: z\nFrom: a@x.example\nDate: d\nSubject: s\n\nbody\n";
  std::string c = "Received: y\nFrom: a@x.example\nDate: d\nSubject: s\n\nother body\n";
  EXPECT_EQ(DerivedMessageId(a), DerivedMessageId(b));
  EXPECT_NE(DerivedMessageId(a), DerivedMessageId(c));
}

}  // namespace
}  // namespace opsmerge::mail
