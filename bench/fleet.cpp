// A fleet of agents as it really is: every agent its own TCP connection (from one
// of many loopback source addresses), kept alive between check-ins, checking in
// every interval (up to 10% early, as opsmerge-agent does) at its own offset in the
// minute, backing off like the agent when refused. Plus a technician loading the
// clients list at a steady rate while the fleet checks in.
//
//   fleet enroll BASE TOKEN COUNT CONCURRENCY OUT          enrol COUNT agents
//   fleet agents BASE CREDS FROM TO SOURCES INTERVAL SECONDS REPORT
//        agents FROM..TO-1 of CREDS; SOURCES like 127.0.1.1-40; SIGUSR1 marks a
//        server restart, after which each agent's first good check-in is timed
//   fleet pages BASE EMAIL PASSWORD RATE SECONDS REPORT     a technician's page loads
//   fleet summary FROM UNTIL REPORT...  merges reports; figures for what was due FROM-UNTIL s
//
// Latency is open-loop: from the moment a check-in was due to its answer, so
// queueing anywhere (server, kernel, this generator) shows.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Steady = std::chrono::steady_clock;
using nlohmann::json;

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }
double Since(Steady::time_point start) { return Ms(Steady::now() - start) / 1000.0; }

struct Base {
  std::string host;
  uint16_t port = 0;
};

Base ParseBase(const std::string& url) {
  // http://127.0.0.1:8080
  std::string rest = url.substr(url.find("://") + 3);
  size_t colon = rest.rfind(':');
  return Base{rest.substr(0, colon), static_cast<uint16_t>(std::stoi(rest.substr(colon + 1)))};
}

void RaiseFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

// ---- A small synchronous client (enrolment, pages) ----------------------------------

struct Answer {
  int status = 0;
  std::string body;
  std::vector<std::string> cookies;
};

class SyncClient {
 public:
  explicit SyncClient(const Base& b) : base_(b), socket_(io_) {}
  Answer Send(const std::string& method, const std::string& target, const std::string& body,
              const std::vector<std::pair<std::string, std::string>>& headers) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      try {
        if (!socket_.is_open()) {
          socket_ = tcp::socket(io_);
          socket_.connect(tcp::endpoint(net::ip::make_address(base_.host), base_.port));
          socket_.set_option(tcp::no_delay(true));
        }
        bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
        req.set(bhttp::field::host, base_.host);
        for (const auto& [k, v] : headers) req.set(k, v);
        req.body() = body;
        req.prepare_payload();
        bhttp::write(socket_, req);
        boost::beast::flat_buffer buf;
        bhttp::response<bhttp::string_body> res;
        bhttp::read(socket_, buf, res);
        Answer a;
        a.status = static_cast<int>(res.result_int());
        a.body = res.body();
        for (const auto& f : res) {
          if (f.name() == bhttp::field::set_cookie) a.cookies.push_back(std::string(f.value()));
        }
        if (!res.keep_alive()) socket_.close();
        return a;
      } catch (const std::exception&) {
        boost::system::error_code ec;
        socket_.close(ec);
      }
    }
    return Answer{};
  }

 private:
  Base base_;
  net::io_context io_;
  tcp::socket socket_;
};

// ---- enroll ----------------------------------------------------------------------------

