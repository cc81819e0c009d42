#include "platform/http/listener.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/http/span_body.hpp>
#include <sys/resource.h>
#include <sys/socket.h>

#include "platform/crypto.h"
#include "platform/http/target.h"
#include "platform/log.h"
#include "platform/sync.h"
#include "platform/worker_pool.h"

namespace opsmerge::http {

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

class Connection;

constexpr size_t kLingerBytes = 8 << 20;  // read and drop at most this after a 413
constexpr auto kLingerTime = std::chrono::seconds(2);

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsApiPath(std::string_view target) {
  return target.rfind("/api/", 0) == 0 || target.rfind("/agent/", 0) == 0;
}

// A small answer made on the I/O thread, without a handler: malformed requests,
// limits, a full queue.
Response Canned(int status, const std::string& code, const std::string& message, bool api) {
  Response r;
  r.status = status;
  if (api) {
    r.content_type = "application/json";
    r.body = "{\"error\":{\"code\":\"" + code + "\",\"message\":\"" + message + "\"}}";
  } else {
    r.content_type = "text/plain; charset=utf-8";
    r.body = message + "\n";
  }
  r.SetHeader("X-Content-Type-Options", "nosniff");
  r.SetHeader("Cache-Control", "no-store");
  return r;
}

}  // namespace

struct Listener::Impl {
  Impl(const ServerOptions& o, const Server& s)
      : options(o),
        server(s),
        acceptor(net::make_strand(ioc)),
        accept_retry(acceptor.get_executor()),
        people("people", o.people_workers, o.people_queue),
        agents("agents", o.agent_workers, o.agent_queue) {}

  // Admission: false when the total or this address's cap is reached.
  bool Admit(const std::string& ip) OM_EXCLUDES(mu);
  void Register(const std::shared_ptr<Connection>& c) OM_EXCLUDES(mu);
  void Release(const std::string& ip, Connection* c) OM_EXCLUDES(mu);
  void DoAccept();
  void OnAccept(beast::error_code ec, tcp::socket socket);
  void Adopt(tcp::socket socket);
  void RefuseBusy(tcp::socket& socket);

  const ServerOptions options;
  const Server& server;
  size_t max_connections = 0;  // options' cap, lowered to what the fd limit allows

  // Declared before the I/O context so they outlive every connection it owns.
  Mutex mu;
  std::condition_variable drained;
  size_t total OM_GUARDED_BY(mu) = 0;
  std::unordered_map<std::string, size_t> per_ip OM_GUARDED_BY(mu);
  std::unordered_map<Connection*, std::weak_ptr<Connection>> live OM_GUARDED_BY(mu);
  std::atomic<bool> draining{false};
  std::atomic<size_t> large_bodies{0};  // see ServerOptions::max_large_bodies
  std::atomic<int64_t> last_accept_error_log{0};

  net::io_context ioc;
  tcp::acceptor acceptor;
  net::steady_timer accept_retry;
  std::vector<std::thread> threads;
  uint16_t bound_port = 0;
  bool started = false;
  // Declared after the I/O context: destroyed (joined) first, since their jobs
  // post back into it.
  WorkerPool people;
  WorkerPool agents;
};

namespace {

// One client connection. Every member function runs on the connection's strand
// (the socket's executor), so there is never more than one operation in flight
// and no lock is needed. Lifetime: shared by the operation in flight.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Listener::Impl& l, tcp::socket socket, std::string ip)
      : l_(l),
        socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        buffer_(l.options.max_header_bytes + 4096),
        ip_(std::move(ip)) {}

  ~Connection() {
    ReleaseLarge();
    l_.Release(ip_, this);
  }

  void Start() {
    // A new connection gets the header deadline for its first byte, not the
    // (longer) keep-alive one: a client that connects and says nothing is idle
    // only after it has been served once.
    Arm(std::chrono::seconds(l_.options.header_timeout_seconds));
    WaitForRequest();
  }

  net::any_io_executor executor() { return socket_.get_executor(); }

  // Server stopping: close now if idle, else after the answer in flight.
  void Drain() {
    if (idle_) Close();
  }

 private:
  void WaitForRequest() {
    idle_ = true;
    socket_.async_wait(tcp::socket::wait_read,
                       [self = shared_from_this()](beast::error_code ec) { self->OnReadable(ec); });
  }

  void OnReadable(beast::error_code ec) {
    idle_ = false;
    if (ec || l_.draining.load()) return Close();
    ReadHeader();
  }

