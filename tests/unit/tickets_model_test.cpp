// Tickets' pure rules that the SLA rests on: due times around the clock and in
// business hours (across nights, weekends and a daylight-saving change).
#include <cstdlib>
#include <ctime>

#include <gtest/gtest.h>

#include "platform/errors.h"
#include "tickets/model.h"

namespace opsmerge::tickets {
namespace {

class BusinessHoursTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tz = std::getenv("TZ");
    saved_ = tz ? tz : "";
    had_ = tz != nullptr;
    setenv("TZ", "Europe/London", 1);
    tzset();
  }
  void TearDown() override {
    if (had_) {
      setenv("TZ", saved_.c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }
  static BusinessHours Weekdays() {
    return *ParseBusinessHours(
        R"({"days":["mon","tue","wed","thu","fri"],"start":"09:00","end":"17:30"})");
  }
  std::string saved_;
  bool had_ = false;
};

// 2026-12-02 (a Wednesday) and friends, as Unix seconds of London times (GMT in winter).
constexpr int64_t kWed0900 = 1796202000;  // 2026-12-02T09:00:00Z
constexpr int64_t kHour = 3600;

TEST_F(BusinessHoursTest, MinutesCountOnlyInsideTheWorkingDay) {
  BusinessHours h = Weekdays();
  EXPECT_EQ(AddBusinessMinutes(kWed0900, 60, h), kWed0900 + kHour);
  // 16:30 + 2 h: one hour today, one tomorrow from 09:00.
  EXPECT_EQ(AddBusinessMinutes(kWed0900 + 7 * kHour + 1800, 120, h), kWed0900 + 24 * kHour + kHour);
  // Opened at night: the clock starts at 09:00.
  EXPECT_EQ(AddBusinessMinutes(kWed0900 - 7 * kHour, 30, h), kWed0900 + 1800);
  // Friday 17:00 + 1 h: 30 min on Friday, 30 on Monday morning.
  int64_t fri1700 = kWed0900 + 2 * 24 * kHour + 8 * kHour;
  EXPECT_EQ(AddBusinessMinutes(fri1700, 60, h), kWed0900 + 5 * 24 * kHour + 1800);
  // Saturday: Monday 09:00 on.
  EXPECT_EQ(AddBusinessMinutes(kWed0900 + 3 * 24 * kHour, 1, h), kWed0900 + 5 * 24 * kHour + 60);
}

TEST_F(BusinessHoursTest, TheWorkingDayFollowsLocalTimeAcrossDaylightSaving) {
  BusinessHours h = Weekdays();
  // Friday 2027-03-26 17:00 GMT + 1 h ends Monday 2027-03-29 09:30 BST (08:30Z).
  int64_t fri = 1806080400;                               // 2027-03-26T17:00:00Z
  EXPECT_EQ(AddBusinessMinutes(fri, 60, h), 1806309000);  // 2027-03-29T08:30:00Z
}

TEST_F(BusinessHoursTest, DueTimesUseBusinessHoursWhenSet) {
  SlaTargets t;
  EXPECT_EQ(DueFor(kWed0900, Priority::kUrgent, t).first_response, kWed0900 + 1800);
  t.hours = Weekdays();
  // Normal: 4 h first response, 2 days (48 h of business time) resolution.
  DueTimes d = DueFor(kWed0900 + 7 * kHour, Priority::kNormal, t);        // Wed 16:00
  EXPECT_EQ(d.first_response, kWed0900 + 24 * kHour + 2 * kHour + 1800);  // Thu 11:30
}

TEST_F(BusinessHoursTest, TheSettingIsCheckedAndRoundTrips) {
  EXPECT_FALSE(ParseBusinessHours("null"));
  EXPECT_FALSE(ParseBusinessHours(""));
  BusinessHours h = Weekdays();
  EXPECT_EQ(BusinessHoursJson(h),
            R"({"days":["mon","tue","wed","thu","fri"],"end":"17:30","start":"09:00"})");
  for (const char* bad : {R"({"days":[],"start":"09:00","end":"17:00"})",
                          R"({"days":["funday"],"start":"09:00","end":"17:00"})",
                          R"({"days":["mon"],"start":"9am","end":"17:00"})",
                          R"({"days":["mon"],"start":"18:00","end":"17:00"})",
                          R"({"days":["mon"],"start":"09:00","end":"25:00"})",
                          R"({"days":["mon"],"start":"09:00","end":"17:00","x":1})", R"([1,2])"}) {
    EXPECT_THROW(ParseBusinessHours(bad), ValidationError) << bad;
  }
}

}  // namespace
}  // namespace opsmerge::tickets
