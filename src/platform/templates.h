#pragma once

#include <map>
#include <string>

#include <nlohmann/json_fwd.hpp>

// Mustache templates compiled into the binary (web/templates/**.mustache). Every
// template is also a partial under its name without extension, so
// "{{> clients/_row}}" includes web/templates/clients/_row.mustache. `{{x}}`
// escapes HTML; `{{{x}}}` is reserved for HTML our own code produced (a test
// checks the templates for any other use). Immutable after Load(); thread-safe.
namespace opsmerge {

class Templates {
 public:
  // Throws std::runtime_error naming the template if one fails to parse.
  static Templates Load();

  // Renders template `name` ("clients/list") with `view` (a JSON object built from
  // the page's view struct). Throws std::runtime_error for an unknown template.
  std::string Render(const std::string& name, const nlohmann::json& view) const;

 private:
  std::map<std::string, std::string> sources_;
};

}  // namespace opsmerge