  void ReadHeader() {
    ReleaseLarge();  // the previous request's body is gone
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(l_.options.max_header_bytes));
    // The route is not known yet: the largest any route takes, narrowed to the
    // route's own limit once the header is in (OnHeader).
    parser_->body_limit(l_.server.LargestBodyLimit());
    Arm(std::chrono::seconds(l_.options.header_timeout_seconds));
    started_ = SteadyClock::now();
    bhttp::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code e, size_t) { self->OnHeader(e); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == net::error::bad_descriptor || ec == net::error::connection_reset) {
      return Close();
    }
    if (ec == bhttp::error::header_limit) {
      return Reply(Canned(431, "header_too_large", "Request headers too large", false), false);
    }
    if (ec == bhttp::error::body_limit) {
      return Reply(Canned(413, "too_large", "Request body too large", IsApi()), false, true);
    }
    if (ec) return Reply(Canned(400, "bad_request", "Bad request", false), false);
    auto& msg = parser_->get();
    if (!parser_->is_done()) {
      auto target = ParseTarget(std::string_view(msg.target()));
      body_limit_ = target ? l_.server.BodyLimitOf(std::string(msg.method_string()), target->path)
                           : l_.options.max_body_bytes;
      std::optional<uint64_t> declared;
      if (auto length = parser_->content_length()) declared = *length;
      if (declared && *declared > body_limit_) {
        return Reply(Canned(413, "too_large", "Request body too large", IsApi()), false, true);
      }
      // An upload (a body over the usual limit, or of unknown length on a route
      // that takes one) needs one of the few slots for large bodies.
      if (body_limit_ > l_.options.max_body_bytes &&
          (!declared || *declared > l_.options.max_body_bytes) && !AcquireLarge()) {
        Response busy = Canned(503, "busy", "Too many uploads at once: retry shortly", IsApi());
        busy.SetHeader("Retry-After", std::to_string(l_.options.retry_after_seconds));
        return Reply(std::move(busy), false, true);
      }
      parser_->body_limit(body_limit_);
      if (beast::iequals(msg[bhttp::field::expect], "100-continue")) {
        static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        Arm(std::chrono::seconds(l_.options.write_timeout_seconds));
        net::async_write(socket_, net::buffer(kContinue),
                         [self = shared_from_this()](beast::error_code e, size_t) {
                           if (e) return self->Close();
                           self->ReadBody();
                         });
        return;
      }
      return ReadBody();
    }
    Dispatch();
  }

  void ReadBody() {
    // Deadline by size: a slow-body attacker holds the connection no longer than a
    // client that keeps up the minimum rate would need.
    uint64_t expected = parser_->content_length().value_or(body_limit_);
    auto budget =
        std::chrono::seconds(l_.options.body_timeout_seconds) +
        std::chrono::seconds(expected / std::max<size_t>(1, l_.options.min_transfer_rate));
    Arm(budget);
    bhttp::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code e, size_t) { self->OnBody(e); });
  }

  void OnBody(beast::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return Reply(Canned(413, "too_large", "Request body too large", IsApi()), false, true);
    }
    if (ec == net::error::operation_aborted || ec == net::error::bad_descriptor ||
        ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
        ec == net::error::connection_reset) {
      return Close();
    }
    if (ec) return Reply(Canned(400, "bad_request", "Bad request", false), false);
    Dispatch();
  }

  bool IsApi() const { return parser_ && IsApiPath(std::string_view(parser_->get().target())); }

  void Dispatch() {
    Disarm();  // no deadline while the handler runs; the client is waiting for us
    auto& msg = parser_->get();
    auto target = ParseTarget(std::string_view(msg.target()));
    if (!target) return Reply(Canned(400, "bad_request", "Bad request target", false), false);
    auto req = std::make_shared<Request>();
    req->method = std::string(msg.method_string());
    req->path = std::move(target->path);
    req->query_string = std::move(target->query);
    req->query = ParseUrlEncoded(req->query_string);
    req->headers.reserve(static_cast<size_t>(std::distance(msg.begin(), msg.end())));
    for (const auto& f : msg) {
      req->headers.emplace_back(Lower(std::string_view(f.name_string())), std::string(f.value()));
    }
    req->remote_ip = ip_;
    if (l_.options.trust_proxy) {
      std::string fwd = req->Header("x-forwarded-for");
      if (!fwd.empty()) {
        std::string first = fwd.substr(0, fwd.find(','));
        while (!first.empty() && first.back() == ' ') first.pop_back();
        while (!first.empty() && first.front() == ' ') first.erase(0, 1);
        if (!first.empty() && first.size() <= 64) req->remote_ip = first;
      }
      req->secure = req->Header("x-forwarded-proto") == "https";
    }
    req->body = std::move(msg.body());
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    head_ = msg.method() == bhttp::verb::head;
    method_ = req->method;
    path_ = req->path;

    Lane lane = l_.server.LaneOf(req->method, req->path);
    if (lane == Lane::kInline) {
      Response r = Run(*req);
      request_id_ = req->request_id;
      return Reply(std::move(r), keep_alive_);
    }
    WorkerPool& pool = lane == Lane::kAgent ? l_.agents : l_.people;
    bool queued = pool.TrySubmit([self = shared_from_this(), req]() {
      Response r = self->Run(*req);
      std::string id = req->request_id;
      net::post(self->socket_.get_executor(),
                [self, r = std::move(r), id = std::move(id)]() mutable {
                  self->request_id_ = std::move(id);
                  self->Reply(std::move(r), self->keep_alive_);
                });
    });
    if (!queued) {
      Response busy = Canned(503, "busy", "The server is busy: retry later", IsApi());
      busy.SetHeader("Retry-After", std::to_string(l_.options.retry_after_seconds));
      Reply(std::move(busy), keep_alive_);
    }
  }

  Response Run(Request& req) {
    try {
      return l_.server.Handle(req);
    } catch (...) {
      log::Error("request " + req.method + " " + req.path + " escaped the error mapping");
      return Canned(500, "internal", "Something went wrong on our side", req.IsApi());
    }
  }

  // Writes `resp`. `linger`: the client may still be sending a body we refused, so
  // read and drop it for a moment before closing (else it sees a reset, not our answer).
  void Reply(Response resp, bool keep_alive, bool linger = false) {
    if (l_.draining.load()) keep_alive = false;
    out_ = std::make_unique<Outgoing>();
    out_->resp = std::move(resp);
    Response& r = out_->resp;
    auto& m = out_->msg;
    m.version(version_ ? version_ : 11);
    m.result(static_cast<unsigned>(r.status));
    bool safe = IsSafeHeaderValue(r.content_type);
    for (const auto& [k, v] : r.headers) safe = safe && IsToken(k) && IsSafeHeaderValue(v);
    if (!safe) {
      // One check for every header we send: a value carrying CR or LF would let
      // input forge headers. Fail closed.
      log::Error("refused a response header with CR/LF for " + method_ + " " + path_);
      r = Canned(500, "internal", "Something went wrong on our side", IsApiPath(path_));
      m.result(500);
    }
    m.set(bhttp::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) m.insert(k, v);
    if (!request_id_.empty()) m.set("X-Request-Id", request_id_);
    std::string_view body = r.static_body.empty() ? std::string_view(r.body) : r.static_body;
    bool no_body = r.status == 204 || r.status == 304 || (r.status >= 100 && r.status < 200);
    if (!no_body) m.content_length(body.size());
    if (!head_ && !no_body) m.body() = beast::span<const char>(body.data(), body.size());
    m.keep_alive(keep_alive);
    status_ = r.status;
    Arm(std::chrono::seconds(l_.options.write_timeout_seconds) +
        std::chrono::seconds(body.size() / std::max<size_t>(1, l_.options.min_transfer_rate)));
    bhttp::async_write(
        socket_, m, [self = shared_from_this(), keep_alive, linger](beast::error_code ec, size_t) {
          self->OnWrite(ec, keep_alive, linger);
        });
  }

  void OnWrite(beast::error_code ec, bool keep_alive, bool linger) {
    double ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - started_).count();
    if (!method_.empty() || status_ >= 400) {
      log::Access(method_.empty() ? "-" : method_, path_.empty() ? "-" : path_, status_, ms,
                  request_id_, ip_);
    }
    out_.reset();
    method_.clear();
    path_.clear();
    request_id_.clear();
    if (ec) return Close();
    if (linger) return Linger();
    if (!keep_alive) return Shutdown();
    parser_.reset();
    if (buffer_.size() > 0) return ReadHeader();  // a pipelined request is already here
    // Idle: give back the read buffer, so a kept-alive connection costs a few
    // hundred bytes and no thread.
    buffer_.clear();
    buffer_.shrink_to_fit();
    Arm(std::chrono::seconds(l_.options.idle_timeout_seconds));
    WaitForRequest();
  }

  void Linger() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    Arm(kLingerTime);
    discard_ = std::make_unique<std::array<char, 4096>>();
    ReadAndDrop();
  }

  void ReadAndDrop() {
    socket_.async_read_some(net::buffer(*discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->dropped_ += n;
                              if (ec || self->dropped_ > kLingerBytes) return self->Close();
                              self->ReadAndDrop();
                            });
  }

  void Shutdown() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    Close();
  }

  void Close() {
    Disarm();
    // The upload slot comes back before the client can see the close, not only
    // when the last operation in flight lets go of the connection.
    ReleaseLarge();
    beast::error_code ec;
    socket_.close(ec);
  }

  void Arm(SteadyClock::duration d) {
    timer_.expires_after(d);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      // A re-armed timer cancels the old wait; a wait that fired just before being
      // re-armed is stale when the expiry now lies in the future.
      if (ec || self->timer_.expiry() > SteadyClock::now()) return;
      beast::error_code ignored;
      self->socket_.close(ignored);
    });
  }

  void Disarm() { timer_.cancel(); }

  bool AcquireLarge() {
    if (large_) return true;
    if (l_.large_bodies.fetch_add(1) >= l_.options.max_large_bodies) {
      l_.large_bodies.fetch_sub(1);
      return false;
    }
    large_ = true;
    return true;
  }

  void ReleaseLarge() {
    if (large_) l_.large_bodies.fetch_sub(1);
    large_ = false;
  }

  struct Outgoing {
    Response resp;
    bhttp::response<bhttp::span_body<const char>> msg;
  };

  Listener::Impl& l_;
  tcp::socket socket_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::unique_ptr<Outgoing> out_;
  std::unique_ptr<std::array<char, 4096>> discard_;
  size_t dropped_ = 0;
  size_t body_limit_ = 0;  // this request's route's
  bool large_ = false;     // holds one of the slots for large bodies
  const std::string ip_;
  bool idle_ = false;
  bool keep_alive_ = false;
  bool head_ = false;
  unsigned version_ = 11;
  int status_ = 0;
  SteadyClock::time_point started_ = SteadyClock::now();
  std::string method_, path_, request_id_;
};

}  // namespace

