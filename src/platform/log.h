#pragma once

#include <string>

// One-line logs to stderr. Thread-safe (each line is written with one call).
namespace opsmerge::log {

// Paths under `prefix` carry a secret in their last part (a sign-in link): the
// access log shows "prefix[redacted]". Called at start-up, before serving.
void RedactPathsUnder(const std::string& prefix);

void Info(const std::string& message);
void Error(const std::string& message);
void Access(const std::string& method, const std::string& path, int status, double ms,
            const std::string& request_id, const std::string& remote_ip);
// Off in benchmarks: access logging costs more than the request.
void SetAccessLog(bool enabled);

// A log line is one line: every function above writes control characters of what
// it logs (a path, an error text quoting input) as \xNN, so no input forges a line.
std::string Escape(const std::string& text);

}  // namespace opsmerge::log
