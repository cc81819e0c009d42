#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Tickets (T1-T2, P3): statuses, priorities, SLA due times, the VIP rule and the
// validation of what people type. Pure rules, no I/O.
namespace opsmerge::tickets {

// A search's total stops counting at this many (the total is then one more: "more
// than 200"), so a common word costs no scan of a million tickets per page view.
inline constexpr int64_t kSearchCountCap = 200;

enum class Status { kNew, kOpen, kWaitingOnClient, kResolved, kClosed };
enum class Priority { kLow, kNormal, kHigh, kUrgent };
enum class Source { kEmail, kPortal, kStaff, kAlert, kApi };

const char* StatusName(Status s);       // "new", "open", "waiting_on_client" ...
const char* StatusLabel(Status s);      // "New", "Open", "Waiting on client" ...
const char* PriorityName(Priority p);   // "low" ... "urgent"
const char* PriorityLabel(Priority p);  // "Low" ... "Urgent"
const char* SourceName(Source s);       // "email", "portal", "staff", "alert", "api"
std::optional<Status> ParseStatus(std::string_view name);
std::optional<Priority> ParsePriority(std::string_view name);
std::optional<Source> ParseSource(std::string_view name);
// Resolved and closed tickets are done: no SLA clock runs on them.
bool IsDone(Status s);

// P3: a VIP contact's ticket starts one priority higher, and at least High.
Priority VipPriority(Priority requested);

// Minutes to the first response and to resolution, per priority (settings "sla").
struct SlaTarget {
  int64_t first_response_minutes = 0;
  int64_t resolution_minutes = 0;
};
// Business hours (settings "business_hours"): the days of the week and the local
// time span in which SLA minutes count, in the installation's time zone. Absent: SLA
// time runs around the clock.
struct BusinessHours {
  std::array<bool, 7> days{};  // by tm_wday: 0 Sunday ... 6 Saturday
  int start_minute = 9 * 60;   // minutes after local midnight
  int end_minute = 17 * 60 + 30;
};
// {"days": ["mon", ...], "start": "09:00", "end": "17:30"}; null or "" for none.
// Throws ValidationError("business_hours") for anything else.
std::optional<BusinessHours> ParseBusinessHours(const std::string& json_text);
std::string BusinessHoursJson(const BusinessHours& hours);
// `minutes` of business time after `start` (Unix seconds), in the process's local
// time zone (daylight saving handled by the C library).
int64_t AddBusinessMinutes(int64_t start, int64_t minutes, const BusinessHours& hours);

struct SlaTargets {
  // Minutes: 8 h / 5 days, 4 h / 2 days, 1 h / 8 h, 30 min / 4 h.
  SlaTarget low{480, 7200};
  SlaTarget normal{240, 2880};
  SlaTarget high{60, 480};
  SlaTarget urgent{30, 240};
  std::optional<BusinessHours> hours;  // none: around the clock
  const SlaTarget& For(Priority p) const;
  SlaTarget& For(Priority p);
};
// The settings value, a JSON object {"urgent": {"first_response_minutes",
// "resolution_minutes"}, ...}; priorities or members it leaves out keep the
// defaults above. Throws ValidationError("sla") for anything else.
SlaTargets ParseSlaTargets(const std::string& json_text);
std::string SlaTargetsJson(const SlaTargets& targets);

// Due times (Unix seconds) of a ticket opened at `opened_at` with `priority`,
// counted in business hours when the targets have them, else around the clock.
struct DueTimes {
  int64_t first_response = 0;
  int64_t resolution = 0;
};
DueTimes DueFor(int64_t opened_at, Priority priority, const SlaTargets& targets);

// A ticket's subject: trimmed, 1-200 characters, no control characters; the
// description: at most 100,000 characters. Throw ValidationError naming the field.
std::string ValidSubject(std::string_view subject);
std::string ValidDescription(std::string_view description);
// A reply or note body: 1-100,000 characters.
std::string ValidBody(std::string_view body, const std::string& field);

// A time entry as typed: minutes 1-1440, a real date "YYYY-MM-DD", a note of at most
// 2,000 characters. Throws ValidationError naming the field.
struct TimeEntryInput {
  int64_t minutes = 0;
  std::string date;
  bool billable = true;
  std::string note;
};
TimeEntryInput ValidTimeEntry(const TimeEntryInput& input);

struct Ticket {
  int64_t id = 0;
  int64_t number = 0;
  std::string subject;
  std::string description;
  std::optional<int64_t> client_id;  // none while in triage
  std::string client_name;
  std::optional<int64_t> contact_id;
  std::string contact_name;
  std::string contact_email;
  Status status = Status::kNew;
  Priority priority = Priority::kNormal;
  bool vip = false;
  std::optional<int64_t> assignee_id;
  std::string assignee_name;
  std::optional<int64_t> endpoint_id;
  std::string endpoint_name;
  std::optional<int64_t> site_id;
  std::string site_name;
  Source source = Source::kStaff;
  std::optional<int64_t> first_response_due_at;  // Unix seconds
  std::optional<int64_t> resolution_due_at;
  std::optional<int64_t> first_responded_at;
  std::optional<int64_t> resolved_at;
  std::string created_at;
  std::string updated_at;
};

enum class EntryKind { kPublic, kInternal, kSystem };
const char* EntryKindName(EntryKind k);  // "public", "internal", "system"

// A file that came with an entry (an email's attachments). Its bytes live in their
// own row, read only when someone downloads it.
struct Attachment {
  int64_t id = 0;
  int64_t ticket_id = 0;
  int64_t entry_id = 0;
  std::string filename;      // safe: no path parts, no control characters
  std::string content_type;  // "type/subtype", checked
  int64_t size = 0;
};

struct Entry {
  int64_t id = 0;
  EntryKind kind = EntryKind::kSystem;
  std::string body;
  std::string from;  // who wrote it: a technician's name, a contact's address, "OpsMerge"
  std::string created_at;
  std::vector<Attachment> attachments;
  bool from_mail = false;  // the original message is kept and can be downloaded
};

struct TimeEntry {
  int64_t id = 0;
  int64_t ticket_id = 0;
  std::optional<int64_t> staff_id;
  std::string staff_name;
  int64_t minutes = 0;
  std::string date;
  bool billable = true;
  std::string note;
  std::string created_at;
};

// SLA state of a ticket at `now`: breached (a due time passed with its step not
// done), due within an hour, or neither.
enum class SlaState { kOk, kDueSoon, kBreached };
SlaState SlaStateOf(const Ticket& t, int64_t now);

}  // namespace opsmerge::tickets
