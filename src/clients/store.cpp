#include "clients/store.h"

#include <algorithm>
#include <set>

#include <soci/soci.h>

#include "platform/db.h"
#include "platform/search_terms.h"

namespace opsmerge::clients::store {

namespace {

constexpr const char* kClientColumns =
    "SELECT c.id, c.name, c.domain, c.contact_email, c.notes, c.archived_at, c.created_at, "
    "c.updated_at, c.m365_tenant_id, c.m365_synced_at";
// The client's own counts; what other features own comes from ClientOwners.
constexpr const char* kCountColumns =
    ", (SELECT COUNT(*) FROM contacts x WHERE x.client_id = c.id) AS contact_count"
    ", (SELECT COUNT(*) FROM sites x WHERE x.client_id = c.id) AS site_count";

// A page's extra domains in the page query itself (one round trip, not one per
// row): the same aggregate under each dialect's name for it.
constexpr const char* kExtraDomainsSqlite =
    ", (SELECT group_concat(d.domain, ' ') FROM client_domains d "
    "WHERE d.client_id = c.id AND d.is_primary = 0) AS extra_domains";
constexpr const char* kExtraDomainsPostgres =
    ", (SELECT string_agg(d.domain, ' ') FROM client_domains d "
    "WHERE d.client_id = c.id AND d.is_primary = 0) AS extra_domains";

std::vector<std::string> SplitDomains(const std::string& joined) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < joined.size()) {
    size_t sp = joined.find(' ', pos);
    if (sp == std::string::npos) sp = joined.size();
    if (sp > pos) out.push_back(joined.substr(pos, sp - pos));
    pos = sp + 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

constexpr const char* kWhereActive = " WHERE c.archived_at IS NULL";
constexpr const char* kWhereArchived = " WHERE c.archived_at IS NOT NULL";
constexpr const char* kWhereAll = " WHERE 1 = 1";
// The domain match is an uncorrelated IN, evaluated once per query rather than
// once per client row.
constexpr const char* kSearch =
    " AND (c.name_key LIKE :p1 ESCAPE '!' OR c.id IN (SELECT d.client_id FROM client_domains d "
    "WHERE d.domain LIKE :p2 ESCAPE '!'))";

const char* OrderBy(ClientSort sort, bool desc) {
  switch (sort) {
    case ClientSort::kName:
      return desc ? " ORDER BY c.name_key DESC, c.id DESC" : " ORDER BY c.name_key, c.id";
    case ClientSort::kCreated:
      return desc ? " ORDER BY c.created_at DESC, c.id DESC" : " ORDER BY c.created_at, c.id";
    case ClientSort::kUpdated:
      return desc ? " ORDER BY c.updated_at DESC, c.id DESC" : " ORDER BY c.updated_at, c.id";
    case ClientSort::kDomain:
      return desc ? " ORDER BY c.domain DESC, c.name_key DESC, c.id DESC"
                  : " ORDER BY c.domain, c.name_key, c.id";
  }
  return " ORDER BY c.name_key, c.id";
}

const char* WhereArchived(ArchivedFilter f) {
  switch (f) {
    case ArchivedFilter::kActive:
      return kWhereActive;
    case ArchivedFilter::kArchived:
      return kWhereArchived;
    case ArchivedFilter::kAll:
      return kWhereAll;
  }
  return kWhereActive;
}

// LIKE pattern for a case-insensitive substring search; '!' escapes wildcards.
std::string LikePattern(const std::string& search) { return db::LikeContains(NameKey(search)); }

// What finds a contact in the global search: name, email, phone and job title.
std::vector<std::string> ContactTerms(const Contact& c) {
  return search::TermsOf({c.name, c.email, c.phone, c.job_title});
}

soci::indicator Ind(bool present) { return present ? soci::i_ok : soci::i_null; }

std::vector<std::string> ExtraDomains(soci::session& sql, int64_t id) {
  std::vector<std::string> out;
  long long cid = id;
  soci::rowset<std::string> rs =
      (sql.prepare << "SELECT domain FROM client_domains WHERE client_id = :id AND is_primary = 0 "
                      "ORDER BY domain",
       soci::use(cid));
  for (const auto& d : rs) out.push_back(d);
  return out;
}

Client ToClient(const soci::row& r) {
  Client c;
  c.id = db::RowInt(r, "id");
  c.name = db::RowText(r, "name");
  c.domain = db::RowText(r, "domain");
  c.contact_email = db::RowText(r, "contact_email");
  c.notes = db::RowText(r, "notes");
  c.archived_at = db::RowText(r, "archived_at");
  c.created_at = db::RowText(r, "created_at");
  c.updated_at = db::RowText(r, "updated_at");
  c.m365_tenant_id = db::RowText(r, "m365_tenant_id");
  c.m365_synced_at = db::RowText(r, "m365_synced_at");
  return c;
}

constexpr const char* kContactColumns =
    "SELECT id, client_id, name, email, phone, job_title, vip, portal_user, billing_recipient, "
    "primary_technical, created_at, updated_at, last_portal_sign_in_at, active, source, "
    "m365_user_id FROM contacts ";

Contact ToContact(const soci::row& r) {
  Contact c;
  c.id = db::RowInt(r, "id");
  c.client_id = db::RowInt(r, "client_id");
  c.name = db::RowText(r, "name");
  c.email = db::RowText(r, "email");
  c.phone = db::RowText(r, "phone");
  c.job_title = db::RowText(r, "job_title");
  c.roles.vip = db::RowBool(r, "vip");
  c.roles.portal_user = db::RowBool(r, "portal_user");
  c.roles.billing_recipient = db::RowBool(r, "billing_recipient");
  c.roles.primary_technical = db::RowBool(r, "primary_technical");
  c.created_at = db::RowText(r, "created_at");
  c.updated_at = db::RowText(r, "updated_at");
  c.last_portal_sign_in = db::RowOptInt(r, "last_portal_sign_in_at");
  c.active = db::RowBool(r, "active");
  c.source = db::RowText(r, "source");
  c.m365_user_id = db::RowText(r, "m365_user_id");
  return c;
}

constexpr const char* kSiteColumns =
    "SELECT s.id, s.client_id, s.name, s.address, s.notes, s.created_at, s.updated_at "
    "FROM sites s ";

Site ToSite(const soci::row& r) {
  Site s;
  s.id = db::RowInt(r, "id");
  s.client_id = db::RowInt(r, "client_id");
  s.name = db::RowText(r, "name");
  s.address = db::RowText(r, "address");
  s.notes = db::RowText(r, "notes");
  s.created_at = db::RowText(r, "created_at");
  s.updated_at = db::RowText(r, "updated_at");
  return s;
}

}  // namespace

int64_t InsertClient(soci::session& sql, const CleanClient& c, const std::string& now) {
  long long id = 0;
  std::string key = NameKey(c.name), core = NameCore(c.name);
  soci::indicator di = Ind(!c.domain.empty()), ei = Ind(!c.contact_email.empty());
  sql << "INSERT INTO clients (name, name_key, name_core, domain, contact_email, notes, "
         "created_at, updated_at) VALUES (:name, :key, :core, :domain, :email, :notes, :c, :u) "
         "RETURNING id",
      soci::use(c.name), soci::use(key), soci::use(core), soci::use(c.domain, di),
      soci::use(c.contact_email, ei), soci::use(c.notes), soci::use(now), soci::use(now),
      soci::into(id);
  return id;
}

void UpdateClient(soci::session& sql, int64_t id, const CleanClient& c, const std::string& now) {
  long long cid = id;
  std::string key = NameKey(c.name), core = NameCore(c.name);
  soci::indicator di = Ind(!c.domain.empty()), ei = Ind(!c.contact_email.empty());
  sql << "UPDATE clients SET name = :name, name_key = :key, name_core = :core, domain = :domain, "
         "contact_email = :email, notes = :notes, updated_at = :u WHERE id = :id",
      soci::use(c.name), soci::use(key), soci::use(core), soci::use(c.domain, di),
      soci::use(c.contact_email, ei), soci::use(c.notes), soci::use(now), soci::use(cid);
}

std::vector<std::string> BillingRecipientEmails(soci::session& sql, int64_t client_id) {
  long long c = client_id;
  soci::rowset<soci::row> rows =
      (sql.prepare << "SELECT email FROM contacts WHERE client_id = :c AND billing_recipient = 1 "
                      "AND email IS NOT NULL AND email <> '' ORDER BY name, id",
       soci::use(c));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(db::RowText(r, "email"));
  return out;
}

std::optional<Client> FindClient(soci::session& sql, int64_t id) {
  long long cid = id;
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kClientColumns) + " FROM clients c WHERE c.id = :id",
       soci::use(cid));
  for (const auto& r : rs) {
    Client c = ToClient(r);
    c.domains = ExtraDomains(sql, c.id);
    return c;
  }
  return std::nullopt;
}

