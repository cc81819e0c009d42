// What an IMAP server sends, whatever it is: split into responses however the
// bytes arrive (the first byte picks the chunk size), each FETCH read by item. A
// server gone wrong may end the poll with an error, never crash it or make it
// hold more than it asked for.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "platform/imap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t step = data[0] % 64 + 1;
  std::string wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  constexpr size_t kMaxLiteral = 4096;
  opsmerge::imap::ResponseReader reader(kMaxLiteral, 8192);
  try {
    for (size_t i = 0; i < wire.size(); i += step) {
      reader.Feed(std::string_view(wire).substr(i, step));
      while (auto r = reader.Next()) {
        for (const auto& literal : r->literals) {
          if (literal.size() > kMaxLiteral) __builtin_trap();
        }
        if (auto f = opsmerge::imap::ParseFetch(*r); f && f->uid && *f->uid < 0) __builtin_trap();
      }
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