bool Listener::Impl::Admit(const std::string& ip) {
  MutexLock lock(mu);
  if (draining.load() || total >= max_connections) return false;
  size_t& n = per_ip[ip];
  if (options.max_connections_per_ip > 0 && n >= options.max_connections_per_ip) return false;
  ++n;
  ++total;
  return true;
}

void Listener::Impl::Register(const std::shared_ptr<Connection>& c) {
  MutexLock lock(mu);
  live.emplace(c.get(), c);
}

void Listener::Impl::Release(const std::string& ip, Connection* c) {
  {
    MutexLock lock(mu);
    live.erase(c);
    auto it = per_ip.find(ip);
    if (it != per_ip.end() && --it->second == 0) per_ip.erase(it);
    --total;
  }
  drained.notify_all();
}

void Listener::Impl::DoAccept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket));
  });
}

void Listener::Impl::OnAccept(beast::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // Out of file descriptors or memory: never spin, never stop accepting.
    int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now().time_since_epoch())
            .count();
    if (now - last_accept_error_log.exchange(now) >= 10) {
      log::Error("accept failed: " + ec.message() + " (retrying)");
    }
    accept_retry.expires_after(std::chrono::milliseconds(50));
    accept_retry.async_wait([this](beast::error_code e) {
      if (!e) DoAccept();
    });
    return;
  }
  Adopt(std::move(socket));
  // Drain what else is already queued in the kernel before waiting again: a burst
  // of connections (a reconnect storm, an attacker) must not overflow the listen
  // backlog while we take one socket per wake-up.
  for (int i = 0; i < 256; ++i) {
    beast::error_code e;
    tcp::socket next = acceptor.accept(net::make_strand(ioc), e);
    if (e) break;
    Adopt(std::move(next));
  }
  DoAccept();
}