std::optional<int64_t> FindRedirect(soci::session& sql, int64_t old_id) {
  long long oid = old_id, nid = 0;
  sql << "SELECT new_id FROM client_redirects WHERE old_id = :id", soci::use(oid), soci::into(nid);
  if (!sql.got_data()) return std::nullopt;
  return nid;
}

std::vector<Client> ListClients(soci::session& sql, const ClientQuery& q,
                                std::vector<ClientCounts>* counts) {
  std::string query = std::string(kClientColumns) +
                      (db::IsPostgres(sql) ? kExtraDomainsPostgres : kExtraDomainsSqlite) +
                      (counts ? kCountColumns : "") + " FROM clients c" +
                      WhereArchived(q.archived) + (q.search.empty() ? "" : kSearch) +
                      OrderBy(q.sort, q.descending) + " LIMIT :limit OFFSET :offset";
  std::string pattern = LikePattern(q.search);
  long long limit = q.limit, offset = q.offset;
  soci::statement st(sql);
  std::vector<Client> out;
  soci::row r;
  st.exchange(soci::into(r));
  if (!q.search.empty()) {
    st.exchange(soci::use(pattern));
    st.exchange(soci::use(pattern));
  }
  st.exchange(soci::use(limit));
  st.exchange(soci::use(offset));
  st.alloc();
  st.prepare(query);
  st.define_and_bind();
  st.execute();
  while (st.fetch()) {
    Client c = ToClient(r);
    c.domains = SplitDomains(db::RowText(r, "extra_domains"));
    if (counts) {
      counts->push_back(
          ClientCounts{db::RowInt(r, "contact_count"), db::RowInt(r, "site_count"), {}});
    }
    out.push_back(std::move(c));
  }
  return out;
}

