// JSON bodies through the real staff and agent API handlers, on a throwaway SQLite
// database: whatever the body, the answer is never a 500. The first byte picks
// the route; the rest is the body.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "audit/service.h"
#include "clients/routes.h"
#include "platform/clock.h"
#include "platform/crypto.h"
#include "platform/db.h"
#include "platform/http/server.h"
#include "rmm/client_data.h"
#include "rmm/routes.h"
#include "staff/service.h"

namespace {

using namespace opsmerge;

class Admin : public http::Authenticator {
 public:
  std::optional<http::Principal> FromSession(const std::string&) override { return std::nullopt; }
  std::optional<http::Principal> FromApiKey(const std::string&) override {
    return http::Principal{0, "fuzz", "fuzz@msp.example", "admin", true};
  }
};

struct App {
  App() {
    crypto::InitCrypto();
    char dir[] = "/tmp/opsmerge-fuzz-XXXXXX";
    if (!mkdtemp(dir)) std::abort();
    db = db::Database::OpenSqlite(std::string(dir) + "/fuzz.db", 4);
    db->Migrate();
    audit = std::make_unique<audit::AuditLog>(clock);
    rmm::RegisterClientData(owners);
    clients = std::make_unique<clients::ClientService>(*db, *audit, clock, owners);
    rmm = std::make_unique<rmm::RmmService>(*db, *audit, clock, *clients, rmm::RmmSettings{});
    clients::RegisterApi(router, *clients);
    rmm::RegisterApi(router, *rmm, downloads);
    rmm::RegisterAgentApi(router, *rmm, downloads);
    server = std::make_unique<http::Server>(
        http::ServerOptions{}, router, auth,
        [](int, const std::string& m, const http::Request&) { return m; });
    // One of everything, so routes with ids reach real rows.
    Call("POST", "/api/v1/clients", R"({"name":"Fuzz Ltd","domain":"fuzz.example"})");
    Call("POST", "/api/v1/clients", R"({"name":"Other Ltd"})");
    Call("POST", "/api/v1/clients/1/contacts", R"({"name":"Jo","email":"jo@fuzz.example"})");
    Call("POST", "/api/v1/clients/1/sites", R"({"name":"London office"})");
    auto token =
        nlohmann::json::parse(Call("POST", "/api/v1/clients/1/enrollment-tokens", "{}").body);
    auto enrolled = nlohmann::json::parse(
        Call("POST", "/agent/v1/enroll",
             nlohmann::json{{"token", token["token"]}, {"hostname", "fuzz-host"}}.dump())
            .body);
    agent_auth = "Agent " + std::to_string(enrolled["agent_id"].get<int64_t>()) + ":" +
                 enrolled["secret"].get<std::string>();
  }

  http::Response Call(const std::string& method, const std::string& path, std::string body) {
    http::Request req;
    req.method = method;
    req.path = path;
    req.body = std::move(body);
    req.remote_ip = "127.0.0.1";
    req.headers = {{"content-type", "application/json"},
                   {"authorization", path.rfind("/agent/", 0) == 0 ? agent_auth : "Bearer fuzz"}};
    return server->Handle(req);
  }

  SystemClock clock;
  std::unique_ptr<db::Database> db;
  std::unique_ptr<audit::AuditLog> audit;
  clients::ClientOwners owners;
  std::unique_ptr<clients::ClientService> clients;
  std::unique_ptr<rmm::RmmService> rmm;
  rmm::AgentDownloads downloads{"/nonexistent", "https://psa.example"};
  Admin auth;
  http::Router router;
  std::unique_ptr<http::Server> server;
  std::string agent_auth;
};

struct Route {
  const char* method;
  const char* path;
};
const Route kRoutes[] = {
    {"POST", "/api/v1/clients"},
    {"PATCH", "/api/v1/clients/1"},
    {"POST", "/api/v1/clients/merge"},
    {"POST", "/api/v1/clients/1/links"},
    {"POST", "/api/v1/clients/1/contacts"},
    {"PATCH", "/api/v1/contacts/1"},
    {"POST", "/api/v1/clients/1/sites"},
    {"PATCH", "/api/v1/sites/1"},
    {"POST", "/api/v1/clients/1/enrollment-tokens"},
    {"PATCH", "/api/v1/endpoints/1"},
    {"POST", "/api/v1/endpoints/move"},
    {"POST", "/agent/v1/enroll"},
    {"POST", "/agent/v1/checkin"},
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static App* app = new App();  // lives for the whole run
  if (size < 1) return 0;
  const Route& r = kRoutes[data[0] % (sizeof kRoutes / sizeof kRoutes[0])];
  http::Response resp =
      app->Call(r.method, r.path, std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  if (resp.status >= 500) {
    std::fprintf(stderr, "%s %s answered %d: %s\n", r.method, r.path, resp.status,
                 resp.body.c_str());
    __builtin_trap();
  }
  return 0;
}
