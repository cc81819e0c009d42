#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "clients/routes.h"
#include "platform/errors.h"
#include "platform/http/json.h"
#include "rmm/routes.h"
#include "staff/model.h"

namespace opsmerge::rmm {

namespace {

using http::JsonResponse;
using http::Request;
using http::Response;
using nlohmann::json;
using staff::ActorFrom;

json TokenJson(const EnrollmentToken& t, int64_t now) {
  return {{"id", t.id},
          {"client_id", t.client_id},
          {"site_id", t.site_id ? json(*t.site_id) : json()},
          {"prefix", t.prefix},
          {"created_by", t.created_by},
          {"created_at", t.created_at},
          {"expires_at", FormatIsoUtc(t.expires_at)},
          {"max_uses", t.max_uses ? json(*t.max_uses) : json()},
          {"uses", t.uses},
          {"revoked", !t.revoked_at.empty()},
          {"state", TokenStateName(StateOf(t, now))}};
}

json MetricsJson(const std::optional<Metrics>& m) {
  if (!m) return nullptr;
  return {{"cpu_percent", m->cpu_percent},
          {"memory_percent", m->memory_percent},
          {"disk_percent", m->disk_percent}};
}

json EndpointJson(const Endpoint& e, Status status) {
  return {{"id", e.id},
          {"client_id", e.client_id},
          {"client_name", e.client_name},
          {"site_id", e.site_id ? json(*e.site_id) : json()},
          {"site_name", e.site_id ? json(e.site_name) : json()},
          {"hostname", e.hostname},
          {"os_name", e.os_name},
          {"os_version", e.os_version},
          {"status", StatusName(status)},
          {"last_seen_at", e.last_seen_at ? json(FormatIsoUtc(*e.last_seen_at)) : json()},
          {"billable", e.billable},
          {"retired", e.retired},
          {"primary_ip", e.primary_ip},
          {"serial", e.serial},
          {"signed_in", e.signed_in},
          {"notes", e.notes},
          {"metrics", MetricsJson(e.metrics)},
          {"created_at", e.created_at}};
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return "";
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* kInstallScript = R"SH(#!/bin/sh
# Installs the OpsMerge agent as a systemd service and enrols it.
# Usage: echo 'ENROLMENT-TOKEN' | sudo sh install.sh
# The token is read from standard input so it never appears in the process list.
set -eu
SERVER='@SERVER@'
if [ "$(id -u)" != 0 ]; then echo "run as root (sudo)" >&2; exit 1; fi
IFS= read -r TOKEN || true
[ -n "${TOKEN:-}" ] || { echo "pipe the enrolment token into this script" >&2; exit 1; }
tmp=$(mktemp)
curl -fsSL "$SERVER/agent/download/linux-amd64" -o "$tmp"
install -m 0755 "$tmp" /usr/local/bin/opsmerge-agent
rm -f "$tmp"
install -d -m 0700 /etc/opsmerge-agent
printf '%s\n' "$TOKEN" | /usr/local/bin/opsmerge-agent enroll --server "$SERVER" --config /etc/opsmerge-agent/agent.json
cat > /etc/systemd/system/opsmerge-agent.service <<'UNIT'
@UNIT@
UNIT
systemctl daemon-reload
systemctl enable --now opsmerge-agent
echo "OpsMerge agent installed and running."
)SH";

const char* kSystemdUnit = R"(
[Unit]
Description=OpsMerge agent
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=/usr/local/bin/opsmerge-agent run --config /etc/opsmerge-agent/agent.json
Restart=always
RestartSec=10
Nice=10
MemoryMax=64M
NoNewPrivileges=true
ProtectSystem=full
ProtectHome=read-only
PrivateTmp=true

[Install]
WantedBy=multi-user.target)";

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

}  // namespace

std::string ServerBaseUrl(const Request& req, const AgentDownloads& downloads) {
  return http::BaseUrl(req, downloads.public_url);
}

std::string AgentDownloads::WindowsExe() const {
  return binary_path.substr(0, binary_path.rfind('/') + 1) + "opsmerge-agent.exe";
}

std::string AgentDownloads::WindowsMsi() const {
  return binary_path.substr(0, binary_path.rfind('/') + 1) + "opsmerge-agent.msi";
}

