#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/errors.h"

// Clients, contacts and sites: the types and the pure rules (C1-C7, P1-P2, S1).
// No I/O; everything here is unit-tested directly.
namespace opsmerge::clients {

// ---- Clients ----------------------------------------------------------------

struct Client {
  int64_t id = 0;
  std::string name;
  std::string domain;                // primary email domain, "" if none
  std::vector<std::string> domains;  // extra domains (not including `domain`)
  std::string contact_email;         // "" if none
  std::string notes;
  std::string archived_at;  // "" while active
  std::string created_at;
  std::string updated_at;
  std::string m365_tenant_id;  // the Microsoft 365 tenant it is linked to (C4), "" none
  std::string m365_synced_at;  // when a CIPP sync last imported its users, "" never
  bool archived() const { return !archived_at.empty(); }
};

// A cross-link as one client sees it (C2). A link has a direction: the client it
// was made from "is <label> of" the other; the other side reads the inverse.
struct ClientLink {
  int64_t id = 0;
  int64_t other_client_id = 0;
  std::string other_name;
  std::string label;          // as stored, from the linking client's side
  std::string inverse_label;  // the other side's wording ("" when none is known)
  std::string direction;      // "outgoing" (this client is <label> of the other),
                              // "incoming", or "undirected" (made before directions)
  // What this client's page says before the other's name: the label outgoing (or
  // undirected), the inverse incoming ("" when there is none).
  std::string shown_label() const { return direction == "incoming" ? inverse_label : label; }
};

// The other side's wording of a relationship people commonly use ("Subsidiary of"
// -> "Parent of", "Sister company of" -> itself); "" when not known.
std::string InverseLabel(std::string_view label);

// Contacts and sites are the client's own; `owned` holds what other features
// registered (clients/owners.h), by key: "endpoints", "tickets", "invoices" ...
struct ClientCounts {
  int64_t contacts = 0;
  int64_t sites = 0;
  std::map<std::string, int64_t> owned;
  int64_t Owned(const std::string& key) const {
    auto it = owned.find(key);
    return it == owned.end() ? 0 : it->second;
  }
};

struct ClientDetail {
  Client client;
  std::vector<ClientLink> links;
  ClientCounts counts;
};

// What a person typed for a client; every field optional so the same struct
// serves create (name required) and partial update.
struct ClientInput {
  std::optional<std::string> name;
  std::optional<std::string> domain;
  std::optional<std::string> contact_email;
  std::optional<std::vector<std::string>> domains;
  std::optional<std::string> notes;
  // Links the client to a Microsoft 365 tenant by hand ("" unlinks); a tenant id
  // is a GUID and belongs to one client.
  std::optional<std::string> m365_tenant_id;
};

// A Microsoft 365 tenant id as stored: a GUID, lower-cased; nullopt when not one.
std::optional<std::string> NormalizeTenantId(std::string_view input);

// Input after validation: trimmed, lower-cased, checked. Throws ValidationError
// naming the field. `require_name` for create.
struct CleanClient {
  std::string name;
  std::string domain;
  std::vector<std::string> domains;  // extra, de-duplicated, without `domain`
  std::string contact_email;
  std::string notes;
};
CleanClient ValidateClient(const ClientInput& input, const Client* existing);

// "  ACME   corp " -> "ACME corp": how a name is stored and shown.
std::string CleanName(std::string_view name);
// The duplicate key of C3: case-folded, white space collapsed.
std::string NameKey(std::string_view name);
// The "possible duplicates" key of C7: the name key without punctuation, legal
// suffixes and filler words ("Acme Corp" and "ACME Corporation Ltd" -> "acme").
std::string NameCore(std::string_view name);

// ---- Merge (C5) ---------------------------------------------------------------

struct ContactRoles {
  bool vip = false;
  bool portal_user = false;
  bool billing_recipient = false;
  bool primary_technical = false;
};

struct MergeContact {
  int64_t id = 0;
  int64_t client_id = 0;
  std::string email_key;
  ContactRoles roles;
};

// What to do with every contact of the merged clients: move it to the survivor,
// or fold it into the survivor's contact with the same email (roles OR-ed).
// At most one primary technical contact survives: the survivor's own, else the
// first merged one in `merged` order.
struct ContactMergePlan {
  std::vector<int64_t> move;                  // contact ids that change client
  std::map<int64_t, int64_t> fold_into;       // merged contact id -> kept contact id
  std::map<int64_t, ContactRoles> new_roles;  // kept contact id -> roles after merge
};
ContactMergePlan PlanContactMerge(int64_t survivor_id, const std::vector<MergeContact>& contacts);

// Checks the ids of a merge request. ValidationError for an empty list, the
// survivor among the merged, or repeats.
void ValidateMergeRequest(int64_t survivor_id, const std::vector<int64_t>& merged_ids);

// Thrown when an id belongs to a client that was merged into another; the HTTP
// layer maps it as every Moved.
class ClientMerged : public Moved {
 public:
  ClientMerged(int64_t old_id, int64_t survivor_id)
      : Moved(old_id, survivor_id,
              "Client " + std::to_string(old_id) + " was merged into client " +
                  std::to_string(survivor_id)) {}
  int64_t survivor_id() const { return new_id(); }
};

// ---- Contacts (P1-P2) ---------------------------------------------------------

struct Contact {
  int64_t id = 0;
  int64_t client_id = 0;
  std::string name;
  std::string email;
  std::string phone;
  std::string job_title;
  ContactRoles roles;
  std::string created_at;
  std::string updated_at;
  std::optional<int64_t> last_portal_sign_in;  // Unix seconds; the portal writes it
  // I2: "m365" when a CIPP sync made or paired it; inactive when the user is gone
  // or disabled in Microsoft 365 (kept, never deleted; no portal access).
  bool active = true;
  std::string source = "manual";
  std::string m365_user_id;  // "" when not paired with a Microsoft 365 user
};

// A contact found by the global search, with what the result line shows.
struct ContactHit {
  Contact contact;
  std::string client_name;
  bool client_archived = false;
};

struct ContactInput {
  std::optional<std::string> name;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> job_title;
  std::optional<bool> vip;
  std::optional<bool> portal_user;
  std::optional<bool> billing_recipient;
  std::optional<bool> primary_technical;
};

// Validated contact fields merged over `existing` (or defaults for create).
Contact ValidateContact(const ContactInput& input, const Contact* existing);

// ---- Import and export (CSV) -------------------------------------------------
// What an import did, or would do (a preview), with each row's outcome. Rows with
// an error block the whole import: nothing is written until every row is fine.
struct ImportRow {
  size_t line = 0;                  // in the file, for people to find it
  std::vector<std::string> values;  // as read, in `ImportReport::columns` order
  enum class Outcome { kNew, kSkipped, kError } outcome = Outcome::kNew;
  std::string field;    // for an error: the column it is about
  std::string message;  // why skipped ("already a contact of Acme Corp"), or the error
};
struct ImportReport {
  std::string kind;                  // "clients" or "contacts"
  std::vector<std::string> columns;  // the columns used, as the file names them
  std::vector<std::string> ignored;  // columns of the file that are not ours
  std::vector<ImportRow> rows;
  int64_t created = 0, skipped = 0, errors = 0;
  bool written = false;  // false for a preview, or when an error stopped it
};
// The most rows one import takes (and so the most a preview shows).
inline constexpr size_t kMaxImportRows = 5000;
// "yes", "no", "true", "1", "x", "" ... as a spreadsheet's tick column; nullopt
// when it is none of these.
std::optional<bool> ParseYesNo(std::string_view value);

// ---- Sites (S1) ---------------------------------------------------------------

struct Site {
  int64_t id = 0;
  int64_t client_id = 0;
  std::string name;
  std::string address;
  std::string notes;
  // What registered features hang on the site, by owner key ("endpoints": 12).
  std::map<std::string, int64_t> owned;
  std::string created_at;
  std::string updated_at;
};

struct SiteInput {
  std::optional<std::string> name;
  std::optional<std::string> address;
  std::optional<std::string> notes;
};

Site ValidateSite(const SiteInput& input, const Site* existing);

// ---- Lists (C7) ---------------------------------------------------------------

enum class ArchivedFilter { kActive, kArchived, kAll };
enum class ClientSort { kName, kCreated, kUpdated, kDomain };

struct ClientQuery {
  std::string search;  // matches name or any domain, case-insensitive substring
  ArchivedFilter archived = ArchivedFilter::kActive;
  ClientSort sort = ClientSort::kName;
  bool descending = false;
  int64_t offset = 0;
  int64_t limit = 50;
};

std::optional<ArchivedFilter> ParseArchivedFilter(std::string_view text);
std::optional<ClientSort> ParseClientSort(std::string_view text);

struct DuplicateGroup {
  std::string reason;                // the strongest of `reasons`
  std::vector<std::string> reasons;  // "same_name", "same_domain", "similar_name", in that order
  std::vector<int64_t> client_ids;   // ascending
};

struct DuplicateCandidate {
  int64_t id = 0;
  std::string name_key;
  std::string name_core;
  std::vector<std::string> domains;
  bool archived = false;
};

// C7's "possible duplicates": clients with the same name, a shared domain, or a
// similar name (same NameCore, different names) are joined; each group is one
// connected set, so a client is in one group only. A pair in `not_duplicates`
// (low id, high id: people said they differ) is never joined directly. A group is
// shown only if at least one member is active. Groups are ordered by their first id.
using IdPair = std::pair<int64_t, int64_t>;
std::vector<DuplicateGroup> FindDuplicates(const std::vector<DuplicateCandidate>& clients,
                                           const std::set<IdPair>& not_duplicates = {});

// Length limits, shared by validation and the JSON readers.
inline constexpr size_t kMaxName = 200;
inline constexpr size_t kMaxNotes = 10000;
inline constexpr size_t kMaxShort = 320;
inline constexpr size_t kMaxAddress = 1000;
inline constexpr size_t kMaxLabel = 100;
inline constexpr size_t kMaxDomains = 50;

}  // namespace opsmerge::clients