int Enroll(const std::string& base_url, const std::string& token, int count, int concurrency,
           const std::string& out_path) {
  Base base = ParseBase(base_url);
  std::vector<std::string> lines(static_cast<size_t>(count));
  std::atomic<int> next{0}, failed{0};
  auto started = Steady::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      SyncClient c(base);
      for (int i = next++; i < count; i = next++) {
        std::string host = "fleet-" + std::to_string(i);
        json body = {{"token", token},
                     {"hostname", host},
                     {"inventory_hash", "fleet"},
                     {"inventory",
                      {{"hostname", host},
                       {"machine_id", "fleet-machine-" + std::to_string(i)},
                       {"os", {{"name", "Debian GNU/Linux 12 (bookworm)"}, {"version", "12"}}}}}};
        Answer a =
            c.Send("POST", "/agent/v1/enroll", body.dump(), {{"Content-Type", "application/json"}});
        json j = json::parse(a.body, nullptr, false);
        if (a.status != 201 || !j.is_object()) {
          ++failed;
          continue;
        }
        lines[static_cast<size_t>(i)] =
            std::to_string(j["agent_id"].get<long long>()) + " " + j["secret"].get<std::string>();
      }
    });
  }
  for (auto& t : threads) t.join();
  std::ofstream out(out_path);
  for (const auto& l : lines) {
    if (!l.empty()) out << l << "\n";
  }
  std::printf("enrolled %d agents in %.1f s (%.0f/s), %d failed\n", count - failed.load(),
              Since(started), (count - failed.load()) / Since(started), failed.load());
  return failed.load() == 0 ? 0 : 1;
}

// ---- agents ----------------------------------------------------------------------------

struct Stats {
  std::vector<float> latency_ms;  // good check-ins, with the time they were due
  std::vector<float> due_s;       // seconds since start when due
  long ok = 0, busy = 0, refused = 0, other = 0, connect_errors = 0, reconnects = 0;
  // After a restart (SIGUSR1): seconds to each agent's first good check-in.
  std::vector<float> back_after_s;
  long failures_after_restart = 0;
};

std::atomic<bool> g_restart_flag{false};
void OnUsr1(int) { g_restart_flag = true; }

class FleetAgent : public std::enable_shared_from_this<FleetAgent> {
 public:
  FleetAgent(net::io_context& io, const Base& base, tcp::endpoint source, std::string auth,
             int64_t interval, Stats& stats, std::mt19937_64& rng, Steady::time_point start)
      : io_(io),
        base_(base),
        source_(source),
        auth_(std::move(auth)),
        interval_(interval),
        stats_(stats),
        rng_(rng),
        start_(start),
        socket_(io),
        timer_(io) {}

  void Begin(double offset_s) { Schedule(start_ + Dur(offset_s)); }

  void MarkRestart(Steady::time_point at) {
    restart_at_ = at;
    back_ = false;
  }

 private:
  static Steady::duration Dur(double s) {
    return std::chrono::duration_cast<Steady::duration>(std::chrono::duration<double>(s));
  }
  double Unit() { return std::uniform_real_distribution<double>(0, 1)(rng_); }

