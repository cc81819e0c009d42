#pragma once

#include <cstdio>

// Where the agent's messages go: standard error, or a file the platform chooses
// (a Windows service has no standard handles: platform/windows/service.cpp).
namespace opsmerge::agent {

// `file` stays open for the process's life; nullptr: standard error again.
void SetLogFile(std::FILE* file);
// One message, printf-style, written at once (unbuffered).
void Logf(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace opsmerge::agent
