// Hostile traffic against a real server: slowloris, slow bodies, slow readers and
// thousands of idle keep-alive connections at once, while a technician's requests
// must keep answering fast. The attackers use other loopback addresses than the
// probes (127.0.0.2-9 vs 127.0.0.1), as a real attacker would not share the
// technician's address; the per-address cap is tested on its own.
#include <array>
#include <atomic>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <utility>  // before Asio: Boost 1.74's awaitable.hpp needs std::exchange
#include <vector>

#include <boost/asio.hpp>

#include "harness.h"

namespace opsmerge::testing {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

// Opens and keeps `count` connections of one kind, re-opening any the server
// closes (as slowhttptest does), until Stop().
class Attack {
 public:
  enum class Kind { kSlowHeaders, kSlowBody, kSlowRead, kIdleKeepAlive };

  // Opens `count` connections at `per_second` (slowhttptest's -r; its default is 50).
  Attack(net::io_context& io, int port, Kind kind, int count, int first_address, int per_second)
      : io_(io), port_(port), kind_(kind) {
    for (int i = 0; i < count; ++i) {
      auto c = std::make_shared<Conn>(io_);
      c->source = "127.0.0." + std::to_string(first_address + i % 4);
      conns_.push_back(c);
      c->timer.expires_after(std::chrono::microseconds(int64_t{1000000} * i / per_second));
      c->timer.async_wait([this, c](boost::system::error_code e) {
        if (!e) Open(c);
      });
    }
  }

  void Stop() {
    stopped_ = true;
    for (auto& c : conns_) {
      boost::system::error_code ec;
      c->socket.close(ec);
      c->timer.cancel();
    }
  }

  int established() const { return established_.load(); }
  int closed_by_server() const { return closed_by_server_.load(); }
  int served() const { return served_.load(); }
  // Longest a connection was held open before the server closed it, in seconds.
  double longest_hold() const { return longest_hold_ms_.load() / 1000.0; }

 private:
  struct Conn {
    explicit Conn(net::io_context& io) : socket(io), timer(io) {}
    tcp::socket socket;
    net::steady_timer timer;
    std::string source;
    std::array<char, 4096> buf{};
    SteadyClock::time_point opened;
    bool answered = false;
  };

  void Open(const std::shared_ptr<Conn>& c) {
    if (stopped_) return;
    boost::system::error_code ec;
    c->socket = tcp::socket(io_);
    c->socket.open(tcp::v4(), ec);
    if (kind_ == Kind::kSlowRead) c->socket.set_option(net::socket_base::receive_buffer_size(1024));
    c->socket.bind(tcp::endpoint(net::ip::make_address(c->source), 0), ec);
    c->socket.async_connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)),
        [this, c](boost::system::error_code e) {
          if (e) return Retry(c);
          ++established_;
          c->opened = SteadyClock::now();
          c->answered = false;
          Begin(c);
          WatchForClose(c);
        });
  }

  void Retry(const std::shared_ptr<Conn>& c) {
    if (stopped_) return;
    c->timer.expires_after(std::chrono::milliseconds(200));
    c->timer.async_wait([this, c](boost::system::error_code e) {
      if (!e) Open(c);
    });
  }

  void Send(const std::shared_ptr<Conn>& c, std::string text) {
    auto data = std::make_shared<std::string>(std::move(text));
    net::async_write(c->socket, net::buffer(*data), [data](boost::system::error_code, size_t) {});
  }

  void Begin(const std::shared_ptr<Conn>& c) {
    switch (kind_) {
      case Kind::kSlowHeaders:
        Send(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
        Drip(c, "X-Slow: 1\r\n", std::chrono::seconds(2));
        break;
      case Kind::kSlowBody:
        Send(c,
             "POST /agent/v1/checkin HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Content-Length: 100000\r\n\r\n");
        Drip(c, " ", std::chrono::seconds(1));
        break;
      case Kind::kSlowRead:
        Send(c, "GET /static/tabler.min.css HTTP/1.1\r\nHost: x\r\n\r\n");
        break;
      case Kind::kIdleKeepAlive:
        Send(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
        break;
    }
  }

  void Drip(const std::shared_ptr<Conn>& c, const char* text, SteadyClock::duration every) {
    c->timer.expires_after(every);
    c->timer.async_wait([this, c, text, every](boost::system::error_code e) {
      if (e || stopped_ || !c->socket.is_open()) return;
      Send(c, text);
      Drip(c, text, every);
    });
  }

  // Slow readers never read; everyone else reads, so a close is seen at once.
  void WatchForClose(const std::shared_ptr<Conn>& c) {
    if (kind_ == Kind::kSlowRead) return;
    c->socket.async_read_some(
        net::buffer(c->buf), [this, c](boost::system::error_code e, size_t n) {
          if (stopped_) return;
          if (!e) {
            if (!c->answered &&
                std::string_view(c->buf.data(), n).find("200 OK") != std::string::npos) {
              c->answered = true;
              ++served_;
            }
            return WatchForClose(c);
          }
          ++closed_by_server_;
          auto held =
              std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - c->opened)
                  .count();
          int64_t prev = longest_hold_ms_.load();
          while (held > prev && !longest_hold_ms_.compare_exchange_weak(prev, held)) {
          }
          c->timer.cancel();
          boost::system::error_code ignored;
          c->socket.close(ignored);
          Open(c);
        });
  }

  net::io_context& io_;
  int port_;
  Kind kind_;
  std::vector<std::shared_ptr<Conn>> conns_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> established_{0}, closed_by_server_{0}, served_{0};
  std::atomic<int64_t> longest_hold_ms_{0};
};

