#pragma once

#include <string>
#include <vector>

#include "platform/http/request.h"

// multipart/form-data (RFC 7578): the body of a form with a file input.
namespace opsmerge::http {

// Splits `body` (sent with `content_type`, which names the boundary) into its
// text fields, appended to `form`, and its files, appended to `files` (a file
// input left empty sends nothing). Throws ValidationError("form", ...) when the
// body is not well-formed multipart, has more than `max_parts` parts, or a part
// header is over its limits; nothing is appended then.
void ParseMultipartForm(const std::string& content_type, const std::string& body, Pairs& form,
                        std::vector<UploadedFile>& files, size_t max_parts = 200);

}  // namespace opsmerge::http
