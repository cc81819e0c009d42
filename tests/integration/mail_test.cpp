// The email gateway (E1-E4) through `opsmerge mail ingest`, as an MTA runs it: the
// corpus in tests/fixtures/mail (made by make_corpus.py) and what becomes of each
// message: routing by sender, threading on ids we sent, loop guards, delivery
// reports, charsets, HTML, attachments, caps, duplicates and exit codes.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.h"

namespace opsmerge::testing {
namespace {

using nlohmann::json;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(OPSMERGE_SOURCE_DIR) + "/tests/fixtures/mail/" + name,
                   std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Fill(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [k, v] : values) {
    std::string key = "{{" + k + "}}";
    for (size_t p = text.find(key); p != std::string::npos; p = text.find(key, p + v.size())) {
      text.replace(p, key.size(), v);
    }
  }
  return text;
}

class Mail : public ::testing::Test {
 protected:
  void SetUp() override {
    admin_ = server_.AddUserWithKey("admin@msp.example", "admin");
    ASSERT_EQ(server_.Api(admin_, "PATCH", "/api/v1/settings", {{"mail_from", "help@msp.example"}})
                  .status,
              200);
    acme_ = Id(server_.Api(
        admin_, "POST", "/api/v1/clients",
        {{"name", "Acme Corp"}, {"domain", "acme.example"}, {"domains", {"acme-mail.example"}}}));
    contoso_ = Id(server_.Api(admin_, "POST", "/api/v1/clients", {{"name", "Contoso"}}));
    dana_ =
        Id(server_.Api(admin_, "POST", "/api/v1/clients/" + std::to_string(contoso_) + "/contacts",
                       {{"name", "Dana"}, {"email", "dana@gmail.example"}, {"vip", true}}));
    int64_t oldco = Id(server_.Api(admin_, "POST", "/api/v1/clients",
                                   {{"name", "Oldco"}, {"domain", "oldco.example"}}));
    EXPECT_EQ(
        server_.Api(admin_, "POST", "/api/v1/clients/" + std::to_string(oldco) + "/archive").status,
        200);
  }
  static int64_t Id(const HttpResult& r) {
    EXPECT_TRUE(r.status == 200 || r.status == 201) << r.status << " " << r.body;
    return r.Json().value("id", int64_t{0});
  }
  // Pipes a message through `opsmerge mail ingest`; returns its first output line.
  std::string Ingest(const std::string& raw, int expect_rc = 0) {
    std::string out;
    int rc = server_.Cli({"mail", "ingest"}, raw, &out);
    EXPECT_EQ(rc, expect_rc) << out;
    return out;
  }
  std::string IngestFile(const std::string& name,
                         const std::map<std::string, std::string>& values = {}) {
    return Ingest(Fill(Fixture(name), values));
  }
  // The ticket the latest message made or joined.
  json LatestTicket() {
    auto rows = server_.Query(
        "SELECT ticket_id FROM mail_messages WHERE ticket_id IS NOT NULL ORDER BY id DESC");
    EXPECT_FALSE(rows.empty());
    return rows.empty() ? json() : Ticket(std::stoll(rows[0][0]));
  }
  json Ticket(int64_t id) {
    HttpResult r = server_.Api(admin_, "GET", "/api/v1/tickets/" + std::to_string(id));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.Json();
  }
  // Points the poller at a test mailbox, as an admin does in Settings.
  int ConnectMailbox(const ImapServer& imap) {
    return server_
        .Api(admin_, "PATCH", "/api/v1/settings",
             {{"imap_url", imap.url()}, {"imap_password", ImapServer::password()}})
        .status;
  }
  // The scheduler's next pass, now: the mail-poll job runs every 5 s, and a poll
  // takes the mailbox when imap_poll_seconds (60) have passed since the last one.
  // The pass has finished, seen flags set, when this returns.
  void PollNow(int64_t seconds = 5) {
    server_.AdvanceClock(seconds);
    server_.Tick();
  }
  int64_t Count(const std::string& table) {
    return std::stoll(server_.Query("SELECT COUNT(*) FROM " + table)[0][0]);
  }
  // The Message-ID of the latest mail we queued for a ticket.
  std::string SentId(int64_t ticket_id) {
    auto rows = server_.Query("SELECT message_id FROM mail_outbox WHERE ref = 'ticket:" +
                              std::to_string(ticket_id) + "' ORDER BY id DESC");
    EXPECT_FALSE(rows.empty());
    return rows.empty() ? "" : rows[0][0];
  }
  static std::string LastBody(const json& t) {
    for (auto it = t["entries"].rbegin(); it != t["entries"].rend(); ++it) {
      if ((*it)["kind"] != "system") return (*it)["body"];
    }
    return "";
  }

