#pragma once

#include <map>
#include <string>
#include <string_view>

#include "platform/http/request.h"

// The embedded browser assets (web/static and the npm packages), served from
// memory without copying, gzip-compressed for clients that accept it (the
// compressed copies are made once at start-up). Immutable after Load();
// thread-safe.
namespace opsmerge::http {

class StaticFiles {
 public:
  static StaticFiles Load();

  // The asset `name` ("tabler.min.css") for `request`, with its content type,
  // caching and encoding headers; NotFound for anything else.
  Response Serve(const std::string& name, const Request& request) const;

 private:
  struct File {
    std::string_view plain;
    std::string gzip;  // empty when compressing would not pay
    std::string content_type;
  };
  std::map<std::string, File, std::less<>> files_;
};

}  // namespace opsmerge::http
