#include "clients/service.h"

#include <algorithm>
#include <set>
#include <tuple>

#include <soci/soci.h>

#include "clients/json.h"
#include "clients/store.h"
#include "platform/errors.h"
#include "platform/search_terms.h"
#include "platform/text.h"

namespace opsmerge::clients {

namespace {

// The client with `id`, or ClientMerged / NotFound.
Client ResolveClient(soci::session& sql, int64_t id) {
  if (auto c = store::FindClient(sql, id)) return *c;
  if (auto survivor = store::FindRedirect(sql, id)) throw ClientMerged(id, *survivor);
  throw NotFound("Client");
}

std::vector<std::string> AllDomains(const CleanClient& c) {
  std::vector<std::string> all;
  if (!c.domain.empty()) all.push_back(c.domain);
  all.insert(all.end(), c.domains.begin(), c.domains.end());
  return all;
}

void CheckDomainsFree(soci::session& sql, const std::vector<std::string>& domains,
                      int64_t exclude_id, const std::string& field_for_primary,
                      const std::string& primary) {
  for (const auto& d : domains) {
    if (auto owner = store::FindActiveDomainOwner(sql, d, exclude_id)) {
      throw Conflict("duplicate",
                     owner->name + " already uses the domain " + d +
                         ": a domain routes email to one active client only",
                     owner->id, d == primary ? field_for_primary : "domains");
    }
  }
}

void CheckName(soci::session& sql, const std::string& name, int64_t exclude_id, bool confirm) {
  if (confirm) return;
  if (auto same = store::FindByNameKey(sql, NameKey(name), exclude_id)) {
    throw Conflict("duplicate",
                   "A client named \"" + same->name +
                       "\" already exists. If this is a different organisation, confirm to "
                       "create it anyway.",
                   same->id, "name");
  }
}

std::string CleanLabel(const std::string& label, const std::string& field = "label") {
  std::string l = text::CollapseWhitespace(label);
  if (l.empty())
    throw ValidationError(field, "Say how the clients are related, e.g. \"Subsidiary of\"");
  if (!text::IsValidUtf8(l) || text::HasControlCharacters(l)) {
    throw ValidationError(field, "Relationship is not valid text");
  }
  if (text::Utf8Length(l) > kMaxLabel) {
    throw ValidationError(
        field, "Relationship must be at most " + std::to_string(kMaxLabel) + " characters");
  }
  return l;
}

// Runs a write and turns a uniqueness race the checks could not see (two nodes
// inserting the same domain at once) into the same Conflict the checks raise.
void WriteChecked(db::Database& db, const std::function<void(db::Tx&)>& fn,
                  const std::string& what) {
  try {
    db.Write(fn);
  } catch (const soci::soci_error& e) {
    if (db::IsUniqueViolation(e)) throw Conflict("duplicate", what);
    throw;
  }
}

void WriteChecked(db::Database& db, const std::function<void(soci::session&)>& fn,
                  const std::string& what) {
  WriteChecked(db, std::function<void(db::Tx&)>([&](db::Tx& tx) { fn(tx.sql()); }), what);
}

}  // namespace

ClientDetail ClientService::LoadDetail(soci::session& sql, int64_t id) const {
  ClientDetail d;
  d.client = ResolveClient(sql, id);
  d.links = store::ListLinks(sql, id);
  d.counts = store::Counts(sql, id);
  d.counts.owned = owners_.CountFor(sql, {id})[id];
  return d;
}

void ClientService::AddOwnedCounts(soci::session& sql, std::vector<Site>& sites) const {
  std::vector<int64_t> ids;
  for (const Site& s : sites) ids.push_back(s.id);
  auto counts = owners_.CountPerSite(sql, ids);
  for (Site& s : sites) s.owned = counts[s.id];
}

Page<ClientRow> ClientService::List(const staff::Actor& actor, const ClientQuery& query) {
  staff::Require(actor, staff::Permission::kReadClients);
  Page<ClientRow> page;
  db_.Read([&](soci::session& sql) {
    std::vector<ClientCounts> counts;
    std::vector<Client> clients = store::ListClients(sql, query, &counts);
    std::vector<int64_t> ids;
    for (const auto& c : clients) ids.push_back(c.id);
    auto links = store::LinksOf(sql, ids);
    auto owned = owners_.CountFor(sql, ids);  // one query per owner for the whole page
    for (size_t i = 0; i < clients.size(); ++i) {
      int64_t id = clients[i].id;
      counts[i].owned = std::move(owned[id]);
      page.items.push_back(ClientRow{std::move(clients[i]), counts[i], std::move(links[id])});
    }
    page.total = store::CountClients(sql, query);
  });
  return page;
}

ClientDetail ClientService::Get(const staff::Actor& actor, int64_t id) {
  staff::Require(actor, staff::Permission::kReadClients);
  ClientDetail d;
  db_.Read([&](soci::session& sql) { d = LoadDetail(sql, id); });
  return d;
}

std::vector<std::string> ClientService::BillingRecipientsIn(db::Tx& tx, int64_t client_id) {
  std::vector<std::string> out = store::BillingRecipientEmails(tx.sql(), client_id);
  if (out.empty()) {
    auto c = store::FindClient(tx.sql(), client_id);
    if (c && !c->contact_email.empty()) out.push_back(c->contact_email);
  }
  return out;
}

ClientDetail ClientService::GetIn(db::Tx& tx, const staff::Actor& actor, int64_t id) {
  staff::Require(actor, staff::Permission::kReadClients);
  return LoadDetail(tx.sql(), id);
}

std::vector<Client> ClientService::GetMany(const staff::Actor& actor,
                                           const std::vector<int64_t>& ids) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::vector<Client> out;
  db_.Read([&](soci::session& sql) {
    for (int64_t id : ids) {
      if (auto c = store::FindClient(sql, id)) out.push_back(*c);
    }
  });
  return out;
}