  Server server_;
  std::string admin_;
  int64_t acme_ = 0, contoso_ = 0, dana_ = 0;
};

TEST_F(Mail, ANewMessageFromAClientsDomainBecomesItsTicketWithTheSenderAsContact) {
  EXPECT_EQ(IngestFile("gmail_new.eml").rfind("ticket: new ticket", 0), 0u);
  json t = LatestTicket();
  EXPECT_EQ(t["client_id"], acme_);
  EXPECT_EQ(t["source"], "email");
  EXPECT_EQ(t["subject"], "Laptop won't connect to the VPN");
  ASSERT_FALSE(t["contact_id"].is_null());
  json contact =
      server_
          .Api(admin_, "GET", "/api/v1/contacts/" + std::to_string(t["contact_id"].get<int64_t>()))
          .Json();
  EXPECT_EQ(contact["email"], "priya@acme.example");
  EXPECT_EQ(contact["name"], "Priya Shah");
  EXPECT_EQ(t["participants"], json::array({"tom@acme.example"}));
  // The system entry says how it was routed; the message is the first public entry.
  EXPECT_NE(t["entries"][0]["body"].get<std::string>().find("Routed to Acme Corp by domain"),
            std::string::npos);
  json first = t["entries"][1];
  EXPECT_EQ(first["kind"], "public");
  EXPECT_EQ(first["from"], "priya@acme.example");
  EXPECT_NE(first["body"].get<std::string>().find("authentication failed"), std::string::npos);
  ASSERT_EQ(first["attachments"].size(), 1u);
  EXPECT_EQ(first["attachments"][0]["filename"], "vpn-error.pdf");
  EXPECT_EQ(first["attachments"][0]["content_type"], "application/pdf");
  // The acknowledgement: to the sender only, an auto-reply threaded on their message.
  auto ack = server_.Query("SELECT recipients, message FROM mail_outbox");
  ASSERT_EQ(ack.size(), 1u);
  EXPECT_EQ(ack[0][0], "priya@acme.example");
  EXPECT_NE(ack[0][1].find("Auto-Submitted: auto-replied"), std::string::npos);
  EXPECT_NE(ack[0][1].find("In-Reply-To: <CAF=gmail-new-1@mail.gmail.com>"), std::string::npos);
  EXPECT_NE(ack[0][1].find("[#" + std::to_string(t["number"].get<int64_t>()) + "]"),
            std::string::npos);
}

TEST_F(Mail, RoutingLooksOnlyAtTheSenderAndNeverGuesses) {
  struct Case {
    const char* file;
    bool triage;
  };
  for (const Case& c : {Case{"extra_domain.eml", false}, Case{"subdomain.eml", true},
                        Case{"unknown_domain.eml", true}, Case{"archived_domain.eml", true},
                        Case{"reply_to_ignored.eml", true}, Case{"two_from.eml", true},
                        Case{"malformed_from.eml", true}}) {
    SCOPED_TRACE(c.file);
    EXPECT_EQ(IngestFile(c.file).rfind("ticket: new ticket", 0), 0u);
    json t = LatestTicket();
    EXPECT_EQ(t["client_id"].is_null(), c.triage) << t.dump();
    if (c.triage) {
      EXPECT_TRUE(t["contact_id"].is_null());
    } else {
      EXPECT_EQ(t["client_id"], acme_);
    }
  }
  // A known contact routes by who they are, whatever their domain; VIP applies (P3).
  IngestFile("known_contact_other_domain.eml");
  json t = LatestTicket();
  EXPECT_EQ(t["client_id"], contoso_);
  EXPECT_EQ(t["contact_id"], dana_);
  EXPECT_EQ(t["vip"], true);
  EXPECT_EQ(t["priority"], "high");
  // Triage tickets are never acknowledged (the sender may be forged); routed ones are.
  EXPECT_EQ(Count("mail_outbox"), 2);
  json triage = server_.Api(admin_, "GET", "/api/v1/tickets?triage=true").Json();
  EXPECT_EQ(triage["total"], 6);
}

TEST_F(Mail, RepliesThreadOnMessageIdsWeSentAndTagsOnlyFromPeopleOnTheTicket) {
  IngestFile("gmail_new.eml");
  json t = LatestTicket();
  int64_t id = t["id"], number = t["number"];
  std::map<std::string, std::string> v = {{"NUMBER", std::to_string(number)},
                                          {"ACK_ID", SentId(id)}};
  // Outlook answers the acknowledgement: joins, its quoted history trimmed.
  EXPECT_EQ(IngestFile("outlook_reply.eml", v).rfind("reply: added to ticket", 0), 0u);
  t = Ticket(id);
  EXPECT_EQ(LastBody(t), "It works again after the restart, thank you!\n\nPriya");
  // A technician replies and resolves; Apple Mail answers that reply: it reopens.
  ASSERT_EQ(server_
                .Api(admin_, "POST", "/api/v1/tickets/" + std::to_string(id) + "/replies",
                     {{"body", "Please restart the laptop and try again."}})
                .status,
            201);
  ASSERT_EQ(
      server_
          .Api(admin_, "PATCH", "/api/v1/tickets/" + std::to_string(id), {{"status", "resolved"}})
          .status,
      200);
  v["REPLY_ID"] = SentId(id);
  EXPECT_EQ(IngestFile("apple_reply.eml", v).rfind("reply:", 0), 0u);
  t = Ticket(id);
  EXPECT_EQ(t["status"], "open");
  EXPECT_EQ(LastBody(t),
            "One more thing: the printer on the second floor shows an error too. It started on "
            "Monday.");
  // The tag: honoured from the requester (any case) and a participant, never from a
  // stranger; a reference we never sent is not a thread.
  EXPECT_EQ(IngestFile("tag_from_requester.eml", v).rfind("reply:", 0), 0u);
  // Waiting on the client: their answer opens it again.
  ASSERT_EQ(server_
                .Api(admin_, "PATCH", "/api/v1/tickets/" + std::to_string(id),
                     {{"status", "waiting_on_client"}})
                .status,
            200);
  EXPECT_EQ(IngestFile("tag_from_participant.eml", v).rfind("reply:", 0), 0u);
  EXPECT_EQ(Ticket(id)["status"], "open");
  EXPECT_EQ(IngestFile("tag_from_stranger.eml", v).rfind("ticket: new ticket", 0), 0u);
  EXPECT_TRUE(LatestTicket()["client_id"].is_null());
  EXPECT_EQ(IngestFile("forged_reference.eml", v).rfind("ticket: new ticket", 0), 0u);
  EXPECT_EQ(std::stoll(server_.Query("SELECT COUNT(*) FROM tickets")[0][0]), 3);
  // A closed ticket is not reopened by mail: the reply opens a follow-up.
  ASSERT_EQ(
      server_.Api(admin_, "PATCH", "/api/v1/tickets/" + std::to_string(id), {{"status", "closed"}})
          .status,
      200);
  std::string raw = Fill(Fixture("tag_from_requester.eml"), v);
  raw.replace(raw.find("<tag_from_requester"), 19, "<again");
  EXPECT_EQ(Ingest(raw).rfind("ticket: new ticket", 0), 0u);
  EXPECT_NE(LatestTicket()["entries"][0]["body"].get<std::string>().find("follows up closed"),
            std::string::npos);
}

TEST_F(Mail, RobotsGetNoTicketAndNoReplyAndBouncesOfOurMailBecomeNotes) {
  for (const char* f :
       {"auto_submitted.eml", "precedence_bulk.eml", "list_id.eml", "x_autoreply.eml",
        "loop_header.eml", "mailer_daemon.eml", "null_sender.eml", "dsn_unknown.eml"}) {
    SCOPED_TRACE(f);
    EXPECT_EQ(IngestFile(f).rfind("dropped:", 0), 0u);
  }
  EXPECT_EQ(Count("tickets"), 0);
  EXPECT_EQ(Count("mail_outbox"), 0);
  // Every message is kept, with why it was dropped.
  EXPECT_EQ(server_.Query("SELECT reason FROM mail_messages WHERE message_id = "
                          "'auto_submitted.eml@acme.example'")[0][0],
            "Auto-Submitted: auto-replied");
  // "Auto-Submitted: no" is a person.
  EXPECT_EQ(IngestFile("auto_submitted_no.eml").rfind("ticket:", 0), 0u);
  json t = LatestTicket();
  // A delivery report for our acknowledgement: an internal note on that ticket.
  EXPECT_EQ(IngestFile("dsn_ours.eml", {{"ACK_ID", SentId(t["id"])}}).rfind("note:", 0), 0u);
  t = Ticket(t["id"]);
  json last = t["entries"].back();
  EXPECT_EQ(last["kind"], "internal");
  EXPECT_NE(last["body"].get<std::string>().find("Status: 5.1.1"), std::string::npos);
  EXPECT_EQ(Count("tickets"), 1);
}

TEST_F(Mail, AnAddressGetsAtMostFiveAcknowledgementsAnHour) {
  for (int i = 0; i < 7; ++i) {
    Ingest("From: priya@acme.example\r\nTo: help@msp.example\r\nSubject: n" + std::to_string(i) +
           "\r\nMessage-ID: <cap-" + std::to_string(i) + "@acme.example>\r\n\r\nbody\r\n");
  }
  EXPECT_EQ(Count("tickets"), 7);
  EXPECT_EQ(Count("mail_outbox"), 5);
}

TEST_F(Mail, CharsetsHtmlAndFileNamesComeOutAsSafeReadableText) {
  IngestFile("windows1252.eml");
  json t = LatestTicket();
  EXPECT_EQ(t["subject"], "Invoice query \u2013 \u20ac120");
  EXPECT_EQ(LastBody(t),
            "We were charged \u20ac120 for \u201cadditional licences\u201d \u2013 why?");

  IngestFile("iso2022jp.eml");
  t = LatestTicket();
  EXPECT_EQ(t["subject"], "プリンターが動きません");
  EXPECT_EQ(LastBody(t), "田中です。\nプリンターが動きません。確認をお願いします。");

  IngestFile("html_only.eml");
  std::string body = LastBody(LatestTicket());
  EXPECT_NE(body.find("Hello & good morning,"), std::string::npos) << body;
  EXPECT_NE(body.find("our status page <https://acme.example/status>"), std::string::npos) << body;
  EXPECT_NE(body.find("- one\n- two"), std::string::npos) << body;
  for (const char* bad : {"alert", "script", "steal", "cookie", "javascript", "onclick", "color"}) {
    EXPECT_EQ(body.find(bad), std::string::npos) << bad << " in " << body;
  }

  IngestFile("rfc2231.eml");
  t = LatestTicket();
  json files = t["entries"].back()["attachments"];
  ASSERT_EQ(files.size(), 2u) << t.dump();
  EXPECT_EQ(files[0]["filename"], "résumé log.txt");
  std::string second = files[1]["filename"];
  EXPECT_EQ(second.find_first_of("/\\\""), std::string::npos) << second;

  // A file downloads as an attachment, never rendered, under its own ticket only.
  int64_t tid = t["id"], aid = files[1]["id"];
  HttpResult r =
      server_.Api(admin_, "GET",
                  "/api/v1/tickets/" + std::to_string(tid) + "/attachments/" + std::to_string(aid));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("content-disposition").rfind("attachment; filename=\"", 0), 0u);
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(r.body, "<script>alert(1)</script>");
  // The ticket page's link serves the same, the same way.
  HttpResult page_link = server_.Api(
      admin_, "GET", "/tickets/" + std::to_string(tid) + "/attachments/" + std::to_string(aid));
  EXPECT_EQ(page_link.body, r.body);
  EXPECT_EQ(page_link.Header("content-disposition"), r.Header("content-disposition"));
  IngestFile("related.eml");
  int64_t other = LatestTicket()["id"];
  EXPECT_EQ(
      server_
          .Api(admin_, "GET",
               "/api/v1/tickets/" + std::to_string(other) + "/attachments/" + std::to_string(aid))
          .status,
      404);
  json inline_image = LatestTicket()["entries"].back()["attachments"];
  ASSERT_EQ(inline_image.size(), 1u);
  EXPECT_EQ(inline_image[0]["filename"], "shot.png");
  EXPECT_EQ(inline_image[0]["content_type"], "image/png");
}

