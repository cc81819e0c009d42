#include "core/cli.h"

#include <cstdio>
#include <iostream>

#include "core/files.h"

namespace opsmerge::agent {

namespace {

std::string Trim(std::string s) {
  size_t nl = s.find_first_of("\r\n");
  if (nl != std::string::npos) s.resize(nl);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t b = s.find_first_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b);
}

}  // namespace

std::optional<Options> ParseOptions(int argc, char** argv, const std::string& default_config,
                                    const char* usage) {
  if (argc < 2) {
    std::fputs(usage, stderr);
    return std::nullopt;
  }
  Options o;
  o.command = argv[1];
  o.config = default_config;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    std::string* target = a == "--config"       ? &o.config
                          : a == "--server"     ? &o.server
                          : a == "--token-file" ? &o.token_file
                                                : nullptr;
    if (a == "--token") {
      std::fprintf(stderr,
                   "opsmerge-agent: pass the token on standard input or with --token-file, not as "
                   "an argument\n");
      return std::nullopt;
    }
    if (!target) {
      std::fprintf(stderr, "opsmerge-agent: unknown option %s\n%s", a.c_str(), usage);
      return std::nullopt;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "opsmerge-agent: %s needs a value\n", a.c_str());
      return std::nullopt;
    }
    *target = argv[++i];
  }
  return o;
}

std::string ReadToken(const std::string& token_file) {
  std::string token;
  if (!token_file.empty()) {
    ReadFile(token_file, &token);
  } else {
    std::getline(std::cin, token);
  }
  // A token file saved by Notepad may start with a UTF-8 byte order mark.
  if (token.rfind("\xEF\xBB\xBF", 0) == 0) token.erase(0, 3);
  return Trim(token);
}

}  // namespace opsmerge::agent
