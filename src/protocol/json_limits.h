#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

// How deeply a JSON text nests, counted without parsing it, so a body (or a
// server's reply, in the agent) that nests thousands deep is refused before any
// tree exists: such trees cost deep recursion to copy or walk. Header-only, for
// the server and the agent alike.
namespace opsmerge::jsonlimits {

inline constexpr size_t kMaxDepth = 64;

inline size_t Depth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace opsmerge::jsonlimits
