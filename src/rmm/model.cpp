#include "rmm/model.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "platform/errors.h"
#include "platform/text.h"

namespace opsmerge::rmm {

namespace {

using nlohmann::json;

std::string Str(const json& obj, const char* key, const std::string& path, size_t max_len,
                bool required = false) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) throw ValidationError(path + key, std::string(key) + " is required");
    return "";
  }
  if (!it->is_string()) throw ValidationError(path + key, std::string(key) + " must be a string");
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > max_len) throw ValidationError(path + key, std::string(key) + " is too long");
  if (!text::IsValidUtf8(s)) throw ValidationError(path + key, std::string(key) + " is not UTF-8");
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      throw ValidationError(path + key, std::string(key) + " must be one line of text");
    }
  }
  return s;
}

int64_t Num(const json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return 0;
  if (!it->is_number_integer() && !it->is_number_unsigned()) {
    throw ValidationError(path + key, std::string(key) + " must be a whole number");
  }
  int64_t v = it->get<int64_t>();
  if (v < 0) throw ValidationError(path + key, std::string(key) + " must not be negative");
  return v;
}

const json& Obj(const json& parent, const char* key, const std::string& path) {
  static const json kEmpty = json::object();
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return kEmpty;
  if (!it->is_object()) throw ValidationError(path + key, std::string(key) + " must be an object");
  return *it;
}

const json& Arr(const json& parent, const char* key, const std::string& path, size_t max_items) {
  static const json kEmpty = json::array();
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return kEmpty;
  if (!it->is_array()) throw ValidationError(path + key, std::string(key) + " must be a list");
  if (it->size() > max_items)
    throw ValidationError(path + key, std::string(key) + " has too many items");
  return *it;
}

const json& Item(const json& v, const std::string& path) {
  if (!v.is_object()) throw ValidationError(path, path + " items must be objects");
  return v;
}

}  // namespace

TokenState StateOf(const EnrollmentToken& token, int64_t now) {
  if (!token.revoked_at.empty()) return TokenState::kRevoked;
  if (now >= token.expires_at) return TokenState::kExpired;
  if (token.max_uses && token.uses >= *token.max_uses) return TokenState::kExhausted;
  return TokenState::kUsable;
}

const char* TokenStateName(TokenState state) {
  switch (state) {
    case TokenState::kUsable:
      return "active";
    case TokenState::kExpired:
      return "expired";
    case TokenState::kRevoked:
      return "revoked";
    case TokenState::kExhausted:
      return "used up";
  }
  return "unknown";
}

Status StatusOf(const std::optional<int64_t>& last_seen_at, int64_t now, int64_t interval_seconds) {
  if (!last_seen_at) return Status::kNeverSeen;
  return now - *last_seen_at <= 3 * interval_seconds ? Status::kOnline : Status::kOffline;
}

const char* StatusName(Status status) {
  switch (status) {
    case Status::kOnline:
      return "online";
    case Status::kOffline:
      return "offline";
    case Status::kNeverSeen:
      return "never seen";
  }
  return "offline";
}

Identity IdentityOf(const json& inv) {
  Identity out;
  if (!inv.is_object()) return out;
  std::string v4, v6;
  for (const auto& nic : inv.value("network", json::array())) {
    if (!nic.is_object() || nic.value("name", "") == "lo") continue;
    for (const auto& a : nic.value("addresses", json::array())) {
      if (!a.is_string()) continue;
      std::string s = a.get<std::string>();
      if (s.rfind("127.", 0) == 0 || s == "::1" || s.rfind("fe80", 0) == 0) continue;
      if (std::find(out.addresses.begin(), out.addresses.end(), s) == out.addresses.end()) {
        out.addresses.push_back(s);
      }
      std::string& slot = s.find(':') == std::string::npos ? v4 : v6;
      if (slot.empty()) slot = s;
    }
  }
  out.primary_ip = v4.empty() ? v6 : v4;
  std::vector<std::string> seen;
  for (const auto& u : inv.value("users", json::array())) {
    if (!u.is_string() || std::find(seen.begin(), seen.end(), u) != seen.end()) continue;
    seen.push_back(u);
    out.signed_in += (out.signed_in.empty() ? "" : ", ") + u.get<std::string>();
  }
  return out;
}

std::vector<std::string> EndpointSearchTexts(const std::string& hostname,
                                             const std::vector<std::string>& addresses,
                                             const std::string& serial) {
  std::vector<std::string> texts{hostname, serial};
  texts.insert(texts.end(), addresses.begin(), addresses.end());
  return texts;
}

