// Form and query decoding: whatever bytes arrive, decoding never fails, and what
// UrlEncode writes decodes back to the same pairs; the same bytes as a
// multipart/form-data body either parse or are a ValidationError, nothing else.
#include <cstddef>
#include <cstdint>
#include <string>

#include "platform/errors.h"
#include "platform/http/multipart.h"
#include "platform/http/request.h"
#include "platform/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  opsmerge::http::Pairs pairs = opsmerge::http::ParseUrlEncoded(text);
  std::string again;
  for (const auto& [k, v] : pairs) {
    if (!again.empty()) again += "&";
    again += opsmerge::http::UrlEncode(k) + "=" + opsmerge::http::UrlEncode(v);
    opsmerge::text::IsValidUtf8(k);
    opsmerge::text::IsValidUtf8(v);
  }
  opsmerge::http::Pairs form;
  std::vector<opsmerge::http::UploadedFile> files;
  try {
    opsmerge::http::ParseMultipartForm("multipart/form-data; boundary=b", text, form, files);
  } catch (const opsmerge::ValidationError&) {
  }
  opsmerge::http::Pairs back = opsmerge::http::ParseUrlEncoded(again);
  if (back.size() != pairs.size()) __builtin_trap();
  for (size_t i = 0; i < back.size(); ++i) {
    if (back[i] != pairs[i]) __builtin_trap();
  }
  return 0;
}
