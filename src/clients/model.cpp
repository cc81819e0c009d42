#include "clients/model.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "platform/errors.h"
#include "platform/text.h"

namespace opsmerge::clients {

namespace {

std::string CleanText(const std::string& field, const std::string& label, std::string_view value,
                      size_t max, bool multiline) {
  return text::CleanField(field, label, value, max, multiline);
}

std::string CleanDomain(const std::string& field, std::string_view value) {
  std::string v = text::Trim(value);
  if (v.empty()) return "";
  // A pasted web address or email address gives its domain (C-field cleaning).
  auto d = text::DomainFromPasted(v);
  if (!d) throw ValidationError(field, "\"" + v + "\" is not a domain name, like acmecorp.co.uk");
  return *d;
}

const std::set<std::string>& FillerWords() {
  static const std::set<std::string> words = {
      "the",     "ltd",   "limited",  "inc", "incorporated", "corp", "corporation", "co",
      "company", "llc",   "llp",      "plc", "gmbh",         "ag",   "sa",          "bv",
      "pty",     "group", "holdings", "and", "services",     "uk",   "cic"};
  return words;
}

}  // namespace

std::string CleanName(std::string_view name) { return text::CollapseWhitespace(name); }

std::string InverseLabel(std::string_view label) {
  static const std::map<std::string, std::string> kInverse = {
      {"subsidiary of", "Parent of"},
      {"parent of", "Subsidiary of"},
      {"parent company of", "Subsidiary of"},
      {"owned by", "Owner of"},
      {"owner of", "Owned by"},
      {"owns", "Owned by"},
      {"managed by", "Manages"},
      {"manages", "Managed by"},
      {"division of", "Has division"},
      {"has division", "Division of"},
      {"branch of", "Has branch"},
      {"has branch", "Branch of"},
      {"franchise of", "Franchisor of"},
      {"franchisor of", "Franchise of"},
      {"billed through", "Bills for"},
      {"bills for", "Billed through"},
      {"supplier of", "Customer of"},
      {"customer of", "Supplier of"},
      {"sister company of", "Sister company of"},
      {"partner of", "Partner of"},
      {"same group as", "Same group as"},
      {"related to", "Related to"},
  };
  auto it = kInverse.find(text::FoldCase(text::CollapseWhitespace(label)));
  return it == kInverse.end() ? "" : it->second;
}

std::string NameKey(std::string_view name) {
  return text::FoldCase(text::CollapseWhitespace(name));
}

std::string NameCore(std::string_view name) {
  std::string key = NameKey(name);
  std::string spaced;
  for (char c : key) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '&') {
      spaced += " and ";
    } else if (u >= 0x80 || std::isalnum(u)) {
      spaced += c;
    } else if (c == '.' || c == '\'') {
      // "Co." -> "co", "O'Neil" -> "oneil"
    } else {
      spaced += ' ';
    }
  }
  std::string core;
  std::string word;
  auto flush = [&]() {
    if (!word.empty() && !FillerWords().count(word)) core += word;
    word.clear();
  };
  for (char c : spaced) {
    if (c == ' ') {
      flush();
    } else {
      word += c;
    }
  }
  flush();
  // A name made only of filler words ("The Company Ltd") keeps its plain key.
  if (core.empty()) {
    for (char c : spaced) {
      if (c != ' ') core += c;
    }
  }
  return core;
}

CleanClient ValidateClient(const ClientInput& input, const Client* existing) {
  CleanClient out;
  if (existing) {
    out.name = existing->name;
    out.domain = existing->domain;
    out.domains = existing->domains;
    out.contact_email = existing->contact_email;
    out.notes = existing->notes;
  }
  if (input.name || !existing) {
    out.name = CleanText("name", "Name", input.name.value_or(""), kMaxName, false);
    if (out.name.empty()) throw ValidationError("name", "Name is required");
  }
  if (input.domain) out.domain = CleanDomain("domain", *input.domain);
  if (input.contact_email) {
    std::string e = text::Trim(*input.contact_email);
    if (e.empty()) {
      out.contact_email.clear();
    } else {
      auto n = text::NormalizeEmail(text::EmailFromPasted(e));
      if (!n || e.size() > kMaxShort) {
        throw ValidationError("contact_email",
                              "Enter a valid email address, like it@acmecorp.co.uk");
      }
      out.contact_email = *n;
    }
  }
  if (input.domains) {
    if (input.domains->size() > kMaxDomains) {
      throw ValidationError(
          "domains", "A client can have at most " + std::to_string(kMaxDomains) + " extra domains");
    }
    out.domains.clear();
    for (const auto& d : *input.domains) {
      std::string clean = CleanDomain("domains", d);
      if (!clean.empty()) out.domains.push_back(clean);
    }
  }
  if (input.notes) out.notes = CleanText("notes", "Notes", *input.notes, kMaxNotes, true);
  // Extra domains never repeat each other or the primary.
  std::vector<std::string> unique;
  for (const auto& d : out.domains) {
    if (d != out.domain && std::find(unique.begin(), unique.end(), d) == unique.end()) {
      unique.push_back(d);
    }
  }
  out.domains = std::move(unique);
  return out;
}