  void Schedule(Steady::time_point due) {
    due_ = due;
    timer_.expires_at(due);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->Go(false);
    });
  }

  void Go(bool retry) {
    if (!socket_.is_open()) return Connect(retry);
    Send(retry, true);
  }

  void Connect(bool retry) {
    boost::system::error_code ec;
    socket_ = tcp::socket(io_);
    socket_.open(tcp::v4(), ec);
    socket_.bind(source_, ec);
    socket_.async_connect(tcp::endpoint(net::ip::make_address(base_.host), base_.port),
                          [self = shared_from_this(), retry](boost::system::error_code e) {
                            if (e) {
                              self->stats_.connect_errors++;
                              boost::system::error_code ignored;
                              self->socket_.close(ignored);
                              return self->Failed(0);
                            }
                            self->socket_.set_option(tcp::no_delay(true), e);
                            self->Send(retry, false);
                          });
  }

  void Send(bool retry, bool reused) {
    req_ = {};
    req_.method(bhttp::verb::post);
    req_.target("/agent/v1/checkin");
    req_.version(11);
    req_.set(bhttp::field::host, base_.host);
    req_.set(bhttp::field::content_type, "application/json");
    req_.set(bhttp::field::authorization, auth_);
    char body[160];
    std::snprintf(body, sizeof body,
                  "{\"metrics\":{\"cpu_percent\":%.1f,\"memory_percent\":%.1f,"
                  "\"disk_percent\":19.0},\"inventory_hash\":\"fleet\"}",
                  Unit() * 100, 30 + Unit() * 40);
    req_.body() = body;
    req_.prepare_payload();
    bhttp::async_write(
        socket_, req_,
        [self = shared_from_this(), retry, reused](boost::system::error_code ec, size_t) {
          if (ec) return self->Dead(retry, reused);
          self->res_.emplace();
          self->buf_.clear();
          bhttp::async_read(self->socket_, self->buf_, *self->res_,
                            [self, retry, reused](boost::system::error_code e, size_t) {
                              if (e) return self->Dead(retry, reused);
                              self->Answered();
                            });
        });
  }

  // A kept-alive connection the server closed meanwhile (idle timeout, restart):
  // reconnect and send again once, as libcurl does.
  void Dead(bool retry, bool reused) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (reused && !retry) {
      stats_.reconnects++;
      return Connect(true);
    }
    Failed(0);
  }

  void Answered() {
    int status = static_cast<int>(res_->result_int());
    bool keep = res_->keep_alive();
    int64_t retry_after = 0;
    if (auto it = res_->find(bhttp::field::retry_after); it != res_->end()) {
      retry_after = std::atoll(std::string(it->value()).c_str());
    }
    res_.reset();
    buf_.clear();
    buf_.shrink_to_fit();
    if (!keep) {
      boost::system::error_code ignored;
      socket_.close(ignored);
    }
    if (status == 200) {
      Steady::time_point now = Steady::now();
      stats_.ok++;
      stats_.latency_ms.push_back(static_cast<float>(Ms(now - due_)));
      stats_.due_s.push_back(static_cast<float>(Ms(due_ - start_) / 1000));
      if (restart_at_ && !back_) {
        back_ = true;
        stats_.back_after_s.push_back(static_cast<float>(Ms(now - *restart_at_) / 1000));
      }
      failures_ = 0;
      return Schedule(now + Dur(static_cast<double>(interval_) * (0.9 + 0.1 * Unit())));
    }
    if (status == 503 || status == 429) {
      stats_.busy++;
    } else if (status == 401 || status == 403) {
      stats_.refused++;
    } else {
      stats_.other++;
    }
    Failed(retry_after);
  }

  // opsmerge-agent's back-off: full jitter up to min(5 x interval, 300) s, never
  // sooner than a Retry-After.
  void Failed(int64_t retry_after) {
    if (restart_at_ && !back_) stats_.failures_after_restart++;
    int64_t cap = std::clamp<int64_t>(interval_ * 5, 5, 300);
    int64_t ceiling = 1;
    for (int i = 0; i < failures_ && ceiling < cap; ++i) ceiling *= 2;
    ceiling = std::min(ceiling, cap);
    failures_++;
    double wait = std::max(1.0, Unit() * static_cast<double>(ceiling + 1));
    if (retry_after > 0) wait = std::max(wait, static_cast<double>(retry_after) * (1 + Unit()));
    Schedule(Steady::now() + Dur(wait));
  }

  net::io_context& io_;
  const Base& base_;
  tcp::endpoint source_;
  std::string auth_;
  int64_t interval_;
  Stats& stats_;
  std::mt19937_64& rng_;
  Steady::time_point start_, due_;
  tcp::socket socket_;
  net::steady_timer timer_;
  boost::beast::flat_buffer buf_;
  bhttp::request<bhttp::string_body> req_;
  std::optional<bhttp::response<bhttp::string_body>> res_;
  int failures_ = 0;
  std::optional<Steady::time_point> restart_at_;
  bool back_ = true;
};

std::vector<tcp::endpoint> Sources(const std::string& spec) {
  // "127.0.1.1-40" -> 127.0.1.1 .. 127.0.1.40
  size_t dash = spec.rfind('-');
  size_t dot = spec.rfind('.');
  std::string prefix = spec.substr(0, dot + 1);
  int from = std::stoi(spec.substr(dot + 1, dash - dot - 1));
  int to = std::stoi(spec.substr(dash + 1));
  std::vector<tcp::endpoint> out;
  for (int i = from; i <= to; ++i) {
    out.emplace_back(net::ip::make_address(prefix + std::to_string(i)), 0);
  }
  return out;
}

