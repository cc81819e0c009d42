// Measures request latency against a running server over keep-alive connections.
// usage: opsmerge_bench_load BASE_URL EMAIL PASSWORD CONNECTIONS REQUESTS PATH...
// Signs in once through /login (as a browser would), then each connection sends
// REQUESTS requests per path, round-robin over the paths. Prints p50/p95/p99 per path.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

namespace {

struct Result {
  int status = 0;
  std::string body;
  std::vector<std::string> cookies;
};

Result Send(Poco::Net::HTTPClientSession& s, const std::string& method, const std::string& path,
            const std::string& cookie, const std::string& body = "") {
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  req.setKeepAlive(true);
  if (!cookie.empty()) req.set("Cookie", cookie);
  if (!body.empty()) {
    req.setContentType("application/x-www-form-urlencoded");
    req.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  s.sendRequest(req) << body;
  Poco::Net::HTTPResponse resp;
  std::istream& is = s.receiveResponse(resp);
  Result r;
  r.status = resp.getStatus();
  Poco::StreamCopier::copyToString(is, r.body);
  for (const auto& [k, v] : resp) {
    if (Poco::icompare(k, "Set-Cookie") == 0) r.cookies.push_back(v.substr(0, v.find(';')));
  }
  return r;
}

double Percentile(std::vector<double>& v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s BASE EMAIL PASSWORD CONNECTIONS REQUESTS PATH...\n", argv[0]);
    return 64;
  }
  Poco::URI base(argv[1]);
  std::string email = argv[2], password = argv[3];
  int connections = std::stoi(argv[4]), requests = std::stoi(argv[5]);
  std::vector<std::string> paths(argv + 6, argv + argc);

  Poco::Net::HTTPClientSession login(base.getHost(), base.getPort());
  Result page = Send(login, "GET", "/login", "");
  std::smatch m;
  std::regex csrf("name=\"_csrf\" value=\"([0-9a-f]+)\"");
  if (!std::regex_search(page.body, m, csrf) || page.cookies.empty()) {
    std::fprintf(stderr, "no login form\n");
    return 1;
  }
  std::string pre = page.cookies[0];
  Result signed_in = Send(login, "POST", "/login", pre,
                          "email=" + email + "&password=" + password + "&_csrf=" + m[1].str());
  std::string session;
  for (const auto& c : signed_in.cookies) {
    if (c.rfind("om_session=", 0) == 0) session = c;
  }
  if (session.empty()) {
    std::fprintf(stderr, "sign-in failed (%d)\n", signed_in.status);
    return 1;
  }

  std::map<std::string, std::vector<double>> samples;
  std::mutex mu;
  int errors = 0;
  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < connections; ++t) {
    threads.emplace_back([&]() {
      Poco::Net::HTTPClientSession s(base.getHost(), base.getPort());
      std::map<std::string, std::vector<double>> mine;
      int my_errors = 0;
      for (int i = 0; i < requests; ++i) {
        for (const auto& path : paths) {
          auto t0 = std::chrono::steady_clock::now();
          Result r = Send(s, "GET", path, session);
          double ms =
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                  .count();
          if (r.status != 200) ++my_errors;
          mine[path].push_back(ms);
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      errors += my_errors;
      for (auto& [p, v] : mine) samples[p].insert(samples[p].end(), v.begin(), v.end());
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  size_t total = 0;
  std::printf("%-48s %8s %8s %8s %8s\n", "path", "n", "p50 ms", "p95 ms", "p99 ms");
  for (const auto& path : paths) {
    auto& v = samples[path];
    total += v.size();
    std::printf("%-48s %8zu %8.2f %8.2f %8.2f\n", path.c_str(), v.size(), Percentile(v, 0.50),
                Percentile(v, 0.95), Percentile(v, 0.99));
  }
  std::printf("%zu requests in %.1f s (%.0f/s), %d connections, %d non-200\n", total, secs,
              static_cast<double>(total) / secs, connections, errors);
  return errors == 0 ? 0 : 1;
}