int64_t CountClients(soci::session& sql, const ClientQuery& q) {
  std::string query = std::string("SELECT COUNT(*) FROM clients c") + WhereArchived(q.archived) +
                      (q.search.empty() ? "" : kSearch);
  std::string pattern = LikePattern(q.search);
  long long n = 0;
  if (q.search.empty()) {
    sql << query, soci::into(n);
  } else {
    sql << query, soci::use(pattern), soci::use(pattern), soci::into(n);
  }
  return n;
}

std::optional<NamedId> FindByNameKey(soci::session& sql, const std::string& name_key,
                                     int64_t exclude_id) {
  long long ex = exclude_id, id = 0;
  std::string name;
  sql << "SELECT id, name FROM clients WHERE name_key = :k AND id <> :ex ORDER BY id LIMIT 1",
      soci::use(name_key), soci::use(ex), soci::into(id), soci::into(name);
  if (!sql.got_data()) return std::nullopt;
  return NamedId{id, name};
}

std::vector<NamedId> FindAllByNameKey(soci::session& sql, const std::string& name_key) {
  std::vector<NamedId> out;
  soci::rowset<soci::row> rs =
      // Two tell "one" from "several", which is all a caller asks.
      (sql.prepare << "SELECT id, name FROM clients WHERE name_key = :k ORDER BY id LIMIT 2",
       soci::use(name_key));
  for (const auto& r : rs) out.push_back(NamedId{db::RowInt(r, 0), db::RowText(r, 1)});
  return out;
}

std::optional<NamedId> FindActiveDomainOwner(soci::session& sql, const std::string& domain,
                                             int64_t exclude_id) {
  long long ex = exclude_id, id = 0;
  std::string name;
  sql << "SELECT c.id, c.name FROM client_domains d JOIN clients c ON c.id = d.client_id "
         "WHERE d.domain = :d AND d.active = 1 AND c.id <> :ex LIMIT 1",
      soci::use(domain), soci::use(ex), soci::into(id), soci::into(name);
  if (!sql.got_data()) return std::nullopt;
  return NamedId{id, name};
}

void ReplaceDomains(soci::session& sql, int64_t id, const CleanClient& c, bool active) {
  long long cid = id;
  int act = active ? 1 : 0;
  sql << "DELETE FROM client_domains WHERE client_id = :id", soci::use(cid);
  if (!c.domain.empty()) {
    sql << "INSERT INTO client_domains (client_id, domain, is_primary, active) VALUES "
           "(:id, :d, 1, :a)",
        soci::use(cid), soci::use(c.domain), soci::use(act);
  }
  for (const auto& d : c.domains) {
    sql << "INSERT INTO client_domains (client_id, domain, is_primary, active) VALUES "
           "(:id, :d, 0, :a)",
        soci::use(cid), soci::use(d), soci::use(act);
  }
}

void SetArchived(soci::session& sql, int64_t id, const std::optional<std::string>& archived_at,
                 const std::string& now) {
  long long cid = id;
  std::string at = archived_at.value_or("");
  soci::indicator ai = Ind(archived_at.has_value());
  int active = archived_at ? 0 : 1;
  sql << "UPDATE clients SET archived_at = :a, updated_at = :u WHERE id = :id", soci::use(at, ai),
      soci::use(now), soci::use(cid);
  sql << "UPDATE client_domains SET active = :a WHERE client_id = :id", soci::use(active),
      soci::use(cid);
}

ClientCounts Counts(soci::session& sql, int64_t id) {
  long long a = id, b = id, contacts = 0, sites = 0;
  sql << "SELECT (SELECT COUNT(*) FROM contacts WHERE client_id = :a), "
         "(SELECT COUNT(*) FROM sites WHERE client_id = :b)",
      soci::use(a), soci::use(b), soci::into(contacts), soci::into(sites);
  return ClientCounts{contacts, sites, {}};
}

void DeleteClient(soci::session& sql, int64_t id) {
  long long cid = id;
  sql << "DELETE FROM client_redirects WHERE new_id = :id", soci::use(cid);
  sql << "DELETE FROM clients WHERE id = :id", soci::use(cid);
}

