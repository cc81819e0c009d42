#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/service.h"
#include "clients/service.h"
#include "platform/clock.h"
#include "platform/db.h"
#include "rmm/service.h"
#include "staff/model.h"
#include "tickets/model.h"

// Tickets (T1-T2, P3): the use cases behind the Tickets pages and API. Each runs in
// one transaction with its audit row and the ticket's own system entries. A
// ticket's contact, endpoint and site must belong to its client. Throws the errors
// of platform/errors.h. Thread-safe.
namespace opsmerge::tickets {

// The SLA targets the settings hold ("sla"), defaults where they say nothing.
SlaTargets StoredSla(soci::session& sql);

struct NewTicket {
  std::optional<int64_t> client_id;  // none: triage
  std::string subject;
  std::string description;
  std::optional<int64_t> contact_id;
  std::optional<std::string> priority;  // "normal" when absent
  std::optional<int64_t> endpoint_id;
  std::optional<int64_t> site_id;
  std::optional<int64_t> assignee_id;
  Source source = Source::kStaff;
};

// Members left empty are not changed; an inner nullopt clears the field.
struct TicketPatch {
  std::optional<std::string> subject;
  std::optional<std::string> status;
  std::optional<std::string> priority;
  std::optional<std::optional<int64_t>> client_id;  // clearing it is refused
  std::optional<std::optional<int64_t>> contact_id;
  std::optional<std::optional<int64_t>> assignee_id;
  std::optional<std::optional<int64_t>> endpoint_id;
  std::optional<std::optional<int64_t>> site_id;
  // Triage: when a ticket that came by email gets its client, the sender can become
  // that client's contact (and the ticket's), and the sender's domain one of the
  // client's, so the next mail routes itself. Same transaction.
  bool add_sender_contact = false;
  bool add_sender_domain = false;
};

struct TicketQuery {
  std::optional<int64_t> client_id;
  std::optional<int64_t> endpoint_id;  // an endpoint's Tickets tab
  bool triage = false;
  std::string status;    // a status, "active" (new, open, waiting), "done", or "" for any
  std::string priority;  // "" any
  std::optional<int64_t> assignee_id;  // 0: unassigned
  bool mine = false;                   // assigned to the caller
  std::string q;                       // a number ("#12", "12") or words of the subject
  std::string sla;                     // "", "breached", "due_soon"
  std::string sort;                    // "number", "priority", "due", "updated"; '-' reverses
  int64_t offset = 0;
  int64_t limit = 50;
  bool with_total = true;  // false: `total` is only the page's size (the global search)
};

struct TicketPage {
  std::vector<Ticket> items;
  int64_t total = 0;
};

// What the email gateway (mail/) hands over: one message, already parsed, routed
// and threaded; the gateway's transaction is passed along (`...In(Tx&)` methods).
struct MailFile {
  std::string filename;
  std::string content_type;
  std::string content;
};
struct InboundMail {
  std::string from;          // the sender's address ("" when the From was malformed)
  std::string from_display;  // as shown when `from` is "" (the header, cleaned)
  std::string subject;
  std::string body;                       // the text, quoted history trimmed
  std::vector<std::string> participants;  // the other people on the thread
  std::vector<MailFile> attachments;
  std::vector<std::string> left_out;  // what the gateway's caps left out
};

// A downloaded file: what it is and its bytes.
struct AttachmentFile {
  Attachment meta;
  std::string content;
};

class TicketService {
 public:
  TicketService(db::Database& db, const audit::AuditLog& audit, const Clock& clock,
                clients::ClientService& clients, rmm::RmmService& rmm)
      : db_(db), audit_(audit), clock_(clock), clients_(clients), rmm_(rmm) {}

  Ticket Create(const staff::Actor& actor, const NewTicket& input);
  Ticket Get(const staff::Actor& actor, int64_t id);
  TicketPage List(const staff::Actor& actor, const TicketQuery& query);
  Ticket Update(const staff::Actor& actor, int64_t id, const TicketPatch& patch);
  // The queue's bulk action: the same change (assignee, status) to every ticket of
  // `ids`, all or none. Returns how many changed.
  int64_t UpdateMany(const staff::Actor& actor, const std::vector<int64_t>& ids,
                     const TicketPatch& patch);
  // The address a ticket that came by email came from ("" when not a valid one).
  std::string MailSender(const staff::Actor& actor, int64_t id);
  // A public reply (T2; emailed once the outbound queue exists) and an internal note.
  // The first public reply marks the first response and opens a new ticket.
  Entry Reply(const staff::Actor& actor, int64_t id, const std::string& body);
  Entry Note(const staff::Actor& actor, int64_t id, const std::string& body);
  std::vector<Entry> Entries(const staff::Actor& actor, int64_t id);
  TimeEntry LogTime(const staff::Actor& actor, int64_t id, const TimeEntryInput& input);
  std::vector<TimeEntry> TimeEntries(const staff::Actor& actor, int64_t id);
  // The global search: tickets whose number is `query` or whose subject words start
  // with its words, newest first.
  std::vector<Ticket> Search(const staff::Actor& actor, const std::string& query, int limit);
  // Scheduled: resolved tickets older than settings "auto_close_days" (default 7)
  // close. Returns a line for the log.
  std::string CloseResolved();
  // Who a ticket can be assigned to: active staff, by name.
  std::vector<std::pair<int64_t, std::string>> Assignees(const staff::Actor& actor);
  int64_t Now() const { return clock_.NowUnix(); }
  // A file of ticket `ticket_id` (NotFound when it is another ticket's).
  AttachmentFile GetAttachment(const staff::Actor& actor, int64_t ticket_id, int64_t attachment_id);
  // The participants of a ticket: the other addresses on its thread.
  std::vector<std::string> Participants(const staff::Actor& actor, int64_t id);

