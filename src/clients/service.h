#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "audit/service.h"
#include "clients/model.h"
#include "clients/owners.h"
#include "platform/clock.h"
#include "platform/db.h"
#include "staff/model.h"

// Use cases for clients, contacts, sites and links. Each public method checks the
// actor's role, validates, and runs in one transaction with its audit rows.
// Throws the errors of platform/errors.h, and ClientMerged when asked for a client
// id that was merged away. Thread-safe (all state is in the database).
namespace opsmerge::clients {

template <typename T>
struct Page {
  std::vector<T> items;
  int64_t total = 0;
};

struct ClientRow {
  Client client;
  ClientCounts counts;
  std::vector<ClientLink> links;
};

struct DuplicateGroupView {
  std::string reason;
  std::vector<std::string> reasons;
  std::vector<Client> clients;
};

class ClientService {
 public:
  // `owners`: what other features own of a client (counted, moved on merge,
  // guarding delete); registered before the first request.
  ClientService(db::Database& db, const audit::AuditLog& audit, const Clock& clock,
                const ClientOwners& owners)
      : db_(db), audit_(audit), clock_(clock), owners_(owners) {}

  const ClientOwners& owners() const { return owners_; }

  Page<ClientRow> List(const staff::Actor& actor, const ClientQuery& query);
  ClientDetail Get(const staff::Actor& actor, int64_t id);
  // Get inside the caller's transaction (another feature's use case).
  ClientDetail GetIn(db::Tx& tx, const staff::Actor& actor, int64_t id);
  // C3: Conflict("duplicate", field "domain") if an active client has one of the
  // domains; Conflict("duplicate", field "name") on a same-name client unless
  // `confirm_duplicate_name`. Both carry the existing client's id.
  ClientDetail Create(const staff::Actor& actor, const ClientInput& input,
                      bool confirm_duplicate_name);
  ClientDetail Update(const staff::Actor& actor, int64_t id, const ClientInput& input,
                      bool confirm_duplicate_name);
  ClientDetail Archive(const staff::Actor& actor, int64_t id);
  ClientDetail Unarchive(const staff::Actor& actor, int64_t id);
  // Archives several clients in one transaction (the list's bulk action).
  void ArchiveMany(const staff::Actor& actor, const std::vector<int64_t>& ids);
  // C6: Conflict("has_dependents") while any owner that blocks delete has rows
  // (endpoints, tickets, invoices ...).
  void Delete(const staff::Actor& actor, int64_t id);
  // C5: everything of `merged_ids` moves to `survivor_id`, in one transaction.
  ClientDetail Merge(const staff::Actor& actor, int64_t survivor_id,
                     const std::vector<int64_t>& merged_ids);
  std::vector<DuplicateGroup> Duplicates(const staff::Actor& actor);
  std::vector<DuplicateGroupView> DuplicatesWithClients(const staff::Actor& actor);
  // "Not duplicates": these clients (2 to 50) are different organisations; the
  // possible-duplicates list stops joining any two of them. Audited on each.
  void DismissDuplicates(const staff::Actor& actor, const std::vector<int64_t>& ids);
  // The clients with these ids that exist, in the given order (for merge pages).
  std::vector<Client> GetMany(const staff::Actor& actor, const std::vector<int64_t>& ids);

  // C2 cross-links.
  // `client_id` "is <label> of" the other client ("Subsidiary of"); the other's
  // page reads `inverse_label`, or the known inverse of the label when empty.
  ClientLink AddLink(const staff::Actor& actor, int64_t client_id, int64_t other_client_id,
                     const std::string& label, const std::string& inverse_label = "");
  // The same, naming the other client as a person types it (C3 name folding);
  // ValidationError("other") when no client, or more than one, has that name.
  ClientLink AddLinkByName(const staff::Actor& actor, int64_t client_id,
                           const std::string& other_name, const std::string& label,
                           const std::string& inverse_label = "");
  // `client_id`: the client the caller reached the link through; a link that does
  // not involve it is NotFound.
  void RemoveLink(const staff::Actor& actor, int64_t link_id,
                  std::optional<int64_t> client_id = std::nullopt);

