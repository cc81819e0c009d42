#include "mail/mime.h"

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include <gmime/gmime.h>

#include "platform/text.h"

namespace opsmerge::mail {

namespace {

struct Unref {
  void operator()(void* p) const {
    if (p) g_object_unref(p);
  }
};
template <typename T>
using Ref = std::unique_ptr<T, Unref>;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Str(const char* s) { return s ? std::string(s) : std::string(); }

std::string Bytes(GMimeObject* obj) {
  if (!GMIME_IS_PART(obj)) return "";
  GMimeDataWrapper* w = g_mime_part_get_content(GMIME_PART(obj));
  if (!w) return "";
  Ref<GMimeStream> s(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(w, s.get());
  GByteArray* a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s.get()));
  return a ? std::string(reinterpret_cast<const char*>(a->data), a->len) : "";
}

// Bytes in `charset` as UTF-8: the declared charset when iconv knows it and the
// bytes fit, else UTF-8 when they are, else windows-1252 (what undeclared 8-bit
// mail nearly always is).
std::string ToUtf8(const std::string& bytes, const std::string& charset) {
  auto convert = [&](const char* from) -> std::optional<std::string> {
    gsize written = 0;
    GError* error = nullptr;
    char* out = g_convert(bytes.data(), static_cast<gssize>(bytes.size()), "UTF-8", from, nullptr,
                          &written, &error);
    if (!out) {
      if (error) g_error_free(error);
      return std::nullopt;
    }
    std::string s(out, written);
    g_free(out);
    return s;
  };
  std::string cs = Lower(text::Trim(charset));
  if (!cs.empty() && cs != "utf-8" && cs != "utf8" && cs != "us-ascii") {
    if (auto s = convert(g_mime_charset_iconv_name(cs.c_str()))) return *s;
  }
  if (text::IsValidUtf8(bytes)) return bytes;
  if (auto s = convert("WINDOWS-1252")) return *s;
  return CleanText(bytes);
}

struct Walker {
  const Limits& limits;
  Message& m;
  std::vector<std::string> plain;  // readable text parts, in order
  size_t file_bytes = 0;
  bool depth_noted = false;

  std::string TextOf(GMimeObject* obj) {
    std::string charset = Str(g_mime_object_get_content_type_parameter(obj, "charset"));
    std::string utf8 = ToUtf8(Bytes(obj), charset);
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    if (g_mime_content_type_is_type(ct, "text", "html")) return HtmlToText(utf8);
    std::string format = Lower(Str(g_mime_object_get_content_type_parameter(obj, "format")));
    if (format == "flowed") {
      std::string delsp = Lower(Str(g_mime_object_get_content_type_parameter(obj, "delsp")));
      utf8 = Unflow(utf8, delsp == "yes");  // before cleaning: trailing spaces are its marks
    }
    return CleanText(utf8);
  }

  void AddFile(const std::string& name, const std::string& type, std::string content) {
    if (m.files.size() >= limits.max_attachments) {
      m.left_out.push_back("\"" + SafeFilename(name) + "\": more than " +
                           std::to_string(limits.max_attachments) + " attachments");
      return;
    }
    if (content.size() > limits.max_attachment_bytes) {
      m.left_out.push_back("\"" + SafeFilename(name) + "\" (" + std::to_string(content.size()) +
                           " bytes): larger than " +
                           std::to_string(limits.max_attachment_bytes >> 20) + " MiB");
      return;
    }
    if (file_bytes + content.size() > limits.max_total_attachment_bytes) {
      m.left_out.push_back("\"" + SafeFilename(name) + "\": the message's attachments passed " +
                           std::to_string(limits.max_total_attachment_bytes >> 20) + " MiB");
      return;
    }
    file_bytes += content.size();
    m.files.push_back({SafeFilename(name), SafeContentType(type), std::move(content)});
  }

  void ReportPart(GMimeObject* obj, GMimeContentType* ct) {
    std::string body = ToUtf8(Bytes(obj), "");
    if (g_mime_content_type_is_type(ct, "message", "delivery-status")) {
      // The per-recipient fields people need: who, what happened, why.
      size_t p = 0;
      while (p < body.size()) {
        size_t nl = body.find('\n', p);
        std::string line = text::Trim(body.substr(p, nl == std::string::npos ? nl : nl - p));
        std::string low = Lower(line);
        for (const char* f : {"final-recipient:", "action:", "status:", "diagnostic-code:"}) {
          if (low.rfind(f, 0) == 0) m.dsn_text += line + "\n";
        }
        if (low.rfind("original-message-id:", 0) == 0 && m.dsn_original_id.empty()) {
          m.dsn_original_id = IdOf(line.substr(20));
        }
        if (nl == std::string::npos) break;
        p = nl + 1;
      }
    } else if (g_mime_content_type_is_type(ct, "text", "rfc822-headers")) {
      if (m.dsn_original_id.empty()) {
        std::string low = Lower(body);
        size_t at = low.find("\nmessage-id:");
        if (low.rfind("message-id:", 0) == 0) at = 0;
        if (at != std::string::npos) {
          size_t start = body.find(':', at) + 1;
          size_t end = body.find('\n', start);
          m.dsn_original_id =
              IdOf(body.substr(start, end == std::string::npos ? end : end - start));
        }
      }
    } else if (g_mime_content_type_is_type(ct, "text", "*")) {
      plain.push_back(TextOf(obj));
    }
  }

