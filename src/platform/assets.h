#pragma once

#include <optional>
#include <string_view>
#include <vector>

// Files compiled into the binary at build time (templates, static assets, SQL
// migrations), so `opsmerge` runs from any directory. Names are paths relative to
// the repository's web/ or migrations/ roots, e.g. "templates/layout.mustache",
// "static/htmx.min.js", "migrations/sqlite/0001_init.sql". Read-only and thread-safe.
namespace opsmerge::assets {

std::optional<std::string_view> Find(std::string_view name);

// Names starting with `prefix`, sorted.
std::vector<std::string_view> List(std::string_view prefix);

}  // namespace opsmerge::assets
