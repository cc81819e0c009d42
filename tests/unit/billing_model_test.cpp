// The monthly run's rules (B1-B3), on worked cases: proration by actual days with
// both ends inclusive, half-up rounding per line, VAT per line, hours blocks, ad-hoc
// time, and the money and number formats invoices print.
#include <gtest/gtest.h>

#include "billing/model.h"
#include "platform/errors.h"

namespace opsmerge::billing {
namespace {

Contract Make(int64_t id, ContractKind kind, const std::string& start, const std::string& end,
              int64_t fee, int64_t per_endpoint = 0, int64_t hours = 0, int64_t rate = 0) {
  Contract c;
  c.id = id;
  c.name = "Contract " + std::to_string(id);
  c.kind = kind;
  c.start = *ParseDate(start);
  if (!end.empty()) c.end = *ParseDate(end);
  c.monthly_fee_pence = fee;
  c.per_endpoint_pence = per_endpoint;
  c.included_hours = hours;
  c.overage_rate_pence = rate;
  return c;
}

RunInput For(const std::string& month, std::vector<Contract> contracts) {
  RunInput in;
  in.month = *ParseMonth(month);
  in.contracts = std::move(contracts);
  in.hourly_rate_pence = 8500;
  in.vat_rate_bp = 2000;
  return in;
}

TEST(BillingDates, MonthsHaveTheirRealLengthIncludingLeapYears) {
  EXPECT_EQ(DaysInMonth(2026, 11), 30);
  EXPECT_EQ(DaysInMonth(2027, 1), 31);
  EXPECT_EQ(DaysInMonth(2027, 2), 28);
  EXPECT_EQ(DaysInMonth(2028, 2), 29);
  EXPECT_EQ(DaysInMonth(2100, 2), 28);
  EXPECT_EQ(DaysInMonth(2000, 2), 29);
  EXPECT_FALSE(ParseDate("2027-02-29"));
  EXPECT_TRUE(ParseDate("2028-02-29"));
  EXPECT_FALSE(ParseDate("2026-1-05"));
  EXPECT_FALSE(ParseDate("2026-13-01"));
  EXPECT_FALSE(ParseMonth("2026-00"));
  EXPECT_FALSE(ParseMonth("26-11"));
  EXPECT_EQ(FormatDate(FromDayNumber(DayNumber(*ParseDate("2026-12-31")) + 1)), "2027-01-01");
  EXPECT_EQ(FormatDate(FromDayNumber(DayNumber(*ParseDate("2028-02-28")) + 1)), "2028-02-29");
}

TEST(BillingRules, CoveredDaysCountBothEndsInsideTheMonth) {
  Month nov = *ParseMonth("2026-11");
  EXPECT_EQ(CoveredDays(Make(1, ContractKind::kFixed, "2026-01-01", "", 1), nov).days, 30);
  EXPECT_EQ(CoveredDays(Make(1, ContractKind::kFixed, "2026-11-11", "", 1), nov).days, 20);
  EXPECT_EQ(CoveredDays(Make(1, ContractKind::kFixed, "2026-11-30", "", 1), nov).days, 1);
  EXPECT_EQ(CoveredDays(Make(1, ContractKind::kFixed, "2026-10-01", "2026-11-01", 1), nov).days, 1);
  EXPECT_EQ(CoveredDays(Make(1, ContractKind::kFixed, "2026-11-10", "2026-11-10", 1), nov).days, 1);
  EXPECT_EQ(CoveredDays(Make(1, ContractKind::kFixed, "2026-12-01", "", 1), nov).days, 0);
  EXPECT_EQ(CoveredDays(Make(1, ContractKind::kFixed, "2026-01-01", "2026-10-31", 1), nov).days, 0);
}

TEST(BillingRules, RoundingIsHalfUpToThePenny) {
  EXPECT_EQ(Prorate(3, 15, 30), 2);  // 1.5
  EXPECT_EQ(Prorate(1, 14, 30), 0);  // 0.4667
  EXPECT_EQ(Prorate(45000, 30, 30), 45000);
  EXPECT_EQ(VatOf(20, 1750), 4);        // 3.5
  EXPECT_EQ(VatOf(10, 1750), 2);        // 1.75
  EXPECT_EQ(VatOf(1799, 2000), 360);    // 359.8
  EXPECT_EQ(VatOf(1, 2000), 0);         // 0.2
  EXPECT_EQ(TimeCharge(7, 8500), 992);  // 991.67
  EXPECT_EQ(TimeCharge(1, 30), 1);      // 0.5
}

struct Case {
  const char* name;
  RunInput in;
  std::vector<std::pair<LineKind, int64_t>> lines;  // kind, net
  int64_t vat;
};

TEST(BillingRules, WorkedCases) {
  std::vector<Case> cases;
  {
    Case c{"fixed fee, whole month",
           For("2026-11", {Make(1, ContractKind::kFixed, "2026-01-01", "", 45000)}),
           {{LineKind::kFee, 45000}},
           9000};
    cases.push_back(c);
  }
  {
    // 12 x £17.99 = £215.88 x 20/30 = £143.92.
    RunInput in = For("2026-11", {Make(1, ContractKind::kPerEndpoint, "2026-11-11", "", 0, 1799)});
    in.billable_endpoints = 12;
    cases.push_back({"per endpoint from the 11th of a 30-day month",
                     in,
                     {{LineKind::kEndpoints, 14392}},
                     2878});
  }
  {
    // Fee and per-endpoint price: both prorated 15/31.
    RunInput in =
        For("2027-01", {Make(1, ContractKind::kPerEndpoint, "2027-01-17", "", 9999, 500)});
    in.billable_endpoints = 3;
    // 9999 x 15/31 = 4838.23 -> 4838; 1500 x 15/31 = 725.81 -> 726
    cases.push_back({"fee and per endpoint, 31-day month",
                     in,
                     {{LineKind::kFee, 4838}, {LineKind::kEndpoints, 726}},
                     968 + 145});
  }
  {
    // 10000 x 15/29 = 5172.41
    cases.push_back({"leap February, from the 15th",
                     For("2028-02", {Make(1, ContractKind::kFixed, "2028-02-15", "", 10000)}),
                     {{LineKind::kFee, 5172}},
                     1034});
  }
  {
    // 10000 x 14/28
    cases.push_back(
        {"28-day February, ends on the 14th",
         For("2027-02", {Make(1, ContractKind::kUnlimited, "2026-06-01", "2027-02-14", 10000)}),
         {{LineKind::kFee, 5000}},
         1000});
  }
  {
    // Starts and ends inside the month: the 10th to the 19th, 10 of 30 days.
    cases.push_back(
        {"starts and ends mid-month",
         For("2026-09", {Make(1, ContractKind::kFixed, "2026-09-10", "2026-09-19", 3000)}),
         {{LineKind::kFee, 1000}},
         200});
  }
  {
    RunInput in =
        For("2026-11", {Make(1, ContractKind::kHoursBlock, "2026-01-01", "", 50000, 0, 10, 9000)});
    in.billable_minutes = 600;
    cases.push_back({"hours block exactly used", in, {{LineKind::kFee, 50000}}, 10000});
  }
  {
    RunInput in =
        For("2026-11", {Make(1, ContractKind::kHoursBlock, "2026-01-01", "", 50000, 0, 10, 9000)});
    in.billable_minutes = 650;  // 50 min over at £90/h = £75
    cases.push_back({"hours block over",
                     in,
                     {{LineKind::kFee, 50000}, {LineKind::kOverage, 7500}},
                     10000 + 1500});
  }
  {
    // Included hours are not prorated: a block starting on the 16th still includes 10 h.
    RunInput in =
        For("2026-11", {Make(1, ContractKind::kHoursBlock, "2026-11-16", "", 30000, 0, 10, 9000)});
    in.billable_minutes = 607;  // 7 min over: 7 x 9000 / 60 = 1050
    cases.push_back({"hours block starting mid-month",
                     in,
                     {{LineKind::kFee, 15000}, {LineKind::kOverage, 1050}},
                     3000 + 210});
  }
  {
    RunInput in = For("2026-11", {});
    in.billable_minutes = 95;  // 95 x 8500 / 60 = 13458.33
    cases.push_back({"no contract: ad hoc", in, {{LineKind::kAdHoc, 13458}}, 2692});
  }
  {
    RunInput in =
        For("2026-11", {Make(1, ContractKind::kFixed, "2025-01-01", "2026-10-31", 45000)});
    in.billable_minutes = 30;  // 4250
    cases.push_back(
        {"a contract that ended before the month: ad hoc", in, {{LineKind::kAdHoc, 4250}}, 850});
  }
  {
    RunInput in = For("2026-11", {Make(1, ContractKind::kUnlimited, "2026-01-01", "", 90000)});
    in.billable_minutes = 6000;
    cases.push_back({"unlimited includes the time", in, {{LineKind::kFee, 90000}}, 18000});
  }
  {
    RunInput in = For("2026-11", {Make(1, ContractKind::kPerEndpoint, "2026-01-01", "", 0, 1500)});
    in.billable_minutes = 120;
    in.billable_endpoints = 4;
    cases.push_back({"per endpoint includes the time", in, {{LineKind::kEndpoints, 6000}}, 1200});
  }
  { cases.push_back({"no contract, no time: no invoice", For("2026-11", {}), {}, 0}); }
  {
    RunInput in = For("2026-11", {Make(1, ContractKind::kFixed, "2026-01-01", "", 45000),
                                  Make(2, ContractKind::kFixed, "2026-01-01", "", 1000)});
    in.already_billed = {1};
    cases.push_back({"a contract billed on another invoice of the month is not billed twice",
                     in,
                     {{LineKind::kFee, 1000}},
                     200});
  }
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<Line> lines = BuildLines(c.in);
    ASSERT_EQ(lines.size(), c.lines.size());
    int64_t vat = 0;
    for (size_t i = 0; i < lines.size(); ++i) {
      EXPECT_EQ(lines[i].kind, c.lines[i].first) << i;
      EXPECT_EQ(lines[i].net_pence, c.lines[i].second) << i;
      EXPECT_EQ(lines[i].vat_pence, VatOf(lines[i].net_pence, 2000));
      EXPECT_EQ(lines[i].vat_rate_bp, 2000);
      vat += lines[i].vat_pence;
    }
    EXPECT_EQ(vat, c.vat);
    Totals t = Sum(lines);
    EXPECT_EQ(t.vat_pence, vat);
    EXPECT_EQ(t.gross_pence, t.net_pence + t.vat_pence);
  }
}

TEST(BillingRules, LinesSayHowTheyWereWorkedOut) {
  RunInput in = For("2026-11", {Make(7, ContractKind::kPerEndpoint, "2026-11-11", "", 0, 1799)});
  in.billable_endpoints = 12;
  std::vector<Line> lines = BuildLines(in);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].working,
            "12 endpoints x \xC2\xA3"
            "17.99 x 20/30 days");
  EXPECT_EQ(lines[0].description, "Contract 7: 12 endpoints, 11 Nov 2026 to 30 Nov 2026");
  EXPECT_EQ(lines[0].quantity_milli, 12000);
  EXPECT_EQ(lines[0].unit_pence, 1799);
  EXPECT_EQ(FormatDate(lines[0].period_start), "2026-11-11");
  EXPECT_EQ(FormatDate(lines[0].period_end), "2026-11-30");
  EXPECT_EQ(lines[0].contract_id, 7);

  RunInput adhoc = For("2026-11", {});
  adhoc.billable_minutes = 90;
  lines = BuildLines(adhoc);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].quantity_milli, 1500);
  EXPECT_EQ(lines[0].description, "Ad-hoc support, November 2026");
  EXPECT_FALSE(lines[0].contract_id);
}