namespace {

// Links client `id` to a Microsoft 365 tenant by hand ("" unlinks): a tenant id is
// a GUID that no other client holds (C4's stable key).
void ApplyTenant(soci::session& sql, int64_t id, const std::optional<std::string>& input) {
  if (!input) return;
  std::string tenant;
  if (!text::Trim(*input).empty()) {
    std::optional<std::string> t = NormalizeTenantId(*input);
    if (!t) {
      throw ValidationError("m365_tenant_id",
                            "A tenant id is a GUID, like 6f1c2e0a-1b2c-4d5e-8f90-a1b2c3d4e5f6");
    }
    tenant = *t;
    std::optional<store::NamedId> holder = store::FindByTenantId(sql, tenant);
    if (holder && holder->id != id) {
      throw Conflict("duplicate", "This Microsoft 365 tenant is linked to " + holder->name,
                     holder->id, "m365_tenant_id");
    }
  }
  store::SetTenantId(sql, id, tenant);
}

}  // namespace

ClientDetail ClientService::Create(const staff::Actor& actor, const ClientInput& input,
                                   bool confirm_duplicate_name) {
  staff::Require(actor, staff::Permission::kEditClients);
  CleanClient c = ValidateClient(input, nullptr);
  ClientDetail detail;
  WriteChecked(
      db_,
      [&](soci::session& sql) {
        CheckDomainsFree(sql, AllDomains(c), 0, "domain", c.domain);
        CheckName(sql, c.name, 0, confirm_duplicate_name);
        std::string now = FormatIsoUtc(clock_.NowUnix());
        int64_t id = store::InsertClient(sql, c, now);
        store::ReplaceDomains(sql, id, c, true);
        ApplyTenant(sql, id, input.m365_tenant_id);
        detail = LoadDetail(sql, id);
        audit_.Write(sql, actor.Who(),
                     {"create", "client", id, id, "Created client " + c.name, "",
                      ClientJson(detail).dump()});
      },
      "Another client already uses one of these domains");
  return detail;
}

ClientDetail ClientService::Update(const staff::Actor& actor, int64_t id, const ClientInput& input,
                                   bool confirm_duplicate_name) {
  staff::Require(actor, staff::Permission::kEditClients);
  ClientDetail detail;
  WriteChecked(
      db_,
      [&](soci::session& sql) {
        ClientDetail before = LoadDetail(sql, id);
        CleanClient c = ValidateClient(input, &before.client);
        if (!before.client.archived()) CheckDomainsFree(sql, AllDomains(c), id, "domain", c.domain);
        if (NameKey(c.name) != NameKey(before.client.name)) {
          CheckName(sql, c.name, id, confirm_duplicate_name);
        }
        std::string now = FormatIsoUtc(clock_.NowUnix());
        store::UpdateClient(sql, id, c, now);
        store::ReplaceDomains(sql, id, c, !before.client.archived());
        ApplyTenant(sql, id, input.m365_tenant_id);
        detail = LoadDetail(sql, id);
        audit_.Write(sql, actor.Who(),
                     {"update", "client", id, id, "Edited client " + c.name,
                      ClientJson(before).dump(), ClientJson(detail).dump()});
      },
      "Another client already uses one of these domains");
  return detail;
}

