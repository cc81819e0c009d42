// Raw bytes from a socket through what the connection layer does with them before
// any handler: Beast's request parser with our limits, the target check, header
// names, query, cookies and form decoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>  // before Asio/Beast: Boost 1.74 needs std::exchange declared

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "platform/http/request.h"
#include "platform/http/target.h"
#include "platform/text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace bhttp = boost::beast::http;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(16 << 10);
  parser.body_limit(1 << 20);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (!parser.is_header_done()) return 0;
  auto& msg = parser.get();
  auto target = opsmerge::http::ParseTarget(std::string_view(msg.target()));
  if (!target) return 0;
  // What ParseTarget accepts never carries a control character or bad UTF-8.
  for (char c : target->path) {
    if (static_cast<unsigned char>(c) < 0x20) __builtin_trap();
  }
  if (!opsmerge::text::IsValidUtf8(target->path)) __builtin_trap();
  opsmerge::http::Pairs query = opsmerge::http::ParseUrlEncoded(target->query);
  opsmerge::http::ParseCookies(std::string(msg[bhttp::field::cookie]));
  opsmerge::http::ParseUrlEncoded(msg.body());
  (void)query;
  return 0;
}