  static std::string IdOf(const std::string& text) {
    std::string t = text::Trim(text);
    if (!t.empty() && t.front() == '<') t.erase(0, 1);
    if (!t.empty() && t.back() == '>') t.pop_back();
    return text::Trim(t);
  }

  void Walk(GMimeObject* obj, int depth, bool in_report) {
    if (!obj) return;
    if (depth > limits.max_depth) {
      if (!depth_noted) {
        m.left_out.push_back("parts nested more than " + std::to_string(limits.max_depth) +
                             " levels deep");
      }
      depth_noted = true;
      return;
    }
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    if (GMIME_IS_MULTIPART(obj)) {
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      int count = g_mime_multipart_get_count(mp);
      if (g_mime_content_type_is_type(ct, "multipart", "alternative") && count > 0) {
        // The plain text a sender wrote beats the HTML made from it; else the richest.
        int chosen = count - 1;
        for (int i = 0; i < count; ++i) {
          GMimeObject* part = g_mime_multipart_get_part(mp, i);
          if (g_mime_content_type_is_type(g_mime_object_get_content_type(part), "text", "plain")) {
            chosen = i;
            break;
          }
        }
        Walk(g_mime_multipart_get_part(mp, chosen), depth + 1, in_report);
        return;
      }
      bool report = g_mime_content_type_is_type(ct, "multipart", "report");
      if (report &&
          Lower(Str(g_mime_content_type_get_parameter(ct, "report-type"))) == "delivery-status") {
        m.is_dsn = true;
      }
      for (int i = 0; i < count; ++i) {
        Walk(g_mime_multipart_get_part(mp, i), depth + 1, in_report || report);
      }
      return;
    }
    if (GMIME_IS_MESSAGE_PART(obj)) {
      GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
      if (!inner) return;
      if (in_report) {
        if (m.dsn_original_id.empty())
          m.dsn_original_id = Str(g_mime_message_get_message_id(inner));
        return;
      }
      Ref<GMimeStream> s(g_mime_stream_mem_new());
      g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, s.get());
      GByteArray* a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s.get()));
      std::string subject = Str(g_mime_message_get_subject(inner));
      AddFile((subject.empty() ? std::string("forwarded message") : subject) + ".eml",
              "message/rfc822",
              a ? std::string(reinterpret_cast<const char*>(a->data), a->len) : "");
      return;
    }
    if (!GMIME_IS_PART(obj)) return;
    if (in_report && !g_mime_content_type_is_type(ct, "text", "plain")) {
      ReportPart(obj, ct);
      return;
    }
    GMimeContentDisposition* cd = g_mime_object_get_content_disposition(obj);
    bool attachment = cd && g_mime_content_disposition_is_attachment(cd);
    std::string filename = Str(g_mime_part_get_filename(GMIME_PART(obj)));
    bool readable = g_mime_content_type_is_type(ct, "text", "plain") ||
                    g_mime_content_type_is_type(ct, "text", "html");
    if (readable && !attachment && filename.empty()) {
      plain.push_back(TextOf(obj));
      return;
    }
    char* type = g_mime_content_type_get_mime_type(ct);
    std::string mime = Str(type);
    g_free(type);
    if (filename.empty()) filename = "attachment";
    AddFile(filename, mime, Bytes(obj));
  }
};

