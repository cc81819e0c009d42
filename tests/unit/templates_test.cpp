#include "platform/templates.h"

#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "platform/assets.h"

namespace opsmerge {
namespace {

TEST(Templates, AllParseAndEscapeByDefault) {
  Templates t = Templates::Load();
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

// Triple mustache writes raw HTML. Only the layout may, for the page body our own
// templates rendered; any other use would be an XSS hole.
TEST(Templates, UnescapedOutputOnlyForOurOwnHtml) {
  std::regex triple("\\{\\{\\{\\s*([a-z_]+)\\s*\\}\\}\\}|\\{\\{&");
  for (std::string_view name : assets::List("templates/")) {
    std::string text(*assets::Find(name));
    for (auto it = std::sregex_iterator(text.begin(), text.end(), triple);
         it != std::sregex_iterator(); ++it) {
      EXPECT_EQ(name, "templates/layout/base.mustache") << "unescaped output in " << name;
      EXPECT_EQ((*it)[1].str(), "content_html");
    }
  }
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