Inventory ValidateInventory(const json& inv, const std::string& fallback_hostname) {
  if (!inv.is_object()) throw ValidationError("inventory", "inventory must be an object");
  const std::string p = "inventory.";
  Inventory out;
  bool has_hostname = inv.contains("hostname") && !inv["hostname"].is_null();
  if (!has_hostname && fallback_hostname.size() <= 255 && text::IsValidUtf8(fallback_hostname)) {
    out.hostname = text::Trim(fallback_hostname);
  } else {
    out.hostname = text::Trim(Str(inv, "hostname", p, 255, true));
  }
  if (out.hostname.empty()) throw ValidationError(p + "hostname", "hostname is required");
  json clean = {{"hostname", out.hostname}};
  out.machine_id = Str(inv, "machine_id", p, 128);
  clean["machine_id"] = out.machine_id;

  const json& os = Obj(inv, "os", p);
  out.os_name = Str(os, "name", p + "os.", 200);
  out.os_version = Str(os, "version", p + "os.", 100);
  clean["os"] = {{"name", out.os_name},
                 {"version", out.os_version},
                 {"kernel", Str(os, "kernel", p + "os.", 200)}};
  // Windows: the edition ("Professional"), the build with its update revision
  // ("22631.4602") and the installation type ("Client", "Server").
  // Empty from Linux agents.
  for (const char* key : {"edition", "build", "installation_type"}) {
    clean["os"][key] = Str(os, key, p + "os.", 100);
  }
  const json& cpu = Obj(inv, "cpu", p);
  clean["cpu"] = {{"model", Str(cpu, "model", p + "cpu.", 200)},
                  {"cores", Num(cpu, "cores", p + "cpu.")}};
  clean["memory_bytes"] = Num(inv, "memory_bytes", p);
  clean["uptime_seconds"] = Num(inv, "uptime_seconds", p);
  // null: the agent could not tell (no package manager or update service).
  auto updates = inv.find("pending_updates");
  clean["pending_updates"] =
      updates == inv.end() || updates->is_null() ? json() : json(Num(inv, "pending_updates", p));
  const json& hw = Obj(inv, "hardware", p);
  out.serial = text::Trim(Str(hw, "serial", p + "hardware.", 200));
  clean["hardware"] = {{"serial", out.serial},
                       {"model", Str(hw, "model", p + "hardware.", 200)},
                       {"vendor", Str(hw, "vendor", p + "hardware.", 200)}};
  json disks = json::array();
  for (const auto& d : Arr(inv, "disks", p, 256)) {
    const json& disk = Item(d, p + "disks");
    disks.push_back({{"mount", Str(disk, "mount", p + "disks.", 1024)},
                     {"fs", Str(disk, "fs", p + "disks.", 64)},
                     {"size_bytes", Num(disk, "size_bytes", p + "disks.")},
                     {"used_bytes", Num(disk, "used_bytes", p + "disks.")},
                     {"free_bytes", Num(disk, "free_bytes", p + "disks.")}});
    if (disk.contains("letter")) disks.back()["letter"] = Str(disk, "letter", p + "disks.", 2);
  }
  clean["disks"] = disks;
  json nics = json::array();
  for (const auto& n : Arr(inv, "network", p, 256)) {
    const json& nic = Item(n, p + "network");
    json addresses = json::array();
    for (const auto& a : Arr(nic, "addresses", p + "network.", 64)) {
      if (!a.is_string() || a.get_ref<const std::string&>().size() > 64) {
        throw ValidationError(p + "network.addresses", "addresses must be short strings");
      }
      addresses.push_back(a);
    }
    nics.push_back({{"name", Str(nic, "name", p + "network.", 64)},
                    {"mac", Str(nic, "mac", p + "network.", 64)},
                    {"addresses", addresses}});
  }
  clean["network"] = nics;
  json users = json::array();
  for (const auto& u : Arr(inv, "users", p, 1024)) {
    if (!u.is_string() || u.get_ref<const std::string&>().size() > 64) {
      throw ValidationError(p + "users", "users must be short strings");
    }
    users.push_back(u);
  }
  clean["users"] = users;
  json software = json::array();
  for (const auto& s : Arr(inv, "software", p, 20000)) {
    const json& pkg = Item(s, p + "software");
    software.push_back({{"name", Str(pkg, "name", p + "software.", 200)},
                        {"version", Str(pkg, "version", p + "software.", 200)}});
    // Windows: who published it, and whether it is installed for the machine
    // (both registry views) or for one user.
    for (const char* key : {"publisher", "scope"}) {
      if (pkg.contains(key)) software.back()[key] = Str(pkg, key, p + "software.", 200);
    }
  }
  clean["software"] = software;
  out.json = clean.dump();
  Identity id = IdentityOf(clean);
  out.primary_ip = id.primary_ip;
  out.addresses = std::move(id.addresses);
  out.signed_in = id.signed_in;
  return out;
}

Metrics ValidateMetrics(const json& m) {
  if (!m.is_object()) throw ValidationError("metrics", "metrics must be an object");
  auto pct = [&](const char* key) {
    auto it = m.find(key);
    if (it == m.end() || it->is_null()) return 0.0;
    if (!it->is_number())
      throw ValidationError(std::string("metrics.") + key, std::string(key) + " must be a number");
    double v = it->get<double>();
    if (!(v >= 0 && v <= 100)) {
      throw ValidationError(std::string("metrics.") + key,
                            std::string(key) + " must be between 0 and 100");
    }
    return v;
  };
  return Metrics{pct("cpu_percent"), pct("memory_percent"), pct("disk_percent")};
}

std::optional<AgentCredentials> ParseAgentAuthorization(const std::string& header) {
  const std::string prefix = "Agent ";
  if (header.rfind(prefix, 0) != 0) return std::nullopt;
  std::string rest = header.substr(prefix.size());
  size_t colon = rest.find(':');
  if (colon == std::string::npos || colon == 0 || colon > 18) return std::nullopt;
  std::string id = rest.substr(0, colon);
  if (id.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  std::string secret = rest.substr(colon + 1);
  if (secret.size() < 22 || secret.size() > 128) return std::nullopt;
  return AgentCredentials{std::stoll(id), secret};
}

}  // namespace opsmerge::rmm
