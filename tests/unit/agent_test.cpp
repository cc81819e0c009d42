#include "core/agent.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "platform/linux/collect.h"

namespace opsmerge::agent {
namespace {

TEST(Backoff, GrowsExponentiallyUpToTheCapWithJitter) {
  EXPECT_EQ(BackoffSeconds(0, 1, 300, 0.0), 1) << "never zero";
  EXPECT_LE(BackoffSeconds(0, 1, 300, 0.999), 1);
  EXPECT_LE(BackoffSeconds(3, 1, 300, 0.999), 8);
  EXPECT_GE(BackoffSeconds(3, 1, 300, 0.999), 7);
  EXPECT_LE(BackoffSeconds(30, 1, 300, 0.999), 300) << "capped";
  EXPECT_GE(BackoffSeconds(30, 1, 300, 0.999), 290);
  EXPECT_LE(BackoffSeconds(1000, 1, 5, 0.999), 5) << "no overflow on long outages";
}

TEST(Config, SavedReadableOnlyByTheOwnerAndReadBack) {
  std::string dir =
      std::filesystem::temp_directory_path() / ("agent-cfg-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = dir + "/agent.json";
  Config c{"https://psa.example", 7, "s3cret-s3cret-s3cret-s3cret", 30};
  std::string error;
  ASSERT_TRUE(SaveConfig(path, c, &error)) << error;
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = LoadConfig(path, &error);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->agent_id, 7);
  EXPECT_EQ(back->secret, c.secret);
  EXPECT_FALSE(LoadConfig(dir + "/missing.json", &error));
  std::filesystem::remove_all(dir);
}

TEST(Collector, ReportsThisMachine) {
  Collector c;
  nlohmann::json inv = c.Inventory(1000, 1 << 30);
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(inv["hostname"], host);
  EXPECT_GT(inv["memory_bytes"].get<int64_t>(), 0);
  EXPECT_GT(inv["cpu"]["cores"].get<int64_t>(), 0);
  EXPECT_FALSE(inv["os"]["kernel"].get<std::string>().empty());
  MetricsSample m = c.Metrics();
  EXPECT_GE(m.memory_percent, 0);
  EXPECT_LE(m.memory_percent, 100);
  EXPECT_EQ(InventoryHash(inv), InventoryHash(inv));
  nlohmann::json later = inv;
  later["uptime_seconds"] = 999999;
  EXPECT_EQ(InventoryHash(later), InventoryHash(inv)) << "uptime alone does not resend";
  later["pending_updates"] = 77;
  EXPECT_NE(InventoryHash(later), InventoryHash(inv));
}

}  // namespace
}  // namespace opsmerge::agent