std::vector<DuplicateCandidate> DuplicateCandidates(soci::session& sql) {
  std::vector<DuplicateCandidate> out;
  std::map<int64_t, size_t> index;
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT id, name_key, name_core, archived_at FROM clients ORDER BY id");
  for (const auto& r : rs) {
    DuplicateCandidate c;
    c.id = db::RowInt(r, 0);
    c.name_key = db::RowText(r, 1);
    c.name_core = db::RowText(r, 2);
    c.archived = r.get_indicator(3) == soci::i_ok;
    index[c.id] = out.size();
    out.push_back(std::move(c));
  }
  soci::rowset<soci::row> ds = (sql.prepare << "SELECT client_id, domain FROM client_domains");
  for (const auto& r : ds) {
    auto it = index.find(db::RowInt(r, 0));
    if (it != index.end()) out[it->second].domains.push_back(db::RowText(r, 1));
  }
  return out;
}

std::set<IdPair> NotDuplicatePairs(soci::session& sql) {
  std::set<IdPair> out;
  soci::rowset<soci::row> rs = (sql.prepare << "SELECT low_id, high_id FROM client_not_duplicates");
  for (const auto& r : rs) out.emplace(db::RowInt(r, "low_id"), db::RowInt(r, "high_id"));
  return out;
}

void InsertNotDuplicate(soci::session& sql, int64_t low, int64_t high, const std::string& now) {
  long long lo = low, hi = high;
  sql << "INSERT INTO client_not_duplicates (low_id, high_id, created_at) VALUES (:l, :h, :n) "
         "ON CONFLICT (low_id, high_id) DO NOTHING",
      soci::use(lo), soci::use(hi), soci::use(now);
}

namespace {

// The link as `viewer` sees it.
ClientLink ViewOf(int64_t viewer, int64_t id, int64_t other, const std::string& other_name,
                  const std::string& label, std::optional<int64_t> from_id,
                  const std::string& inverse_label) {
  std::string direction = !from_id ? "undirected" : *from_id == viewer ? "outgoing" : "incoming";
  return ClientLink{id, other, other_name, label, inverse_label, direction};
}

}  // namespace

std::vector<ClientLink> ListLinks(soci::session& sql, int64_t client_id) {
  std::vector<ClientLink> out;
  long long a = client_id, b = client_id, c = client_id;
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT l.id, o.id AS other_id, o.name AS other_name, l.label, l.from_id, "
                      "l.inverse_label FROM client_links l JOIN clients o "
                      "ON o.id = CASE WHEN l.low_id = :a THEN l.high_id ELSE l.low_id END "
                      "WHERE l.low_id = :b OR l.high_id = :c ORDER BY o.name_key",
       soci::use(a), soci::use(b), soci::use(c));
  for (const auto& r : rs) {
    out.push_back(ViewOf(client_id, db::RowInt(r, "id"), db::RowInt(r, "other_id"),
                         db::RowText(r, "other_name"), db::RowText(r, "label"),
                         db::RowOptInt(r, "from_id"), db::RowText(r, "inverse_label")));
  }
  return out;
}

std::map<int64_t, std::vector<ClientLink>> LinksOf(soci::session& sql,
                                                   const std::vector<int64_t>& client_ids) {
  std::map<int64_t, std::vector<ClientLink>> out;
  if (client_ids.empty()) return out;
  // One placeholder per id (the count, never a value, shapes the text); links are
  // rare, so this reads both directions in one pass.
  // Placeholder names are never repeated: SQLite binds a repeated name once.
  auto marks = [&](const char* prefix) {
    std::string m;
    for (size_t i = 0; i < client_ids.size(); ++i)
      m += (i ? ", :" : ":") + (prefix + std::to_string(i));
    return m;
  };
  std::string query =
      "SELECT l.id, l.low_id, l.high_id, l.label, l.from_id, l.inverse_label, lo.name AS low_name, "
      "hi.name AS high_name FROM client_links l "
      "JOIN clients lo ON lo.id = l.low_id JOIN clients hi ON hi.id = l.high_id "
      "WHERE l.low_id IN (" +
      marks("a") + ") OR l.high_id IN (" + marks("b") + ") ORDER BY l.id";
  std::vector<long long> ids(client_ids.begin(), client_ids.end());
  soci::row r;
  soci::statement st(sql);
  st.exchange(soci::into(r));
  for (int pass = 0; pass < 2; ++pass) {
    for (auto& id : ids) st.exchange(soci::use(id));
  }
  st.alloc();
  st.prepare(query);
  st.define_and_bind();
  st.execute();
  std::set<int64_t> wanted(client_ids.begin(), client_ids.end());
  while (st.fetch()) {
    int64_t id = db::RowInt(r, "id"), low = db::RowInt(r, "low_id"),
            high = db::RowInt(r, "high_id");
    std::string label = db::RowText(r, "label"), inverse = db::RowText(r, "inverse_label");
    std::optional<int64_t> from = db::RowOptInt(r, "from_id");
    if (wanted.count(low)) {
      out[low].push_back(ViewOf(low, id, high, db::RowText(r, "high_name"), label, from, inverse));
    }
    if (wanted.count(high)) {
      out[high].push_back(ViewOf(high, id, low, db::RowText(r, "low_name"), label, from, inverse));
    }
  }
  return out;
}

