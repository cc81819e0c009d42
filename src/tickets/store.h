#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tickets/model.h"

namespace soci {
class session;
}

// The tickets feature's SQL, nothing else. Runs on the caller's session.
namespace opsmerge::tickets::store {

// The next ticket number: one counter row incremented in the caller's transaction,
// so numbers are sequential and unique across nodes.
int64_t NextNumber(soci::session& sql);

int64_t InsertTicket(soci::session& sql, const Ticket& t, const std::string& now);
// Writes every field people change (status, priority, assignee, client, contact,
// endpoint, site, subject, SLA marks); the search terms only when `subject_changed`
// (a reply or note leaves them as they are).
void UpdateTicket(soci::session& sql, const Ticket& t, const std::string& now,
                  bool subject_changed = false);
std::optional<Ticket> FindTicket(soci::session& sql, int64_t id);

struct Filter {
  std::optional<int64_t> client_id;
  std::optional<int64_t> endpoint_id;
  bool triage = false;                 // only tickets without a client
  std::vector<std::string> statuses;   // empty: any
  std::string priority;                // "" any
  std::optional<int64_t> assignee_id;  // 0: unassigned
  std::vector<std::string> words;      // a search's words (search::QueryWords); when `searched`
  std::vector<bool> rare;              // per word: few tickets have it (drive the query from it)
  bool searched = false;
  std::optional<int64_t> number;  // "#1234" or "1234" typed in the search
  std::string sla;                // "", "breached", "due_soon"
  int64_t now = 0;                // for `sla`
  std::string sort;               // "number", "priority", "due", "updated"; '-' reverses
  // The portal: only tickets this contact raised or is on (their contact, a contact
  // with their address, or a participant with it; `on_email` lower-cased).
  std::optional<int64_t> on_contact_id;
  std::string on_email;
};
std::vector<Ticket> ListTickets(soci::session& sql, const Filter& f, int64_t offset, int64_t limit);
// How many match; a search counts at most kSearchCountCap + 1 ("more than 200").
int64_t CountTickets(soci::session& sql, const Filter& f);

// Writes `e` (kind, body, from as the author's name, created_at, from_mail) on ticket
// `ticket_id`; returns its id.
int64_t InsertEntry(soci::session& sql, int64_t ticket_id, const Entry& e,
                    std::optional<int64_t> author_id = std::nullopt);
std::vector<Entry> ListEntries(soci::session& sql, int64_t ticket_id);
// The same, each entry with its attachments' metadata.
std::vector<Entry> ListEntriesWithFiles(soci::session& sql, int64_t ticket_id);

// Attachments: metadata of a ticket's files (grouped by the caller), and one file
// with its bytes.
int64_t InsertAttachment(soci::session& sql, const Attachment& a, const std::string& content,
                         const std::string& now);
std::vector<Attachment> ListAttachments(soci::session& sql, int64_t ticket_id);
std::optional<std::pair<Attachment, std::string>> FindAttachment(soci::session& sql, int64_t id);

// Participants: the other addresses on a ticket's thread (lower-cased).
void AddParticipant(soci::session& sql, int64_t ticket_id, const std::string& email);
std::vector<std::string> Participants(soci::session& sql, int64_t ticket_id);
std::optional<int64_t> TicketIdByNumber(soci::session& sql, int64_t number);
// A client's name, as a ticket shows it ("" if there is no such client).
std::string ClientName(soci::session& sql, int64_t client_id);
// The sender of the email that opened a ticket (its first public entry that came by
// mail), "" when none.
std::string FirstMailSender(soci::session& sql, int64_t ticket_id);

int64_t InsertTimeEntry(soci::session& sql, const TimeEntry& e, const std::string& now);
std::vector<TimeEntry> ListTimeEntries(soci::session& sql, int64_t ticket_id);
// Billable minutes on a client's tickets dated from `from` to `to` (inclusive).
int64_t BillableMinutes(soci::session& sql, int64_t client_id, const std::string& from,
                        const std::string& to);

// Active staff (id, name) by name: who a ticket can be assigned to.
std::vector<std::pair<int64_t, std::string>> ActiveStaff(soci::session& sql);
// Whether a staff user exists and is active (an assignee).
std::optional<std::string> ActiveStaffName(soci::session& sql, int64_t staff_id);
// The address of an active staff member (the assignee told of a portal reply).
std::optional<std::string> ActiveStaffEmail(soci::session& sql, int64_t staff_id);

}  // namespace opsmerge::tickets::store
