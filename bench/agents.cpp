// Agent check-in load: enrols N simulated agents over HTTP, then measures
//   1. /healthz throughput (the ceiling of the HTTP layer in this run),
//   2. check-ins at a fixed offered rate (the 100k-endpoints-at-60s floor: 1,700/s),
//   3. check-ins as fast as the server takes them (closed loop),
// over keep-alive connections, reporting rate, p50/p99 latency and server RSS.
// usage: opsmerge_bench_agents BASE_URL TOKEN AGENTS CONNECTIONS RATE SECONDS SERVER_PID
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <nlohmann/json.hpp>

namespace {

using Clock = std::chrono::steady_clock;

struct Identity {
  long long id;
  std::string auth;
};

int Post(Poco::Net::HTTPClientSession& s, const std::string& path, const std::string& body,
         const std::string& auth, std::string* out) {
  Poco::Net::HTTPRequest req(body.empty() ? "GET" : "POST", path, Poco::Net::HTTPMessage::HTTP_1_1);
  req.setKeepAlive(true);
  if (!auth.empty()) req.set("Authorization", auth);
  if (!body.empty()) {
    req.setContentType("application/json");
    req.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  s.sendRequest(req) << body;
  Poco::Net::HTTPResponse resp;
  std::istream& is = s.receiveResponse(resp);
  std::string sink;
  Poco::StreamCopier::copyToString(is, out ? *out : sink);
  return resp.getStatus();
}

double Pct(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1,
                    static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5))];
}

long RssMiB(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  }
  return -1;
}

struct Result {
  double rate = 0;
  std::vector<double> latencies;
  long errors = 0;
};

// Runs `conns` threads for `seconds`; `rate` 0 = closed loop, else spread evenly.
Result Drive(const Poco::URI& base, int conns, double rate, int seconds,
             const std::function<int(Poco::Net::HTTPClientSession&, size_t)>& call) {
  Result total;
  std::mutex mu;
  std::atomic<size_t> counter{0};
  auto start = Clock::now();
  auto end = start + std::chrono::seconds(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < conns; ++t) {
    threads.emplace_back([&, t] {
      Poco::Net::HTTPClientSession s(base.getHost(), base.getPort());
      s.setKeepAlive(true);
      std::vector<double> lat;
      long errors = 0;
      double per_thread = rate / conns;
      auto next = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(t / std::max(rate, 1.0)));
      while (Clock::now() < end) {
        if (rate > 0) {
          std::this_thread::sleep_until(next);
          next += std::chrono::duration_cast<Clock::duration>(
              std::chrono::duration<double>(1.0 / per_thread));
        }
        // Latency from the scheduled time in open loop, so queueing is counted.
        auto t0 = rate > 0 ? std::min(Clock::now(), next) : Clock::now();
        int status = 0;
        try {
          status = call(s, counter++);
        } catch (const std::exception&) {
          s.reset();
        }
        lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (status != 200) ++errors;
      }
      std::lock_guard<std::mutex> lock(mu);
      total.latencies.insert(total.latencies.end(), lat.begin(), lat.end());
      total.errors += errors;
    });
  }
  for (auto& th : threads) th.join();
  total.rate = static_cast<double>(total.latencies.size()) /
               std::chrono::duration<double>(Clock::now() - start).count();
  return total;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 8) {
    std::fprintf(stderr, "usage: %s BASE TOKEN AGENTS CONNECTIONS RATE SECONDS SERVER_PID\n",
                 argv[0]);
    return 64;
  }
  Poco::URI base(argv[1]);
  std::string token = argv[2];
  size_t agents = std::stoul(argv[3]);
  int conns = std::stoi(argv[4]);
  double rate = std::stod(argv[5]);
  int seconds = std::stoi(argv[6]);
  int server_pid = std::stoi(argv[7]);

  // Enrol.
  std::vector<Identity> ids(agents);
  std::atomic<size_t> next{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < conns; ++t) {
    threads.emplace_back([&] {
      Poco::Net::HTTPClientSession s(base.getHost(), base.getPort());
      for (size_t i = next++; i < agents; i = next++) {
        nlohmann::json body = {{"token", token}, {"hostname", "sim-" + std::to_string(i)}};
        std::string out;
        if (Post(s, "/agent/v1/enroll", body.dump(), "", &out) != 201) {
          std::fprintf(stderr, "enrol failed: %s\n", out.c_str());
          std::exit(1);
        }
        auto j = nlohmann::json::parse(out);
        ids[i] = {j["agent_id"].get<long long>(),
                  "Agent " + std::to_string(j["agent_id"].get<long long>()) + ":" +
                      j["secret"].get<std::string>()};
      }
    });
  }
  for (auto& th : threads) th.join();
  double enrol_secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("enrolled %zu agents in %.1f s (%.0f/s); server RSS %ld MiB\n", agents, enrol_secs,
              static_cast<double>(agents) / enrol_secs, RssMiB(server_pid));

  auto checkin = [&](Poco::Net::HTTPClientSession& s, size_t n) {
    const Identity& who = ids[(n * 7919) % ids.size()];
    char body[160];
    std::snprintf(
        body, sizeof body,
        "{\"metrics\":{\"cpu_percent\":%zu,\"memory_percent\":41.5,\"disk_percent\":63.2},"
        "\"inventory_hash\":\"\"}",
        n % 100);
    return Post(s, "/agent/v1/checkin", body, who.auth, nullptr);
  };
  auto healthz = [&](Poco::Net::HTTPClientSession& s, size_t) {
    return Post(s, "/healthz", "", "", nullptr);
  };

  Result h = Drive(base, conns, 0, std::max(5, seconds / 2), healthz);
  std::printf("%-28s %9.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %ld\n",
              "/healthz (closed loop)", h.rate, Pct(h.latencies, 0.5), Pct(h.latencies, 0.99),
              h.errors);
  Result fixed = Drive(base, conns, rate, seconds, checkin);
  std::printf("%-28s %9.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %ld  (offered %.0f/s)\n",
              "check-ins (open loop)", fixed.rate, Pct(fixed.latencies, 0.5),
              Pct(fixed.latencies, 0.99), fixed.errors, rate);
  std::printf("server RSS after the fixed-rate run: %ld MiB\n", RssMiB(server_pid));
  Result max = Drive(base, conns, 0, seconds, checkin);
  std::printf("%-28s %9.0f req/s  p50 %6.2f ms  p99 %7.2f ms  errors %ld\n",
              "check-ins (closed loop)", max.rate, Pct(max.latencies, 0.5),
              Pct(max.latencies, 0.99), max.errors);
  std::printf("check-ins / healthz: %.2f\n", max.rate / std::max(h.rate, 1.0));
  std::printf("server RSS at the end: %ld MiB\n", RssMiB(server_pid));
  return 0;
}
