#pragma once

#include <optional>
#include <string>
#include <string_view>

// The request line's target, checked at the edge. Pure functions, thread-safe.
namespace opsmerge::http {

struct Target {
  std::string path;   // percent-decoded, valid UTF-8, no control characters
  std::string query;  // raw (still encoded), without the '?'
};

// Parses an origin-form target ("/clients/1?q=a") or an absolute-form one
// ("http://host/clients/1", reduced to its path). nullopt for anything else: a
// target not starting with '/', a bad percent escape, or a decoded path holding
// control characters (CR, LF, NUL, ...) or invalid UTF-8. Such a request is
// answered 400 before it reaches routing, logging or a handler.
std::optional<Target> ParseTarget(std::string_view target);

// True for a path on this site that is safe to redirect to after sign-in: starts
// with one '/', and holds only visible ASCII without '\\' (browsers drop tabs and
// newlines and read '\\' as '/', which would turn "/\t/evil.example" into
// "//evil.example", another host).
bool IsLocalPath(std::string_view path);

// True when `value` may go into a response header: no CR, LF or NUL. The
// response writer refuses any header that fails this, whatever produced it.
bool IsSafeHeaderValue(std::string_view value);
// True for an RFC 9110 token (header names).
bool IsToken(std::string_view name);

}  // namespace opsmerge::http
