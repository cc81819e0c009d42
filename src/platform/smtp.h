#pragma once

#include <string>
#include <vector>

// Sends one finished RFC 5322 message over SMTP with libcurl: smtp:// uses STARTTLS
// when the server offers it, smtps:// is TLS from the start; certificates are
// verified; 30 s to connect, 2 min in all. Throws std::runtime_error with the
// server's or libcurl's reason. Thread-safe (one easy handle per call).
namespace opsmerge::smtp {

struct Server {
  std::string url;  // "smtp://user@host:587" (no password), as settings keep it
  std::string password;
};

void Send(const Server& server, const std::string& from, const std::vector<std::string>& to,
          const std::string& message);

}  // namespace opsmerge::smtp
