#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// What a handler sees of an HTTP request and gives back. Plain values, no POCO
// types, so handlers and their tests stay free of the server library.
namespace opsmerge::http {

// Who is calling, as the authenticator (staff/) established it. `role` is the
// staff role name; features interpret it through their own rules.
struct Principal {
  int64_t user_id = 0;
  std::string name;
  std::string email;
  std::string role;
  bool via_api_key = false;
};

// A client's person signed in to the portal (portal/ establishes it): the contact
// and the client they act for, and what their roles let them see.
struct PortalPrincipal {
  int64_t contact_id = 0;
  int64_t client_id = 0;
  std::string name;
  std::string email;
  std::string client_name;
  bool sees_all_tickets = false;  // the primary technical contact or a VIP
  bool billing_recipient = false;
};

using Pairs = std::vector<std::pair<std::string, std::string>>;

// A file sent with a multipart/form-data form, as the browser named it: the
// handler decides what of its name and type to trust.
struct UploadedFile {
  std::string field;  // the form field's name
  std::string filename;
  std::string content_type;
  std::string content;
};

struct Request {
  std::string method;
  std::string path;
  std::string query_string;
  std::string body;
  std::string remote_ip;
  std::string request_id;
  bool secure = false;  // reached us over https (directly or via a trusted proxy)
  bool htmx = false;    // sent by htmx (HX-Request): answer with the fragment
  Pairs headers;        // names lower-cased
  std::map<std::string, std::string> cookies;
  Pairs query;
  Pairs form;                       // the text fields of an urlencoded or multipart/form-data body
  std::vector<UploadedFile> files;  // the files of a multipart/form-data body
  std::vector<std::string> params;  // path pattern captures, in order

  // Set by the server before the handler runs.
  std::optional<Principal> principal;
  std::string session_token;  // the raw session cookie, when the session is valid
  // On portal routes only (Access::kPortal): the portal session, when valid.
  std::optional<PortalPrincipal> portal;
  std::string portal_token;  // the raw portal cookie, when the session is valid
  std::string csrf_token;    // the token forms must echo in _csrf

  std::string Header(const std::string& lower_name) const;
  std::string Query(const std::string& name, const std::string& fallback = "") const;
  std::string Form(const std::string& name, const std::string& fallback = "") const;
  bool HasForm(const std::string& name) const;
  std::vector<std::string> FormAll(const std::string& name) const;
  // Path capture `i` as a positive id; throws NotFound(what) if it is not one.
  int64_t ParamId(size_t i, const std::string& what) const;
  // JSON callers: the staff API and the agent API.
  bool IsApi() const { return path.rfind("/api/", 0) == 0 || path.rfind("/agent/v1/", 0) == 0; }
};

struct Response {
  int status = 200;
  std::string content_type = "text/html; charset=utf-8";
  std::string body;
  // A body that lives as long as the program (an embedded asset): sent instead of
  // `body` when set, so a large stylesheet is never copied per request.
  std::string_view static_body;
  Pairs headers;

  static Response Html(std::string body, int status = 200);
  static Response Text(std::string body, int status = 200);
  // 303 See Other for a form post, 302 for a plain redirect, 301 for moved.
  static Response Redirect(const std::string& location, int status = 303);
  void SetHeader(const std::string& name, const std::string& value);
  // A file to save, never to show: Content-Disposition attachment with the name
  // (a plain ASCII fallback and RFC 5987 UTF-8; no quote, control character or path
  // part of `filename` reaches the header), and `content_type` when it is a plain
  // "type/subtype", else application/octet-stream. nosniff is on every answer.
  static Response Download(std::string body, const std::string& filename,
                           const std::string& content_type);
};

// The base URL for links and commands people are given: `public_url` when the
// operator set one (--public-url), else the scheme and Host this request came with,
// where only a plain host[:port] is used ("localhost" otherwise), so a forged Host
// cannot put anything else into a link or a shell command.
std::string BaseUrl(const Request& request, const std::string& public_url);

// Parses "a=1&b=x+y%21" into pairs (repeated names kept in order).
Pairs ParseUrlEncoded(const std::string& text);
// Percent-encodes a query value.
std::string UrlEncode(const std::string& text);
// Parses a Cookie header.
std::map<std::string, std::string> ParseCookies(const std::string& header);

}  // namespace opsmerge::http