std::vector<std::string> Addresses(InternetAddressList* list, bool* malformed,
                                   std::string* first_name) {
  std::vector<std::string> out;
  if (!list) return out;
  int n = internet_address_list_length(list);
  for (int i = 0; i < n; ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    if (!INTERNET_ADDRESS_IS_MAILBOX(ia)) {
      if (malformed) *malformed = true;  // a group
      continue;
    }
    std::string addr = Str(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
    auto valid = text::NormalizeEmail(addr);
    if (!valid || addr.find_first_of("\r\n\"<>(),;: ") != std::string::npos) {
      if (malformed) *malformed = true;
      continue;
    }
    std::string lower = text::FoldCase(*valid);
    if (std::find(out.begin(), out.end(), lower) == out.end()) out.push_back(lower);
    if (first_name && out.size() == 1) *first_name = CleanText(Str(internet_address_get_name(ia)));
  }
  return out;
}

std::vector<std::string> Ids(GMimeParserOptions* options, const char* header) {
  std::vector<std::string> out;
  if (!header) return out;
  GMimeReferences* refs = g_mime_references_parse(options, header);
  if (!refs) return out;
  int n = g_mime_references_length(refs);
  for (int i = 0; i < n && i < 100; ++i) {
    std::string id = Str(g_mime_references_get_message_id(refs, i));
    if (!id.empty() && id.size() <= 250) out.push_back(id);
  }
  g_mime_references_free(refs);
  return out;
}

bool LooksLikeMessage(std::string_view raw) {
  // The first line is a header field ("Name: value") or an mbox "From " line.
  size_t nl = raw.find('\n');
  std::string_view first = raw.substr(0, nl);
  if (first.rfind("From ", 0) == 0) return true;
  size_t colon = first.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 76) return false;
  for (size_t i = 0; i < colon; ++i) {
    unsigned char c = static_cast<unsigned char>(first[i]);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

}  // namespace

Message ParseMessage(std::string_view raw, const Limits& limits) {
  static std::once_flag init;
  std::call_once(init, [] { g_mime_init(); });
  if (!LooksLikeMessage(raw)) throw NotAMessage("the input does not start with a header field");
  Message m;
  if (raw.size() > limits.max_message_bytes) {
    m.left_out.push_back("everything after the first " + std::to_string(limits.max_message_bytes) +
                         " bytes of the message");
    raw = raw.substr(0, limits.max_message_bytes);
  }
  std::unique_ptr<GMimeParserOptions, void (*)(GMimeParserOptions*)> options(
      g_mime_parser_options_new(), g_mime_parser_options_free);
  const char* fallback[] = {"UTF-8", "windows-1252", nullptr};
  g_mime_parser_options_set_fallback_charsets(options.get(), fallback);
  g_mime_parser_options_set_rfc2047_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_parameter_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);
  g_mime_parser_options_set_address_compliance_mode(options.get(), GMIME_RFC_COMPLIANCE_LOOSE);

  // The stream reads `raw` in place (GMime copies nothing until asked).
  Ref<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  Ref<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  Ref<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), options.get()));
  if (!msg) throw NotAMessage("the input is not an RFC 5322 message");
  GMimeObject* obj = GMIME_OBJECT(msg.get());

  m.message_id = Str(g_mime_message_get_message_id(msg.get()));
  if (m.message_id.size() > 250 || text::HasControlCharacters(m.message_id)) m.message_id.clear();
  const char* from_header = g_mime_object_get_header(obj, "From");
  m.from_header = CleanText(text::CollapseWhitespace(Str(from_header)));
  if (m.from_header.size() > 300) m.from_header.resize(300);
  m.from = Addresses(g_mime_message_get_from(msg.get()), &m.from_malformed, &m.from_name);
  if (!from_header || m.from.size() != 1) m.from_malformed = true;
  for (auto type : {GMIME_ADDRESS_TYPE_TO, GMIME_ADDRESS_TYPE_CC}) {
    for (auto& a : Addresses(g_mime_message_get_addresses(msg.get(), type), nullptr, nullptr)) {
      if (m.to_cc.size() < 50 && std::find(m.to_cc.begin(), m.to_cc.end(), a) == m.to_cc.end()) {
        m.to_cc.push_back(a);
      }
    }
  }
  m.subject = TicketSubject(Str(g_mime_message_get_subject(msg.get())));
  m.in_reply_to = Ids(options.get(), g_mime_object_get_header(obj, "In-Reply-To"));
  m.references = Ids(options.get(), g_mime_object_get_header(obj, "References"));
  auto header = [&](const char* name) { return Lower(Str(g_mime_object_get_header(obj, name))); };
  m.auto_submitted = header("Auto-Submitted");
  m.precedence = header("Precedence");
  m.list_id = header("List-Id");
  m.return_path = header("Return-Path");
  m.x_autoreply = g_mime_object_get_header(obj, "X-Autoreply") ||
                  g_mime_object_get_header(obj, "X-Autorespond");
  m.our_loop = g_mime_object_get_header(obj, "X-OpsMerge-Loop") != nullptr;

  Walker w{limits, m, {}, 0, false};
  w.Walk(g_mime_message_get_mime_part(msg.get()), 0, false);
  std::string text;
  for (const auto& t : w.plain) {
    if (t.empty()) continue;
    text += (text.empty() ? "" : "\n\n") + t;
  }
  m.text = text;
  return m;
}

}  // namespace opsmerge::mail
