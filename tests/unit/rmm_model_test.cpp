#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "platform/errors.h"
#include "rmm/model.h"

namespace opsmerge::rmm {
namespace {

using nlohmann::json;

TEST(Tokens, StateFollowsExpiryUsesAndRevocation) {
  EnrollmentToken t;
  t.expires_at = 1000;
  EXPECT_EQ(StateOf(t, 999), TokenState::kUsable);
  EXPECT_EQ(StateOf(t, 1000), TokenState::kExpired);
  t.max_uses = 2;
  t.uses = 2;
  EXPECT_EQ(StateOf(t, 10), TokenState::kExhausted);
  t.max_uses.reset();
  EXPECT_EQ(StateOf(t, 10), TokenState::kUsable) << "no limit: unlimited uses";
  t.revoked_at = "2026-11-25T00:00:00Z";
  EXPECT_EQ(StateOf(t, 10), TokenState::kRevoked) << "revocation wins";
}

TEST(Status, OnlineUntilThreeMissedIntervals) {
  EXPECT_EQ(StatusOf(std::nullopt, 100, 60), Status::kNeverSeen);
  EXPECT_EQ(StatusOf(100, 100 + 180, 60), Status::kOnline);
  EXPECT_EQ(StatusOf(100, 100 + 181, 60), Status::kOffline);
  EXPECT_EQ(StatusOf(100, 104, 1), Status::kOffline);
}

TEST(Inventory, ValidatesTypesAndKeepsKnownFields) {
  json good = {
      {"hostname", " web1 "},
      {"os", {{"name", "Debian GNU/Linux 12"}, {"version", "12"}, {"kernel", "6.1"}}},
      {"cpu", {{"model", "Xeon"}, {"cores", 4}}},
      {"memory_bytes", 8589934592},
      {"disks", {{{"mount", "/"}, {"fs", "ext4"}, {"size_bytes", 100}, {"free_bytes", 50}}}},
      {"network", {{{"name", "eth0"}, {"mac", "02:00:00:00:00:01"}, {"addresses", {"10.0.0.5"}}}}},
      {"users", {"alice"}},
      {"software", {{{"name", "curl"}, {"version", "7.88"}}}},
      {"pending_updates", 3},
      {"something_new", "ignored"}};
  Inventory inv = ValidateInventory(good);
  EXPECT_EQ(inv.hostname, "web1");
  EXPECT_EQ(inv.os_name, "Debian GNU/Linux 12");
  json stored = json::parse(inv.json);
  EXPECT_EQ(stored["cpu"]["cores"], 4);
  EXPECT_EQ(stored["software"][0]["name"], "curl");
  EXPECT_FALSE(stored.contains("something_new"));

  struct Case {
    json patch;
    std::string field;
  };
  std::vector<Case> bad = {
      {{{"hostname", nullptr}}, "inventory.hostname"},
      {{{"hostname", 5}}, "inventory.hostname"},
      {{{"hostname", std::string(300, 'h')}}, "inventory.hostname"},
      {{{"memory_bytes", "lots"}}, "inventory.memory_bytes"},
      {{{"memory_bytes", -1}}, "inventory.memory_bytes"},
      {{{"disks", "sda"}}, "inventory.disks"},
      {{{"disks", {1}}}, "inventory.disks"},
      {{{"cpu", {{"cores", 1.5}}}}, "inventory.cpu.cores"},
      {{{"users", {1}}}, "inventory.users"},
  };
  for (const auto& c : bad) {
    json inv2 = good;
    inv2.update(c.patch);
    try {
      ValidateInventory(inv2);
      ADD_FAILURE() << "accepted " << c.patch.dump();
    } catch (const ValidationError& e) {
      EXPECT_EQ(e.field(), c.field) << c.patch.dump();
    }
  }
  EXPECT_THROW(ValidateInventory(json::array()), ValidationError);
}

TEST(Metrics, PercentagesInRange) {
  Metrics m = ValidateMetrics({{"cpu_percent", 12.5}, {"memory_percent", 40}, {"disk_percent", 0}});
  EXPECT_DOUBLE_EQ(m.cpu_percent, 12.5);
  EXPECT_THROW(ValidateMetrics({{"cpu_percent", 101}}), ValidationError);
  EXPECT_THROW(ValidateMetrics({{"cpu_percent", -1}}), ValidationError);
  EXPECT_THROW(ValidateMetrics({{"cpu_percent", "high"}}), ValidationError);
  EXPECT_THROW(ValidateMetrics(json::array()), ValidationError);
}

TEST(AgentAuth, ParsesOnlyWellFormedHeaders) {
  auto c = ParseAgentAuthorization("Agent 42:abcdefghijklmnopqrstuvwxyz0123456789");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->endpoint_id, 42);
  for (const char* bad : {"", "Bearer x", "Agent 42", "Agent :secretsecretsecretsecret",
                          "Agent x1:secretsecretsecretsecret", "Agent 42:short",
                          "Agent 1234567890123456789:secretsecretsecretsecret"}) {
    EXPECT_FALSE(ParseAgentAuthorization(bad)) << bad;
  }
}

}  // namespace
}  // namespace opsmerge::rmm
