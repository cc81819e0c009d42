#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

// Text rules shared by every feature: trimming, case folding, and validation of
// the email addresses and domain names people type. Pure functions, thread-safe.
namespace opsmerge::text {

std::string Trim(std::string_view s);
// Trims and turns every run of white space into one space.
std::string CollapseWhitespace(std::string_view s);
// Unicode lower-casing (UTF-8 in, UTF-8 out).
std::string FoldCase(std::string_view s);
bool IsValidUtf8(std::string_view s);
// The length of the valid UTF-8 sequence starting at s[i] (1-4), or 0 when the bytes
// there are not one. `i` < s.size().
size_t Utf8SequenceLength(std::string_view s, size_t i);
// The first `max_characters` characters of `s`, never cut inside a character.
std::string Utf8Prefix(std::string_view s, size_t max_characters);
// Characters, not bytes. Assumes valid UTF-8.
size_t Utf8Length(std::string_view s);
// True if `s` holds control characters other than tab/newline/carriage return.
bool HasControlCharacters(std::string_view s);

// What a person typed in a field, cleaned: trimmed (`multiline`: line breaks kept,
// as LF; otherwise runs of white space made one space), valid UTF-8, no control characters but
// line breaks and tabs, at most `max` characters. ValidationError(field) naming
// `label` otherwise.
std::string CleanField(const std::string& field, const std::string& label, std::string_view value,
                       size_t max, bool multiline);

// "1 endpoint", "3 endpoints", "0 endpoints": a count with its noun agreeing.
std::string CountOf(int64_t n, std::string_view singular, std::string_view plural);

// A DNS name as people type it: trimmed, lower-cased, trailing dot dropped; two or
// more labels of [a-z0-9-] (1-63 each, no leading/trailing hyphen), 253 at most,
// the last label alphabetic or an IDN "xn--" label. nullopt when invalid.
std::optional<std::string> NormalizeDomain(std::string_view input);

// A domain as people paste it, cleaned before NormalizeDomain: a scheme
// ("https://"), user info, port, path, query and fragment are dropped, then a
// leading "www." (when what remains is still a domain). "https://www.AcmeCorp.co.uk/
// contact" is "acmecorp.co.uk". nullopt when what remains is not a domain.
std::optional<std::string> DomainFromPasted(std::string_view input);

// An address as people paste it, before NormalizeEmail: "mailto:", a display name
// around angle brackets ("Jane Doe <jane@acme.com>") and a "?subject=" are dropped.
std::string EmailFromPasted(std::string_view input);

// An email address: trimmed, one '@', a local part of 1-64 printable characters
// without spaces, and a valid domain (lower-cased). nullopt when invalid.
std::optional<std::string> NormalizeEmail(std::string_view input);

// A file's size for people: "512 bytes", "14 KB", "2.3 MB".
std::string SizeText(int64_t bytes);

}  // namespace opsmerge::text