ClientDetail ClientService::Archive(const staff::Actor& actor, int64_t id) {
  staff::Require(actor, staff::Permission::kEditClients);
  ArchiveMany(actor, {id});
  return Get(actor, id);
}

void ClientService::ArchiveMany(const staff::Actor& actor, const std::vector<int64_t>& ids) {
  staff::Require(actor, staff::Permission::kEditClients);
  if (ids.empty()) throw ValidationError("ids", "Select at least one client");
  db_.Write([&](soci::session& sql) {
    std::string now = FormatIsoUtc(clock_.NowUnix());
    for (int64_t id : ids) {
      ClientDetail before = LoadDetail(sql, id);
      if (before.client.archived()) continue;
      store::SetArchived(sql, id, now, now);
      ClientDetail after = LoadDetail(sql, id);
      audit_.Write(sql, actor.Who(),
                   {"archive", "client", id, id, "Archived client " + after.client.name,
                    ClientJson(before).dump(), ClientJson(after).dump()});
    }
  });
}

ClientDetail ClientService::Unarchive(const staff::Actor& actor, int64_t id) {
  staff::Require(actor, staff::Permission::kEditClients);
  ClientDetail detail;
  WriteChecked(
      db_,
      [&](soci::session& sql) {
        ClientDetail before = LoadDetail(sql, id);
        if (!before.client.archived()) {
          detail = before;
          return;
        }
        std::vector<std::string> domains = before.client.domains;
        if (!before.client.domain.empty()) domains.insert(domains.begin(), before.client.domain);
        CheckDomainsFree(sql, domains, id, "domain", before.client.domain);
        std::string now = FormatIsoUtc(clock_.NowUnix());
        store::SetArchived(sql, id, std::nullopt, now);
        detail = LoadDetail(sql, id);
        audit_.Write(sql, actor.Who(),
                     {"unarchive", "client", id, id, "Unarchived client " + detail.client.name,
                      ClientJson(before).dump(), ClientJson(detail).dump()});
      },
      "Another active client already uses one of this client's domains");
  return detail;
}

void ClientService::Delete(const staff::Actor& actor, int64_t id) {
  staff::Require(actor, staff::Permission::kDeleteClients);
  db_.Write([&](soci::session& sql) {
    ClientDetail before = LoadDetail(sql, id);
    std::vector<std::string> parts;
    for (const ClientOwner& o : owners_.all()) {
      int64_t count = before.counts.Owned(o.key);
      if (o.blocks_delete && count > 0) {
        parts.push_back(std::to_string(count) + " " + (count == 1 ? o.singular : o.plural));
      }
    }
    if (!parts.empty()) {
      std::string list = parts[0];
      for (size_t i = 1; i < parts.size(); ++i) {
        list += (i + 1 == parts.size() ? " and " : ", ") + parts[i];
      }
      throw Conflict(
          "has_dependents",
          before.client.name + " has " + list + ", so it can't be deleted: archive instead.", id);
    }
    store::DeleteClient(sql, id);
    audit_.Write(sql, actor.Who(),
                 {"delete", "client", id, id, "Deleted client " + before.client.name,
                  ClientJson(before).dump(), ""});
  });
}