  // P1-P2
  Page<Contact> ListContacts(const staff::Actor& actor, int64_t client_id, int64_t offset,
                             int64_t limit);
  Contact GetContact(const staff::Actor& actor, int64_t contact_id);
  // P5: where a client's invoices go, in the caller's transaction: the email
  // addresses of its billing recipients, else its contact email ([] when neither).
  std::vector<std::string> BillingRecipientsIn(db::Tx& tx, int64_t client_id);
  // The global search: contacts whose name, email, phone or job title words start
  // with every word of `query` (platform/search_terms), at most `limit`, by name.
  std::vector<ContactHit> SearchContacts(const staff::Actor& actor, const std::string& query,
                                         int limit);
  // The global search's clients: active ones whose name or a domain contains
  // `query` (as the clients list searches), at most `limit`, by name.
  std::vector<Client> SearchClients(const staff::Actor& actor, const std::string& query, int limit);
  // The dashboard: the latest changes to clients and their contacts, sites and
  // links (not staff or settings), newest first.
  std::vector<audit::Row> RecentChanges(const staff::Actor& actor, int limit);
  // A contact's own history (its page), newest first.
  std::vector<audit::Row> ContactHistory(const staff::Actor& actor, int64_t contact_id, int limit);
  // Start-up, once after the search migration (see app/).
  void ReindexSearchIn(db::Tx& tx);

  // CSV import (clients/import.cpp). Every row goes through the same rules as a
  // person adding it (validation, C3 duplicates, domains, contact emails), all in
  // one transaction: with `write` false, or when any row has an error, it is rolled
  // back and the report says what would happen. A row that already exists (same
  // client name or domain; same contact email at that client) is skipped, never
  // changed. Throws ValidationError("csv") when the file itself is unreadable.
  ImportReport ImportClients(const staff::Actor& actor, const std::string& csv, bool write);
  // A contact's client comes from the "client" column (a client's name or domain),
  // or else from the domain of the contact's email.
  ImportReport ImportContacts(const staff::Actor& actor, const std::string& csv, bool write);
  // CSV of clients (the list's archived filter) or of every contact with its
  // client; audited (who took a copy of the client list, and when).
  std::string ExportClients(const staff::Actor& actor, ArchivedFilter archived);
  std::string ExportContacts(const staff::Actor& actor);
  Contact CreateContact(const staff::Actor& actor, int64_t client_id, const ContactInput& input);
  Contact UpdateContact(const staff::Actor& actor, int64_t contact_id, const ContactInput& input);
  void DeleteContact(const staff::Actor& actor, int64_t contact_id);

  // E2, for the email gateway, in its transaction: who an email address belongs
  // to. `contacts` are (contact id, client id) at active clients; `domain_client` is
  // the active client whose primary or extra domain is exactly the address's.
  struct SenderMatch {
    std::vector<std::pair<int64_t, int64_t>> contacts;
    std::optional<int64_t> domain_client;
    std::map<int64_t, std::string> client_names;  // of every client above
  };
  SenderMatch MatchSenderIn(db::Tx& tx, const std::string& email);
  // A sender the gateway routed by domain becomes a contact there (audited as
  // `actor`). `name` may be empty: the address's local part stands in.
  Contact AddMailContactIn(db::Tx& tx, const staff::Actor& actor, int64_t client_id,
                           const std::string& name, const std::string& email);

  // S1
  Page<Site> ListSites(const staff::Actor& actor, int64_t client_id, int64_t offset, int64_t limit);
  Site GetSite(const staff::Actor& actor, int64_t site_id);
  Site GetSiteIn(db::Tx& tx, const staff::Actor& actor, int64_t site_id);
  // Every site of a client (for pickers); sites per client are few.
  std::vector<Site> AllSites(const staff::Actor& actor, int64_t client_id);
  Site CreateSite(const staff::Actor& actor, int64_t client_id, const SiteInput& input);
  Site UpdateSite(const staff::Actor& actor, int64_t site_id, const SiteInput& input);
  void DeleteSite(const staff::Actor& actor, int64_t site_id);

  // U2: the History tab.
  Page<audit::Row> History(const staff::Actor& actor, int64_t client_id, int64_t offset,
                           int64_t limit);

 private:
  ClientDetail LoadDetail(soci::session& sql, int64_t id) const;
  void AddOwnedCounts(soci::session& sql, std::vector<Site>& sites) const;

  db::Database& db_;
  const audit::AuditLog& audit_;
  const Clock& clock_;
  const ClientOwners& owners_;
};

}  // namespace opsmerge::clients
