#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "platform/db.h"

// The client as an extension point. A client is the root every feature hangs data
// on, but clients/ knows none of them: each feature registers, in app/, what it
// owns of a client, and clients/ asks every registered owner when it counts (the
// delete guard, the client JSON, the list), merges (C5) or draws the client's tabs.
// Adding a feature that owns client data touches no file in clients/.
// Registered once at start-up, then read-only and thread-safe.
namespace opsmerge::clients {

struct ClientTab {
  std::string label;   // "Endpoints"
  std::string suffix;  // "/endpoints": the tab is /clients/{id}/endpoints
  int order = 50;      // Overview 0, Contacts 10, Sites 20 ... History 100
};

struct ClientOwner {
  std::string key;       // "endpoints": the member of the client JSON's "counts"
  std::string singular;  // "endpoint", for messages ("3 endpoints")
  std::string plural;
  // C6: delete is refused ("archive instead") while the client has any.
  bool blocks_delete = false;
  // Shown in the client JSON's "counts" and on the client page.
  bool counted = true;
  // How many each client has, for many clients at once (a list page): absent ids
  // have none. Runs on the caller's transaction or read session.
  std::function<std::map<int64_t, int64_t>(soci::session&, const std::vector<int64_t>&)> count_many;
  // C5: moves everything of `from` to `to` inside the merge's transaction.
  std::function<void(db::Tx&, int64_t from, int64_t to)> move;
  // Optional, C5: a merged client's contact is folded into the survivor's contact
  // with the same email (`gone` is deleted right after, in the same transaction):
  // what the owner keeps per contact follows it to `kept`.
  std::function<void(db::Tx&, int64_t gone, int64_t kept)> fold_contact;
  // Optional: how many each site holds (the Sites tab's column); a deleted site's
  // rows are let go by the owner's own foreign key (ON DELETE SET NULL).
  std::function<std::map<int64_t, int64_t>(soci::session&, const std::vector<int64_t>&)>
      count_per_site;
  std::optional<ClientTab> tab;
};

class ClientOwners {
 public:
  // Keys are unique; registering one twice throws std::logic_error.
  void Register(ClientOwner owner);
  const std::vector<ClientOwner>& all() const { return owners_; }
  // Every owner's counts for these clients (absent: zero), keyed by client id.
  std::map<int64_t, std::map<std::string, int64_t>> CountFor(
      soci::session& sql, const std::vector<int64_t>& client_ids) const;
  std::map<int64_t, std::map<std::string, int64_t>> CountPerSite(
      soci::session& sql, const std::vector<int64_t>& site_ids) const;

 private:
  std::vector<ClientOwner> owners_;
};

}  // namespace opsmerge::clients
