// What anyone on the internet can send us: a mail message. Whatever the bytes,
// parsing never crashes or hangs, and what it gives the gateway is safe to store
// and show: valid UTF-8 text, one-line subjects, file names without path parts, and
// caps kept. The text helpers meet the same bytes directly.
#include <cstddef>
#include <cstdint>
#include <string>

#include "mail/mime.h"
#include "mail/model.h"
#include "platform/text.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace opsmerge;
  std::string raw(reinterpret_cast<const char*>(data), size);
  mail::Limits limits;
  limits.max_attachments = 5;
  limits.max_depth = 8;
  try {
    mail::Message m = mail::ParseMessage(raw, limits);
    Check(text::IsValidUtf8(m.text) && text::IsValidUtf8(m.subject));
    Check(m.subject.find_first_of("\r\n") == std::string::npos);
    Check(m.files.size() <= limits.max_attachments);
    for (const auto& f : m.files) {
      Check(!f.filename.empty() && f.filename.find_first_of("/\\\r\n\"") == std::string::npos);
      Check(f.content_type.find_first_of("\r\n; ") == std::string::npos);
    }
    mail::LoopReason(m);
    Check(text::IsValidUtf8(mail::TrimQuoted(m.text)));
  } catch (const mail::NotAMessage&) {
  }
  Check(text::IsValidUtf8(mail::HtmlToText(raw)));
  Check(text::IsValidUtf8(mail::CleanText(raw)));
  mail::Unflow(raw, size % 2 == 0);
  mail::SubjectTag(raw);
  return 0;
}
