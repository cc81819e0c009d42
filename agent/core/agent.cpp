#include "core/agent.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include <nlohmann/json.hpp>
#include <time.h>

#include "core/http.h"
#include "platform/linux/collect.h"

namespace opsmerge::agent {

namespace {

using nlohmann::json;

int64_t Now() { return static_cast<int64_t>(::time(nullptr)); }

// Sleeps up to `seconds`, waking early when `stop` is set.
void Sleep(double seconds, const std::atomic<bool>& stop) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    timespec ts{0, 100 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
}

std::string ErrorOf(const HttpReply& r) {
  if (r.status == 0) return r.error;
  auto j = json::parse(r.body, nullptr, false);
  if (!j.is_discarded() && j.contains("error")) {
    return "HTTP " + std::to_string(r.status) + ": " + j["error"].value("message", "") + " (" +
           j["error"].value("code", "") + ")";
  }
  return "HTTP " + std::to_string(r.status);
}

}  // namespace

int64_t BackoffSeconds(int attempt, int64_t base, int64_t cap, double random01) {
  int64_t ceiling = base;
  for (int i = 0; i < attempt && ceiling < cap; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, cap);
  return std::max<int64_t>(1, static_cast<int64_t>(random01 * static_cast<double>(ceiling + 1)));
}

int Enroll(const std::string& server_in, const std::string& token, const std::string& config_path) {
  std::string server = server_in;
  while (!server.empty() && server.back() == '/') server.pop_back();
  if (server.rfind("http://", 0) != 0 && server.rfind("https://", 0) != 0) {
    std::fprintf(stderr, "opsmerge-agent: --server must start with https:// or http://\n");
    return 64;
  }
  if (token.empty()) {
    std::fprintf(stderr, "opsmerge-agent: no enrolment token (pipe it in, or use --token-file)\n");
    return 64;
  }
  Collector collector;
  json inventory = collector.Inventory(Now(), -1);
  json body = {{"token", token},
               {"hostname", inventory["hostname"]},
               {"inventory", inventory},
               {"inventory_hash", InventoryHash(inventory)}};
  HttpClient http;
  HttpReply r = http.PostJson(server + "/agent/v1/enroll", body.dump(), "");
  if (r.status != 201) {
    std::fprintf(stderr, "opsmerge-agent: enrolment refused: %s\n", ErrorOf(r).c_str());
    return r.status == 0 ? 75 : 77;
  }
  json reply = json::parse(r.body, nullptr, false);
  if (reply.is_discarded() || !reply.contains("agent_id") || !reply.contains("secret")) {
    std::fprintf(stderr, "opsmerge-agent: the server's answer was not understood\n");
    return 76;
  }
  Config c;
  c.server = server;
  c.agent_id = reply["agent_id"].get<int64_t>();
  c.secret = reply["secret"].get<std::string>();
  c.checkin_interval = reply.value("checkin_interval", int64_t{60});
  std::string error;
  if (!SaveConfig(config_path, c, &error)) {
    std::fprintf(stderr, "opsmerge-agent: %s\n", error.c_str());
    return 73;
  }
  std::printf("enrolled as endpoint %lld; identity saved to %s\n",
              static_cast<long long>(c.agent_id), config_path.c_str());
  return 0;
}

int Run(const std::string& config_path, const std::atomic<bool>& stop) {
  std::string error;
  auto loaded = LoadConfig(config_path, &error);
  if (!loaded) {
    std::fprintf(stderr, "opsmerge-agent: %s\n", error.c_str());
    return 78;
  }
  Config config = *loaded;
  const std::string url = config.server + "/agent/v1/checkin";
  const std::string auth = "Agent " + std::to_string(config.agent_id) + ":" + config.secret;
  HttpClient http;
  Collector collector;
  std::mt19937_64 rng(std::random_device{}());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::string server_hash;  // what the server says it holds
  int64_t inventory_at = 0;
  std::string inventory_hash;
  json inventory;
  int failures = 0;
  State state = LoadState(config_path);
  collector.Metrics();  // prime the CPU counters

  while (!stop.load()) {
    int64_t now = Now();
    // Re-collect the inventory every 15 minutes; it is sent only when it changed.
    if (inventory.is_null() || now - inventory_at >= 900) {
      inventory = collector.Inventory(now);
      inventory_hash = InventoryHash(inventory);
      inventory_at = now;
    }
    MetricsSample m = collector.Metrics();
    json body = {{"metrics",
                  {{"cpu_percent", m.cpu_percent},
                   {"memory_percent", m.memory_percent},
                   {"disk_percent", m.disk_percent}}},
                 {"inventory_hash", inventory_hash}};
    if (server_hash != inventory_hash) body["inventory"] = inventory;
    HttpReply r = http.PostJson(url, body.dump(), auth);
    double wait;
    if (r.status == 200) {
      json reply = json::parse(r.body, nullptr, false);
      if (!reply.is_discarded()) {
        config.checkin_interval =
            std::clamp<int64_t>(reply.value("checkin_interval", config.checkin_interval), 1, 3600);
        server_hash = reply.value("inventory_hash", server_hash);
      }
      failures = 0;
      state.last_checkin = now;
      state.last_error.clear();
      SaveState(config_path, state);
      wait = static_cast<double>(config.checkin_interval) * (0.9 + 0.2 * unit(rng));
    } else {
      std::string why = ErrorOf(r);
      std::fprintf(stderr, "opsmerge-agent: check-in failed: %s\n", why.c_str());
      if (state.last_error != why) {
        state.last_error = why;
        SaveState(config_path, state);
      }
      if (r.status == 401) server_hash.clear();
      int64_t cap = std::max<int64_t>(5, std::min<int64_t>(300, config.checkin_interval * 5));
      wait = static_cast<double>(BackoffSeconds(failures++, 1, cap, unit(rng)));
    }
    Sleep(wait, stop);
  }
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
  std::printf("server:           %s\n", c->server.c_str());
  std::printf("endpoint id:      %lld\n", static_cast<long long>(c->agent_id));
  std::printf("check-in every:   %lld s\n", static_cast<long long>(c->checkin_interval));
  if (s.last_checkin > 0) {
    std::printf("last check-in:    %lld s ago\n", static_cast<long long>(Now() - s.last_checkin));
  } else {
    std::printf("last check-in:    never\n");
  }
  if (!s.last_error.empty()) std::printf("last error:       %s\n", s.last_error.c_str());
  return 0;
}

}  // namespace opsmerge::agent
