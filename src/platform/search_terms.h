#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace soci {
class session;
}

// Word-prefix search over people, machines and (later) tickets, fast at any size:
// each searchable object keeps its terms in a `<kind>_terms(<kind>_id, term)` table
// (indexed on term, rows cascade with the object), and a query matches an object
// when every word of the query is the start of one of its terms. "jane" finds
// "Jane Smith", "smi" finds her too, "jane@acme" and "acme.co" find her address,
// "07946" her phone, "10.0.0" a machine's address. Pure term functions are
// thread-safe; the SQL ones run on the caller's session (its transaction).
namespace opsmerge::search {

// The terms of an object's searchable texts: case-folded; each white-space separated
// chunk whole (an address, a hostname, an IP), its words (split at anything not a
// letter or digit), an address's domain, and a phone number's digits (an international
// one also without its country code, as dialled at home). At most 64
// terms of 64 bytes each; empty texts add nothing.
std::vector<std::string> TermsOf(const std::vector<std::string>& texts);

// The words of what someone typed, each to match the start of a term: folded, at
// most 4 (the longest kept), a phone number typed with spaces ("020 7946 0958")
// as its digits. Empty when there is nothing to look for.
std::vector<std::string> QueryWords(std::string_view query);

// The term tables this module maintains; the names are constants, never input.
enum class Kind { kContact, kEndpoint, kTicket };

// Replaces the terms of object `id` with `terms` (from TermsOf).
void SetTerms(soci::session& sql, Kind kind, int64_t id, const std::vector<std::string>& terms);
// The same for an object just inserted, which has none yet.
void AddTerms(soci::session& sql, Kind kind, int64_t id, const std::vector<std::string>& terms);

// The end of the range of terms starting with `word`: a term t starts with it when
// word <= t < PrefixEnd(word) (an index range scan, in both dialects).
std::string PrefixEnd(const std::string& word);

// How many terms of `kind` start with `word`, counting at most `cap` (an index range
// walk of at most `cap` steps): how selective a word is, to choose a query's plan.
int64_t CountPrefix(soci::session& sql, Kind kind, const std::string& word, int64_t cap);

// The ids of objects matching every word (from QueryWords), at most `limit`, in no
// particular order; empty when `words` is empty.
std::vector<int64_t> Match(soci::session& sql, Kind kind, const std::vector<std::string>& words,
                           int limit);

}  // namespace opsmerge::search