int Agents(const std::string& base_url, const std::string& creds, int from, int to,
           const std::string& sources_spec, int64_t interval, int seconds,
           const std::string& report) {
  RaiseFileLimit();
  std::signal(SIGUSR1, OnUsr1);
  Base base = ParseBase(base_url);
  std::vector<tcp::endpoint> sources = Sources(sources_spec);
  std::ifstream in(creds);
  std::vector<std::string> auth;
  for (std::string id, secret; in >> id >> secret;) auth.push_back("Agent " + id + ":" + secret);
  to = std::min<int>(to, static_cast<int>(auth.size()));
  net::io_context io(1);
  Stats stats;
  std::mt19937_64 rng(static_cast<uint64_t>(from) * 7919 + 17);
  Steady::time_point start = Steady::now();
  std::vector<std::shared_ptr<FleetAgent>> agents;
  for (int i = from; i < to; ++i) {
    auto a =
        std::make_shared<FleetAgent>(io, base, sources[static_cast<size_t>(i) % sources.size()],
                                     auth[static_cast<size_t>(i)], interval, stats, rng, start);
    // Each agent's first check-in at its own moment in the first interval.
    a->Begin(std::uniform_real_distribution<double>(0, static_cast<double>(interval))(rng));
    agents.push_back(a);
  }
  net::steady_timer watch(io);
  std::function<void()> tick = [&] {
    if (g_restart_flag.exchange(false)) {
      Steady::time_point now = Steady::now();
      for (auto& a : agents) a->MarkRestart(now);
      std::fprintf(stderr, "agents %d-%d: restart marked at %.1f s\n", from, to, Since(start));
    }
    if (Since(start) >= seconds) return io.stop();
    watch.expires_after(std::chrono::milliseconds(100));
    watch.async_wait([&](boost::system::error_code) { tick(); });
  };
  tick();
  io.run();
  json r = {{"agents", to - from},
            {"ok", stats.ok},
            {"busy", stats.busy},
            {"refused", stats.refused},
            {"other", stats.other},
            {"connect_errors", stats.connect_errors},
            {"reconnects", stats.reconnects},
            {"failures_after_restart", stats.failures_after_restart},
            {"latency_ms", stats.latency_ms},
            {"due_s", stats.due_s},
            {"back_after_s", stats.back_after_s}};
  std::ofstream(report) << r.dump();
  return 0;
}

// ---- pages -------------------------------------------------------------------------------

std::string Cookie(const std::vector<std::string>& set_cookies, const std::string& name) {
  for (const auto& c : set_cookies) {
    if (c.rfind(name + "=", 0) == 0) return c.substr(0, c.find(';'));
  }
  return "";
}

int Pages(const std::string& base_url, const std::string& email, const std::string& password,
          double rate, int seconds, const std::string& report) {
  Base base = ParseBase(base_url);
  SyncClient c(base);
  Answer login = c.Send("GET", "/login", "", {});
  std::string pre = Cookie(login.cookies, "om_pre");
  size_t at = login.body.find("name=\"_csrf\" value=\"");
  std::string csrf = login.body.substr(at + 20, 64);
  Answer signin =
      c.Send("POST", "/login", "email=" + email + "&password=" + password + "&_csrf=" + csrf,
             {{"Content-Type", "application/x-www-form-urlencoded"}, {"Cookie", pre}});
  std::string session = Cookie(signin.cookies, "om_session");
  if (session.empty()) {
    std::fprintf(stderr, "pages: sign-in failed (%d)\n", signin.status);
    return 1;
  }
  std::vector<float> latency, due_s;
  long errors = 0;
  Steady::time_point start = Steady::now();
  for (long n = 0;; ++n) {
    Steady::time_point due = start + std::chrono::duration_cast<Steady::duration>(
                                         std::chrono::duration<double>(n / rate));
    if (Since(start) >= seconds) break;
    std::this_thread::sleep_until(due);
    Answer a = c.Send("GET", "/clients", "", {{"Cookie", session}});
    if (a.status != 200) ++errors;
    latency.push_back(static_cast<float>(Ms(Steady::now() - due)));
    due_s.push_back(static_cast<float>(Ms(due - start) / 1000));
  }
  std::ofstream(report) << json{
      {"pages", true},
      {"errors", errors},
      {"latency_ms", latency},
      {"due_s", due_s}}.dump();
  return 0;
}