TEST_F(Mail, AMessageOverACapStillBecomesATicketWithANoteOfWhatWasLeftOut) {
  EXPECT_EQ(IngestFile("deep_nesting.eml").rfind("ticket:", 0), 0u);
  json t = LatestTicket();
  bool noted = false;
  for (const auto& e : t["entries"]) {
    noted = noted || e["body"].get<std::string>().find("nested more than") != std::string::npos;
  }
  EXPECT_TRUE(noted) << t.dump();
  // A header that tries to add a line: one subject line, no Bcc from the message.
  IngestFile("crlf_subject.eml");
  t = LatestTicket();
  EXPECT_EQ(t["subject"].get<std::string>().find_first_of("\r\n"), std::string::npos);
  std::string sent = server_.Query("SELECT message FROM mail_outbox ORDER BY id DESC")[0][0];
  EXPECT_EQ(sent.find("\r\nBcc:"), std::string::npos) << sent;
}

TEST_F(Mail, TheSameMessageTwiceLandsOnceAndNotAMessageIs65) {
  IngestFile("gmail_new.eml");
  EXPECT_EQ(IngestFile("gmail_new.eml").rfind("duplicate:", 0), 0u);
  IngestFile("no_message_id.eml");
  EXPECT_EQ(IngestFile("no_message_id_relayed.eml").rfind("duplicate:", 0), 0u);
  EXPECT_EQ(Count("tickets"), 2);
  EXPECT_EQ(Count("mail_messages"), 2);
  Ingest(Fixture("not_a_message.bin"), 65);
  Ingest("", 65);
  EXPECT_EQ(Count("mail_messages"), 2);
}

