#include "platform/http/multipart.h"

#include <Poco/Exception.h>
#include <Poco/MemoryStream.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/MultipartReader.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/StreamCopier.h>

#include "platform/errors.h"

namespace opsmerge::http {

void ParseMultipartForm(const std::string& content_type, const std::string& body, Pairs& form,
                        std::vector<UploadedFile>& files, size_t max_parts) {
  std::string type;
  Poco::Net::NameValueCollection params;
  Poco::Net::MessageHeader::splitParameters(content_type, type, params);
  std::string boundary = params.get("boundary", "");
  // RFC 2046: 1 to 70 characters.
  // A body without its closing delimiter was cut short on the way.
  if (boundary.empty() || boundary.size() > 70 ||
      body.find("--" + boundary + "--") == std::string::npos) {
    throw ValidationError("form", "The form was not sent as valid multipart/form-data");
  }
  Pairs new_form;
  std::vector<UploadedFile> new_files;
  try {
    Poco::MemoryInputStream in(body.data(), body.size());
    Poco::Net::MultipartReader reader(in, boundary);
    size_t parts = 0;
    while (reader.hasNextPart()) {
      if (++parts > max_parts) {
        throw ValidationError("form",
                              "The form has more than " + std::to_string(max_parts) + " parts");
      }
      Poco::Net::MessageHeader header;
      reader.nextPart(header);
      std::string disposition;
      Poco::Net::NameValueCollection dparams;
      Poco::Net::MessageHeader::splitParameters(header.get("Content-Disposition", ""), disposition,
                                                dparams);
      std::string content;
      Poco::StreamCopier::copyToString(reader.stream(), content);
      if (disposition != "form-data" || !dparams.has("name")) continue;  // RFC 7578 4.2
      std::string name = dparams.get("name");
      if (dparams.has("filename")) {
        std::string filename = dparams.get("filename");
        if (filename.empty() && content.empty()) continue;  // an empty file input
        new_files.push_back({name, filename, header.get("Content-Type", ""), std::move(content)});
      } else {
        new_form.emplace_back(std::move(name), std::move(content));
      }
    }
  } catch (const Poco::Exception&) {
    throw ValidationError("form", "The form was not sent as valid multipart/form-data");
  }
  for (auto& p : new_form) form.push_back(std::move(p));
  for (auto& f : new_files) files.push_back(std::move(f));
}

}  // namespace opsmerge::http
