#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/http/request.h"

// JSON in and out of handlers. Every reader validates type and length and throws
// ValidationError naming the field, so malformed input is a 422, never a 500.
namespace opsmerge::http {

Response JsonResponse(const nlohmann::json& body, int status = 200);
// 204 with no body (DELETE and friends).
Response NoContent();

// Every JSON body is parsed through these. ValidationError("body") for text that
// is not JSON or nests deeper than kMaxJsonDepth (checked before any tree exists).
inline constexpr size_t kMaxJsonDepth = 64;  // = jsonlimits::kMaxDepth
nlohmann::json ParseJson(std::string_view body);
// The body as a JSON object; ValidationError("body") if it is not one.
nlohmann::json ParseJsonObject(const std::string& body);
// How deeply arrays and objects nest in `text` (strings skipped); no parse.
size_t JsonDepth(std::string_view text);

// Rejects members not in `allowed` so typos do not silently do nothing.
void RejectUnknownFields(const nlohmann::json& obj, const std::vector<std::string>& allowed);

std::optional<std::string> OptString(const nlohmann::json& obj, const std::string& field,
                                     size_t max_len);
std::optional<bool> OptBool(const nlohmann::json& obj, const std::string& field);
std::optional<int64_t> OptInt(const nlohmann::json& obj, const std::string& field);
// Present-and-null is distinguished from absent: returns nullopt when absent,
// and an engaged optional holding nullopt for an explicit null.
std::optional<std::optional<int64_t>> OptNullableInt(const nlohmann::json& obj,
                                                     const std::string& field);
std::optional<std::vector<std::string>> OptStringList(const nlohmann::json& obj,
                                                      const std::string& field, size_t max_items,
                                                      size_t max_len);
std::optional<std::vector<int64_t>> OptIntList(const nlohmann::json& obj, const std::string& field,
                                               size_t max_items);

// Paging query parameters (page >= 1, 1 <= per_page <= 200, default 50).
struct Paging {
  int64_t page = 1;
  int64_t per_page = 50;
  int64_t Offset() const { return (page - 1) * per_page; }
};
Paging ParsePaging(const Request& request);

// An id in the query string (`?client_id=12`): nullopt when absent or empty,
// ValidationError naming it when it is not a whole number.
std::optional<int64_t> QueryId(const Request& request, const std::string& name);

nlohmann::json ListEnvelope(nlohmann::json items, int64_t total, const Paging& paging);

}  // namespace opsmerge::http
