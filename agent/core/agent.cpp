#include "core/agent.h"

#include <algorithm>
#include <cstdio>
#include <random>

#include "core/log.h"
#include "protocol/agent_wire.h"
#include "protocol/json_limits.h"

namespace opsmerge::agent {

namespace {

using nlohmann::json;

// The fast inventory is re-read every 15 minutes; it is sent only when it changed.
constexpr int64_t kBaseEvery = 900;

// A JSON object from a server's reply, or nullopt; never throws.
std::optional<json> ParseObject(const std::string& body) {
  if (body.size() > (1 << 20) || jsonlimits::Depth(body) > jsonlimits::kMaxDepth) {
    return std::nullopt;
  }
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

std::optional<int64_t> IntMember(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

std::optional<std::string> StringMember(const json& obj, const char* key, size_t max_len) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return std::nullopt;
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > max_len) return std::nullopt;
  return s;
}

// For logs: one line, printable, short.
std::string Printable(const std::string& s, size_t max_len = 200) {
  std::string out;
  for (char c : s.substr(0, max_len)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += u < 0x20 || u == 0x7F ? '?' : c;
  }
  return out;
}

}  // namespace

std::optional<EnrollReply> ParseEnrollReply(const std::string& body) {
  auto j = ParseObject(body);
  if (!j) return std::nullopt;
  auto id = IntMember(*j, wire::kAgentId);
  auto secret = StringMember(*j, wire::kSecret, 128);
  if (!id || *id <= 0 || !secret || secret->size() < 22) return std::nullopt;
  EnrollReply r;
  r.agent_id = *id;
  r.secret = *secret;
  if (auto interval = IntMember(*j, wire::kCheckinInterval)) {
    r.checkin_interval = std::clamp<int64_t>(*interval, wire::kMinInterval, wire::kMaxInterval);
  }
  return r;
}

std::optional<CheckinReply> ParseCheckinReply(const std::string& body) {
  auto j = ParseObject(body);
  if (!j) return std::nullopt;
  CheckinReply r;
  if (auto interval = IntMember(*j, wire::kCheckinInterval);
      interval && *interval >= wire::kMinInterval && *interval <= wire::kMaxInterval) {
    r.checkin_interval = *interval;
  }
  r.inventory_hash = StringMember(*j, wire::kInventoryHash, 128);
  return r;
}

std::string DescribeFailure(const HttpReply& r) {
  if (r.status == 0) return Printable(r.error);
  std::string out = "HTTP " + std::to_string(r.status);
  if (auto j = ParseObject(r.body)) {
    auto e = j->find("error");
    if (e != j->end() && e->is_object()) {
      if (auto m = StringMember(*e, "message", 500)) out += ": " + Printable(*m);
      if (auto c = StringMember(*e, "code", 100)) out += " (" + Printable(*c) + ")";
    }
  }
  return out;
}

int64_t BackoffSeconds(int attempt, int64_t base, int64_t cap, double random01) {
  int64_t ceiling = base;
  for (int i = 0; i < attempt && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  return std::max<int64_t>(1, static_cast<int64_t>(random01 * static_cast<double>(ceiling + 1)));
}

int Enroll(const std::string& server_in, const std::string& token, const std::string& config_path,
           Transport& transport, Collector& collector) {
  std::string server = server_in;
  while (!server.empty() && server.back() == '/') server.pop_back();
  if (server.rfind("http://", 0) != 0 && server.rfind("https://", 0) != 0) {
    Logf("opsmerge-agent: --server must start with https:// or http://\n");
    return 64;
  }
  if (token.empty()) {
    Logf("opsmerge-agent: no enrolment token (pipe it in, or use --token-file)\n");
    return 64;
  }
  // Software and pending updates follow with the first check-ins.
  json inventory = collector.BaseInventory();
  json body = {{wire::kToken, token},
               {wire::kInventory, inventory},
               {wire::kInventoryHash, InventoryHash(inventory)}};
  if (auto h = inventory.find(wire::kHostname); h != inventory.end()) body[wire::kHostname] = *h;
  HttpReply r = transport.PostJson(server + wire::kEnrollPath, body.dump(), "");
  if (r.status != 201) {
    Logf(r.status == 0 ? "opsmerge-agent: the server did not answer: %s\n"
                       : "opsmerge-agent: enrolment refused: %s\n",
         DescribeFailure(r).c_str());
    return r.status == 0 ? 75 : 77;
  }
  auto reply = ParseEnrollReply(r.body);
  if (!reply) {
    Logf("opsmerge-agent: the server's answer was not understood\n");
    return 76;
  }
  Config c;
  c.server = server;
  c.agent_id = reply->agent_id;
  c.secret = reply->secret;
  c.checkin_interval = reply->checkin_interval;
  std::string error;
  if (!SaveConfig(config_path, c, &error)) {
    Logf("opsmerge-agent: %s\n", error.c_str());
    return 73;
  }
  std::printf("enrolled as endpoint %lld; identity saved to %s\n",
              static_cast<long long>(c.agent_id), config_path.c_str());
  return 0;
}

CheckinLoop::CheckinLoop(Config config, std::string config_path, Transport& transport,
                         Collector& collector, BackgroundInventory& background, Clock& clock,
                         std::function<double()> random01)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      url_(config_.server + wire::kCheckinPath),
      authorization_(std::string(wire::kAuthScheme) + std::to_string(config_.agent_id) + ":" +
                     config_.secret),
      transport_(transport),
      collector_(collector),
      background_(background),
      clock_(clock),
      random01_(std::move(random01)),
      state_(LoadState(config_path_)) {
  config_.checkin_interval =
      std::clamp<int64_t>(config_.checkin_interval, wire::kMinInterval, wire::kMaxInterval);
}

json CheckinLoop::CurrentInventory(int64_t now) {
  if (base_.is_null() || now - base_at_ >= kBaseEvery) {
    base_ = collector_.BaseInventory();
    base_at_ = now;
  }
  json inventory = base_;
  BackgroundInventory::Snapshot slow = background_.Latest();
  if (slow.software) inventory[wire::kSoftware] = *slow.software;
  inventory[wire::kPendingUpdates] = slow.pending_updates ? json(*slow.pending_updates) : json();
  return inventory;
}

double CheckinLoop::Step() {
  int64_t now = clock_.Now();
  json inventory = CurrentInventory(now);
  std::string hash = InventoryHash(inventory);
  MetricsSample m = collector_.Metrics();
  json body = {{wire::kMetrics,
                {{wire::kCpuPercent, m.cpu_percent},
                 {wire::kMemoryPercent, m.memory_percent},
                 {wire::kDiskPercent, m.disk_percent}}},
               {wire::kInventoryHash, hash}};
  if (server_hash_ != hash) body[wire::kInventory] = std::move(inventory);
  HttpReply r = transport_.PostJson(url_, body.dump(), authorization_);
  std::optional<CheckinReply> reply;
  if (r.status == 200) reply = ParseCheckinReply(r.body);
  if (reply) {
    if (reply->checkin_interval) config_.checkin_interval = *reply->checkin_interval;
    if (reply->inventory_hash) server_hash_ = *reply->inventory_hash;
    failures_ = 0;
    state_.last_checkin = now;
    state_.last_error.clear();
    SaveState(config_path_, state_);
    // Up to 10% early, never late: check-ins of a fleet spread out, and the server's
    // "offline after three intervals" and a restart's catch-up both stay within
    // the interval.
    return static_cast<double>(config_.checkin_interval) * (0.9 + 0.1 * random01_());
  }
  std::string why =
      r.status == 200 ? "HTTP 200 with an answer that was not understood" : DescribeFailure(r);
  Logf("opsmerge-agent: check-in failed: %s\n", why.c_str());
  if (state_.last_error != why) {
    state_.last_error = why;
    SaveState(config_path_, state_);
  }
  if (r.status == 401) server_hash_.clear();
  int64_t cap = std::clamp<int64_t>(config_.checkin_interval * 5, 5, 300);
  double wait = static_cast<double>(BackoffSeconds(failures_++, 1, cap, random01_()));
  if (r.retry_after > 0) {
    // The server is busy and said how long to stay away: at least that, spread out
    // so that every agent it refused does not come back in the same second.
    int64_t asked = std::min<int64_t>(r.retry_after, 3600);
    wait = std::max(wait, static_cast<double>(asked) * (1.0 + random01_()));
  }
  return wait;
}

void CheckinLoop::Run(const std::atomic<bool>& stop) {
  collector_.Metrics();  // prime the CPU counters
  while (!stop.load()) {
    if (!clock_.SleepFor(Step(), stop)) break;
  }
}

int Run(const std::string& config_path, const std::atomic<bool>& stop, Transport& transport,
        Collector& collector) {
  std::string error;
  auto config = LoadConfig(config_path, &error);
  if (!config) {
    Logf("opsmerge-agent: %s\n", error.c_str());
    return 78;
  }
  BackgroundInventory background(collector, {});
  background.Start();
  SystemClock clock;
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  CheckinLoop loop(*config, config_path, transport, collector, background, clock,
                   [&] { return unit(rng); });
  loop.Run(stop);
  return 0;
}

int Status(const std::string& config_path) {
  std::string error;
  auto c = LoadConfig(config_path, &error);
  if (!c) {
    std::printf("not enrolled: %s\n", error.c_str());
    return 3;
  }
  State s = LoadState(config_path);
  SystemClock clock;
  std::printf("server:           %s\n", c->server.c_str());
  std::printf("endpoint id:      %lld\n", static_cast<long long>(c->agent_id));
  std::printf("check-in every:   %lld s\n", static_cast<long long>(c->checkin_interval));
  if (s.last_checkin > 0) {
    std::printf("last check-in:    %lld s ago\n",
                static_cast<long long>(clock.Now() - s.last_checkin));
  } else {
    std::printf("last check-in:    never\n");
  }
  if (!s.last_error.empty()) std::printf("last error:       %s\n", Printable(s.last_error).c_str());
  return 0;
}

}  // namespace opsmerge::agent