void ValidateMergeRequest(int64_t survivor_id, const std::vector<int64_t>& merged_ids) {
  if (survivor_id <= 0) throw ValidationError("survivor_id", "Choose the client to keep");
  if (merged_ids.empty()) {
    throw ValidationError("merged_ids", "Choose at least one other client to merge into it");
  }
  std::set<int64_t> seen;
  for (int64_t id : merged_ids) {
    if (id == survivor_id) {
      throw ValidationError("merged_ids", "The client to keep cannot also be merged away");
    }
    if (id <= 0 || !seen.insert(id).second) {
      throw ValidationError("merged_ids", "Each client to merge must be listed once");
    }
  }
}

ContactMergePlan PlanContactMerge(int64_t survivor_id, const std::vector<MergeContact>& contacts) {
  ContactMergePlan plan;
  std::map<std::string, int64_t> kept_by_email;
  std::map<int64_t, ContactRoles> roles;
  bool have_primary = false;
  // The survivor's own contacts stay as they are and win email clashes.
  for (const auto& c : contacts) {
    if (c.client_id != survivor_id) continue;
    kept_by_email[c.email_key] = c.id;
    roles[c.id] = c.roles;
    have_primary = have_primary || c.roles.primary_technical;
  }
  for (const auto& c : contacts) {
    if (c.client_id == survivor_id) continue;
    ContactRoles r = c.roles;
    auto it = kept_by_email.find(c.email_key);
    int64_t kept = c.id;
    if (it != kept_by_email.end()) {
      kept = it->second;
      plan.fold_into[c.id] = kept;
      ContactRoles& k = roles[kept];
      k.vip = k.vip || r.vip;
      k.portal_user = k.portal_user || r.portal_user;
      k.billing_recipient = k.billing_recipient || r.billing_recipient;
      if (r.primary_technical && !have_primary) {
        k.primary_technical = true;
        have_primary = true;
      }
    } else {
      plan.move.push_back(c.id);
      kept_by_email[c.email_key] = c.id;
      if (r.primary_technical) {
        if (have_primary) r.primary_technical = false;
        have_primary = true;
      }
      roles[c.id] = r;
    }
  }
  for (const auto& c : contacts) {
    auto it = roles.find(c.id);
    if (it == roles.end()) continue;
    const ContactRoles& now = it->second;
    if (now.vip != c.roles.vip || now.portal_user != c.roles.portal_user ||
        now.billing_recipient != c.roles.billing_recipient ||
        now.primary_technical != c.roles.primary_technical) {
      plan.new_roles[c.id] = now;
    }
  }
  return plan;
}

Contact ValidateContact(const ContactInput& input, const Contact* existing) {
  Contact c;
  if (existing) c = *existing;
  if (input.name || !existing) {
    c.name = CleanText("name", "Name", input.name.value_or(""), kMaxName, false);
    if (c.name.empty()) throw ValidationError("name", "Name is required");
  }
  if (input.email || !existing) {
    std::string e = text::Trim(input.email.value_or(""));
    if (e.empty()) throw ValidationError("email", "Email is required");
    auto n = text::NormalizeEmail(text::EmailFromPasted(e));
    if (!n || e.size() > kMaxShort) {
      throw ValidationError("email", "Enter a valid email address, like jo@acmecorp.co.uk");
    }
    c.email = *n;
  }
  if (input.phone) c.phone = CleanText("phone", "Phone", *input.phone, 50, false);
  if (input.job_title) {
    c.job_title = CleanText("job_title", "Job title", *input.job_title, kMaxName, false);
  }
  if (input.vip) c.roles.vip = *input.vip;
  if (input.portal_user) c.roles.portal_user = *input.portal_user;
  if (input.billing_recipient) c.roles.billing_recipient = *input.billing_recipient;
  if (input.primary_technical) c.roles.primary_technical = *input.primary_technical;
  return c;
}

Site ValidateSite(const SiteInput& input, const Site* existing) {
  Site s;
  if (existing) s = *existing;
  if (input.name || !existing) {
    s.name = CleanText("name", "Name", input.name.value_or(""), kMaxName, false);
    if (s.name.empty()) throw ValidationError("name", "Name is required");
  }
  if (input.address) s.address = CleanText("address", "Address", *input.address, kMaxAddress, true);
  if (input.notes) s.notes = CleanText("notes", "Notes", *input.notes, kMaxNotes, true);
  return s;
}