  // The email gateway's writes, each in the gateway's transaction (tickets/mail_in.cpp).
  // A new ticket (source email) with the message as its first public entry; `how`
  // is the system entry saying how it was routed ("Routed to Acme by domain").
  std::pair<Ticket, Entry> OpenFromMailIn(db::Tx& tx, const InboundMail& m,
                                          std::optional<int64_t> client_id,
                                          std::optional<int64_t> contact_id, const std::string& how,
                                          Source source = Source::kEmail);
  // A message joining ticket `id`: a public entry from its sender, who becomes a
  // participant; a resolved or waiting ticket opens again.
  Entry AddMailReplyIn(db::Tx& tx, int64_t id, const InboundMail& m, bool via_portal = false);
  // An internal note from the gateway (a delivery report for mail we sent).
  Entry AddMailNoteIn(db::Tx& tx, int64_t id, const std::string& body);
  std::optional<Ticket> FindIn(db::Tx& tx, int64_t id);
  std::optional<int64_t> IdOfNumberIn(db::Tx& tx, int64_t number);
  // Whether `email` is on ticket `id`: its contact's address or a participant.
  bool IsOnTicketIn(db::Tx& tx, int64_t id, const std::string& email);
  // The client portal's reads and writes (tickets/portal.cpp). portal/ decides who
  // is asking; these apply the rules of what a client's person may see and do.
  struct PortalViewer {
    int64_t client_id = 0;
    int64_t contact_id = 0;
    std::string name;
    std::string email;
    bool sees_all = false;  // the primary technical contact and VIPs see all the client's
  };
  // The tickets `v` may see (all of the client's, or those they raised or are on),
  // most recently updated first, at most `limit`.
  std::vector<Ticket> PortalTickets(const PortalViewer& v, int64_t limit);
  // A ticket `v` may see, with its public entries (never internal notes or system
  // lines); NotFound for any other id.
  std::pair<Ticket, std::vector<Entry>> PortalTicket(const PortalViewer& v, int64_t id);
  // A new ticket from the portal (source portal; P3: a VIP's gets the VIP
  // priority), `description` its first public entry.
  // `files`: already checked against the caps (portal/) and given safe names.
  Ticket OpenFromPortal(const PortalViewer& v, const std::string& subject,
                        const std::string& description, std::vector<MailFile> files = {});
  // A public reply from `v` on a ticket they may see: reopens a resolved one, and
  // the assignee is told by email. NotFound for a ticket they may not see.
  Entry ReplyFromPortal(const PortalViewer& v, int64_t id, const std::string& body,
                        std::vector<MailFile> files = {});
  // A file of a public entry of a ticket `v` may see; NotFound for any other
  // (another ticket's, an internal note's, another client's).
  AttachmentFile PortalAttachment(const PortalViewer& v, int64_t ticket_id, int64_t attachment_id);

  // Billable minutes logged on client `client_id`'s tickets, dated from `from` to
  // `to` (YYYY-MM-DD, inclusive), in the caller's transaction (the billing run).
  int64_t BillableMinutesIn(db::Tx& tx, int64_t client_id, const std::string& from,
                            const std::string& to);

 private:
  // Checks that the contact, endpoint and site of `t` belong to its client.
  void CheckRelations(const staff::Actor& actor, const Ticket& t);
  // A reply or a note: the entry, the ticket's update (a reply marks the first
  // response and opens a new ticket, and is emailed) and the audit row, at once.
  Entry AddEntry(const staff::Actor& actor, int64_t id, EntryKind kind, const std::string& body);
  void System(soci::session& sql, const Ticket& t, const std::string& text, const std::string& now);
  // Stores a message's files on entry `entry_id`, and a note of what was left out.
  void StoreMailFiles(soci::session& sql, const Ticket& t, int64_t entry_id, const InboundMail& m,
                      const std::string& now);

  db::Database& db_;
  const audit::AuditLog& audit_;
  const Clock& clock_;
  clients::ClientService& clients_;
  rmm::RmmService& rmm_;
};

}  // namespace opsmerge::tickets