struct Probe {
  int failures = 0;
  double worst_ms = 0;
  int count = 0;
};

TEST(Hostile, SlowClientsAndIdleConnectionsNeverStopAnswers) {
  Server server;
  server.AddUserWithKey("tech@msp.example", "technician");
  Browser tech(server);
  ASSERT_EQ(tech.SignIn("tech@msp.example", "a long enough password"), 303);

  net::io_context io;
  auto work = net::make_work_guard(io);
  std::thread io_thread([&] { io.run(); });
  // 8,000 connections in 2 s: 4,000 new connections a second.
  Attack slow_headers(io, server.port(), Attack::Kind::kSlowHeaders, 1000, 2, 500);
  Attack slow_body(io, server.port(), Attack::Kind::kSlowBody, 1000, 2, 500);
  Attack slow_read(io, server.port(), Attack::Kind::kSlowRead, 1000, 2, 500);
  Attack idle(io, server.port(), Attack::Kind::kIdleKeepAlive, 5000, 6, 2500);

  Probe health, page;
  auto until = SteadyClock::now() + std::chrono::seconds(30);
  while (SteadyClock::now() < until) {
    auto t0 = SteadyClock::now();
    HttpResult h = server.Request("GET", "/healthz");
    double ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
    health.worst_ms = std::max(health.worst_ms, ms);
    health.failures += h.status != 200;
    ++health.count;
    t0 = SteadyClock::now();
    HttpResult p = tech.Get("/clients");
    ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
    page.worst_ms = std::max(page.worst_ms, ms);
    page.failures += p.status != 200;
    ++page.count;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  int idle_served = idle.served();
  int slow_header_closes = slow_headers.closed_by_server();
  double slow_header_hold = slow_headers.longest_hold();
  int established = slow_headers.established() + slow_body.established() + slow_read.established() +
                    idle.established();
  slow_headers.Stop();
  slow_body.Stop();
  slow_read.Stop();
  idle.Stop();
  work.reset();
  io.stop();
  io_thread.join();

  EXPECT_GE(established, 8000) << "the attack connections were really open";
  EXPECT_GE(idle_served, 5000) << "every idle keep-alive connection was served first";
  EXPECT_GE(slow_header_closes, 1000) << "slowloris connections are cut at the header deadline";
  EXPECT_LE(slow_header_hold, 13.0) << "no header takes longer than --header-timeout (10 s)";
  EXPECT_GT(health.count, 50);
  EXPECT_EQ(health.failures, 0);
  EXPECT_EQ(page.failures, 0);
  EXPECT_LT(health.worst_ms, 200) << "/healthz on a fresh connection, worst of " << health.count;
  EXPECT_LT(page.worst_ms, 200) << "signed-in /clients, worst of " << page.count;
  std::cout << "probes: /healthz worst " << health.worst_ms << " ms of " << health.count
            << "; /clients worst " << page.worst_ms << " ms of " << page.count
            << "; attack connections opened " << established << "\n";
}

TEST(Hostile, ConnectionCapsAnswer503AndSpareOtherAddresses) {
  Server server({"--max-connections-per-ip", "50"});
  net::io_context io;
  std::vector<tcp::socket> held;
  for (int i = 0; i < 50; ++i) {
    tcp::socket s(io);
    s.open(tcp::v4());
    s.bind(tcp::endpoint(net::ip::make_address("127.0.0.7"), 0));
    s.connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(server.port())));
    held.push_back(std::move(s));
  }
  // The 51st from the same address is refused with a 503 it can read.
  tcp::socket extra(io);
  extra.open(tcp::v4());
  extra.bind(tcp::endpoint(net::ip::make_address("127.0.0.7"), 0));
  extra.connect(
      tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(server.port())));
  std::array<char, 512> buf{};
  boost::system::error_code ec;
  size_t n = extra.read_some(net::buffer(buf), ec);
  std::string answer(buf.data(), n);
  EXPECT_NE(answer.find("503"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Retry-After"), std::string::npos) << answer;
  // Another address is served as usual.
  EXPECT_EQ(server.Request("GET", "/healthz").status, 200);
  // Closing the held ones frees the address again.
  held.clear();
  EXPECT_TRUE(Eventually(
      [&] {
        tcp::socket again(io);
        again.open(tcp::v4());
        again.bind(tcp::endpoint(net::ip::make_address("127.0.0.7"), 0));
        again.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"),
                                    static_cast<uint16_t>(server.port())));
        std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        net::write(again, net::buffer(req));
        boost::system::error_code e;
        size_t got = again.read_some(net::buffer(buf), e);
        return std::string(buf.data(), got).find("200 OK") != std::string::npos;
      },
      5));
}