ClientDetail ClientService::Merge(const staff::Actor& actor, int64_t survivor_id,
                                  const std::vector<int64_t>& merged_ids) {
  staff::Require(actor, staff::Permission::kMergeClients);
  ValidateMergeRequest(survivor_id, merged_ids);
  ClientDetail detail;
  WriteChecked(
      db_,
      [&](db::Tx& tx) {
        soci::session& sql = tx.sql();
        std::vector<int64_t> everyone = merged_ids;
        everyone.push_back(survivor_id);
        store::LockClients(sql, everyone);
        auto load = [&](int64_t id, const std::string& field) {
          if (auto c = store::FindClient(sql, id)) return *c;
          if (auto to = store::FindRedirect(sql, id)) {
            throw Conflict("conflict",
                           "Client " + std::to_string(id) + " was already merged into client " +
                               std::to_string(*to),
                           *to, field);
          }
          throw ValidationError(field, "There is no client " + std::to_string(id));
        };
        Client survivor = load(survivor_id, "survivor_id");
        nlohmann::json before = nlohmann::json::array();
        before.push_back(ClientJson(LoadDetail(sql, survivor_id)));
        std::vector<Client> merged;
        for (int64_t id : merged_ids) {
          merged.push_back(load(id, "merged_ids"));
          before.push_back(ClientJson(LoadDetail(sql, id)));
        }
        std::string now = FormatIsoUtc(clock_.NowUnix());

        std::vector<int64_t> all = {survivor_id};
        all.insert(all.end(), merged_ids.begin(), merged_ids.end());
        ContactMergePlan plan = PlanContactMerge(survivor_id, store::ContactsForMerge(sql, all));
        for (const auto& [gone, kept] : plan.fold_into) {
          for (const ClientOwner& o : owners_.all()) {
            if (o.fold_contact) o.fold_contact(tx, gone, kept);
          }
          store::FoldContactM365(sql, gone, kept);
          store::DeleteContact(sql, gone);
        }
        for (const auto& [id, roles] : plan.new_roles) {
          if (!roles.primary_technical) store::SetContactRoles(sql, id, roles, now);
        }
        for (int64_t id : plan.move) store::MoveContact(sql, id, survivor_id);
        for (const auto& [id, roles] : plan.new_roles) {
          if (roles.primary_technical) {
            store::ClearPrimaryTechnical(sql, survivor_id, id);
            store::SetContactRoles(sql, id, roles, now);
          }
        }

        for (const Client& m : merged) {
          store::MoveSites(sql, m.id, m.name, survivor_id);
          // Everything other features own of the client moves in this transaction.
          for (const ClientOwner& o : owners_.all()) o.move(tx, m.id, survivor_id);
          store::MoveLinks(sql, m.id, survivor_id, now);
          std::vector<std::string> domains = m.domains;
          if (!m.domain.empty()) domains.push_back(m.domain);
          if (!survivor.archived() && m.archived()) {
            CheckDomainsFree(sql, domains, m.id, "merged_ids", "");
          }
          store::MoveDomains(sql, m.id, survivor_id, !survivor.archived());
          audit_.MoveClient(sql, m.id, survivor_id);
          store::AddRedirect(sql, m.id, survivor_id);
          store::DeleteClient(sql, m.id);
        }
        // The survivor keeps its Microsoft 365 tenant, or takes a merged client's
        // (freed with that client's row), so the next sync finds it and makes nothing.
        if (survivor.m365_tenant_id.empty()) {
          for (const Client& m : merged) {
            if (m.m365_tenant_id.empty()) continue;
            store::SetTenantId(sql, survivor_id, m.m365_tenant_id);
            break;
          }
        }
        CleanClient keep{
            survivor.name, survivor.domain, {}, survivor.contact_email, survivor.notes};
        store::UpdateClient(sql, survivor_id, keep, now);
        detail = LoadDetail(sql, survivor_id);
        std::string names;
        for (const Client& m : merged) names += (names.empty() ? "" : ", ") + m.name;
        audit_.Write(sql, actor.Who(),
                     {"merge", "client", survivor_id, survivor_id,
                      "Merged " + names + " into " + survivor.name, before.dump(),
                      ClientJson(detail).dump()});
      },
      "A domain of the merged clients is already used by another active client");
  return detail;
}

std::vector<DuplicateGroup> ClientService::Duplicates(const staff::Actor& actor) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::vector<DuplicateGroup> groups;
  db_.Read([&](soci::session& sql) {
    groups = FindDuplicates(store::DuplicateCandidates(sql), store::NotDuplicatePairs(sql));
  });
  return groups;
}