TEST_F(Mail, WhenTheDatabaseIsDownTheMtaIsToldToRetryAndTheRetryLandsOnce) {
  std::string raw = Fixture("gmail_new.eml"), out, err;
  // No database there (a PostgreSQL nobody listens on; a data dir without one).
  std::vector<std::string> down = {"mail", "ingest"};
  if (OnPostgres()) {
    down.insert(down.end(), {"--database", "postgresql://opsmerge@127.0.0.1:1/none"});
  } else {
    down.insert(down.end(), {"--data-dir", server_.data_dir() + "/missing"});
  }
  EXPECT_EQ(server_.CliAsIs(down, raw, &out, &err), 75) << err;
  EXPECT_NE(err.find("try again later"), std::string::npos) << err;
  EXPECT_EQ(Count("mail_messages"), 0);
  // The MTA delivers it again, twice (a backup MX too): one ticket.
  Ingest(raw);
  Ingest(raw);
  EXPECT_EQ(Count("tickets"), 1);
}

TEST_F(Mail, TheSameMessageDeliveredEightTimesAtOnceLandsOnce) {
  // A backup MX and a retrying MTA hand over the same message at the same moment.
  std::string file = server_.data_dir() + "/race.eml";
  std::ofstream(file, std::ios::binary) << Fixture("gmail_new.eml");
  std::string command = TestBinary() + " mail ingest --data-dir " + server_.data_dir() +
                        (OnPostgres() ? " --database '" + server_.database_url() + "'" : "") +
                        " < " + file + " > /dev/null 2>&1";
  std::vector<std::thread> deliveries;
  std::atomic<int> failed{0};
  for (int i = 0; i < 8; ++i) {
    deliveries.emplace_back([&] {
      if (std::system(command.c_str()) != 0) ++failed;
    });
  }
  for (auto& d : deliveries) d.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(Count("mail_messages"), 1);
  EXPECT_EQ(Count("tickets"), 1);
  EXPECT_EQ(Count("contacts WHERE email = 'priya@acme.example'"), 1);
  EXPECT_EQ(Count("mail_outbox"), 1);
}