namespace {

LinkRow ToLinkRow(const soci::row& r) {
  return LinkRow{db::RowInt(r, "id"),         db::RowInt(r, "low_id"),
                 db::RowInt(r, "high_id"),    db::RowText(r, "label"),
                 db::RowOptInt(r, "from_id"), db::RowText(r, "inverse_label")};
}

}  // namespace

std::optional<LinkRow> FindLink(soci::session& sql, int64_t link_id) {
  long long id = link_id;
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT id, low_id, high_id, label, from_id, inverse_label FROM client_links "
                      "WHERE id = :id",
       soci::use(id));
  for (const auto& r : rs) {
    return ToLinkRow(r);
  }
  return std::nullopt;
}

std::optional<LinkRow> FindLinkBetween(soci::session& sql, int64_t a, int64_t b) {
  long long low = std::min(a, b), high = std::max(a, b);
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT id, low_id, high_id, label, from_id, inverse_label FROM "
                      "client_links WHERE low_id = :l AND high_id = :h",
       soci::use(low), soci::use(high));
  for (const auto& r : rs) {
    return ToLinkRow(r);
  }
  return std::nullopt;
}

int64_t InsertLink(soci::session& sql, int64_t a, int64_t b, std::optional<int64_t> from_id,
                   const std::string& label, const std::string& inverse_label,
                   const std::string& now) {
  long long low = std::min(a, b), high = std::max(a, b), id = 0, from = from_id.value_or(0);
  soci::indicator from_ind = from_id ? soci::i_ok : soci::i_null;
  soci::indicator inverse_ind = inverse_label.empty() ? soci::i_null : soci::i_ok;
  sql << "INSERT INTO client_links (low_id, high_id, label, from_id, inverse_label, created_at) "
         "VALUES (:l, :h, :label, :f, :inv, :now) RETURNING id",
      soci::use(low), soci::use(high), soci::use(label), soci::use(from, from_ind),
      soci::use(inverse_label, inverse_ind), soci::use(now), soci::into(id);
  return id;
}

void DeleteLink(soci::session& sql, int64_t link_id) {
  long long id = link_id;
  sql << "DELETE FROM client_links WHERE id = :id", soci::use(id);
}

void LockClients(soci::session& sql, std::vector<int64_t> ids) {
  if (!db::IsPostgres(sql)) return;
  std::sort(ids.begin(), ids.end());
  for (int64_t id : ids) {
    long long cid = id, got = 0;
    sql << "SELECT id FROM clients WHERE id = :id FOR UPDATE", soci::use(cid), soci::into(got);
  }
}

std::vector<MergeContact> ContactsForMerge(soci::session& sql, const std::vector<int64_t>& ids) {
  std::vector<MergeContact> out;
  for (int64_t client_id : ids) {
    long long cid = client_id;
    soci::rowset<soci::row> rs =
        (sql.prepare << "SELECT id, client_id, email_key, vip, portal_user, billing_recipient, "
                        "primary_technical FROM contacts WHERE client_id = :id ORDER BY id",
         soci::use(cid));
    for (const auto& r : rs) {
      MergeContact c;
      c.id = db::RowInt(r, 0);
      c.client_id = db::RowInt(r, 1);
      c.email_key = db::RowText(r, 2);
      c.roles =
          ContactRoles{db::RowBool(r, 3), db::RowBool(r, 4), db::RowBool(r, 5), db::RowBool(r, 6)};
      out.push_back(std::move(c));
    }
  }
  return out;
}

void MoveContact(soci::session& sql, int64_t contact_id, int64_t client_id) {
  long long id = contact_id, cid = client_id;
  sql << "UPDATE contacts SET client_id = :c WHERE id = :id", soci::use(cid), soci::use(id);
}

void SetContactRoles(soci::session& sql, int64_t contact_id, const ContactRoles& roles,
                     const std::string& now) {
  long long id = contact_id;
  int vip = roles.vip, portal = roles.portal_user, billing = roles.billing_recipient,
      primary = roles.primary_technical;
  sql << "UPDATE contacts SET vip = :v, portal_user = :p, billing_recipient = :b, "
         "primary_technical = :t, updated_at = :u WHERE id = :id",
      soci::use(vip), soci::use(portal), soci::use(billing), soci::use(primary), soci::use(now),
      soci::use(id);
}

void DeleteContact(soci::session& sql, int64_t contact_id) {
  long long id = contact_id;
  sql << "DELETE FROM contacts WHERE id = :id", soci::use(id);
}

