#pragma once

#include <string>

#include "clients/service.h"
#include "platform/http/router.h"
#include "platform/templates.h"
#include "rmm/service.h"

// The RMM feature's HTTP handlers: the agent API (/agent/v1), the agent's install
// script and binary, the staff JSON API and pages for tokens and endpoints.
namespace opsmerge::rmm {

struct AgentDownloads {
  std::string binary_path;  // the opsmerge-agent built with this server
  std::string public_url;   // base URL agents use; "" = the address the request came to
  // Beside it, when the build had mingw-w64 (and msitools): opsmerge-agent.exe
  // and opsmerge-agent.msi.
  std::string WindowsExe() const;
  std::string WindowsMsi() const;
};

void RegisterAgentApi(http::Router& router, RmmService& service, const AgentDownloads& downloads);
void RegisterApi(http::Router& router, RmmService& service, const AgentDownloads& downloads);
void RegisterPages(http::Router& router, RmmService& service, clients::ClientService& clients,
                   const Templates& templates, const AgentDownloads& downloads);

// The base URL agents should use for a request ("https://host" behind a TLS proxy).
std::string ServerBaseUrl(const http::Request& request, const AgentDownloads& downloads);
// The one-line Linux install command for a token.
std::string LinuxInstallCommand(const std::string& base_url, const std::string& token);
// The PowerShell (administrator) install command: asks for the token (pasted, not
// echoed), downloads the MSI and installs it with the token in a file only the
// user can read, so the token is in no history and on no process's command line
// (docs/agents.md).
std::string WindowsInstallCommand(const std::string& base_url);

}  // namespace opsmerge::rmm
