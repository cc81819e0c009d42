#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

// The typed errors services throw. platform/http maps each to one status and body
// (see http/server.cpp); nothing else decides what a user sees for a failure.
// `message` is shown to the user, so it never carries internal detail.
namespace opsmerge {

// Bad input: 422 with the offending field named.
class ValidationError : public std::runtime_error {
 public:
  ValidationError(std::string field, const std::string& message)
      : std::runtime_error(message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// The thing asked for does not exist, or the caller may not know it exists: 404.
class NotFound : public std::runtime_error {
 public:
  explicit NotFound(const std::string& what) : std::runtime_error(what + " not found") {}
};

// A clash with existing state: 409. `code` is the stable machine-readable reason
// ("duplicate", "has_dependents", "conflict"); `existing_id` points at what clashed.
class Conflict : public std::runtime_error {
 public:
  Conflict(std::string code, const std::string& message, int64_t existing_id = 0,
           std::string field = {})
      : std::runtime_error(message),
        code_(std::move(code)),
        existing_id_(existing_id),
        field_(std::move(field)) {}
  const std::string& code() const { return code_; }
  int64_t existing_id() const { return existing_id_; }
  const std::string& field() const { return field_; }

 private:
  std::string code_;
  int64_t existing_id_;
  std::string field_;
};

// Signed in, but the role does not allow this (or a credential is valid but no
// longer usable, with a specific `code` such as "token_expired"): 403.
class Forbidden : public std::runtime_error {
 public:
  explicit Forbidden(const std::string& what = "You are not allowed to do that",
                     std::string code = "forbidden")
      : std::runtime_error(what), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

// Not signed in, or credentials are wrong: 401.
class Unauthorized : public std::runtime_error {
 public:
  explicit Unauthorized(const std::string& what = "Sign in required") : std::runtime_error(what) {}
};

// Too many attempts: 429 with Retry-After.
class TooManyRequests : public std::runtime_error {
 public:
  TooManyRequests(const std::string& what, int64_t retry_after_seconds)
      : std::runtime_error(what), retry_after_(retry_after_seconds) {}
  int64_t retry_after() const { return retry_after_; }

 private:
  int64_t retry_after_;
};

// An id that now lives under another id for good (a client merged into another).
// The HTTP layer answers once for every route: a GET or HEAD whose path or query
// holds the old id gets 301 to the same address with the new id; any change is
// refused with 409 (code "merged", existing_id = the new id), so nothing acts on
// the survivor by surprise.
class Moved : public std::runtime_error {
 public:
  Moved(int64_t old_id, int64_t new_id, const std::string& what)
      : std::runtime_error(what), old_id_(old_id), new_id_(new_id) {}
  int64_t old_id() const { return old_id_; }
  int64_t new_id() const { return new_id_; }

 private:
  int64_t old_id_;
  int64_t new_id_;
};

// A resource that moved for good: 301 to `location`.
class MovedPermanently : public std::runtime_error {
 public:
  explicit MovedPermanently(std::string location)
      : std::runtime_error("moved"), location_(std::move(location)) {}
  const std::string& location() const { return location_; }

 private:
  std::string location_;
};

}  // namespace opsmerge