void Listener::Impl::Adopt(tcp::socket socket) {
  beast::error_code opt_ec;
  socket.set_option(tcp::no_delay(true), opt_ec);
  if (options.send_buffer_bytes > 0) {
    socket.set_option(
        net::socket_base::send_buffer_size(static_cast<int>(options.send_buffer_bytes)), opt_ec);
  }
  auto peer = socket.remote_endpoint(opt_ec);
  std::string ip = opt_ec ? std::string("?") : peer.address().to_string();
  if (!Admit(ip)) return RefuseBusy(socket);
  auto c = std::make_shared<Connection>(*this, std::move(socket), std::move(ip));
  Register(c);
  c->Start();
}

void Listener::Impl::RefuseBusy(tcp::socket& socket) {
  // Best effort, never blocking: a 503 the client can act on, then close.
  static const std::string kBusy =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 10\r\n"
      "Connection: close\r\nContent-Length: 37\r\n\r\nToo many connections: retry shortly\r\n";
  beast::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(net::buffer(kBusy), ec);
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

Listener::Listener(const ServerOptions& options, const Server& server)
    : impl_(std::make_unique<Impl>(options, server)) {}

Listener::~Listener() { Stop(); }

void Listener::Start() {
  Impl& l = *impl_;
  // A fleet needs a descriptor per agent: raise the soft limit to the hard one.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rlim_t want = rl.rlim_max == RLIM_INFINITY ? rlim_t(1) << 20 : rl.rlim_max;
    if (rl.rlim_cur < want) {
      rl.rlim_cur = want;
      setrlimit(RLIMIT_NOFILE, &rl);
      getrlimit(RLIMIT_NOFILE, &rl);
    }
  }
  l.max_connections = l.options.max_connections;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > 256 &&
      l.max_connections + 256 > static_cast<size_t>(rl.rlim_cur)) {
    l.max_connections = static_cast<size_t>(rl.rlim_cur) - 256;
    log::Info("the open-file limit (" + std::to_string(rl.rlim_cur) + ") caps connections at " +
              std::to_string(l.max_connections));
  }

  beast::error_code ec;
  tcp::resolver resolver(l.ioc);
  auto results = resolver.resolve(l.options.host, std::to_string(l.options.port), ec);
  if (ec || results.empty()) {
    throw std::runtime_error("cannot resolve listen address " + l.options.host);
  }
  tcp::endpoint endpoint = results.begin()->endpoint();
  l.acceptor.open(endpoint.protocol(), ec);
  if (!ec) l.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec && l.options.reuse_port) {
    int one = 1;
    if (setsockopt(l.acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      ec = beast::error_code(errno, beast::system_category());
    }
  }
  if (!ec) l.acceptor.bind(endpoint, ec);
  if (!ec) l.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (!ec) l.acceptor.non_blocking(true, ec);  // the batch accept in OnAccept never blocks
  if (ec) {
    throw std::runtime_error("cannot listen on " + l.options.host + ":" +
                             std::to_string(l.options.port) + ": " + ec.message());
  }
  l.bound_port = l.acceptor.local_endpoint().port();
  l.started = true;
  net::post(l.acceptor.get_executor(), [&l] { l.DoAccept(); });
  size_t n = l.options.io_threads ? l.options.io_threads
                                  : std::max<size_t>(1, std::thread::hardware_concurrency());
  for (size_t i = 0; i < n; ++i) l.threads.emplace_back([&l] { l.ioc.run(); });
}

void Listener::Stop() {
  Impl& l = *impl_;
  if (!l.started) return;
  l.started = false;
  l.draining = true;
  net::post(l.acceptor.get_executor(), [&l] {
    beast::error_code ec;
    l.acceptor.close(ec);
    l.accept_retry.cancel();
  });
  std::vector<std::weak_ptr<Connection>> conns;
  {
    MutexLock lock(l.mu);
    conns.reserve(l.live.size());
    for (auto& [ptr, weak] : l.live) conns.push_back(weak);
  }
  for (auto& weak : conns) {
    if (auto c = weak.lock()) net::post(c->executor(), [c] { c->Drain(); });
  }
  {
    MutexLock lock(l.mu);
    lock.WaitFor(l.drained, std::chrono::seconds(l.options.drain_seconds),
                 [&l]() OM_NO_THREAD_SAFETY_ANALYSIS { return l.total == 0; });
  }
  l.ioc.stop();
  for (auto& t : l.threads) t.join();
  l.threads.clear();
  l.people.Stop();
  l.agents.Stop();
}

uint16_t Listener::port() const { return impl_->bound_port; }

}  // namespace opsmerge::http