TEST(Hostile, MalformedRequestsGet4xxAndNeverReachHandlers) {
  Server server;
  net::io_context io;
  auto raw = [&](const std::string& text) {
    tcp::socket s(io);
    s.connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(server.port())));
    net::write(s, net::buffer(text));
    std::string out;
    std::array<char, 4096> buf{};
    boost::system::error_code ec;
    while (true) {
      size_t n = s.read_some(net::buffer(buf), ec);
      out.append(buf.data(), n);
      if (ec || out.find("\r\n\r\n") != std::string::npos) break;
    }
    return out.substr(0, out.find("\r\n"));
  };
  // A CR/LF smuggled into the path as %0D%0A never becomes a header or a log line.
  EXPECT_EQ(raw("GET /login%0D%0ASet-Cookie:%20x=1 HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(raw("GET /%0Afake-log-line HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(raw("GET /clients/%ED%A0%80 HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(raw("GET /bad%zz HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(raw("GET nopath HTTP/1.1\r\nHost: x\r\n\r\n"), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(raw("GARBAGE\r\n\r\n"), "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(raw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(40000, 'a') + "\r\n\r\n"),
            "HTTP/1.1 431 Request Header Fields Too Large");
  EXPECT_EQ(raw("POST /agent/v1/checkin HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n"),
            "HTTP/1.1 413 Payload Too Large");
  EXPECT_EQ(raw("POST /agent/v1/checkin HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(server.Request("GET", "/healthz").status, 200);
  std::string log;
  {
    std::ifstream f(server.data_dir() + "/serve.err");
    std::stringstream ss;
    ss << f.rdbuf();
    log = ss.str();
  }
  EXPECT_EQ(log.find("fake-log-line"), std::string::npos) << "no forged log line";
  EXPECT_EQ(log.find("Set-Cookie: x=1"), std::string::npos);
}

}  // namespace
}  // namespace opsmerge::testing