std::vector<DuplicateGroupView> ClientService::DuplicatesWithClients(const staff::Actor& actor) {
  std::vector<DuplicateGroupView> out;
  for (auto& g : Duplicates(actor)) {
    out.push_back(DuplicateGroupView{g.reason, g.reasons, GetMany(actor, g.client_ids)});
  }
  return out;
}

void ClientService::DismissDuplicates(const staff::Actor& actor, const std::vector<int64_t>& ids) {
  staff::Require(actor, staff::Permission::kEditClients);
  std::vector<int64_t> unique = ids;
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  if (unique.size() < 2) throw ValidationError("ids", "Choose two or more clients");
  if (unique.size() > 50) throw ValidationError("ids", "Choose at most 50 clients");
  db_.Write([&](soci::session& sql) {
    std::vector<Client> found;
    for (int64_t id : unique) found.push_back(ResolveClient(sql, id));
    std::string now = FormatIsoUtc(clock_.NowUnix());
    for (size_t a = 0; a < found.size(); ++a) {
      for (size_t b = a + 1; b < found.size(); ++b) {
        int64_t lo = std::min(found[a].id, found[b].id), hi = std::max(found[a].id, found[b].id);
        if (lo != hi) store::InsertNotDuplicate(sql, lo, hi, now);
      }
    }
    for (const Client& c : found) {
      std::string others;
      for (const Client& o : found) {
        if (o.id != c.id) others += (others.empty() ? "" : ", ") + o.name;
      }
      audit_.Write(sql, actor.Who(),
                   {"not_duplicates", "client", c.id, c.id,
                    "Marked as not a duplicate of " + others, "", ""});
    }
  });
}

ClientLink ClientService::AddLink(const staff::Actor& actor, int64_t client_id,
                                  int64_t other_client_id, const std::string& label,
                                  const std::string& inverse_label) {
  staff::Require(actor, staff::Permission::kEditClients);
  std::string clean = CleanLabel(label);
  std::string inverse = text::CollapseWhitespace(inverse_label).empty()
                            ? InverseLabel(clean)
                            : CleanLabel(inverse_label, "inverse_label");
  if (other_client_id == client_id) {
    throw ValidationError("other_client_id", "A client cannot be linked to itself");
  }
  ClientLink link;
  WriteChecked(
      db_,
      [&](soci::session& sql) {
        Client self = ResolveClient(sql, client_id);
        auto other = store::FindClient(sql, other_client_id);
        if (!other) throw ValidationError("other_client_id", "Choose an existing client to link");
        if (auto existing = store::FindLinkBetween(sql, client_id, other_client_id)) {
          throw Conflict("duplicate", self.name + " and " + other->name + " are already linked",
                         existing->id, "other_client_id");
        }
        std::string now = FormatIsoUtc(clock_.NowUnix());
        int64_t id =
            store::InsertLink(sql, client_id, other_client_id, client_id, clean, inverse, now);
        link = ClientLink{id, other->id, other->name, clean, inverse, "outgoing"};
        nlohmann::json after = {{"id", id},
                                {"client_ids", {client_id, other_client_id}},
                                {"label", clean},
                                {"inverse_label", inverse}};
        audit_.Write(
            sql, actor.Who(),
            {"link", "client_link", id, self.id, clean + " " + other->name, "", after.dump()});
        audit_.Write(sql, actor.Who(),
                     {"link", "client_link", id, other->id,
                      (inverse.empty() ? self.name + " is " + clean + " this client"
                                       : inverse + " " + self.name),
                      "", after.dump()});
      },
      "These clients are already linked");
  return link;
}

ClientLink ClientService::AddLinkByName(const staff::Actor& actor, int64_t client_id,
                                        const std::string& other_name, const std::string& label,
                                        const std::string& inverse_label) {
  staff::Require(actor, staff::Permission::kEditClients);
  std::string name = text::CollapseWhitespace(other_name);
  if (name.empty()) throw ValidationError("other", "Name the client to link to");
  std::vector<store::NamedId> matches;
  db_.Read([&](soci::session& sql) { matches = store::FindAllByNameKey(sql, NameKey(name)); });
  if (matches.empty()) throw ValidationError("other", "No client is called \"" + name + "\"");
  if (matches.size() > 1) {
    throw ValidationError(
        "other", "Several clients are called " + name + ": link from the other client's page");
  }
  return AddLink(actor, client_id, matches[0].id, label, inverse_label);
}

