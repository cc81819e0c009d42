#include "platform/http/json.h"

#include <algorithm>

#include "platform/errors.h"
#include "protocol/json_limits.h"

namespace opsmerge::http {

Response JsonResponse(const nlohmann::json& body, int status) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response NoContent() {
  Response r;
  r.status = 204;
  r.content_type = "application/json";
  return r;
}

size_t JsonDepth(std::string_view text) { return jsonlimits::Depth(text); }

nlohmann::json ParseJson(std::string_view body) {
  // Checked before parsing: a deep tree costs a deep recursion to copy or walk,
  // and no body of ours nests more than a few levels.
  if (JsonDepth(body) > kMaxJsonDepth) {
    throw ValidationError("body", "The request body nests too deeply (at most " +
                                      std::to_string(kMaxJsonDepth) + " levels)");
  }
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) throw ValidationError("body", "The request body is not valid JSON");
  return j;
}

nlohmann::json ParseJsonObject(const std::string& body) {
  nlohmann::json j = ParseJson(body);
  if (j.is_discarded()) throw ValidationError("body", "The request body is not valid JSON");
  if (!j.is_object()) throw ValidationError("body", "The request body must be a JSON object");
  return j;
}

void RejectUnknownFields(const nlohmann::json& obj, const std::vector<std::string>& allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      throw ValidationError(it.key(), "Unknown field \"" + it.key() + "\"");
    }
  }
}

std::optional<std::string> OptString(const nlohmann::json& obj, const std::string& field,
                                     size_t max_len) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) throw ValidationError(field, field + " must be a string");
  std::string s = it->get<std::string>();
  if (s.size() > max_len) {
    throw ValidationError(
        field, field + " is too long (at most " + std::to_string(max_len) + " characters)");
  }
  return s;
}

std::optional<bool> OptBool(const nlohmann::json& obj, const std::string& field) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) throw ValidationError(field, field + " must be true or false");
  return it->get<bool>();
}

std::optional<int64_t> OptInt(const nlohmann::json& obj, const std::string& field) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) throw ValidationError(field, field + " must be an integer");
  return it->get<int64_t>();
}

std::optional<std::optional<int64_t>> OptNullableInt(const nlohmann::json& obj,
                                                     const std::string& field) {
  auto it = obj.find(field);
  if (it == obj.end()) return std::nullopt;
  if (it->is_null()) return std::optional<int64_t>();
  if (!it->is_number_integer()) throw ValidationError(field, field + " must be an integer");
  return std::optional<int64_t>(it->get<int64_t>());
}

std::optional<std::vector<std::string>> OptStringList(const nlohmann::json& obj,
                                                      const std::string& field, size_t max_items,
                                                      size_t max_len) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) throw ValidationError(field, field + " must be a list of strings");
  if (it->size() > max_items) {
    throw ValidationError(
        field, field + " has too many items (at most " + std::to_string(max_items) + ")");
  }
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) throw ValidationError(field, field + " must be a list of strings");
    if (v.get_ref<const std::string&>().size() > max_len) {
      throw ValidationError(field, field + " has an item that is too long");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::optional<std::vector<int64_t>> OptIntList(const nlohmann::json& obj, const std::string& field,
                                               size_t max_items) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) throw ValidationError(field, field + " must be a list of ids");
  if (it->size() > max_items) throw ValidationError(field, field + " has too many items");
  std::vector<int64_t> out;
  for (const auto& v : *it) {
    if (!v.is_number_integer()) throw ValidationError(field, field + " must be a list of ids");
    out.push_back(v.get<int64_t>());
  }
  return out;
}

namespace {
int64_t ParsePositive(const std::string& text, const std::string& field, int64_t fallback) {
  if (text.empty()) return fallback;
  if (text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw ValidationError(field, field + " must be a positive whole number");
  }
  int64_t v = std::stoll(text);
  if (v < 1) throw ValidationError(field, field + " must be a positive whole number");
  return v;
}
}  // namespace

Paging ParsePaging(const Request& request) {
  Paging p;
  p.page = ParsePositive(request.Query("page"), "page", 1);
  p.per_page = ParsePositive(request.Query("per_page"), "per_page", 50);
  if (p.per_page > 200) throw ValidationError("per_page", "per_page must be at most 200");
  return p;
}

nlohmann::json ListEnvelope(nlohmann::json items, int64_t total, const Paging& paging) {
  return {{"items", std::move(items)},
          {"total", total},
          {"page", paging.page},
          {"per_page", paging.per_page}};
}

std::optional<int64_t> QueryId(const Request& request, const std::string& name) {
  std::string v = request.Query(name);
  if (v.empty()) return std::nullopt;
  if (v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos) {
    throw ValidationError(name, name + " must be an id");
  }
  return std::stoll(v);
}

}  // namespace opsmerge::http
