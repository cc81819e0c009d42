#include "tickets/model.h"

#include <algorithm>
#include <cctype>
#include <ctime>

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
  if (targets.hours) {
    return {AddBusinessMinutes(opened_at, s.first_response_minutes, *targets.hours),
            AddBusinessMinutes(opened_at, s.resolution_minutes, *targets.hours)};
  }
  return {opened_at + s.first_response_minutes * 60, opened_at + s.resolution_minutes * 60};
}

namespace {

const char* const kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

int ClockMinutes(const nlohmann::json& v, const char* key) {
  auto bad = [&] {
    return ValidationError("business_hours",
                           std::string("business_hours ") + key + " must be a time like 09:00");
  };
  if (!v.contains(key) || !v[key].is_string()) throw bad();
  std::string t = v[key].get<std::string>();
  if (t.size() != 5 || t[2] != ':' || !std::isdigit(static_cast<unsigned char>(t[0])) ||
      !std::isdigit(static_cast<unsigned char>(t[1])) ||
      !std::isdigit(static_cast<unsigned char>(t[3])) ||
      !std::isdigit(static_cast<unsigned char>(t[4]))) {
    throw bad();
  }
  int h = std::stoi(t.substr(0, 2)), m = std::stoi(t.substr(3, 2));
  if (h > 24 || m > 59 || (h == 24 && m != 0)) throw bad();
  return h * 60 + m;
}

// Local midnight of the day holding `t`, and of the day after.
int64_t LocalTime(const std::tm& day, int minute_of_day) {
  std::tm tm = day;
  tm.tm_hour = minute_of_day / 60;
  tm.tm_min = minute_of_day % 60;
  tm.tm_sec = 0;
  tm.tm_isdst = -1;
  return static_cast<int64_t>(std::mktime(&tm));
}

}  // namespace

std::optional<BusinessHours> ParseBusinessHours(const std::string& json_text) {
  if (json_text.empty()) return std::nullopt;
  nlohmann::json v = nlohmann::json::parse(json_text, nullptr, false);
  if (v.is_null()) return std::nullopt;
  if (!v.is_object() || !v.contains("days") || !v["days"].is_array() || v["days"].empty()) {
    throw ValidationError("business_hours",
                          "business_hours must be {\"days\": [\"mon\", ...], \"start\": "
                          "\"09:00\", \"end\": \"17:30\"} or null");
  }
  for (const auto& [key, value] : v.items()) {
    (void)value;
    if (key != "days" && key != "start" && key != "end") {
      throw ValidationError("business_hours", "business_hours has no member " + key);
    }
  }
  BusinessHours h;
  for (const auto& d : v["days"]) {
    bool known = false;
    for (int i = 0; i < 7; ++i) {
      if (d.is_string() && d.get<std::string>() == kDayNames[i]) {
        h.days[static_cast<size_t>(i)] = true;
        known = true;
      }
    }
    if (!known) {
      throw ValidationError("business_hours",
                            "business_hours days are mon, tue, wed, thu, fri, sat, sun");
    }
  }
  h.start_minute = ClockMinutes(v, "start");
  h.end_minute = ClockMinutes(v, "end");
  if (h.end_minute <= h.start_minute) {
    throw ValidationError("business_hours", "business_hours must end after they start");
  }
  return h;
}

std::string BusinessHoursJson(const BusinessHours& hours) {
  nlohmann::json days = nlohmann::json::array();
  for (int i = 1; i <= 7; ++i) {  // Monday first, as people read a week
    if (hours.days[static_cast<size_t>(i % 7)]) days.push_back(kDayNames[i % 7]);
  }
  auto clock = [](int minute) {
    auto two = [](int n) { return std::string(n < 10 ? "0" : "") + std::to_string(n); };
    return two(minute / 60) + ":" + two(minute % 60);
  };
  return nlohmann::json{
      {"days", days}, {"start", clock(hours.start_minute)}, {"end", clock(hours.end_minute)}}
      .dump();
}

int64_t AddBusinessMinutes(int64_t start, int64_t minutes, const BusinessHours& hours) {
  bool any = false;
  for (bool d : hours.days) any = any || d;
  if (!any || hours.end_minute <= hours.start_minute) return start + minutes * 60;
  int64_t remaining = minutes * 60;
  std::time_t t = static_cast<std::time_t>(start);
  // At most ten years of days: a target that long is a setting's mistake, not a wait.
  for (int i = 0; i < 3660; ++i) {
    std::tm day{};
    localtime_r(&t, &day);
    int64_t open = LocalTime(day, hours.start_minute);
    int64_t close = LocalTime(day, hours.end_minute);
    if (hours.days[static_cast<size_t>(day.tm_wday)] && t < close) {
      int64_t from = std::max<int64_t>(t, open);
      if (remaining <= close - from) return from + remaining;
      remaining -= close - from;
    }
    std::tm next = day;
    next.tm_mday += 1;
    next.tm_hour = 0;
    next.tm_min = 0;
    next.tm_sec = 0;
    next.tm_isdst = -1;
    t = std::mktime(&next);
  }
  return start + minutes * 60;
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