TEST_F(Mail, TheOriginalMessageIsKeptAndDownloadsWhole) {
  std::string raw = Fixture("gmail_new.eml");
  Ingest(raw);
  json t = LatestTicket();
  int64_t entry = t["entries"][1]["id"];
  Browser b(server_);
  // Staff sign in through the page; the original is behind the ticket page's link.
  HttpResult anon = b.Get("/tickets/" + std::to_string(t["id"].get<int64_t>()) + "/entries/" +
                          std::to_string(entry) + "/original");
  EXPECT_NE(anon.status, 200);
  HttpResult r = server_.Api(admin_, "GET",
                             "/tickets/" + std::to_string(t["id"].get<int64_t>()) + "/entries/" +
                                 std::to_string(entry) + "/original");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, raw);
  EXPECT_NE(r.Header("content-disposition").find(".eml"), std::string::npos);
  // Kept as text, as it came; bytes that are not text (Latin-1, a NUL) are kept
  // too, byte for byte.
  EXPECT_EQ(server_.Query("SELECT raw_encoding FROM mail_messages")[0][0], "text");
  std::string binary =
      "From: priya@acme.example\r\nSubject: caf\xe9\r\nMessage-ID: <latin1@acme.example>\r\n"
      "Content-Type: text/plain; charset=iso-8859-1\r\n\r\nna\xefve ";
  binary += std::string(1, '\0') + " body\r\n";
  Ingest(binary);
  t = LatestTicket();
  entry = t["entries"][1]["id"];
  r = server_.Api(admin_, "GET",
                  "/tickets/" + std::to_string(t["id"].get<int64_t>()) + "/entries/" +
                      std::to_string(entry) + "/original");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, binary);
  EXPECT_EQ(server_.Query("SELECT raw_encoding FROM mail_messages WHERE message_id = "
                          "'latin1@acme.example'")[0][0],
            "base64");
}

