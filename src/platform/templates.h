#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// Mustache templates compiled into the binary (web/templates/**.mustache). Every
// template is also a partial under its name without extension, so
// "{{> clients/_row}}" includes web/templates/clients/_row.mustache. `{{x}}`
// escapes HTML; `{{{x}}}` is reserved for HTML our own code produced (a test
// checks the templates for any other use). Immutable after Load(); thread-safe.
namespace opsmerge {

// Marks a view object as a map of optional members (form values, errors by field):
// a template may name any member; a missing one reads as empty.
nlohmann::json OpenMap(nlohmann::json map);

class Templates {
 public:
  // The embedded templates. `strict` (the test build): Render refuses any view that
  // leaves a name of the template unresolved, so a typo or a missing member fails a
  // test instead of rendering blank. Load does not parse them: they cannot change
  // after the build, and the unit tests run Validate on every one (parsing them all
  // was most of a start-up, and every command and test starts one).
  static Templates Load(bool strict = false);
  // Throws std::runtime_error naming the first template that fails to parse.
  void Validate() const;
  // Strict mode only: called with every template (and partial) a render drew, so
  // the test build can tell which templates no test ever rendered.
  void SetObserver(std::function<void(const std::string&)> observer) {
    observer_ = std::move(observer);
  }
  // From given sources (tests of the renderer itself).
  static Templates FromSources(std::map<std::string, std::string> sources, bool strict);

  // Renders template `name` ("clients/list") with `view` (a JSON object built from
  // the page's view struct). Throws std::runtime_error for an unknown template, or
  // in strict mode for unresolved names.
  std::string Render(const std::string& name, const nlohmann::json& view) const;

  // The names of `name` (and its partials) that `view` leaves unresolved, the way
  // mustache resolves them: each {{x}} and {{x.y}} that is rendered must exist; a
  // section {{#x.y}} or {{^x.y}} may name a missing member of an existing object
  // (absent = false), but its first part must exist. A view object holding the
  // member "$open" (see OpenMap) is a map whose members are all optional, such as
  // a form's typed values. Parts of the template that the view does not render (a
  // false section) are not checked.
  std::vector<std::string> Unresolved(const std::string& name, const nlohmann::json& view) const;

  std::vector<std::string> Names() const;

 private:
  std::map<std::string, std::string> sources_;
  bool strict_ = false;
  std::function<void(const std::string&)> observer_;
};

}  // namespace opsmerge
