#include "platform/templates.h"

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include <kainjow/mustache.hpp>
#include <nlohmann/json.hpp>

#include "platform/assets.h"

namespace opsmerge {

namespace {

namespace mst = kainjow::mustache;

mst::data ToData(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      mst::data d{mst::data::type::object};
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() != "$open") d.set(it.key(), ToData(it.value()));
      }
      return d;
    }
    case nlohmann::json::value_t::array: {
      mst::data d{mst::data::type::list};
      for (const auto& v : j) d.push_back(ToData(v));
      return d;
    }
    case nlohmann::json::value_t::string:
      // Mustache treats "" as true; we want {{#field}} to mean "field is set".
      if (j.get_ref<const std::string&>().empty()) return mst::data(false);
      return mst::data(j.get<std::string>());
    case nlohmann::json::value_t::boolean:
      return mst::data(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return mst::data(std::to_string(j.get<int64_t>()));
    case nlohmann::json::value_t::number_float:
      return mst::data(j.dump());
    default:
      return mst::data(false);
  }
}

constexpr const char* kOpenMarker = "$open";

// Walks a template as mustache renders it, with the view as context stack, and
// records every name the view leaves unresolved.
class Lint {
 public:
  explicit Lint(const std::map<std::string, std::string>& sources) : sources_(sources) {}

  void Walk(const std::string& where, std::string_view text,
            std::vector<const nlohmann::json*>& stack, int depth) {
    if (depth > 20) return;
    if (std::find(walked.begin(), walked.end(), where) == walked.end()) walked.push_back(where);
    size_t pos = 0;
    while (true) {
      size_t open = text.find("{{", pos);
      if (open == std::string_view::npos) return;
      bool triple = open + 2 < text.size() && text[open + 2] == '{';
      size_t close = text.find(triple ? "}}}" : "}}", open);
      if (close == std::string_view::npos) return;
      std::string tag(text.substr(open + (triple ? 3 : 2), close - open - (triple ? 3 : 2)));
      pos = close + (triple ? 3 : 2);
      char kind = tag.empty() ? ' ' : tag[0];
      std::string name = Trimmed(kind == '#' || kind == '^' || kind == '/' || kind == '>' ||
                                         kind == '&' || kind == '!'
                                     ? tag.substr(1)
                                     : tag);
      if (kind == '!' || kind == '/') continue;
      if (kind == '>') {
        auto it = sources_.find(name);
        if (it == sources_.end()) {
          Problem(where, "{{> " + name + "}} (no such partial)");
        } else {
          Walk(name, it->second, stack, depth + 1);
        }
        continue;
      }
      if (kind != '#' && kind != '^') {
        bool first_found = false;
        if (!Resolve(name, stack, &first_found)) Problem(where, "{{" + name + "}}");
        continue;
      }
      size_t body_end = 0, after = 0;
      if (!FindClose(text, pos, name, &body_end, &after)) {
        Problem(where, "{{" + std::string(1, kind) + name + "}} is never closed");
        return;
      }
      std::string_view body = text.substr(pos, body_end - pos);
      pos = after;
      bool first_found = false;
      const nlohmann::json* v = Resolve(name, stack, &first_found);
      if (!v && !first_found) {
        Problem(where, "{{" + std::string(1, kind) + name + "}}");
        continue;
      }
      bool truthy = v && Truthy(*v);
      if (kind == '^') {
        if (!truthy) Walk(where, body, stack, depth + 1);
        continue;
      }
      if (!truthy) continue;
      if (v->is_array()) {
        for (const auto& item : *v) {
          stack.push_back(&item);
          Walk(where, body, stack, depth + 1);
          stack.pop_back();
        }
      } else {
        stack.push_back(v);
        Walk(where, body, stack, depth + 1);
        stack.pop_back();
      }
    }
  }

  std::vector<std::string> problems;
  std::vector<std::string> walked;  // the templates and partials drawn

 private:
  static std::string Trimmed(const std::string& s) {
    size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
  }

  static bool Truthy(const nlohmann::json& v) {
    if (v.is_null()) return false;
    if (v.is_boolean()) return v.get<bool>();
    if (v.is_string()) return !v.get_ref<const std::string&>().empty();
    if (v.is_array()) return !v.empty();
    return true;
  }

