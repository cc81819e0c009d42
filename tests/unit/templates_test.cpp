#include "platform/templates.h"

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "platform/assets.h"

namespace opsmerge {
namespace {

TEST(Templates, AllParseAndEscapeByDefault) {
  Templates t = Templates::Load();
  EXPECT_NO_THROW(t.Validate());
  EXPECT_THROW(Templates::FromSources({{"good", "{{x}}"}, {"bad", "{{#open}} never closed"}}, false)
                   .Validate(),
               std::runtime_error);
  std::string out =
      t.Render("layout/error", {{"heading", "<b>x</b>"}, {"message", "\"quoted\" & 'single'"}});
  EXPECT_NE(out.find("&lt;b&gt;x&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(out.find("<b>x</b>"), std::string::npos);
  EXPECT_NE(out.find("&quot;quoted&quot; &amp;"), std::string::npos);
}

TEST(Templates, EmptyStringsAreFalsyInSections) {
  Templates t = Templates::Load();
  std::string out = t.Render("clients/_results",
                             {{"rows", nlohmann::json::array()}, {"q", ""}, {"has_rows", false}});
  EXPECT_NE(out.find("No clients yet"), std::string::npos);
}

// Triple mustache and {{& x}} write raw HTML. Only the layouts (staff and client
// portal) may, for the page body our own templates rendered; any other use would
// be an XSS hole.
std::vector<std::pair<std::string, std::string>> UnescapedUses(const std::string& text) {
  std::regex raw("\\{\\{\\{\\s*([^}]*?)\\s*\\}\\}\\}|\\{\\{&\\s*([^}]*?)\\s*\\}\\}");
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), raw); it != std::sregex_iterator();
       ++it) {
    out.emplace_back((*it)[0].str(), (*it)[1].matched ? (*it)[1].str() : (*it)[2].str());
  }
  return out;
}

TEST(Templates, UnescapedOutputOnlyForOurOwnHtml) {
  for (std::string_view name : assets::List("templates/")) {
    for (const auto& [tag, var] : UnescapedUses(std::string(*assets::Find(name)))) {
      EXPECT_TRUE(name == "templates/layout/base.mustache" ||
                  name == "templates/portal/layout.mustache")
          << "unescaped output " << tag << " in " << name;
      EXPECT_EQ(var, "content_html") << tag;
    }
  }
}

TEST(Templates, TheUnescapedCheckSeesEveryForm) {
  // The check above must catch dotted names, spaces and the & form, not just
  // simple lower-case names.
  for (const char* bad :
       {"{{{client.notes}}}", "{{{ notes }}}", "{{& notes}}", "{{&client.name}}", "{{{Notes2}}}"}) {
    EXPECT_EQ(UnescapedUses(bad).size(), 1u) << bad;
  }
  EXPECT_TRUE(UnescapedUses("{{notes}} {{#a}}{{b.c}}{{/a}}").empty());
}

TEST(Templates, StrictRenderingRefusesWhatTheViewLeavesUnresolved) {
  Templates t = Templates::FromSources(
      {{"page",
        "<h1>{{client.name}}</h1>{{#notice}}<p>{{notice}}</p>{{/notice}}"
        "{{#rows}}<td>{{label}}{{#client.archived}}!{{/client.archived}}</td>{{/rows}}"
        "{{> part}}"},
       {"part",
        "<input value=\"{{form.email}}\">{{#errors.email}}{{errors.email}}{{/errors.email}}"}},
      /*strict=*/true);
  nlohmann::json good = {{"client", {{"name", "Acme"}, {"archived", false}}},
                         {"notice", ""},
                         {"rows", {{{"label", "a"}}, {{"label", "b"}}}},
                         {"form", OpenMap({{"email", "jo@acme.example"}})},
                         {"errors", OpenMap({})}};
  EXPECT_TRUE(t.Unresolved("page", good).empty());
  EXPECT_NE(t.Render("page", good).find("jo@acme.example"), std::string::npos);
  nlohmann::json typo = good;
  typo["client"] = {{"nmae", "Acme"}, {"archived", false}};
  EXPECT_EQ(t.Unresolved("page", typo), std::vector<std::string>{"page: {{client.name}}"});
  EXPECT_THROW(t.Render("page", typo), std::runtime_error) << "strict: no blank page";
  nlohmann::json missing = good;
  missing.erase("notice");
  EXPECT_EQ(t.Unresolved("page", missing), std::vector<std::string>{"page: {{#notice}}"});
  nlohmann::json row_typo = good;
  row_typo["rows"] = {{{"lable", "a"}}};
  EXPECT_EQ(t.Unresolved("page", row_typo), std::vector<std::string>{"page: {{label}}"});
  nlohmann::json closed_form = good;
  closed_form["form"] = nlohmann::json::object();  // not marked open
  EXPECT_EQ(t.Unresolved("page", closed_form), std::vector<std::string>{"part: {{form.email}}"});
  Templates lenient = Templates::FromSources({{"page", "{{nothing}}"}}, false);
  EXPECT_EQ(lenient.Render("page", nlohmann::json::object()), "") << "the release build renders";
}

TEST(Templates, FormsCarryTheCsrfToken) {
  std::regex form("<form[^>]*method=\"post\"[^>]*>");
  for (std::string_view name : assets::List("templates/")) {
    std::string text(*assets::Find(name));
    for (auto it = std::sregex_iterator(text.begin(), text.end(), form);
         it != std::sregex_iterator(); ++it) {
      size_t at = static_cast<size_t>(it->position());
      size_t end = text.find("</form>", at);
      std::string body = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
      EXPECT_NE(body.find("name=\"_csrf\""), std::string::npos)
          << "a POST form without _csrf in " << name;
    }
  }
}

}  // namespace
}  // namespace opsmerge

namespace opsmerge {
namespace {

// Run after the integration suite (ctest's template-coverage): every template of the
// product was drawn, under strict rendering, by some test.
TEST(TemplateCoverage, EveryTemplateWasRenderedByATest) {
  const char* log = std::getenv("OPSMERGE_TEMPLATE_LOG");
  if (!log || !*log) GTEST_SKIP() << "runs after the integration suite with OPSMERGE_TEMPLATE_LOG";
  std::ifstream in(log);
  std::set<std::string> drawn;
  for (std::string line; std::getline(in, line);) drawn.insert(line);
  for (const std::string& name : Templates::Load().Names()) {
    EXPECT_TRUE(drawn.count(name)) << name << " was never rendered by a test";
  }
}

}  // namespace
}  // namespace opsmerge