void MoveSites(soci::session& sql, int64_t from_id, const std::string& from_name, int64_t to_id) {
  long long from = from_id, to = to_id;
  std::vector<std::pair<long long, std::string>> sites;
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT id, name FROM sites WHERE client_id = :f", soci::use(from));
  for (const auto& r : rs) sites.emplace_back(db::RowInt(r, 0), db::RowText(r, 1));
  for (auto& [id, name] : sites) {
    std::string new_name = name;
    for (int n = 1;; ++n) {
      std::string key = NameKey(new_name);
      long long clash = 0;
      sql << "SELECT COUNT(*) FROM sites WHERE client_id = :t AND name_key = :k", soci::use(to),
          soci::use(key), soci::into(clash);
      if (clash == 0) break;
      new_name = name;
      new_name.append(" (from ").append(from_name);
      if (n > 1) new_name.append(" ").append(std::to_string(n));
      new_name.append(")");
    }
    std::string key = NameKey(new_name);
    sql << "UPDATE sites SET client_id = :t, name = :n, name_key = :k WHERE id = :id",
        soci::use(to), soci::use(new_name), soci::use(key), soci::use(id);
  }
}

void MoveLinks(soci::session& sql, int64_t from_id, int64_t to_id, const std::string& now) {
  std::vector<LinkRow> links;
  long long a = from_id, b = from_id;
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT id, low_id, high_id, label, from_id, inverse_label FROM "
                      "client_links WHERE low_id = :a OR high_id = :b",
       soci::use(a), soci::use(b));
  for (const auto& r : rs) {
    links.push_back(ToLinkRow(r));
  }
  for (const auto& l : links) {
    int64_t other = l.low_id == from_id ? l.high_id : l.low_id;
    DeleteLink(sql, l.id);
    if (other == to_id || FindLinkBetween(sql, other, to_id)) continue;
    // The direction stays with the organisation: the survivor takes the merged side.
    std::optional<int64_t> direction = l.from_id;
    if (direction && *direction == from_id) direction = to_id;
    InsertLink(sql, other, to_id, direction, l.label, l.inverse_label, now);
  }
}

void MoveDomains(soci::session& sql, int64_t from_id, int64_t to_id, bool to_active) {
  long long from = from_id, to = to_id;
  int active = to_active ? 1 : 0;
  // The survivor keeps its own primary; moved domains become extra domains.
  sql << "DELETE FROM client_domains WHERE client_id = :f AND domain IN "
         "(SELECT domain FROM client_domains WHERE client_id = :t)",
      soci::use(from), soci::use(to);
  sql << "UPDATE client_domains SET client_id = :t, is_primary = 0, active = :a "
         "WHERE client_id = :f",
      soci::use(to), soci::use(active), soci::use(from);
}

void AddRedirect(soci::session& sql, int64_t old_id, int64_t new_id) {
  long long o = old_id, n = new_id;
  sql << "UPDATE client_redirects SET new_id = :n WHERE new_id = :o", soci::use(n), soci::use(o);
  sql << "INSERT INTO client_redirects (old_id, new_id) VALUES (:o, :n)", soci::use(o),
      soci::use(n);
}

std::vector<Contact> ListContacts(soci::session& sql, int64_t client_id, int64_t offset,
                                  int64_t limit) {
  std::vector<Contact> out;
  long long cid = client_id, off = offset, lim = limit;
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kContactColumns) +
                          "WHERE client_id = :c ORDER BY name, id LIMIT :l OFFSET :o",
       soci::use(cid), soci::use(lim), soci::use(off));
  for (const auto& r : rs) out.push_back(ToContact(r));
  return out;
}

int64_t CountContacts(soci::session& sql, int64_t client_id) {
  long long cid = client_id, n = 0;
  sql << "SELECT COUNT(*) FROM contacts WHERE client_id = :c", soci::use(cid), soci::into(n);
  return n;
}

std::optional<Contact> FindContact(soci::session& sql, int64_t id) {
  long long cid = id;
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kContactColumns) + "WHERE id = :id", soci::use(cid));
  for (const auto& r : rs) return ToContact(r);
  return std::nullopt;
}

std::vector<ContactHit> ContactsByIds(soci::session& sql, const std::vector<int64_t>& ids) {
  std::vector<ContactHit> out;
  for (int64_t id : ids) {
    long long cid = id;
    soci::rowset<soci::row> rs =
        (sql.prepare
             << "SELECT p.id, p.client_id, p.name, p.email, p.phone, p.job_title, p.vip, "
                "p.portal_user, p.billing_recipient, p.primary_technical, p.created_at, "
                "p.updated_at, p.last_portal_sign_in_at, p.active, p.source, p.m365_user_id, "
                "c.name AS client_name, c.archived_at "
                "FROM contacts p "
                "JOIN clients c ON c.id = p.client_id WHERE p.id = :id",
         soci::use(cid));
    for (const auto& r : rs) {
      out.push_back(
          {ToContact(r), db::RowText(r, "client_name"), !db::RowIsNull(r, "archived_at")});
    }
  }
  return out;
}

