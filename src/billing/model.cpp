#include "billing/model.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "platform/errors.h"
#include "platform/text.h"

namespace opsmerge::billing {

namespace {

constexpr std::array<const char*, 12> kMonthShort = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<const char*, 12> kMonthLong = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

// The largest amount a contract may name: £10,000,000.00. With at most a million
// endpoints and 31 days no product below overflows int64.
constexpr int64_t kMaxPence = 1'000'000'000;
constexpr int64_t kMaxHours = 10'000;

bool Digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int ToInt(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::string Pad2(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }

std::string Range(const Date& from, const Date& to) {
  return FormatDateForPeople(from) + " to " + FormatDateForPeople(to);
}

// "x 20/30 days" when the line covers part of the month, "" when all of it.
std::string DaysFactor(const Coverage& c, const Month& m) {
  if (c.days == m.Days()) return "";
  return " x " + std::to_string(c.days) + "/" + std::to_string(m.Days()) + " days";
}

int64_t Money(int64_t v, const char* field, const std::string& label) {
  if (v < 0 || v > kMaxPence) {
    throw ValidationError(field, label + " must be from £0.00 to £10,000,000.00");
  }
  return v;
}

}  // namespace

std::optional<Date> ParseDate(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  if (!Digits(t.substr(0, 4)) || !Digits(t.substr(5, 2)) || !Digits(t.substr(8, 2))) {
    return std::nullopt;
  }
  Date d{ToInt(t.substr(0, 4)), ToInt(t.substr(5, 2)), ToInt(t.substr(8, 2))};
  if (d.year < 1900 || d.year > 9999 || d.month < 1 || d.month > 12 || d.day < 1 ||
      d.day > DaysInMonth(d.year, d.month)) {
    return std::nullopt;
  }
  return d;
}

std::string FormatDate(const Date& d) {
  return std::to_string(d.year) + "-" + Pad2(d.month) + "-" + Pad2(d.day);
}

std::string FormatDateForPeople(const Date& d) {
  return std::to_string(d.day) + " " + kMonthShort.at(static_cast<size_t>(d.month - 1)) + " " +
         std::to_string(d.year);
}

int DaysInMonth(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 29;
  return kDays.at(static_cast<size_t>(month - 1));
}

// Howard Hinnant's days_from_civil and civil_from_days.
int64_t DayNumber(const Date& d) {
  int64_t y = d.year - (d.month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t mp = (d.month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date FromDayNumber(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  return Date{static_cast<int>(y + (m <= 2 ? 1 : 0)), static_cast<int>(m), static_cast<int>(d)};
}

std::optional<Month> ParseMonth(std::string_view t) {
  if (t.size() != 7 || t[4] != '-' || !Digits(t.substr(0, 4)) || !Digits(t.substr(5, 2))) {
    return std::nullopt;
  }
  Month m{ToInt(t.substr(0, 4)), ToInt(t.substr(5, 2))};
  if (m.year < 1900 || m.year > 9999 || m.month < 1 || m.month > 12) return std::nullopt;
  return m;
}

std::string FormatMonth(const Month& m) { return std::to_string(m.year) + "-" + Pad2(m.month); }

std::string FormatMonthForPeople(const Month& m) {
  return std::string(kMonthLong.at(static_cast<size_t>(m.month - 1))) + " " +
         std::to_string(m.year);
}

std::optional<ContractKind> ParseContractKind(std::string_view n) {
  if (n == "fixed") return ContractKind::kFixed;
  if (n == "unlimited") return ContractKind::kUnlimited;
  if (n == "hours_block") return ContractKind::kHoursBlock;
  if (n == "per_endpoint") return ContractKind::kPerEndpoint;
  return std::nullopt;
}

const char* ContractKindName(ContractKind k) {
  switch (k) {
    case ContractKind::kFixed:
      return "fixed";
    case ContractKind::kUnlimited:
      return "unlimited";
    case ContractKind::kHoursBlock:
      return "hours_block";
    case ContractKind::kPerEndpoint:
      return "per_endpoint";
  }
  return "fixed";
}

Contract ValidateContract(const ContractInput& in) {
  Contract c;
  c.name = text::CleanField("name", "The name", in.name, 200, false);
  if (c.name.empty()) throw ValidationError("name", "Give the contract a name");
  auto kind = ParseContractKind(in.kind);
  if (!kind) {
    throw ValidationError("kind", "kind must be fixed, unlimited, hours_block or per_endpoint");
  }
  c.kind = *kind;
  auto start = ParseDate(in.start_date);
  if (!start) throw ValidationError("start_date", "start_date must be a date (YYYY-MM-DD)");
  c.start = *start;
  if (!in.end_date.empty()) {
    auto end = ParseDate(in.end_date);
    if (!end) throw ValidationError("end_date", "end_date must be a date (YYYY-MM-DD) or empty");
    if (*end < c.start) throw ValidationError("end_date", "end_date is before start_date");
    c.end = *end;
  }
  c.monthly_fee_pence = Money(in.monthly_fee_pence, "monthly_fee_pence", "The monthly fee");
  c.overage_rate_pence = Money(in.overage_rate_pence, "overage_rate_pence", "The overage rate");
  c.per_endpoint_pence =
      Money(in.per_endpoint_pence, "per_endpoint_pence", "The price per endpoint");
  if (in.included_hours < 0 || in.included_hours > kMaxHours) {
    throw ValidationError("included_hours", "included_hours must be from 0 to 10,000");
  }
  c.included_hours = in.included_hours;
  // What does not apply to the kind is refused, not silently kept.
  if (c.kind == ContractKind::kHoursBlock) {
    if (c.included_hours == 0) {
      throw ValidationError("included_hours", "An hours block includes at least one hour");
    }
  } else if (c.included_hours != 0 || c.overage_rate_pence != 0) {
    throw ValidationError(c.included_hours != 0 ? "included_hours" : "overage_rate_pence",
                          "Only an hours_block contract has included hours and an overage rate");
  }
  if (c.kind != ContractKind::kPerEndpoint && c.per_endpoint_pence != 0) {
    throw ValidationError("per_endpoint_pence",
                          "Only a per_endpoint contract has a price per endpoint");
  }
  return c;
}

Coverage CoveredDays(const Contract& c, const Month& m) {
  Coverage out;
  Date from = std::max(c.start, m.First());
  Date to = c.end ? std::min(*c.end, m.Last()) : m.Last();
  if (to < from) return out;
  out.from = from;
  out.to = to;
  out.days = to.day - from.day + 1;  // both inside M
  return out;
}

int64_t DivideHalfUp(int64_t numerator, int64_t denominator) {
  return (2 * numerator + denominator) / (2 * denominator);
}

int64_t Prorate(int64_t amount, int covered, int days) {
  if (covered >= days) return amount;
  return DivideHalfUp(amount * covered, days);
}

int64_t VatOf(int64_t net, int64_t rate_bp) { return DivideHalfUp(net * rate_bp, 10000); }

int64_t TimeCharge(int64_t minutes, int64_t rate) { return DivideHalfUp(minutes * rate, 60); }

const char* LineKindName(LineKind k) {
  switch (k) {
    case LineKind::kFee:
      return "fee";
    case LineKind::kEndpoints:
      return "endpoints";
    case LineKind::kOverage:
      return "overage";
    case LineKind::kAdHoc:
      return "ad_hoc";
  }
  return "fee";
}

std::optional<LineKind> ParseLineKind(std::string_view n) {
  for (LineKind k : {LineKind::kFee, LineKind::kEndpoints, LineKind::kOverage, LineKind::kAdHoc}) {
    if (n == LineKindName(k)) return k;
  }
  return std::nullopt;
}

std::vector<Line> BuildLines(const RunInput& in) {
  const Month& m = in.month;
  std::vector<const Contract*> covering;
  for (const auto& c : in.contracts) {
    if (CoveredDays(c, m).days == 0) continue;
    if (std::find(in.already_billed.begin(), in.already_billed.end(), c.id) !=
        in.already_billed.end()) {
      continue;
    }
    covering.push_back(&c);
  }
  std::sort(covering.begin(), covering.end(), [](const Contract* a, const Contract* b) {
    return a->start != b->start ? a->start < b->start : a->id < b->id;
  });
  std::vector<Line> lines;
  auto add = [&](Line l) {
    l.vat_rate_bp = in.vat_rate_bp;
    l.vat_pence = VatOf(l.net_pence, in.vat_rate_bp);
    lines.push_back(std::move(l));
  };
  const Contract* block = nullptr;  // the latest hours block sets the overage rate
  int64_t included_minutes = 0;
  bool covered_by_contract = false;
  for (const Contract* c : covering) {
    Coverage cov = CoveredDays(*c, m);
    covered_by_contract = true;
    std::string dates = Range(cov.from, cov.to);
    if (c->kind != ContractKind::kPerEndpoint || c->monthly_fee_pence > 0) {
      Line l;
      l.kind = LineKind::kFee;
      l.contract_id = c->id;
      l.description = c->name + ": monthly fee, " + dates;
      l.working = FormatMoney(c->monthly_fee_pence) + " a month" + DaysFactor(cov, m);
      l.quantity_milli = 1000;
      l.unit_pence = c->monthly_fee_pence;
      l.period_start = cov.from;
      l.period_end = cov.to;
      l.net_pence = Prorate(c->monthly_fee_pence, cov.days, m.Days());
      add(std::move(l));
    }
    if (c->kind == ContractKind::kPerEndpoint) {
      int64_t n = in.billable_endpoints;
      Line l;
      l.kind = LineKind::kEndpoints;
      l.contract_id = c->id;
      std::string count = text::CountOf(n, "endpoint", "endpoints");
      l.description = c->name;
      l.description.append(": ").append(count).append(", ").append(dates);
      l.working = count + " x " + FormatMoney(c->per_endpoint_pence) + DaysFactor(cov, m);
      l.quantity_milli = n * 1000;
      l.unit_pence = c->per_endpoint_pence;
      l.period_start = cov.from;
      l.period_end = cov.to;
      l.net_pence = Prorate(n * c->per_endpoint_pence, cov.days, m.Days());
      add(std::move(l));
    }
    if (c->kind == ContractKind::kHoursBlock) {
      included_minutes += c->included_hours * 60;
      if (!block || !(c->start < block->start)) block = c;
    }
  }
  // Time: against the hours blocks when there are any; included in every other
  // kind of contract; with none at all, ad hoc at the hourly rate.
  int64_t minutes = in.billable_minutes;
  auto time_line = [&](LineKind kind, std::optional<int64_t> contract, std::string description,
                       int64_t mins, int64_t rate, const std::string& what) {
    Line l;
    l.kind = kind;
    l.contract_id = contract;
    l.description = std::move(description);
    l.working = std::to_string(mins) + " min" + what + " x " + FormatMoney(rate) + " an hour";
    l.quantity_milli = DivideHalfUp(mins * 1000, 60);
    l.unit_pence = rate;
    l.period_start = m.First();
    l.period_end = m.Last();
    l.net_pence = TimeCharge(mins, rate);
    add(std::move(l));
  };
  if (block) {
    if (minutes > included_minutes) {
      int64_t hours = included_minutes / 60;
      time_line(LineKind::kOverage, block->id,
                block->name + ": support beyond the " + std::to_string(hours) +
                    (hours == 1 ? " hour" : " hours") + " included, " + FormatMonthForPeople(m),
                minutes - included_minutes, block->overage_rate_pence,
                " over (" + std::to_string(minutes) + " min worked)");
    }
  } else if (!covered_by_contract && minutes > 0) {
    time_line(LineKind::kAdHoc, std::nullopt, "Ad-hoc support, " + FormatMonthForPeople(m), minutes,
              in.hourly_rate_pence, "");
  }
  return lines;
}

Totals Sum(const std::vector<Line>& lines) {
  Totals t;
  for (const auto& l : lines) {
    t.net_pence += l.net_pence;
    t.vat_pence += l.vat_pence;
  }
  t.gross_pence = t.net_pence + t.vat_pence;
  return t;
}

std::string FormatMoney(int64_t pence) {
  bool negative = pence < 0;
  uint64_t v = negative ? static_cast<uint64_t>(-(pence + 1)) + 1 : static_cast<uint64_t>(pence);
  std::string pounds = std::to_string(v / 100);
  for (int i = static_cast<int>(pounds.size()) - 3; i > 0; i -= 3) {
    pounds.insert(static_cast<size_t>(i), ",");
  }
  return std::string(negative ? "-" : "") + "\xC2\xA3" + pounds + "." +
         Pad2(static_cast<int>(v % 100));
}

std::optional<int64_t> ParseMoney(std::string_view t) {
  std::string s;
  for (char c : text::Trim(t)) {
    if (c != ',' && c != ' ') s += c;
  }
  if (s.rfind("\xC2\xA3", 0) == 0) s = s.substr(2);  // £
  size_t dot = s.find('.');
  std::string whole = s.substr(0, dot);
  std::string frac = dot == std::string::npos ? "" : s.substr(dot + 1);
  if (!Digits(whole) || whole.size() > 8 || frac.size() > 2 || (!frac.empty() && !Digits(frac)) ||
      (dot != std::string::npos && frac.empty())) {
    return std::nullopt;
  }
  if (frac.size() == 1) frac += "0";
  int64_t pence = std::stoll(whole) * 100 + (frac.empty() ? 0 : std::stoll(frac));
  if (pence > kMaxPence) return std::nullopt;
  return pence;
}

std::string MoneyInput(int64_t pence) {
  return std::to_string(pence / 100) + "." + Pad2(static_cast<int>(pence % 100));
}

std::string FormatQuantity(int64_t milli) {
  std::string out = std::to_string(milli / 1000);
  int64_t frac = milli % 1000;
  if (frac == 0) return out;
  std::string f = std::to_string(frac);
  f = std::string(3 - f.size(), '0') + f;
  while (!f.empty() && f.back() == '0') f.pop_back();
  return out + "." + f;
}

void ValidateNumberFormat(const std::string& format) {
  auto bad = [] {
    throw ValidationError("invoice_number_format",
                          "invoice_number_format must hold {n} or {n:6} (digits, zero-padded) "
                          "once, in at most 40 printable characters, like INV-{n:6}");
  };
  if (format.empty() || format.size() > 40) bad();
  for (char c : format) {
    if (c < 0x21 || c > 0x7E) bad();
  }
  size_t open = format.find('{');
  if (open == std::string::npos || format.find('{', open + 1) != std::string::npos) bad();
  size_t close = format.find('}', open);
  if (close == std::string::npos || format.find('}', close + 1) != std::string::npos) bad();
  std::string inner = format.substr(open + 1, close - open - 1);
  if (inner == "n") return;
  if (inner.size() < 3 || inner.substr(0, 2) != "n:" || !Digits(inner.substr(2)) ||
      inner.size() > 4) {
    bad();
  }
  int width = ToInt(inner.substr(2));
  if (width < 1 || width > 12) bad();
}

std::string FormatInvoiceNumber(const std::string& format, int64_t n) {
  size_t open = format.find('{');
  size_t close = format.find('}', open);
  std::string inner = format.substr(open + 1, close - open - 1);
  std::string digits = std::to_string(n);
  if (inner.size() > 2) {
    size_t width = static_cast<size_t>(ToInt(inner.substr(2)));
    if (digits.size() < width) digits = std::string(width - digits.size(), '0') + digits;
  }
  return format.substr(0, open) + digits + format.substr(close + 1);
}

const char* InvoiceStatusName(InvoiceStatus s) {
  switch (s) {
    case InvoiceStatus::kDraft:
      return "draft";
    case InvoiceStatus::kIssued:
      return "issued";
    case InvoiceStatus::kVoid:
      return "void";
  }
  return "draft";
}

std::optional<InvoiceStatus> ParseInvoiceStatus(std::string_view n) {
  if (n == "draft") return InvoiceStatus::kDraft;
  if (n == "issued") return InvoiceStatus::kIssued;
  if (n == "void") return InvoiceStatus::kVoid;
  return std::nullopt;
}

}  // namespace opsmerge::billing
