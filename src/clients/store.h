#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "clients/model.h"

namespace soci {
class session;
}

// The SQL of clients, contacts, sites and links, and nothing else. Callers own
// the transaction; every function runs on the session it is given.
namespace opsmerge::clients::store {

struct NamedId {
  int64_t id = 0;
  std::string name;
};

// ---- clients
int64_t InsertClient(soci::session& sql, const CleanClient& c, const std::string& now);
void UpdateClient(soci::session& sql, int64_t id, const CleanClient& c, const std::string& now);
std::optional<Client> FindClient(soci::session& sql, int64_t id);
// The email addresses of a client's billing recipients, by name.
std::vector<std::string> BillingRecipientEmails(soci::session& sql, int64_t client_id);
std::optional<int64_t> FindRedirect(soci::session& sql, int64_t old_id);
std::vector<Client> ListClients(soci::session& sql, const ClientQuery& q,
                                std::vector<ClientCounts>* counts);
int64_t CountClients(soci::session& sql, const ClientQuery& q);
std::optional<NamedId> FindByNameKey(soci::session& sql, const std::string& name_key,
                                     int64_t exclude_id);
// Every client (archived too) with that name key, by id.
// Clients (archived too) with that name key, by id: at most two.
std::vector<NamedId> FindAllByNameKey(soci::session& sql, const std::string& name_key);
// The active client (other than `exclude_id`) holding `domain`, if any.
std::optional<NamedId> FindActiveDomainOwner(soci::session& sql, const std::string& domain,
                                             int64_t exclude_id);
void ReplaceDomains(soci::session& sql, int64_t id, const CleanClient& c, bool active);
void SetArchived(soci::session& sql, int64_t id, const std::optional<std::string>& archived_at,
                 const std::string& now);
// Contacts and sites (the client's own); ClientService adds the registered owners'.
ClientCounts Counts(soci::session& sql, int64_t id);
void DeleteClient(soci::session& sql, int64_t id);
std::vector<DuplicateCandidate> DuplicateCandidates(soci::session& sql);
std::set<IdPair> NotDuplicatePairs(soci::session& sql);
// Records low < high as different organisations (idempotent).
void InsertNotDuplicate(soci::session& sql, int64_t low, int64_t high, const std::string& now);

// ---- links
std::vector<ClientLink> ListLinks(soci::session& sql, int64_t client_id);
// The links of several clients at once (a list page), keyed by client id.
std::map<int64_t, std::vector<ClientLink>> LinksOf(soci::session& sql,
                                                   const std::vector<int64_t>& client_ids);
struct LinkRow {
  int64_t id = 0;
  int64_t low_id = 0;
  int64_t high_id = 0;
  std::string label;
  std::optional<int64_t> from_id;  // nullopt: made before links had a direction
  std::string inverse_label;
};
std::optional<LinkRow> FindLink(soci::session& sql, int64_t link_id);
std::optional<LinkRow> FindLinkBetween(soci::session& sql, int64_t a, int64_t b);
// Links clients a and b; `from_id` (a or b) "is <label> of" the other, nullopt
// keeps the link undirected (as links made before directions are).
int64_t InsertLink(soci::session& sql, int64_t a, int64_t b, std::optional<int64_t> from_id,
                   const std::string& label, const std::string& inverse_label,
                   const std::string& now);
void DeleteLink(soci::session& sql, int64_t link_id);

// ---- merge steps (C5)
// Locks the client rows until the transaction ends (PostgreSQL: SELECT ... FOR
// UPDATE, in id order so two merges cannot deadlock; SQLite's write lock already
// serialises writers).
void LockClients(soci::session& sql, std::vector<int64_t> ids);
std::vector<MergeContact> ContactsForMerge(soci::session& sql, const std::vector<int64_t>& ids);
void MoveContact(soci::session& sql, int64_t contact_id, int64_t client_id);
void SetContactRoles(soci::session& sql, int64_t contact_id, const ContactRoles& roles,
                     const std::string& now);
void DeleteContact(soci::session& sql, int64_t contact_id);
// Moves sites; a site whose name the survivor already uses gets " (from <client>)".
void MoveSites(soci::session& sql, int64_t from_id, const std::string& from_name, int64_t to_id);
void MoveLinks(soci::session& sql, int64_t from_id, int64_t to_id, const std::string& now);
void MoveDomains(soci::session& sql, int64_t from_id, int64_t to_id, bool to_active);
void AddRedirect(soci::session& sql, int64_t old_id, int64_t new_id);

// ---- contacts
std::vector<Contact> ListContacts(soci::session& sql, int64_t client_id, int64_t offset,
                                  int64_t limit);
int64_t CountContacts(soci::session& sql, int64_t client_id);
std::optional<Contact> FindContact(soci::session& sql, int64_t id);
// The contacts with these ids and their client's name, in the order given.
std::vector<ContactHit> ContactsByIds(soci::session& sql, const std::vector<int64_t>& ids);
// Every contact with its client's name, by client then name (the export).
std::vector<ContactHit> AllContacts(soci::session& sql);
// Once after the search migration: every contact's search terms.
void ReindexContacts(soci::session& sql);
std::optional<int64_t> FindContactByEmail(soci::session& sql, int64_t client_id,
                                          const std::string& email_key, int64_t exclude_id);
// E2: the contacts with this email key whose client is active (not archived or
// merged away), as (contact id, client id); their clients' names into `names`.
std::vector<std::pair<int64_t, int64_t>> ContactsAtActiveClients(
    soci::session& sql, const std::string& email_key,
    std::map<int64_t, std::string>* names = nullptr);
int64_t InsertContact(soci::session& sql, const Contact& c, const std::string& now);
void UpdateContact(soci::session& sql, const Contact& c, const std::string& now);
void ClearPrimaryTechnical(soci::session& sql, int64_t client_id, int64_t except_id);

// ---- sites
std::vector<Site> ListSites(soci::session& sql, int64_t client_id, int64_t offset, int64_t limit);
int64_t CountSites(soci::session& sql, int64_t client_id);
std::optional<Site> FindSite(soci::session& sql, int64_t id);
std::optional<int64_t> FindSiteByName(soci::session& sql, int64_t client_id,
                                      const std::string& name_key, int64_t exclude_id);
int64_t InsertSite(soci::session& sql, const Site& s, const std::string& now);
void UpdateSite(soci::session& sql, const Site& s, const std::string& now);
// Deletes the site; what other features hang on it lets go by foreign key.
void DeleteSite(soci::session& sql, int64_t id);

// Microsoft 365 (I1-I2): a client's tenant id ("" unlinks), the client holding a
// tenant id, when its users were last imported; a contact's pairing with a user.
void SetTenantId(soci::session& sql, int64_t client_id, const std::string& tenant_id);
std::optional<NamedId> FindByTenantId(soci::session& sql, const std::string& tenant_id);
void SetSyncedAt(soci::session& sql, int64_t client_id, const std::string& at);
void SetContactM365(soci::session& sql, int64_t contact_id, const std::string& user_id,
                    const std::string& source, bool active);
// C5: contact `gone` folds into `kept`: its Microsoft 365 pairing goes along when
// `kept` has none.
void FoldContactM365(soci::session& sql, int64_t gone, int64_t kept);

}  // namespace opsmerge::clients::store
