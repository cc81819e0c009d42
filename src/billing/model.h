#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// Contracts and recurring invoices (B1-B4): the types and the pure rules of the
// monthly run (which contracts cover a month, proration by actual days, half-up
// rounding to the penny, VAT per line, overage and ad-hoc time). No I/O: the
// service reads the inputs (contracts, the live endpoint count, billable minutes)
// and hands them here, so every rule is unit-tested on worked cases.
namespace opsmerge::billing {

// A calendar date, proleptic Gregorian.
struct Date {
  int year = 0;
  int month = 0;  // 1-12
  int day = 0;    // 1-31
  auto operator<=>(const Date&) const = default;
};

// "2026-11-05"; nullopt for anything else, including 2026-02-30.
std::optional<Date> ParseDate(std::string_view text);
std::string FormatDate(const Date& d);
// "5 Nov 2026", as invoices show a date.
std::string FormatDateForPeople(const Date& d);
int DaysInMonth(int year, int month);
// Days since 1970-01-01 and back.
int64_t DayNumber(const Date& d);
Date FromDayNumber(int64_t days);

// An invoice month: "2026-11".
struct Month {
  int year = 0;
  int month = 0;
  Date First() const { return {year, month, 1}; }
  Date Last() const { return {year, month, DaysInMonth(year, month)}; }
  int Days() const { return DaysInMonth(year, month); }
  Month Next() const { return month == 12 ? Month{year + 1, 1} : Month{year, month + 1}; }
  auto operator<=>(const Month&) const = default;
};
std::optional<Month> ParseMonth(std::string_view text);
std::string FormatMonth(const Month& m);
// "November 2026".
std::string FormatMonthForPeople(const Month& m);

enum class ContractKind { kFixed, kUnlimited, kHoursBlock, kPerEndpoint };
std::optional<ContractKind> ParseContractKind(std::string_view name);
const char* ContractKindName(ContractKind kind);

struct Contract {
  int64_t id = 0;
  int64_t client_id = 0;
  std::string name;
  ContractKind kind = ContractKind::kFixed;
  Date start;
  std::optional<Date> end;  // inclusive; none: open-ended
  int64_t monthly_fee_pence = 0;
  int64_t included_hours = 0;      // hours_block
  int64_t overage_rate_pence = 0;  // hours_block, per hour
  int64_t per_endpoint_pence = 0;  // per_endpoint
  std::string created_at;
  std::string updated_at;
};

// What a contract form or the API sends; validated by ValidateContract.
struct ContractInput {
  std::string name;
  std::string kind;
  std::string start_date;
  std::string end_date;  // "" none
  int64_t monthly_fee_pence = 0;
  int64_t included_hours = 0;
  int64_t overage_rate_pence = 0;
  int64_t per_endpoint_pence = 0;
};
// The contract `in` describes, or ValidationError naming the field.
Contract ValidateContract(const ContractInput& in);

// The days of `m` a contract covers, both ends inclusive (0 when none).
struct Coverage {
  int days = 0;
  Date from;
  Date to;
};
Coverage CoveredDays(const Contract& c, const Month& m);

// Integer arithmetic, half up, for non-negative amounts.
int64_t DivideHalfUp(int64_t numerator, int64_t denominator);
// amount x covered / days, half up.
int64_t Prorate(int64_t amount_pence, int covered_days, int days_in_month);
// net x rate (basis points, 2000 = 20%), half up.
int64_t VatOf(int64_t net_pence, int64_t rate_bp);
// minutes x hourly rate / 60, half up.
int64_t TimeCharge(int64_t minutes, int64_t hourly_rate_pence);

enum class LineKind { kFee, kEndpoints, kOverage, kAdHoc };
const char* LineKindName(LineKind kind);
std::optional<LineKind> ParseLineKind(std::string_view name);

struct Line {
  LineKind kind = LineKind::kFee;
  std::optional<int64_t> contract_id;
  std::string description;        // with the covered dates
  std::string working;            // how it was worked out: "12 endpoints x £17.99 x 20/30 days"
  int64_t quantity_milli = 1000;  // thousandths: 1.5 hours is 1500
  int64_t unit_pence = 0;
  Date period_start;
  Date period_end;
  int64_t vat_rate_bp = 0;
  int64_t net_pence = 0;
  int64_t vat_pence = 0;
};

// What the run knows of one client for month M, read at generation.
struct RunInput {
  Month month;
  std::vector<Contract> contracts;  // the client's, any dates (the rules pick)
  int64_t billable_endpoints = 0;   // R4: live, billable, non-retired
  int64_t billable_minutes = 0;     // time entries dated in M on the client's tickets
  int64_t hourly_rate_pence = 0;    // settings: ad-hoc time
  int64_t vat_rate_bp = 2000;
  // Contracts already billed for M on another invoice that is not void (a client
  // merged in brings its own): not billed twice.
  std::vector<int64_t> already_billed;
};

// The lines of a client's invoice for M, in a stable order (contracts by start and
// id, each fee before its endpoints; then time). Empty: no invoice.
std::vector<Line> BuildLines(const RunInput& in);

struct Totals {
  int64_t net_pence = 0;
  int64_t vat_pence = 0;
  int64_t gross_pence = 0;
};
Totals Sum(const std::vector<Line>& lines);

// "£1,234.56".
std::string FormatMoney(int64_t pence);
// What a form's money field holds: "17.99", "£1,234.5", "85" as pence; nullopt for
// anything else (a sign, more than two decimals, more than £10,000,000.00).
std::optional<int64_t> ParseMoney(std::string_view text);
// Pence as a form shows them again: "17.99".
std::string MoneyInput(int64_t pence);
// "1.5", "12", "0.333".
std::string FormatQuantity(int64_t milli);

// An invoice number format holds one {n} or {n:W} (zero-padded to W digits, W 1-12)
// and up to 40 printable ASCII characters: "INV-{n:6}" gives "INV-000123".
// ValidationError("invoice_number_format") otherwise.
void ValidateNumberFormat(const std::string& format);
std::string FormatInvoiceNumber(const std::string& format, int64_t n);
inline constexpr const char* kDefaultNumberFormat = "INV-{n:6}";

enum class InvoiceStatus { kDraft, kIssued, kVoid };
const char* InvoiceStatusName(InvoiceStatus s);
std::optional<InvoiceStatus> ParseInvoiceStatus(std::string_view name);

struct Invoice {
  int64_t id = 0;
  int64_t client_id = 0;
  std::string client_name;
  Month month;
  InvoiceStatus status = InvoiceStatus::kDraft;
  std::string number;      // "" until issued
  std::string issue_date;  // "" until issued
  std::string due_date;
  std::string currency = "GBP";
  int64_t net_pence = 0;
  int64_t vat_pence = 0;
  int64_t gross_pence = 0;
  std::string supplier_name;
  std::string supplier_address;
  std::string vat_number;
  std::string customer_name;
  std::string customer_address;
  std::optional<int64_t> reissue_of;
  std::string created_at;
  std::string updated_at;
  std::vector<Line> lines;
};

}  // namespace opsmerge::billing