// ---- summary -----------------------------------------------------------------------------

double Pct(std::vector<float> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1)))];
}

int Summary(double warmup, double until, const std::vector<std::string>& reports) {
  std::vector<float> checkins, pages, back;
  long ok = 0, busy = 0, refused = 0, other = 0, connect = 0, reconnects = 0, after = 0, agents = 0,
       page_errors = 0;
  for (const auto& path : reports) {
    std::ifstream f(path);
    json r = json::parse(f, nullptr, false);
    if (r.is_discarded()) continue;
    auto lat = r["latency_ms"].get<std::vector<float>>();
    auto due = r["due_s"].get<std::vector<float>>();
    std::vector<float>& into = r.contains("pages") ? pages : checkins;
    for (size_t i = 0; i < lat.size(); ++i) {
      if (due[i] >= warmup && due[i] < until) into.push_back(lat[i]);
    }
    if (r.contains("pages")) {
      page_errors += r["errors"].get<long>();
      continue;
    }
    agents += r["agents"].get<long>();
    ok += r["ok"].get<long>();
    busy += r["busy"].get<long>();
    refused += r["refused"].get<long>();
    other += r["other"].get<long>();
    connect += r["connect_errors"].get<long>();
    reconnects += r["reconnects"].get<long>();
    after += r["failures_after_restart"].get<long>();
    auto b = r["back_after_s"].get<std::vector<float>>();
    back.insert(back.end(), b.begin(), b.end());
  }
  std::printf(
      "agents: %ld; check-ins ok %ld, 503 %ld, refused %ld, other %ld, connect errors %ld, "
      "reconnects %ld\n",
      agents, ok, busy, refused, other, connect, reconnects);
  std::printf(
      "steady window %.0f-%.0f s: %zu check-ins (%.0f/s); p50 %.2f ms, p99 %.2f ms, "
      "max %.1f ms\n",
      warmup, until, checkins.size(), static_cast<double>(checkins.size()) / (until - warmup),
      Pct(checkins, 0.5), Pct(checkins, 0.99), Pct(checkins, 1.0));
  std::printf(
      "clients list during it: %zu loads, p50 %.2f ms, p95 %.2f ms, max %.1f ms, %ld errors\n",
      pages.size(), Pct(pages, 0.5), Pct(pages, 0.95), Pct(pages, 1.0), page_errors);
  if (!back.empty() || after > 0) {
    std::printf(
        "after the restart: %zu of %ld agents checked in again; 50%% within %.1f s, 99%% "
        "within %.1f s, all within %.1f s; %ld failed attempts meanwhile (retried)\n",
        back.size(), agents, Pct(back, 0.5), Pct(back, 0.99), Pct(back, 1.0), after);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  try {
    if (a.size() == 6 && a[0] == "enroll") {
      return Enroll(a[1], a[2], std::stoi(a[3]), std::stoi(a[4]), a[5]);
    }
    if (a.size() == 9 && a[0] == "agents") {
      return Agents(a[1], a[2], std::stoi(a[3]), std::stoi(a[4]), a[5], std::stoll(a[6]),
                    std::stoi(a[7]), a[8]);
    }
    if (a.size() == 7 && a[0] == "pages") {
      return Pages(a[1], a[2], a[3], std::stod(a[4]), std::stoi(a[5]), a[6]);
    }
    if (a.size() >= 4 && a[0] == "summary") {
      return Summary(std::stod(a[1]), std::stod(a[2]),
                     std::vector<std::string>(a.begin() + 3, a.end()));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fleet: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "usage: see the comment at the top of bench/fleet.cpp\n");
  return 64;
}