std::vector<ContactHit> AllContacts(soci::session& sql) {
  std::vector<ContactHit> out;
  soci::rowset<soci::row> rs =
      (sql.prepare
       << "SELECT p.id, p.client_id, p.name, p.email, p.phone, p.job_title, p.vip, "
          "p.portal_user, p.billing_recipient, p.primary_technical, p.created_at, "
          "p.updated_at, p.last_portal_sign_in_at, p.active, p.source, p.m365_user_id, "
          "c.name AS client_name, c.archived_at "
          "FROM contacts p "
          "JOIN clients c ON c.id = p.client_id ORDER BY c.name_key, c.id, p.name, p.id");
  for (const auto& r : rs) {
    out.push_back({ToContact(r), db::RowText(r, "client_name"), !db::RowIsNull(r, "archived_at")});
  }
  return out;
}

void ReindexContacts(soci::session& sql) {
  std::vector<Contact> all;
  soci::rowset<soci::row> rs = (sql.prepare << std::string(kContactColumns));
  for (const auto& r : rs) all.push_back(ToContact(r));
  for (const auto& c : all) search::SetTerms(sql, search::Kind::kContact, c.id, ContactTerms(c));
}

std::optional<int64_t> FindContactByEmail(soci::session& sql, int64_t client_id,
                                          const std::string& email_key, int64_t exclude_id) {
  long long cid = client_id, ex = exclude_id, id = 0;
  sql << "SELECT id FROM contacts WHERE client_id = :c AND email_key = :k AND id <> :ex",
      soci::use(cid), soci::use(email_key), soci::use(ex), soci::into(id);
  if (!sql.got_data()) return std::nullopt;
  return id;
}

std::vector<std::pair<int64_t, int64_t>> ContactsAtActiveClients(
    soci::session& sql, const std::string& email_key, std::map<int64_t, std::string>* names) {
  std::vector<std::pair<int64_t, int64_t>> out;
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT k.id, k.client_id, c.name FROM contacts k JOIN clients c ON c.id = "
                      "k.client_id WHERE k.email_key = :k AND c.archived_at IS NULL ORDER BY k.id",
       soci::use(email_key));
  for (const auto& r : rs) {
    out.emplace_back(db::RowInt(r, 0), db::RowInt(r, 1));
    if (names) (*names)[db::RowInt(r, 1)] = db::RowText(r, 2);
  }
  return out;
}

int64_t InsertContact(soci::session& sql, const Contact& c, const std::string& now) {
  long long cid = c.client_id, id = 0;
  std::string key = NameKey(c.email);
  int vip = c.roles.vip, portal = c.roles.portal_user, billing = c.roles.billing_recipient,
      primary = c.roles.primary_technical;
  sql << "INSERT INTO contacts (client_id, name, email, email_key, phone, job_title, vip, "
         "portal_user, billing_recipient, primary_technical, created_at, updated_at) VALUES "
         "(:c, :n, :e, :k, :p, :j, :v, :pu, :b, :pt, :ca, :ua) RETURNING id",
      soci::use(cid), soci::use(c.name), soci::use(c.email), soci::use(key), soci::use(c.phone),
      soci::use(c.job_title), soci::use(vip), soci::use(portal), soci::use(billing),
      soci::use(primary), soci::use(now), soci::use(now), soci::into(id);
  search::AddTerms(sql, search::Kind::kContact, id, ContactTerms(c));
  return id;
}

void UpdateContact(soci::session& sql, const Contact& c, const std::string& now) {
  long long id = c.id;
  std::string key = NameKey(c.email);
  int vip = c.roles.vip, portal = c.roles.portal_user, billing = c.roles.billing_recipient,
      primary = c.roles.primary_technical;
  sql << "UPDATE contacts SET name = :n, email = :e, email_key = :k, phone = :p, job_title = :j, "
         "vip = :v, portal_user = :pu, billing_recipient = :b, primary_technical = :pt, "
         "updated_at = :u WHERE id = :id",
      soci::use(c.name), soci::use(c.email), soci::use(key), soci::use(c.phone),
      soci::use(c.job_title), soci::use(vip), soci::use(portal), soci::use(billing),
      soci::use(primary), soci::use(now), soci::use(id);
  search::SetTerms(sql, search::Kind::kContact, c.id, ContactTerms(c));
}

void ClearPrimaryTechnical(soci::session& sql, int64_t client_id, int64_t except_id) {
  long long cid = client_id, ex = except_id;
  sql << "UPDATE contacts SET primary_technical = 0 WHERE client_id = :c AND id <> :ex "
         "AND primary_technical = 1",
      soci::use(cid), soci::use(ex);
}