TEST_F(Mail, TheAcknowledgementAndReplyTemplatesAreEditableAndChecked) {
  HttpResult bad = server_.Api(admin_, "PATCH", "/api/v1/settings",
                               {{"ack_template", "Hi {{name}}, {{password}}"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("ack_template"), std::string::npos) << bad.body;
  bad = server_.Api(admin_, "PATCH", "/api/v1/settings", {{"reply_template", "no body here"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("reply_template"), std::string::npos) << bad.body;
  ASSERT_EQ(server_
                .Api(admin_, "PATCH", "/api/v1/settings",
                     {{"ack_template", "Got it, {{name}}: #{{number}} {{subject}}"},
                      {"reply_template", "{{body}}\n-- {{technician}}"}})
                .status,
            200);
  IngestFile("gmail_new.eml");
  json t = LatestTicket();
  std::string ack = server_.Query("SELECT message FROM mail_outbox ORDER BY id")[0][0];
  EXPECT_NE(ack.find("Got it, Priya Shah: #" + std::to_string(t["number"].get<int64_t>()) +
                     " Laptop won't connect to the VPN"),
            std::string::npos)
      << ack;
  ASSERT_EQ(server_
                .Api(admin_, "POST",
                     "/api/v1/tickets/" + std::to_string(t["id"].get<int64_t>()) + "/replies",
                     {{"body", "On it."}})
                .status,
            201);
  std::string reply =
      server_.Query("SELECT message, recipients FROM mail_outbox ORDER BY id DESC")[0][0];
  EXPECT_NE(reply.find("On it.\r\n-- Test admin"), std::string::npos) << reply;
  // The reply goes to the requester and the people on the thread.
  EXPECT_EQ(server_.Query("SELECT recipients FROM mail_outbox ORDER BY id DESC")[0][0],
            "priya@acme.example,tom@acme.example");
  // Empty restores the default.
  json v = server_.Api(admin_, "PATCH", "/api/v1/settings", {{"ack_template", ""}}).Json();
  EXPECT_NE(v["ack_template"].get<std::string>().find("{{number}}"), std::string::npos);
}

TEST_F(Mail, TriageGivesATicketItsClientAndLearnsTheSenderForNextTime) {
  IngestFile("unknown_domain.eml");
  json t = LatestTicket();
  ASSERT_TRUE(t["client_id"].is_null());
  int64_t unknown = Id(server_.Api(admin_, "POST", "/api/v1/clients", {{"name", "Unknown Ltd"}}));
  Browser b(server_);
  ASSERT_EQ(b.SignIn("admin@msp.example", "a long enough password"), 303);
  std::string page = "/tickets/" + std::to_string(t["id"].get<int64_t>());
  HttpResult shown = b.Get(page);
  EXPECT_NE(shown.body.find("Add someone@unknown.example as a contact"), std::string::npos);
  HttpResult wrong = b.Post(page, {{"triage", "1"}, {"client", "No Such Client"}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.body.find("No active client is named No Such Client"), std::string::npos);
  EXPECT_EQ(b.Post(page, {{"triage", "1"},
                          {"client", "unknown ltd"},
                          {"add_sender_contact", "on"},
                          {"add_sender_domain", "on"}})
                .status,
            303);
  t = Ticket(t["id"]);
  EXPECT_EQ(t["client_id"], unknown);
  ASSERT_FALSE(t["contact_id"].is_null());
  json client = server_.Api(admin_, "GET", "/api/v1/clients/" + std::to_string(unknown)).Json();
  EXPECT_EQ(client["domain"], "unknown.example");
  // The next mail from that domain routes itself.
  Ingest(
      "From: other@unknown.example\r\nSubject: hi\r\nMessage-ID: <next@unknown.example>\r\n"
      "\r\nhello\r\n");
  EXPECT_EQ(LatestTicket()["client_id"], unknown);
}

TEST_F(Mail, TheQueueChangesTicketsInBulkAllOrNone) {
  IngestFile("gmail_new.eml");
  IngestFile("windows1252.eml");
  auto rows = server_.Query("SELECT id FROM tickets ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  Browser b(server_);
  ASSERT_EQ(b.SignIn("admin@msp.example", "a long enough password"), 303);
  HttpResult queue = b.Get("/tickets");
  EXPECT_NE(queue.body.find("Apply to selected"), std::string::npos);
  // One id that is not a ticket: nothing changes.
  HttpResult bad = b.Post(
      "/tickets/bulk",
      {{"ids", rows[0][0]}, {"ids", "999999"}, {"status", "resolved"}, {"back", "/tickets"}});
  EXPECT_EQ(bad.status, 404);
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM tickets WHERE status = 'resolved'")[0][0], "0");
  HttpResult ok = b.Post("/tickets/bulk", {{"ids", rows[0][0]},
                                           {"ids", rows[1][0]},
                                           {"status", "resolved"},
                                           {"back", "//evil.example/"}});
  EXPECT_EQ(ok.status, 303);
  EXPECT_EQ(ok.Header("location"), "/tickets");
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM tickets WHERE status = 'resolved'")[0][0], "2");
  HttpResult api = server_.Api(admin_, "POST", "/api/v1/tickets/bulk",
                               {{"ids", {std::stoll(rows[0][0])}}, {"status", "open"}});
  EXPECT_EQ(api.status, 200) << api.body;
  EXPECT_EQ(api.Json()["updated"], 1);
}

TEST_F(Mail, HostileSenderHeadersStillMakeAReadableTicketAndContact) {
  // Invalid UTF-8 in the subject and name, an encoded line break and 600 characters
  // of display name, an 8-bit body with no charset: stored (exit 0), cleaned.
  std::string name = "=?utf-8?q?Eve=0D=0ABcc:_x@evil.example?= " + std::string(600, 'N');
  Ingest("From: \"" + name +
         "\" <eve@acme.example>\r\nTo: help@msp.example\r\n"
         "Subject: bad \xff\xfe bytes\r\nMessage-ID: <hostile-1@acme.example>\r\n\r\n"
         "caf\xe9 cr\xe8me\r\n");
  json t = LatestTicket();
  EXPECT_EQ(t["client_id"], acme_);
  EXPECT_EQ(t["subject"], "bad \u00ff\u00fe bytes");  // undeclared 8-bit: windows-1252
  EXPECT_EQ(LastBody(t), "caf\u00e9 cr\u00e8me");
  json contact =
      server_
          .Api(admin_, "GET", "/api/v1/contacts/" + std::to_string(t["contact_id"].get<int64_t>()))
          .Json();
  EXPECT_EQ(contact["email"], "eve@acme.example");
  EXPECT_EQ(contact["name"], "eve");  // the name was unusable: the address's local part
  // A name that is fine after cleaning is kept, on one line.
  Ingest(
      "From: =?utf-8?q?Zo=C3=AB=0ANg?= <zoe@acme.example>\r\nSubject: hi\r\n"
      "Message-ID: <hostile-2@acme.example>\r\n\r\nhello\r\n");
  contact =
      server_
          .Api(admin_, "GET",
               "/api/v1/contacts/" + std::to_string(LatestTicket()["contact_id"].get<int64_t>()))
          .Json();
  EXPECT_EQ(contact["name"], "Zo\u00eb Ng");
}

TEST_F(Mail, ASeenMessageIdFromAnotherSenderDoesNotSwallowTheRealMessage) {
  // Someone who saw Priya's Message-ID sends first with it; her message still lands.
  Ingest(
      "From: mallory@evil.example\r\nSubject: first\r\n"
      "Message-ID: <CAF=gmail-new-1@mail.gmail.com>\r\n\r\nsquatting\r\n");
  EXPECT_EQ(IngestFile("gmail_new.eml").rfind("ticket: new ticket", 0), 0u);
  EXPECT_EQ(LatestTicket()["client_id"], acme_);
  EXPECT_EQ(Count("tickets"), 2);
}

TEST_F(Mail, TheImapPollerTakesEachNewMessageOnceAndMarksItSeenAfterItIsStored) {
  if (!ImapServer::Available()) GTEST_SKIP() << "Dovecot needs root and dovecot-imapd";
  ImapServer imap;
  imap.Deliver(Fixture("gmail_new.eml"));
  imap.Deliver(Fixture("windows1252.eml"));
  imap.Deliver(Fixture("auto_submitted.eml"));
  imap.Deliver(Fixture("not_a_message.bin"));
  ASSERT_EQ(imap.Unseen(), 4u);
  ASSERT_EQ(ConnectMailbox(imap), 200);
  // The scheduler polls (no earlier poll: at once).
  PollNow();
  EXPECT_EQ(Count("mail_messages"), 3);
  EXPECT_EQ(imap.Unseen(), 0u);
  EXPECT_EQ(Count("tickets"), 2);
  // Later mail, after imap_poll_seconds: taken once, the earlier ones not again.
  imap.Deliver(Fixture("related.eml"));
  imap.Deliver(Fixture("gmail_new.eml"));  // the same message again: a duplicate
  PollNow(61);
  EXPECT_EQ(imap.Unseen(), 0u);
  EXPECT_EQ(Count("mail_messages"), 4);
  EXPECT_EQ(Count("tickets"), 3);
}

TEST_F(Mail, AMailboxNamedByAnEmailAddressSignsInWithTheUrlsEncodedNameAndPassword) {
  if (!ImapServer::Available()) GTEST_SKIP() << "Dovecot needs root and dovecot-imapd";
  ImapServer imap;
  imap.Deliver(Fixture("gmail_new.eml"), "help@msp.example");
  std::string port = imap.url().substr(imap.url().rfind(':') + 1);
  port = port.substr(0, port.find('/'));
  // "@" and "+" in the user and password are written %40 and %2B, as the docs say.
  HttpResult r = server_.Api(
      admin_, "PATCH", "/api/v1/settings",
      {{"imap_url", "imap://help%40msp.example:s%40cret%2B1@127.0.0.1:" + port + "/INBOX"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["imap_url"], "imap://help%40msp.example@127.0.0.1:" + port + "/INBOX");
  EXPECT_EQ(r.Json()["imap_password"], "set");
  PollNow();
  EXPECT_EQ(Count("mail_messages"), 1);
  // A mailbox name IMAP would need quoted is refused by its field.
  HttpResult bad = server_.Api(admin_, "PATCH", "/api/v1/settings",
                               {{"imap_url", "imap://help@127.0.0.1:" + port + "/In%22box"}});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("imap_url"), std::string::npos);
}

TEST_F(Mail, AMessageThePollerCouldNotStoreStaysUnseenAndIsTakenNextTime) {
  if (!ImapServer::Available()) GTEST_SKIP() << "Dovecot needs root and dovecot-imapd";
  if (OnPostgres()) GTEST_SKIP() << "the failure is made with a SQLite trigger";
  ImapServer imap;
  // Every store fails, as on a full disk.
  server_.Sql(
      "CREATE TRIGGER full_disk BEFORE INSERT ON mail_messages BEGIN "
      "SELECT RAISE(ABORT, 'database or disk is full'); END");
  imap.Deliver(Fixture("gmail_new.eml"));
  ASSERT_EQ(ConnectMailbox(imap), 200);
  // The poll ran (it moved its clock mark) and stored nothing; the message is unseen.
  PollNow();
  EXPECT_FALSE(
      server_.Query("SELECT value FROM settings WHERE key = 'mail.imap_polled_at'").empty());
  EXPECT_EQ(imap.Unseen(), 1u);
  EXPECT_EQ(Count("mail_messages"), 0);
  EXPECT_EQ(Count("tickets"), 0);
  // The disk has room again: the next poll takes it, once.
  server_.Sql("DROP TRIGGER full_disk");
  PollNow(61);
  EXPECT_EQ(Count("mail_messages"), 1);
  EXPECT_EQ(imap.Unseen(), 0u);
  EXPECT_EQ(Count("tickets"), 1);
}

// A backlog comes in batches, each in one transaction with a savepoint per
// message: a message that cannot be stored leaves the ones before it stored and
// seen, and stays unseen with the ones after it until the next poll takes them.
TEST_F(Mail, ThePollerTakesABacklogInBatchesAndAFailingMessageHoldsBackOnlyItselfAndLater) {
  if (!ImapServer::Available()) GTEST_SKIP() << "Dovecot needs root and dovecot-imapd";
  if (OnPostgres()) GTEST_SKIP() << "the failure is made with a SQLite trigger";
  ImapServer imap;
  server_.Sql(
      "CREATE TRIGGER poison BEFORE INSERT ON mail_messages WHEN NEW.subject = 'poison' BEGIN "
      "SELECT RAISE(ABORT, 'database or disk is full'); END");
  const int total = 120;  // three batches of at most 50
  for (int i = 1; i <= total; ++i) {
    std::string subject = i == 60 ? "poison" : "Backlog " + std::to_string(i);
    imap.Deliver("From: person" + std::to_string(i) + "@acme.example\r\nTo: help@msp.example\r\n" +
                 "Subject: " + subject + "\r\nMessage-ID: <backlog-" + std::to_string(i) +
                 "@acme.example>\r\n\r\nThe printer again.\r\n");
  }
  ASSERT_EQ(ConnectMailbox(imap), 200);
  // The first batch (50) and the nine before the poison in the second are stored
  // and seen; the poison and the 60 after it are not, and stay unseen.
  PollNow();
  EXPECT_EQ(Count("mail_messages"), 59);
  EXPECT_EQ(imap.Unseen(), 61u);
  EXPECT_EQ(Count("tickets"), 59);
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM mail_messages WHERE subject = 'poison'")[0][0],
            "0");
  // Fixed: the next poll takes the rest, each once.
  server_.Sql("DROP TRIGGER poison");
  PollNow(61);
  EXPECT_EQ(Count("mail_messages"), total);
  EXPECT_EQ(imap.Unseen(), 0u);
  EXPECT_EQ(Count("tickets"), total);
  EXPECT_EQ(server_.Query("SELECT COUNT(DISTINCT message_id) FROM mail_messages")[0][0],
            std::to_string(total));
}

}  // namespace
}  // namespace opsmerge::testing

namespace opsmerge::testing {
namespace {

// Pipes `raw` through opsmerge-deliver, as an MTA runs it; its exit code, and its
// output in *out.
int Deliver(const Server& server, const std::string& raw, std::string* out) {
  std::string dir = server.data_dir() + "/deliver-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/in.eml", std::ios::binary) << raw;
  // As an MTA's pipe is set up: the data directory, and the database when there
  // is one (for `mail ingest` when no server runs).
  std::string cmd = std::string(DELIVER_BINARY) + " --data-dir " + server.data_dir();
  if (!server.database_url().empty()) cmd += " --database '" + server.database_url() + "'";
  cmd += " < " + dir + "/in.eml > " + dir + "/out 2>&1";
  int status = std::system(cmd.c_str());
  *out = ReadFile(dir + "/out");
  std::filesystem::remove_all(dir);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST_F(Mail, ThePipeProgramHandsMessagesToTheRunningServerOrRunsIngestWithoutOne) {
  std::string out;
  const std::string first =
      "From: Jo <jo@acme.example>\r\nTo: help@msp.example\r\nSubject: Printer on fire\r\n"
      "Message-ID: <deliver-1@acme.example>\r\n\r\nIt is actually on fire.\r\n";
  EXPECT_EQ(Deliver(server_, first, &out), 0) << out;
  EXPECT_NE(out.find("ticket: new ticket #"), std::string::npos) << out;
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM tickets WHERE subject = 'Printer on fire'")[0][0],
            "1");
  EXPECT_EQ(Deliver(server_, first, &out), 0) << "the same message again";
  EXPECT_NE(out.find("duplicate"), std::string::npos) << out;
  EXPECT_EQ(Deliver(server_, std::string("\x00\x01\x02 not mail", 13), &out), 65) << out;

  // The server only takes a delivery with its data directory's key, from this host.
  HttpResult anon = server_.Request("POST", "/mail/v1/ingest", first, {});
  EXPECT_EQ(anon.status, 401);
  HttpResult forged = server_.Request("POST", "/mail/v1/ingest", first,
                                      {{"Authorization", "Bearer " + std::string(43, 'A')}});
  EXPECT_EQ(forged.status, 401);
  std::string key = ReadFile(server_.data_dir() + "/deliver.key");
  EXPECT_EQ(std::filesystem::status(server_.data_dir() + "/deliver.key").permissions() &
                std::filesystem::perms::others_all,
            std::filesystem::perms::none);
  std::ofstream(server_.data_dir() + "/deliver.key") << std::string(43, 'B') << "\n";
  const std::string second =
      "From: Jo <jo@acme.example>\r\nTo: help@msp.example\r\nSubject: Second\r\n"
      "Message-ID: <deliver-2@acme.example>\r\n\r\nAgain.\r\n";
  EXPECT_EQ(Deliver(server_, second, &out), 75) << "a wrong key: the MTA keeps it, tries again";
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM tickets WHERE subject = 'Second'")[0][0], "0");
  std::ofstream(server_.data_dir() + "/deliver.key") << key;

  // No server on the directory: `opsmerge mail ingest` takes it instead.
  std::filesystem::remove(server_.data_dir() + "/deliver.url");
  EXPECT_EQ(Deliver(server_, second, &out), 0) << out;
  EXPECT_EQ(server_.Query("SELECT COUNT(*) FROM tickets WHERE subject = 'Second'")[0][0], "1");
}

}  // namespace
}  // namespace opsmerge::testing