void ClientService::RemoveLink(const staff::Actor& actor, int64_t link_id,
                               std::optional<int64_t> client_id) {
  staff::Require(actor, staff::Permission::kEditClients);
  db_.Write([&](soci::session& sql) {
    auto link = store::FindLink(sql, link_id);
    if (!link || (client_id && link->low_id != *client_id && link->high_id != *client_id)) {
      throw NotFound("Link");
    }
    nlohmann::json before = {
        {"id", link->id}, {"client_ids", {link->low_id, link->high_id}}, {"label", link->label}};
    store::DeleteLink(sql, link_id);
    for (int64_t cid : {link->low_id, link->high_id}) {
      audit_.Write(sql, actor.Who(),
                   {"unlink", "client_link", link_id, cid, "Removed link (" + link->label + ")",
                    before.dump(), ""});
    }
  });
}

Page<Contact> ClientService::ListContacts(const staff::Actor& actor, int64_t client_id,
                                          int64_t offset, int64_t limit) {
  staff::Require(actor, staff::Permission::kReadClients);
  Page<Contact> page;
  db_.Read([&](soci::session& sql) {
    ResolveClient(sql, client_id);
    page.items = store::ListContacts(sql, client_id, offset, limit);
    page.total = store::CountContacts(sql, client_id);
  });
  return page;
}

Contact ClientService::GetContact(const staff::Actor& actor, int64_t contact_id) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::optional<Contact> c;
  db_.Read([&](soci::session& sql) { c = store::FindContact(sql, contact_id); });
  if (!c) throw NotFound("Contact");
  return *c;
}

std::vector<ContactHit> ClientService::SearchContacts(const staff::Actor& actor,
                                                      const std::string& query, int limit) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::vector<std::string> words = search::QueryWords(query);
  std::vector<ContactHit> out;
  if (words.empty()) return out;
  db_.Read([&](soci::session& sql) {
    out = store::ContactsByIds(sql, search::Match(sql, search::Kind::kContact, words, limit));
  });
  std::sort(out.begin(), out.end(), [](const ContactHit& a, const ContactHit& b) {
    return std::tie(a.contact.name, a.contact.id) < std::tie(b.contact.name, b.contact.id);
  });
  return out;
}

std::vector<Client> ClientService::SearchClients(const staff::Actor& actor,
                                                 const std::string& query, int limit) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::vector<Client> out;
  ClientQuery q;
  q.search = text::CollapseWhitespace(query);
  if (q.search.empty() || !text::IsValidUtf8(q.search)) return out;
  q.limit = limit;
  db_.Read([&](soci::session& sql) { out = store::ListClients(sql, q, nullptr); });
  return out;
}

std::vector<audit::Row> ClientService::RecentChanges(const staff::Actor& actor, int limit) {
  staff::Require(actor, staff::Permission::kReadClients);
  audit::Filter filter;
  filter.clients_only = true;
  std::vector<audit::Row> out;
  db_.Read([&](soci::session& sql) { out = audit_.Search(sql, filter, 0, limit); });
  return out;
}

std::vector<audit::Row> ClientService::ContactHistory(const staff::Actor& actor, int64_t contact_id,
                                                      int limit) {
  staff::Require(actor, staff::Permission::kReadClients);
  audit::Filter filter;
  filter.entity_type = "contact";
  filter.entity_id = contact_id;
  std::vector<audit::Row> out;
  db_.Read([&](soci::session& sql) { out = audit_.Search(sql, filter, 0, limit); });
  return out;
}

void ClientService::ReindexSearchIn(db::Tx& tx) { store::ReindexContacts(tx.sql()); }

Contact ClientService::CreateContact(const staff::Actor& actor, int64_t client_id,
                                     const ContactInput& input) {
  staff::Require(actor, staff::Permission::kEditClients);
  Contact c = ValidateContact(input, nullptr);
  WriteChecked(
      db_,
      [&](soci::session& sql) {
        Client client = ResolveClient(sql, client_id);
        c.client_id = client_id;
        if (auto dup = store::FindContactByEmail(sql, client_id, NameKey(c.email), 0)) {
          throw Conflict("duplicate", client.name + " already has a contact with email " + c.email,
                         *dup, "email");
        }
        if (c.roles.primary_technical) store::ClearPrimaryTechnical(sql, client_id, 0);
        std::string now = FormatIsoUtc(clock_.NowUnix());
        c.id = store::InsertContact(sql, c, now);
        c.created_at = c.updated_at = now;
        audit_.Write(sql, actor.Who(),
                     {"create", "contact", c.id, client_id, "Added contact " + c.name, "",
                      ContactJson(c).dump()});
      },
      "This client already has a contact with that email");
  return c;
}

