#include "tickets/model.h"

#include <nlohmann/json.hpp>

#include "platform/errors.h"
#include "platform/text.h"

namespace opsmerge::tickets {

namespace {

struct StatusInfo {
  Status status;
  const char* name;
  const char* label;
};
constexpr StatusInfo kStatuses[] = {
    {Status::kNew, "new", "New"},
    {Status::kOpen, "open", "Open"},
    {Status::kWaitingOnClient, "waiting_on_client", "Waiting on client"},
    {Status::kResolved, "resolved", "Resolved"},
    {Status::kClosed, "closed", "Closed"}};
struct PriorityInfo {
  Priority priority;
  const char* name;
  const char* label;
};
constexpr PriorityInfo kPriorities[] = {{Priority::kLow, "low", "Low"},
                                        {Priority::kNormal, "normal", "Normal"},
                                        {Priority::kHigh, "high", "High"},
                                        {Priority::kUrgent, "urgent", "Urgent"}};
struct SourceInfo {
  Source source;
  const char* name;
};
constexpr SourceInfo kSources[] = {{Source::kEmail, "email"},
                                   {Source::kPortal, "portal"},
                                   {Source::kStaff, "staff"},
                                   {Source::kAlert, "alert"},
                                   {Source::kApi, "api"}};

std::string Checked(std::string_view value, const std::string& field, const std::string& label,
                    size_t min_chars, size_t max_chars, bool single_line) {
  std::string v = single_line ? text::CollapseWhitespace(value) : text::Trim(value);
  if (!text::IsValidUtf8(v)) throw ValidationError(field, label + " is not valid text");
  if (text::HasControlCharacters(v)) {
    throw ValidationError(field, label + " holds control characters");
  }
  size_t n = text::Utf8Length(v);
  if (n < min_chars) throw ValidationError(field, label + " is required");
  if (n > max_chars) {
    throw ValidationError(
        field, label + " is too long (at most " + std::to_string(max_chars) + " characters)");
  }
  return v;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

const char* StatusName(Status s) {
  for (const auto& i : kStatuses) {
    if (i.status == s) return i.name;
  }
  return "new";
}
const char* StatusLabel(Status s) {
  for (const auto& i : kStatuses) {
    if (i.status == s) return i.label;
  }
  return "New";
}
const char* PriorityName(Priority p) {
  for (const auto& i : kPriorities) {
    if (i.priority == p) return i.name;
  }
  return "normal";
}
const char* PriorityLabel(Priority p) {
  for (const auto& i : kPriorities) {
    if (i.priority == p) return i.label;
  }
  return "Normal";
}
const char* SourceName(Source s) {
  for (const auto& i : kSources) {
    if (i.source == s) return i.name;
  }
  return "staff";
}
std::optional<Status> ParseStatus(std::string_view name) {
  for (const auto& i : kStatuses) {
    if (name == i.name) return i.status;
  }
  return std::nullopt;
}
std::optional<Priority> ParsePriority(std::string_view name) {
  for (const auto& i : kPriorities) {
    if (name == i.name) return i.priority;
  }
  return std::nullopt;
}
std::optional<Source> ParseSource(std::string_view name) {
  for (const auto& i : kSources) {
    if (name == i.name) return i.source;
  }
  return std::nullopt;
}

bool IsDone(Status s) { return s == Status::kResolved || s == Status::kClosed; }

Priority VipPriority(Priority requested) {
  switch (requested) {
    case Priority::kLow:
    case Priority::kNormal:
      return Priority::kHigh;
    case Priority::kHigh:
    case Priority::kUrgent:
      return Priority::kUrgent;
  }
  return Priority::kHigh;
}

const SlaTarget& SlaTargets::For(Priority p) const { return const_cast<SlaTargets*>(this)->For(p); }

SlaTarget& SlaTargets::For(Priority p) {
  switch (p) {
    case Priority::kLow:
      return low;
    case Priority::kNormal:
      return normal;
    case Priority::kHigh:
      return high;
    case Priority::kUrgent:
      return urgent;
  }
  return normal;
}

SlaTargets ParseSlaTargets(const std::string& json_text) {
  SlaTargets t;
  nlohmann::json j = nlohmann::json::parse(json_text, nullptr, false);
  if (!j.is_object()) throw ValidationError("sla", "sla must be an object of priorities");
  for (const auto& [name, value] : j.items()) {
    auto p = ParsePriority(name);
    if (!p || !value.is_object()) {
      throw ValidationError("sla", "sla has targets for low, normal, high and urgent only");
    }
    SlaTarget& target = t.For(*p);
    for (const auto& [member, slot] :
         {std::pair<const char*, int64_t*>{"first_response_minutes",
                                           &target.first_response_minutes},
          std::pair<const char*, int64_t*>{"resolution_minutes", &target.resolution_minutes}}) {
      auto it = value.find(member);
      if (it == value.end()) continue;
      if (!it->is_number_integer() || it->get<int64_t>() < 1 ||
          it->get<int64_t>() > int64_t{365} * 24 * 60) {
        throw ValidationError("sla", std::string("sla.") + name + "." + member +
                                         " must be whole minutes, 1 to a year");
      }
      *slot = it->get<int64_t>();
    }
  }
  return t;
}

std::string SlaTargetsJson(const SlaTargets& t) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& i : kPriorities) {
    const SlaTarget& s = t.For(i.priority);
    j[i.name] = {{"first_response_minutes", s.first_response_minutes},
                 {"resolution_minutes", s.resolution_minutes}};
  }
  return j.dump();
}

DueTimes DueFor(int64_t opened_at, Priority priority, const SlaTargets& targets) {
  const SlaTarget& s = targets.For(priority);
  return {opened_at + s.first_response_minutes * 60, opened_at + s.resolution_minutes * 60};
}

std::string ValidSubject(std::string_view subject) {
  return Checked(subject, "subject", "Subject", 1, 200, true);
}
std::string ValidDescription(std::string_view description) {
  std::string v(description);
  if (!text::IsValidUtf8(v)) throw ValidationError("description", "Description is not valid text");
  if (text::Utf8Length(v) > 100000) {
    throw ValidationError("description", "Description is too long (at most 100,000 characters)");
  }
  return text::Trim(v);
}
std::string ValidBody(std::string_view body, const std::string& field) {
  std::string v = text::Trim(body);
  if (!text::IsValidUtf8(v)) throw ValidationError(field, "The text is not valid");
  if (v.empty()) throw ValidationError(field, "Write something first");
  if (text::Utf8Length(v) > 100000) {
    throw ValidationError(field, "The text is too long (at most 100,000 characters)");
  }
  return v;
}

TimeEntryInput ValidTimeEntry(const TimeEntryInput& in) {
  TimeEntryInput out = in;
  if (in.minutes < 1 || in.minutes > int64_t{24} * 60) {
    throw ValidationError("minutes", "Minutes must be 1 to 1440 (one day)");
  }
  const std::string& d = in.date;
  bool shape = d.size() == 10 && d[4] == '-' && d[7] == '-';
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    shape = shape && d.size() == 10 && d[i] >= '0' && d[i] <= '9';
  if (!shape) throw ValidationError("date", "Date must be YYYY-MM-DD");
  int y = std::stoi(d.substr(0, 4)), m = std::stoi(d.substr(5, 2)), day = std::stoi(d.substr(8, 2));
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 2000 || y > 2999 || m < 1 || m > 12 || day < 1 ||
      day > kDays[m - 1] + (m == 2 && IsLeap(y) ? 1 : 0)) {
    throw ValidationError("date", "Date is not a real day");
  }
  out.note = Checked(in.note, "note", "Note", 0, 2000, false);
  return out;
}

const char* EntryKindName(EntryKind k) {
  switch (k) {
    case EntryKind::kPublic:
      return "public";
    case EntryKind::kInternal:
      return "internal";
    case EntryKind::kSystem:
      return "system";
  }
  return "system";
}

SlaState SlaStateOf(const Ticket& t, int64_t now) {
  if (IsDone(t.status)) return SlaState::kOk;
  std::optional<int64_t> next;
  if (!t.first_responded_at && t.first_response_due_at) next = t.first_response_due_at;
  if (t.resolution_due_at && (!next || *t.resolution_due_at < *next)) next = t.resolution_due_at;
  if (!next) return SlaState::kOk;
  if (*next < now) return SlaState::kBreached;
  if (*next < now + 3600) return SlaState::kDueSoon;
  return SlaState::kOk;
}

}  // namespace opsmerge::tickets
