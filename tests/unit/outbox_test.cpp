// The mail we send: no header can be made from what people typed, and what is not
// ASCII is encoded as mail readers expect.
#include "platform/outbox.h"

#include <gtest/gtest.h>

namespace opsmerge::outbox {
namespace {

TEST(Outbox, LineBreaksInWhatPeopleTypedNeverStartAHeader) {
  Mail m;
  m.from = "help@msp.example\r\nBcc: evil@attacker.example";
  m.to = {"jane@acme.example\nCc: evil@attacker.example"};
  m.subject = "Printer\r\nBcc: evil@attacker.example";
  m.in_reply_to = "<a@msp.example>\r\nX-Evil: 1";
  m.references = {"<a@msp.example>\nX-Evil: 2"};
  m.body = "Hello";
  std::string msg = Build(m, "<id@msp.example>", 1796202000);
  std::string headers = msg.substr(0, msg.find("\r\n\r\n"));
  for (const char* injected : {"\nBcc:", "\nCc:", "\nX-Evil:", "\rBcc:"}) {
    EXPECT_EQ(headers.find(injected), std::string::npos) << injected << "\n" << headers;
  }
  EXPECT_NE(headers.find("Subject: Printer  Bcc: evil@attacker.example\r\n"), std::string::npos);
  EXPECT_NE(headers.find("Date: Wed, 02 Dec 2026 09:00:00 +0000\r\n"), std::string::npos);
  EXPECT_NE(headers.find("X-Auto-Response-Suppress: All\r\n"), std::string::npos);
  EXPECT_EQ(headers.find("Auto-Submitted"), std::string::npos) << "a person's reply";
  m.auto_reply = true;
  EXPECT_NE(Build(m, "<id@msp.example>", 0).find("Auto-Submitted: auto-replied\r\n"),
            std::string::npos);
}

TEST(Outbox, AttachmentsTravelAsBase64PartsWhoseNamesAndTypesCannotBreakOut) {
  Mail m;
  m.from = "accounts@msp.example";
  m.to = {"jane@acme.example"};
  m.subject = "Invoice";
  m.body = "Attached.";
  m.attachments.push_back({"INV-000001.pdf", "application/pdf", std::string("%PDF-1.5\0\xff", 10)});
  m.attachments.push_back({"evil\"\r\nContent-Type: text/html.pdf", "text/html\r\nX-Evil: 1", "x"});
  std::string msg = Build(m, "<id@msp.example>", 1796202000);
  size_t at = msg.find("Content-Type: multipart/mixed; boundary=\"=_om_");
  ASSERT_NE(at, std::string::npos) << msg;
  size_t from = msg.find("boundary=\"", at) + 10;
  std::string boundary = msg.substr(from, msg.find('"', from) - from);
  EXPECT_EQ(boundary.size(), 29u) << boundary;
  EXPECT_NE(msg.find("Content-Type: application/pdf; name=\"INV-000001.pdf\"\r\n"
                     "Content-Disposition: attachment; filename=\"INV-000001.pdf\"\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjUA/w==\r\n"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("name=\"evil___Content-Type__text_html.pdf\""), std::string::npos);
  EXPECT_NE(msg.find("Content-Type: application/octet-stream;"), std::string::npos);
  EXPECT_EQ(msg.find("X-Evil"), std::string::npos);
  EXPECT_NE(msg.rfind("--" + boundary + "--\r\n"), std::string::npos);
  EXPECT_NE(msg.find("Attached."), std::string::npos);
}

TEST(Outbox, NonAsciiSubjectsAreEncodedAndLongLinesFolded) {
  Mail m;
  m.from = "help@msp.example";
  m.to = {"jane@acme.example"};
  m.subject = "Café printer ☕ " + std::string(100, 'x');
  m.body = std::string(200, 'a') + "\nnaïve = yes \n.";
  std::string msg = Build(m, "<id@msp.example>", 0);
  EXPECT_NE(msg.find("Subject: =?UTF-8?B?"), std::string::npos);
  std::string body = msg.substr(msg.find("\r\n\r\n") + 4);
  size_t start = 0;
  for (size_t end; (end = body.find("\r\n", start)) != std::string::npos; start = end + 2) {
    EXPECT_LE(end - start, 76u) << "quoted-printable lines stay short";
  }
  EXPECT_NE(body.find("na=C3=AFve =3D yes=20\r\n"), std::string::npos) << body;
}

}  // namespace
}  // namespace opsmerge::outbox