  // The value `name` names; nullptr if absent. `first_found`: its first part exists.
  static const nlohmann::json* Resolve(const std::string& name,
                                       const std::vector<const nlohmann::json*>& stack,
                                       bool* first_found) {
    *first_found = false;
    if (name == ".") {
      *first_found = !stack.empty();
      return stack.empty() ? nullptr : stack.back();
    }
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      size_t dot = name.find('.', start);
      parts.push_back(
          name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    const nlohmann::json* v = nullptr;
    for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
      if ((*it)->is_object() && (*it)->contains(parts[0])) {
        v = &(**it)[parts[0]];
        break;
      }
    }
    if (!v) return nullptr;
    *first_found = true;
    for (size_t i = 1; i < parts.size(); ++i) {
      if (v->is_array() && !parts[i].empty() &&
          parts[i].find_first_not_of("0123456789") == std::string::npos) {
        size_t index = std::stoul(parts[i]);
        if (index >= v->size()) return nullptr;
        v = &(*v)[index];
        continue;
      }
      if (!v->is_object()) return nullptr;
      if (!v->contains(parts[i])) {
        // A map marked open (typed form values, errors by field) may lack a member:
        // it reads as empty, like a field nobody filled in.
        static const nlohmann::json kEmpty = "";
        return v->contains(kOpenMarker) ? &kEmpty : nullptr;
      }
      v = &(*v)[parts[i]];
    }
    return v;
  }

  // The body of a section opened just before `from`: ends at its matching close.
  static bool FindClose(std::string_view text, size_t from, const std::string& name,
                        size_t* body_end, size_t* after) {
    int depth = 1;
    size_t pos = from;
    while (true) {
      size_t open = text.find("{{", pos);
      if (open == std::string_view::npos) return false;
      size_t close = text.find("}}", open);
      if (close == std::string_view::npos) return false;
      std::string tag(text.substr(open + 2, close - open - 2));
      pos = close + 2;
      if (tag.empty()) continue;
      std::string tag_name = Trimmed(tag.substr(1));
      if ((tag[0] == '#' || tag[0] == '^') && tag_name == name) ++depth;
      if (tag[0] == '/' && tag_name == name && --depth == 0) {
        *body_end = open;
        *after = pos;
        return true;
      }
    }
  }

  void Problem(const std::string& where, const std::string& what) {
    std::string p = where + ": " + what;
    if (std::find(problems.begin(), problems.end(), p) == problems.end()) problems.push_back(p);
  }

  const std::map<std::string, std::string>& sources_;
};

}  // namespace

nlohmann::json OpenMap(nlohmann::json map) {
  if (!map.is_object()) map = nlohmann::json::object();
  map[kOpenMarker] = true;
  return map;
}

Templates Templates::FromSources(std::map<std::string, std::string> sources, bool strict) {
  Templates t;
  t.sources_ = std::move(sources);
  t.strict_ = strict;
  return t;
}

std::vector<std::string> Templates::Unresolved(const std::string& name,
                                               const nlohmann::json& view) const {
  auto it = sources_.find(name);
  if (it == sources_.end()) return {"no template " + name};
  Lint lint(sources_);
  std::vector<const nlohmann::json*> stack = {&view};
  lint.Walk(name, it->second, stack, 0);
  return lint.problems;
}

std::vector<std::string> Templates::Names() const {
  std::vector<std::string> out;
  for (const auto& [n, s] : sources_) out.push_back(n);
  return out;
}

Templates Templates::Load(bool strict) {
  Templates t;
  t.strict_ = strict;
  const std::string prefix = "templates/";
  const std::string ext = ".mustache";
  for (std::string_view name : assets::List(prefix)) {
    std::string n(name.substr(prefix.size()));
    if (n.size() <= ext.size() || n.compare(n.size() - ext.size(), ext.size(), ext) != 0) continue;
    t.sources_[n.substr(0, n.size() - ext.size())] = std::string(*assets::Find(name));
  }
  return t;
}

void Templates::Validate() const {
  for (const auto& [name, source] : sources_) {
    mst::mustache check{source};
    if (!check.is_valid()) {
      throw std::runtime_error("template " + name + ": " + check.error_message());
    }
  }
}

std::string Templates::Render(const std::string& name, const nlohmann::json& view) const {
  auto it = sources_.find(name);
  if (it == sources_.end()) throw std::runtime_error("no template " + name);
  if (strict_) {
    Lint lint(sources_);
    std::vector<const nlohmann::json*> stack = {&view};
    lint.Walk(name, it->second, stack, 0);
    if (observer_) {
      for (const auto& drawn : lint.walked) observer_(drawn);
    }
    std::vector<std::string> problems = lint.problems;
    if (!problems.empty()) {
      std::string all;
      for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
      throw std::runtime_error("unresolved template names: " + all);
    }
  }
  mst::data data = ToData(view);
  for (const auto& [partial_name, source] : sources_) {
    const std::string* text = &source;
    data.set(partial_name, mst::partial([text]() { return *text; }));
  }
  mst::mustache tmpl{it->second};
  std::string out = tmpl.render(data);
  if (!tmpl.is_valid()) throw std::runtime_error("template " + name + ": " + tmpl.error_message());
  return out;
}

}  // namespace opsmerge