std::vector<DuplicateGroup> FindDuplicates(const std::vector<DuplicateCandidate>& clients,
                                           const std::set<IdPair>& not_duplicates) {
  const std::vector<std::string> kReasons = {"same_name", "same_domain", "similar_name"};
  std::map<std::string, std::vector<size_t>> by_name, by_core, by_domain;
  for (size_t i = 0; i < clients.size(); ++i) {
    by_name[clients[i].name_key].push_back(i);
    if (!clients[i].name_core.empty()) by_core[clients[i].name_core].push_back(i);
    for (const auto& d : clients[i].domains) by_domain[d].push_back(i);
  }
  // Union-find over the clients; each join remembers why.
  std::vector<size_t> parent(clients.size());
  for (size_t i = 0; i < parent.size(); ++i) parent[i] = i;
  auto find = [&](size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  std::map<size_t, std::set<int>> why;  // by member index, merged into roots at the end
  auto join = [&](int reason, const std::vector<size_t>& members) {
    // Every pair of a bucket, so one dismissed pair does not split the rest; a
    // bucket past 64 members (not a real duplicate set) is chained instead.
    const bool chain = members.size() > 64;
    for (size_t x = 0; x < members.size(); ++x) {
      for (size_t y = x + 1; y < members.size() && (!chain || y == x + 1); ++y) {
        size_t a = members[x], b = members[y];
        int64_t lo = std::min(clients[a].id, clients[b].id);
        int64_t hi = std::max(clients[a].id, clients[b].id);
        if (lo == hi || not_duplicates.count({lo, hi})) continue;
        why[a].insert(reason);
        why[b].insert(reason);
        parent[find(a)] = find(b);
      }
    }
  };
  for (const auto& [key, members] : by_name) join(0, members);
  for (const auto& [domain, members] : by_domain) join(1, members);
  for (const auto& [core, members] : by_core) {
    // Members of a core bucket with the same name are already joined as same_name.
    std::set<std::string> names;
    for (size_t m : members) names.insert(clients[m].name_key);
    if (names.size() > 1) join(2, members);
  }
  std::map<size_t, DuplicateGroup> components;
  std::map<size_t, std::set<int>> reasons;
  std::map<size_t, bool> any_active;
  for (size_t i = 0; i < clients.size(); ++i) {
    auto it = why.find(i);
    if (it == why.end()) continue;  // joined to nobody
    size_t root = find(i);
    components[root].client_ids.push_back(clients[i].id);
    reasons[root].insert(it->second.begin(), it->second.end());
    any_active[root] = any_active[root] || !clients[i].archived;
  }
  std::vector<DuplicateGroup> groups;
  for (auto& [root, g] : components) {
    if (g.client_ids.size() < 2 || !any_active[root]) continue;
    std::sort(g.client_ids.begin(), g.client_ids.end());
    for (int r : reasons[root]) g.reasons.push_back(kReasons[static_cast<size_t>(r)]);
    g.reason = g.reasons.empty() ? "same_name" : g.reasons.front();
    groups.push_back(std::move(g));
  }
  std::sort(groups.begin(), groups.end(), [](const DuplicateGroup& a, const DuplicateGroup& b) {
    return a.client_ids.front() < b.client_ids.front();
  });
  return groups;
}

std::optional<ArchivedFilter> ParseArchivedFilter(std::string_view text) {
  if (text.empty() || text == "false" || text == "active") return ArchivedFilter::kActive;
  if (text == "true" || text == "archived") return ArchivedFilter::kArchived;
  if (text == "all") return ArchivedFilter::kAll;
  return std::nullopt;
}

std::optional<ClientSort> ParseClientSort(std::string_view text) {
  if (text.empty() || text == "name") return ClientSort::kName;
  if (text == "created") return ClientSort::kCreated;
  if (text == "updated") return ClientSort::kUpdated;
  if (text == "domain") return ClientSort::kDomain;
  return std::nullopt;
}

std::optional<bool> ParseYesNo(std::string_view value) {
  std::string v = text::FoldCase(text::Trim(value));
  if (v.empty() || v == "no" || v == "n" || v == "false" || v == "0") return false;
  if (v == "yes" || v == "y" || v == "true" || v == "1" || v == "x") return true;
  return std::nullopt;
}

std::optional<std::string> NormalizeTenantId(std::string_view input) {
  std::string t = text::FoldCase(text::Trim(input));
  if (t.size() != 36) return std::nullopt;
  for (size_t i = 0; i < t.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? t[i] != '-' : !std::isxdigit(static_cast<unsigned char>(t[i]))) return std::nullopt;
  }
  return t;
}

}  // namespace opsmerge::clients