TEST(BillingRules, ContractsAreValidatedFieldByField) {
  ContractInput ok{"Managed", "per_endpoint", "2026-11-01", "", 0, 0, 0, 1799};
  EXPECT_EQ(ValidateContract(ok).per_endpoint_pence, 1799);
  auto field_of = [](ContractInput in) {
    try {
      ValidateContract(in);
    } catch (const ValidationError& e) {
      return e.field();
    }
    return std::string("accepted");
  };
  ContractInput bad = ok;
  bad.name = "  ";
  EXPECT_EQ(field_of(bad), "name");
  bad = ok;
  bad.kind = "weekly";
  EXPECT_EQ(field_of(bad), "kind");
  bad = ok;
  bad.start_date = "2026-02-30";
  EXPECT_EQ(field_of(bad), "start_date");
  bad = ok;
  bad.end_date = "2026-10-31";
  EXPECT_EQ(field_of(bad), "end_date");
  bad = ok;
  bad.monthly_fee_pence = -1;
  EXPECT_EQ(field_of(bad), "monthly_fee_pence");
  bad = ok;
  bad.included_hours = 5;
  EXPECT_EQ(field_of(bad), "included_hours") << "only an hours block has hours";
  bad = ok;
  bad.kind = "hours_block";
  bad.per_endpoint_pence = 0;
  EXPECT_EQ(field_of(bad), "included_hours") << "an hours block needs its hours";
  bad = ok;
  bad.kind = "fixed";
  EXPECT_EQ(field_of(bad), "per_endpoint_pence");
  bad = ok;
  bad.name = "Line\nbreak\x01";
  EXPECT_EQ(field_of(bad), "name");
}