ClientService::SenderMatch ClientService::MatchSenderIn(db::Tx& tx, const std::string& email) {
  SenderMatch m;
  soci::session& sql = tx.sql();
  m.contacts = store::ContactsAtActiveClients(sql, NameKey(email), &m.client_names);
  size_t at = email.rfind('@');
  if (at != std::string::npos) {
    if (auto domain = text::NormalizeDomain(email.substr(at + 1))) {
      if (auto owner = store::FindActiveDomainOwner(sql, *domain, 0)) {
        m.domain_client = owner->id;
        m.client_names[owner->id] = owner->name;
      }
    }
  }
  return m;
}

Contact ClientService::AddMailContactIn(db::Tx& tx, const staff::Actor& actor, int64_t client_id,
                                        const std::string& name, const std::string& email) {
  ContactInput in;
  std::string shown = text::CollapseWhitespace(name);
  if (!text::IsValidUtf8(shown) || text::HasControlCharacters(shown) || shown.size() > 200) {
    shown.clear();
  }
  in.name = shown.empty() ? email.substr(0, email.find('@')) : shown;
  in.email = email;
  Contact c = ValidateContact(in, nullptr);
  soci::session& sql = tx.sql();
  c.client_id = client_id;
  std::string now = FormatIsoUtc(clock_.NowUnix());
  c.id = store::InsertContact(sql, c, now);
  c.created_at = c.updated_at = now;
  audit_.Write(sql, actor.Who(),
               {"create", "contact", c.id, client_id, "Added contact " + c.name + " (from email)",
                "", ContactJson(c).dump()});
  return c;
}

Contact ClientService::UpdateContact(const staff::Actor& actor, int64_t contact_id,
                                     const ContactInput& input) {
  staff::Require(actor, staff::Permission::kEditClients);
  Contact c;
  WriteChecked(
      db_,
      [&](soci::session& sql) {
        auto before = store::FindContact(sql, contact_id);
        if (!before) throw NotFound("Contact");
        c = ValidateContact(input, &*before);
        if (auto dup = store::FindContactByEmail(sql, c.client_id, NameKey(c.email), c.id)) {
          throw Conflict("duplicate", "This client already has a contact with email " + c.email,
                         *dup, "email");
        }
        if (c.roles.primary_technical) store::ClearPrimaryTechnical(sql, c.client_id, c.id);
        std::string now = FormatIsoUtc(clock_.NowUnix());
        store::UpdateContact(sql, c, now);
        c.updated_at = now;
        audit_.Write(sql, actor.Who(),
                     {"update", "contact", c.id, c.client_id, "Edited contact " + c.name,
                      ContactJson(*before).dump(), ContactJson(c).dump()});
      },
      "This client already has a contact with that email");
  return c;
}

void ClientService::DeleteContact(const staff::Actor& actor, int64_t contact_id) {
  staff::Require(actor, staff::Permission::kEditClients);
  db_.Write([&](soci::session& sql) {
    auto before = store::FindContact(sql, contact_id);
    if (!before) throw NotFound("Contact");
    store::DeleteContact(sql, contact_id);
    audit_.Write(sql, actor.Who(),
                 {"delete", "contact", contact_id, before->client_id,
                  "Removed contact " + before->name, ContactJson(*before).dump(), ""});
  });
}

Page<Site> ClientService::ListSites(const staff::Actor& actor, int64_t client_id, int64_t offset,
                                    int64_t limit) {
  staff::Require(actor, staff::Permission::kReadClients);
  Page<Site> page;
  db_.Read([&](soci::session& sql) {
    ResolveClient(sql, client_id);
    page.items = store::ListSites(sql, client_id, offset, limit);
    page.total = store::CountSites(sql, client_id);
    AddOwnedCounts(sql, page.items);
  });
  return page;
}

