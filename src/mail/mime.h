#pragma once

#include <stdexcept>
#include <string_view>

#include "mail/model.h"

// RFC 5322 / MIME parsing with GMime (E1): charsets (windows-1252, ISO-2022-JP and
// the rest iconv knows), RFC 2047 words and RFC 2231 parameters, format=flowed,
// multipart/alternative and related, HTML turned into text, attachments and
// forwarded messages as files, delivery reports. Thread-safe.
namespace opsmerge::mail {

// Input that is not a message at all (no header block): the pipe's exit 65.
class NotAMessage : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses `raw` within `limits`. Never throws for a damaged message (what could
// not be read is noted in left_out); throws NotAMessage only as said above.
Message ParseMessage(std::string_view raw, const Limits& limits = {});

}  // namespace opsmerge::mail
