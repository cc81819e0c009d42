#pragma once

#include <optional>
#include <string>

// The agent's command line, the same on every platform:
//   opsmerge-agent COMMAND [--config PATH] [--server URL] [--token-file FILE]
// The enrolment token never comes from an argument (other users can read a
// process's arguments): standard input or --token-file.
namespace opsmerge::agent {

struct Options {
  std::string command;
  std::string config;  // the platform's default unless --config
  std::string server;
  std::string token_file;
};

// nullopt after printing the reason and `usage` to stderr (exit 64).
std::optional<Options> ParseOptions(int argc, char** argv, const std::string& default_config,
                                    const char* usage);

// The token from `token_file`, or standard input's first line if none, trimmed.
std::string ReadToken(const std::string& token_file);

}  // namespace opsmerge::agent
