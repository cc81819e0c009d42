#pragma once

#include <string>

// The agent's files, whose location and protection differ per platform
// (platform/linux/files.cpp, platform/windows/files.cpp).
namespace opsmerge::agent {

// /etc/opsmerge-agent/agent.json on Linux; %ProgramData%\OpsMerge\agent.json on Windows.
std::string DefaultConfigPath();

// Writes `text` to `path` atomically (temporary file, flush to disk, rename), readable
// only by the service's account and administrators (0600 on Linux; an ACL for SYSTEM
// and Administrators on Windows). Creates the directory if needed. false (and
// `error`) on failure.
bool WriteSecretFile(const std::string& path, const std::string& text, std::string* error);

// The whole file, or false if it cannot be read.
bool ReadFile(const std::string& path, std::string* text);

}  // namespace opsmerge::agent