Site ClientService::GetSite(const staff::Actor& actor, int64_t site_id) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::optional<Site> s;
  db_.Read([&](soci::session& sql) {
    s = store::FindSite(sql, site_id);
    if (s) s->owned = owners_.CountPerSite(sql, {s->id})[s->id];
  });
  if (!s) throw NotFound("Site");
  return *s;
}

Site ClientService::GetSiteIn(db::Tx& tx, const staff::Actor& actor, int64_t site_id) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::optional<Site> s = store::FindSite(tx.sql(), site_id);
  if (!s) throw NotFound("Site");
  return *s;
}

std::vector<Site> ClientService::AllSites(const staff::Actor& actor, int64_t client_id) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::vector<Site> out;
  db_.Read([&](soci::session& sql) {
    ResolveClient(sql, client_id);
    int64_t n = store::CountSites(sql, client_id);
    out = store::ListSites(sql, client_id, 0, n);
  });
  return out;
}

Site ClientService::CreateSite(const staff::Actor& actor, int64_t client_id,
                               const SiteInput& input) {
  staff::Require(actor, staff::Permission::kEditClients);
  Site s = ValidateSite(input, nullptr);
  WriteChecked(
      db_,
      [&](soci::session& sql) {
        Client client = ResolveClient(sql, client_id);
        s.client_id = client_id;
        if (auto dup = store::FindSiteByName(sql, client_id, NameKey(s.name), 0)) {
          throw Conflict("duplicate", client.name + " already has a site called " + s.name, *dup,
                         "name");
        }
        std::string now = FormatIsoUtc(clock_.NowUnix());
        s.id = store::InsertSite(sql, s, now);
        s.created_at = s.updated_at = now;
        audit_.Write(
            sql, actor.Who(),
            {"create", "site", s.id, client_id, "Added site " + s.name, "", SiteJson(s).dump()});
      },
      "This client already has a site with that name");
  return s;
}

Site ClientService::UpdateSite(const staff::Actor& actor, int64_t site_id, const SiteInput& input) {
  staff::Require(actor, staff::Permission::kEditClients);
  Site s;
  WriteChecked(
      db_,
      [&](soci::session& sql) {
        auto before = store::FindSite(sql, site_id);
        if (!before) throw NotFound("Site");
        s = ValidateSite(input, &*before);
        if (auto dup = store::FindSiteByName(sql, s.client_id, NameKey(s.name), s.id)) {
          throw Conflict("duplicate", "This client already has a site called " + s.name, *dup,
                         "name");
        }
        std::string now = FormatIsoUtc(clock_.NowUnix());
        store::UpdateSite(sql, s, now);
        s.updated_at = now;
        audit_.Write(sql, actor.Who(),
                     {"update", "site", s.id, s.client_id, "Edited site " + s.name,
                      SiteJson(*before).dump(), SiteJson(s).dump()});
      },
      "This client already has a site with that name");
  return s;
}

void ClientService::DeleteSite(const staff::Actor& actor, int64_t site_id) {
  staff::Require(actor, staff::Permission::kEditClients);
  db_.Write([&](soci::session& sql) {
    auto before = store::FindSite(sql, site_id);
    if (!before) throw NotFound("Site");
    auto held = owners_.CountPerSite(sql, {site_id})[site_id];
    store::DeleteSite(sql, site_id);
    std::string summary = "Removed site " + before->name;
    for (const ClientOwner& o : owners_.all()) {
      int64_t n = held[o.key];
      if (n > 0) {
        summary += "; its " + std::to_string(n) + " " + (n == 1 ? o.singular : o.plural) +
                   " went back to the client's pool";
      }
    }
    audit_.Write(
        sql, actor.Who(),
        {"delete", "site", site_id, before->client_id, summary, SiteJson(*before).dump(), ""});
  });
}

Page<audit::Row> ClientService::History(const staff::Actor& actor, int64_t client_id,
                                        int64_t offset, int64_t limit) {
  staff::Require(actor, staff::Permission::kReadClients);
  Page<audit::Row> page;
  db_.Read([&](soci::session& sql) {
    ResolveClient(sql, client_id);
    page.items = audit_.ListForClient(sql, client_id, offset, limit);
    page.total = audit_.CountForClient(sql, client_id);
  });
  return page;
}

}  // namespace opsmerge::clients