std::vector<Site> ListSites(soci::session& sql, int64_t client_id, int64_t offset, int64_t limit) {
  std::vector<Site> out;
  long long cid = client_id, off = offset, lim = limit;
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kSiteColumns) +
                          "WHERE s.client_id = :c ORDER BY s.name_key, s.id LIMIT :l OFFSET :o",
       soci::use(cid), soci::use(lim), soci::use(off));
  for (const auto& r : rs) out.push_back(ToSite(r));
  return out;
}

int64_t CountSites(soci::session& sql, int64_t client_id) {
  long long cid = client_id, n = 0;
  sql << "SELECT COUNT(*) FROM sites WHERE client_id = :c", soci::use(cid), soci::into(n);
  return n;
}

std::optional<Site> FindSite(soci::session& sql, int64_t id) {
  long long sid = id;
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kSiteColumns) + "WHERE s.id = :id", soci::use(sid));
  for (const auto& r : rs) return ToSite(r);
  return std::nullopt;
}

std::optional<int64_t> FindSiteByName(soci::session& sql, int64_t client_id,
                                      const std::string& name_key, int64_t exclude_id) {
  long long cid = client_id, ex = exclude_id, id = 0;
  sql << "SELECT id FROM sites WHERE client_id = :c AND name_key = :k AND id <> :ex",
      soci::use(cid), soci::use(name_key), soci::use(ex), soci::into(id);
  if (!sql.got_data()) return std::nullopt;
  return id;
}

int64_t InsertSite(soci::session& sql, const Site& s, const std::string& now) {
  long long cid = s.client_id, id = 0;
  std::string key = NameKey(s.name);
  sql << "INSERT INTO sites (client_id, name, name_key, address, notes, created_at, updated_at) "
         "VALUES (:c, :n, :k, :a, :no, :ca, :ua) RETURNING id",
      soci::use(cid), soci::use(s.name), soci::use(key), soci::use(s.address), soci::use(s.notes),
      soci::use(now), soci::use(now), soci::into(id);
  return id;
}

void UpdateSite(soci::session& sql, const Site& s, const std::string& now) {
  long long id = s.id;
  std::string key = NameKey(s.name);
  sql << "UPDATE sites SET name = :n, name_key = :k, address = :a, notes = :no, updated_at = :u "
         "WHERE id = :id",
      soci::use(s.name), soci::use(key), soci::use(s.address), soci::use(s.notes), soci::use(now),
      soci::use(id);
}

void DeleteSite(soci::session& sql, int64_t id) {
  long long sid = id;
  // Rows of other features that point at the site let go by their own foreign
  // key (ON DELETE SET NULL): endpoints return to the client's pool.
  sql << "DELETE FROM sites WHERE id = :id", soci::use(sid);
}

void SetTenantId(soci::session& sql, int64_t client_id, const std::string& tenant_id) {
  long long id = client_id;
  soci::indicator ti = Ind(!tenant_id.empty());
  sql << "UPDATE clients SET m365_tenant_id = :t WHERE id = :id", soci::use(tenant_id, ti),
      soci::use(id);
}

std::optional<NamedId> FindByTenantId(soci::session& sql, const std::string& tenant_id) {
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT id, name FROM clients WHERE m365_tenant_id = :t",
       soci::use(tenant_id));
  for (const auto& r : rs) return NamedId{db::RowInt(r, "id"), db::RowText(r, "name")};
  return std::nullopt;
}

void SetSyncedAt(soci::session& sql, int64_t client_id, const std::string& at) {
  long long id = client_id;
  sql << "UPDATE clients SET m365_synced_at = :a WHERE id = :id", soci::use(at), soci::use(id);
}

void SetContactM365(soci::session& sql, int64_t contact_id, const std::string& user_id,
                    const std::string& source, bool active) {
  long long id = contact_id;
  int a = active ? 1 : 0;
  soci::indicator ui = Ind(!user_id.empty());
  sql << "UPDATE contacts SET m365_user_id = :u, source = :s, active = :a WHERE id = :id",
      soci::use(user_id, ui), soci::use(source), soci::use(a), soci::use(id);
}

void FoldContactM365(soci::session& sql, int64_t gone, int64_t kept) {
  long long g = gone, k = kept;
  std::string user_id, kept_user;
  soci::indicator gi = soci::i_null, ki = soci::i_null;
  sql << "SELECT m365_user_id FROM contacts WHERE id = :g", soci::use(g), soci::into(user_id, gi);
  sql << "SELECT m365_user_id FROM contacts WHERE id = :k", soci::use(k), soci::into(kept_user, ki);
  if (gi != soci::i_ok || ki == soci::i_ok) return;
  sql << "UPDATE contacts SET m365_user_id = NULL WHERE id = :g", soci::use(g);
  sql << "UPDATE contacts SET m365_user_id = :u, source = 'm365' WHERE id = :k", soci::use(user_id),
      soci::use(k);
}

}  // namespace opsmerge::clients::store
