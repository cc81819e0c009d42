#include "platform/templates.h"

#include <stdexcept>

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
      for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), ToData(it.value()));
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

}  // namespace

Templates Templates::Load() {
  Templates t;
  const std::string prefix = "templates/";
  const std::string ext = ".mustache";
  for (std::string_view name : assets::List(prefix)) {
    std::string n(name.substr(prefix.size()));
    if (n.size() <= ext.size() || n.compare(n.size() - ext.size(), ext.size(), ext) != 0) continue;
    std::string source(*assets::Find(name));
    mst::mustache check{source};
    if (!check.is_valid()) {
      throw std::runtime_error("template " + n + ": " + check.error_message());
    }
    t.sources_[n.substr(0, n.size() - ext.size())] = std::move(source);
  }
  return t;
}

std::string Templates::Render(const std::string& name, const nlohmann::json& view) const {
  auto it = sources_.find(name);
  if (it == sources_.end()) throw std::runtime_error("no template " + name);
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
