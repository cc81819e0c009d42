#include "platform/http/router.h"

#include <algorithm>
#include <stdexcept>

namespace opsmerge::http {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t slash = path.find('/', pos);
    std::string seg =
        path.substr(pos, slash == std::string::npos ? std::string::npos : slash - pos);
    if (!seg.empty()) out.push_back(seg);
    if (slash == std::string::npos) break;
    pos = slash + 1;
  }
  return out;
}

void Router::Add(const std::string& method, const std::string& pattern, Handler handler,
                 Access access) {
  Lane lane = access == Access::kAgent ? Lane::kAgent : Lane::kPeople;
  routes_.push_back(Route{method, SplitPath(pattern), std::move(handler), access, lane});
}

void Router::AddInline(const std::string& method, const std::string& pattern, Handler handler) {
  routes_.push_back(
      Route{method, SplitPath(pattern), std::move(handler), Access::kPublic, Lane::kInline});
}

void Router::AllowBody(const std::string& method, const std::string& pattern, size_t max_bytes) {
  std::vector<std::string> segments = SplitPath(pattern);
  for (Route& r : routes_) {
    if (r.method == method && r.segments == segments) {
      r.max_body = max_bytes;
      return;
    }
  }
  throw std::logic_error("AllowBody: no route " + method + " " + pattern);
}

size_t Router::LargestBody() const {
  size_t largest = 0;
  for (const Route& r : routes_) largest = std::max(largest, r.max_body);
  return largest;
}

Router::Match Router::Find(const std::string& method, const std::string& path) const {
  std::vector<std::string> segs = SplitPath(path);
  Match best;
  int best_literals = -1;
  for (const Route& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::vector<std::string> params;
    int literals = 0;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      const std::string& p = r.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        params.push_back(segs[i]);
      } else if (p == segs[i]) {
        ++literals;
      } else {
        ok = false;
      }
    }
    if (!ok) continue;
    if (r.method != method && !(method == "HEAD" && r.method == "GET")) {
      best.path_known = true;
      continue;
    }
    if (literals > best_literals) {
      best.route = &r;
      best.params = std::move(params);
      best_literals = literals;
    }
  }
  return best;
}

}  // namespace opsmerge::http