TEST(BillingFormats, MoneyQuantitiesAndInvoiceNumbers) {
  EXPECT_EQ(FormatMoney(0),
            "\xC2\xA3"
            "0.00");
  EXPECT_EQ(FormatMoney(1799),
            "\xC2\xA3"
            "17.99");
  EXPECT_EQ(FormatMoney(123456789),
            "\xC2\xA3"
            "1,234,567.89");
  EXPECT_EQ(ParseMoney("17.99"), 1799);
  EXPECT_EQ(ParseMoney("\xC2\xA3"
                       "1,234.5"),
            123450);
  EXPECT_EQ(ParseMoney("85"), 8500);
  EXPECT_FALSE(ParseMoney("-1"));
  EXPECT_FALSE(ParseMoney("1.999"));
  EXPECT_FALSE(ParseMoney("1."));
  EXPECT_FALSE(ParseMoney("abc"));
  EXPECT_FALSE(ParseMoney("99999999999"));
  EXPECT_EQ(MoneyInput(1799), "17.99");
  EXPECT_EQ(FormatQuantity(12000), "12");
  EXPECT_EQ(FormatQuantity(1500), "1.5");
  EXPECT_EQ(FormatQuantity(833), "0.833");
  EXPECT_EQ(FormatInvoiceNumber("INV-{n:6}", 123), "INV-000123");
  EXPECT_EQ(FormatInvoiceNumber("{n}", 7), "7");
  EXPECT_EQ(FormatInvoiceNumber("MSP/{n:3}/A", 12345), "MSP/12345/A");
  EXPECT_NO_THROW(ValidateNumberFormat("INV-{n:6}"));
  for (const char* bad :
       {"INV", "{n}{n}", "INV-{x}", "INV {n}", "{n:0}", "{n:13}", "INV-\r\n{n}", "{n:6", "n}"}) {
    EXPECT_THROW(ValidateNumberFormat(bad), ValidationError) << bad;
  }
}

}  // namespace
}  // namespace opsmerge::billing