std::string WindowsInstallCommand(const std::string& base_url) {
  // Single-quoted PowerShell strings: a quote is doubled.
  auto quoted = [](const std::string& s) { return "'" + Replace(s, "'", "''") + "'"; };
  // The token is not in the command: the administrator pastes it at the prompt
  // (Read-Host input is in no history and, read as a SecureString, not echoed). It
  // goes to a file in their own temp folder and msiexec gets the file's path
  // (TOKENFILE), so it is on no process's command line. TLS 1.2 for Windows
  // PowerShell 5.1 on systems whose .NET still defaults to 1.0.
  std::string command =
      R"PS([Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor 3072; $s = Read-Host -AsSecureString 'Paste the enrolment token'; $f = Join-Path $env:TEMP 'opsmerge-enrol.txt'; Set-Content -Path $f -Value ([Net.NetworkCredential]::new('', $s).Password) -NoNewline; $msi = Join-Path $env:TEMP 'opsmerge-agent.msi'; Invoke-WebRequest -UseBasicParsing -Uri @MSI@ -OutFile $msi; Start-Process msiexec.exe -Wait -ArgumentList "/i `"$msi`" /qn SERVER=@SERVER@ TOKENFILE=`"$f`""; Remove-Item $f)PS";
  command = Replace(command, "@MSI@", quoted(base_url + "/agent/download/windows-amd64.msi"));
  return Replace(command, "@SERVER@", base_url);
}

std::string LinuxInstallCommand(const std::string& base_url, const std::string& token) {
  return "curl -fsSL " + base_url + "/agent/install.sh -o opsmerge-install.sh && echo '" + token +
         "' | sudo sh opsmerge-install.sh";
}

void RegisterAgentApi(http::Router& router, RmmService& service, const AgentDownloads& downloads) {
  router.Add(
      "POST", "/agent/v1/enroll",
      [&service](Request& req) {
        Enrolled e = service.Enroll(http::ParseJsonObject(req.body), req.remote_ip);
        return JsonResponse({{"agent_id", e.endpoint_id},
                             {"secret", e.secret},
                             {"client_id", e.client_id},
                             {"site_id", e.site_id ? json(*e.site_id) : json()},
                             {"checkin_interval", e.checkin_interval}},
                            201);
      },
      http::Access::kAgent);
  router.Add(
      "POST", "/agent/v1/checkin",
      [&service](Request& req) {
        std::string auth = req.Header("authorization");
        json body = http::ParseJsonObject(req.body);
        CheckinReply r = service.Checkin(auth, body);
        return JsonResponse(
            {{"checkin_interval", r.checkin_interval}, {"inventory_hash", r.inventory_hash}});
      },
      http::Access::kAgent);
  router.Add(
      "GET", "/agent/install.sh",
      [downloads](Request& req) {
        std::string script = Replace(kInstallScript, "@SERVER@", ServerBaseUrl(req, downloads));
        script = Replace(script, "@UNIT@", std::string(kSystemdUnit).substr(1));
        Response r = Response::Text(script);
        r.content_type = "text/x-shellscript; charset=utf-8";
        return r;
      },
      http::Access::kPublic);
  auto serve = [&router](const std::string& path, const std::string& file, const std::string& name,
                         const std::string& type, const std::string& missing) {
    router.Add(
        "GET", path,
        [file, name, type, missing](Request&) {
          std::string binary = ReadFile(file);
          if (binary.empty()) throw NotFound(missing);
          Response r;
          r.content_type = type;
          r.body = std::move(binary);
          r.SetHeader("Content-Disposition", "attachment; filename=" + name);
          return r;
        },
        http::Access::kPublic);
  };
  serve("/agent/download/linux-amd64", downloads.binary_path, "opsmerge-agent",
        "application/octet-stream", "The agent binary (build opsmerge-agent next to opsmerge)");
  serve("/agent/download/windows-amd64.exe", downloads.WindowsExe(), "opsmerge-agent.exe",
        "application/vnd.microsoft.portable-executable",
        "The Windows agent (build with mingw-w64 installed: scripts/deps)");
  serve("/agent/download/windows-amd64.msi", downloads.WindowsMsi(), "opsmerge-agent.msi",
        "application/x-msi", "The Windows installer (build with msitools installed: scripts/deps)");
}

void RegisterApi(http::Router& router, RmmService& service, const AgentDownloads& downloads) {
  router.Add("POST", "/api/v1/clients/{id}/enrollment-tokens", [&service, downloads](Request& req) {
    int64_t id = req.ParamId(0, "Client");
    json body = req.body.empty() ? json::object() : http::ParseJsonObject(req.body);
    http::RejectUnknownFields(body, {"site_id", "expires_in_days", "max_uses"});
    TokenRequest t;
    t.site_id = http::OptInt(body, "site_id");
    t.expires_in_days = http::OptInt(body, "expires_in_days");
    t.max_uses = http::OptInt(body, "max_uses");
    IssuedToken issued = service.IssueToken(ActorFrom(req), id, t);
    return JsonResponse(
        {{"id", issued.token.id},
         {"token", issued.secret},
         {"site_id", issued.token.site_id ? json(*issued.token.site_id) : json()},
         {"expires_at", FormatIsoUtc(issued.token.expires_at)},
         {"max_uses", issued.token.max_uses ? json(*issued.token.max_uses) : json()},
         {"install",
          {{"linux", LinuxInstallCommand(ServerBaseUrl(req, downloads), issued.secret)},
           {"windows", WindowsInstallCommand(ServerBaseUrl(req, downloads))}}}},
        201);
  });
  router.Add("GET", "/api/v1/clients/{id}/enrollment-tokens", [&service](Request& req) {
    http::Paging paging = http::ParsePaging(req);
    auto tokens = service.ListTokens(ActorFrom(req), req.ParamId(0, "Client"));
    json items = json::array();
    int64_t now = service.Now();
    for (size_t i = static_cast<size_t>(paging.Offset());
         i < tokens.size() && items.size() < static_cast<size_t>(paging.per_page); ++i) {
      items.push_back(TokenJson(tokens[i], now));
    }
    return JsonResponse(http::ListEnvelope(items, static_cast<int64_t>(tokens.size()), paging));
  });
  router.Add("DELETE", "/api/v1/enrollment-tokens/{id}", [&service](Request& req) {
    service.RevokeToken(ActorFrom(req), req.ParamId(0, "Enrolment token"));
    return http::NoContent();
  });
  router.Add("GET", "/api/v1/endpoints", [&service](Request& req) {
    http::Paging paging = http::ParsePaging(req);
    EndpointQuery q;
    q.client_id = http::QueryId(req, "client_id");
    std::string site = req.Query("site_id");
    if (site == "none" || site == "pool") {
      q.pool_only = true;
    } else {
      q.site_id = http::QueryId(req, "site_id");
    }
    q.status = req.Query("status");
    q.search = req.Query("q").substr(0, 200);
    q.offset = paging.Offset();
    q.limit = paging.per_page;
    EndpointPage page = service.ListEndpoints(ActorFrom(req), q);
    json items = json::array();
    for (const auto& e : page.items) items.push_back(EndpointJson(e, service.StatusOf(e)));
    return JsonResponse(http::ListEnvelope(items, page.total, paging));
  });
  router.Add("GET", "/api/v1/endpoints/{id}", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Endpoint");
    Endpoint e = service.GetEndpoint(ActorFrom(req), id);
    json out = EndpointJson(e, service.StatusOf(e));
    out["inventory"] = json::parse(e.inventory_json, nullptr, false);
    json metrics = json::array();
    for (const auto& m : service.RecentMetrics(ActorFrom(req), id, 60)) {
      json point = MetricsJson(m.metrics);
      point["at"] = FormatIsoUtc(m.at);
      metrics.push_back(point);
    }
    out["recent_metrics"] = metrics;
    return JsonResponse(out);
  });
  router.Add("PATCH", "/api/v1/endpoints/{id}", [&service](Request& req) {
    int64_t id = req.ParamId(0, "Endpoint");
    json body = http::ParseJsonObject(req.body);
    http::RejectUnknownFields(
        body, {"billable", "retired", "notes", "site_id", "id", "client_id", "hostname", "status"});
    EndpointPatch p;
    p.billable = http::OptBool(body, "billable");
    p.retired = http::OptBool(body, "retired");
    p.notes = http::OptString(body, "notes", 40000);
    p.site_id = http::OptNullableInt(body, "site_id");
    Endpoint e = service.UpdateEndpoint(ActorFrom(req), id, p);
    return JsonResponse(EndpointJson(e, service.StatusOf(e)));
  });
  router.Add("DELETE", "/api/v1/endpoints/{id}", [&service](Request& req) {
    service.DeleteEndpoint(ActorFrom(req), req.ParamId(0, "Endpoint"));
    return http::NoContent();
  });
  router.Add("POST", "/api/v1/endpoints/{id}/revoke-agent", [&service](Request& req) {
    service.RevokeAgent(ActorFrom(req), req.ParamId(0, "Endpoint"));
    return http::NoContent();
  });
  router.Add("POST", "/api/v1/endpoints/move", [&service](Request& req) {
    json body = http::ParseJsonObject(req.body);
    http::RejectUnknownFields(body, {"endpoint_ids", "site_id"});
    auto ids = http::OptIntList(body, "endpoint_ids", 10000);
    if (!ids) throw ValidationError("endpoint_ids", "endpoint_ids is required");
    if (!body.contains("site_id"))
      throw ValidationError("site_id", "site_id is required (null for the pool)");
    auto site = http::OptNullableInt(body, "site_id");
    service.MoveEndpoints(ActorFrom(req), *ids, site ? *site : std::nullopt);
    return JsonResponse({{"moved", ids->size()}});
  });
  router.Add("GET", "/api/v1/clients/{id}/billable-endpoints", [&service](Request& req) {
    int64_t n = service.CountBillable(ActorFrom(req), req.ParamId(0, "Client"));
    return JsonResponse({{"count", n}, {"as_of", FormatIsoUtc(service.Now())}});
  });
}

}  // namespace opsmerge::rmm
