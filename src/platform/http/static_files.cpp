#include "platform/http/static_files.h"

#include <sstream>

#include <Poco/DeflatingStream.h>

#include "platform/assets.h"
#include "platform/errors.h"

namespace opsmerge::http {

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string ContentType(std::string_view path) {
  if (EndsWith(path, ".css")) return "text/css; charset=utf-8";
  if (EndsWith(path, ".js") || EndsWith(path, ".mjs")) return "text/javascript; charset=utf-8";
  if (EndsWith(path, ".svg")) return "image/svg+xml";
  if (EndsWith(path, ".png")) return "image/png";
  if (EndsWith(path, ".ico")) return "image/x-icon";
  if (EndsWith(path, ".woff2")) return "font/woff2";
  return "application/octet-stream";
}

bool Compressible(std::string_view type) {
  return type.rfind("text/", 0) == 0 || type == "image/svg+xml";
}

std::string Gzip(std::string_view data) {
  std::ostringstream out;
  Poco::DeflatingOutputStream deflate(out, Poco::DeflatingStreamBuf::STREAM_GZIP, 9);
  deflate.write(data.data(), static_cast<std::streamsize>(data.size()));
  deflate.close();
  return out.str();
}

bool AcceptsGzip(const Request& request) {
  std::string accept = request.Header("accept-encoding");
  size_t at = accept.find("gzip");
  if (at == std::string::npos) return false;
  // "gzip;q=0" refuses it.
  size_t end = accept.find(',', at);
  std::string part = accept.substr(at, end == std::string::npos ? std::string::npos : end - at);
  return part.find("q=0") == std::string::npos || part.find("q=0.") != std::string::npos;
}

}  // namespace

StaticFiles StaticFiles::Load() {
  StaticFiles s;
  const std::string prefix = "static/";
  for (std::string_view name : assets::List(prefix)) {
    File f;
    f.plain = *assets::Find(name);
    f.content_type = ContentType(name);
    if (Compressible(f.content_type) && f.plain.size() > 1024) {
      std::string gz = Gzip(f.plain);
      if (gz.size() < f.plain.size() * 9 / 10) f.gzip = std::move(gz);
    }
    s.files_.emplace(std::string(name.substr(prefix.size())), std::move(f));
  }
  return s;
}

Response StaticFiles::Serve(const std::string& name, const Request& request) const {
  auto it = files_.find(name);
  if (it == files_.end()) throw NotFound("File");
  const File& f = it->second;
  Response r;
  r.content_type = f.content_type;
  if (!f.gzip.empty() && AcceptsGzip(request)) {
    r.static_body = f.gzip;
    r.SetHeader("Content-Encoding", "gzip");
  } else {
    r.static_body = f.plain;
  }
  if (!f.gzip.empty()) r.SetHeader("Vary", "Accept-Encoding");
  r.SetHeader("Cache-Control", "public, max-age=3600");
  return r;
}

}  // namespace opsmerge::http
