#include "core/log.h"

#include <atomic>
#include <cstdarg>

namespace opsmerge::agent {

namespace {
std::atomic<std::FILE*> g_file{nullptr};
}  // namespace

void SetLogFile(std::FILE* file) { g_file = file; }

void Logf(const char* format, ...) {
  std::FILE* out = g_file.load();
  if (!out) out = stderr;
  va_list args;
  va_start(args, format);
  std::vfprintf(out, format, args);
  va_end(args);
  std::fflush(out);
}

}  // namespace opsmerge::agent
