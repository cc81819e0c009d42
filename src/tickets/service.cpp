#include "tickets/service.h"

#include <nlohmann/json.hpp>
#include <soci/soci.h>

#include "platform/errors.h"
#include "platform/outbox.h"
#include "platform/search_terms.h"
#include "platform/settings.h"
#include "platform/text.h"
#include "tickets/store.h"

namespace opsmerge::tickets {

namespace {

using nlohmann::json;

json Snapshot(const Ticket& t) {
  auto opt = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(); };
  return {{"number", t.number},
          {"subject", t.subject},
          {"client_id", opt(t.client_id)},
          {"contact_id", opt(t.contact_id)},
          {"status", StatusName(t.status)},
          {"priority", PriorityName(t.priority)},
          {"assignee_id", opt(t.assignee_id)},
          {"endpoint_id", opt(t.endpoint_id)},
          {"site_id", opt(t.site_id)}};
}

Ticket Found(soci::session& sql, int64_t id) {
  auto t = store::FindTicket(sql, id);
  if (!t) throw NotFound("Ticket");
  return *t;
}

// "12", "#12": a ticket number.
std::optional<int64_t> NumberOf(const std::string& q) {
  std::string s = text::Trim(q);
  if (!s.empty() && s[0] == '#') s.erase(0, 1);
  if (s.empty() || s.size() > 15 || s.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoll(s);
}

}  // namespace

std::vector<std::pair<int64_t, std::string>> TicketService::Assignees(const staff::Actor& actor) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::vector<std::pair<int64_t, std::string>> out;
  db_.Read([&](soci::session& sql) { out = store::ActiveStaff(sql); });
  return out;
}

SlaTargets StoredSla(soci::session& sql) {
  SlaTargets t;
  if (auto v = settings::Get(sql, "sla")) t = ParseSlaTargets(*v);
  if (auto v = settings::Get(sql, "business_hours")) t.hours = ParseBusinessHours(*v);
  return t;
}

void TicketService::System(soci::session& sql, const Ticket& t, const std::string& text,
                           const std::string& now) {
  Entry e;
  e.kind = EntryKind::kSystem;
  e.body = text;
  e.from = "OpsMerge";
  e.created_at = now;
  store::InsertEntry(sql, t.id, e);
}

void TicketService::CheckRelations(const staff::Actor& actor, const Ticket& t) {
  auto wrong = [](const std::string& field, const std::string& what) {
    return ValidationError(field, "That " + what + " belongs to another client");
  };
  if ((t.contact_id || t.endpoint_id || t.site_id) && !t.client_id) {
    throw ValidationError("client_id", "Choose the client first");
  }
  if (t.client_id) {
    clients::ClientDetail c = clients_.Get(actor, *t.client_id);
    if (c.client.archived()) {
      throw ValidationError("client_id", c.client.name + " is archived: unarchive it first");
    }
  }
  if (t.contact_id && clients_.GetContact(actor, *t.contact_id).client_id != *t.client_id) {
    throw wrong("contact_id", "contact");
  }
  if (t.endpoint_id && rmm_.GetEndpoint(actor, *t.endpoint_id).client_id != *t.client_id) {
    throw wrong("endpoint_id", "endpoint");
  }
  if (t.site_id && clients_.GetSite(actor, *t.site_id).client_id != *t.client_id) {
    throw wrong("site_id", "site");
  }
}

Ticket TicketService::Create(const staff::Actor& actor, const NewTicket& in) {
  staff::Require(actor, staff::Permission::kWorkTickets);
  Ticket t;
  t.subject = ValidSubject(in.subject);
  t.description = ValidDescription(in.description);
  t.client_id = in.client_id;
  t.contact_id = in.contact_id;
  t.endpoint_id = in.endpoint_id;
  t.site_id = in.site_id;
  t.assignee_id = in.assignee_id;
  t.source = in.source;
  if (in.priority) {
    auto p = ParsePriority(*in.priority);
    if (!p) throw ValidationError("priority", "priority must be low, normal, high or urgent");
    t.priority = *p;
  }
  int64_t now = clock_.NowUnix();
  std::string now_iso = FormatIsoUtc(now);
  db_.Write([&](db::Tx& tx) {
    soci::session& sql = tx.sql();
    CheckRelations(actor, t);
    if (t.contact_id && clients_.GetContact(actor, *t.contact_id).roles.vip) {
      // P3: a VIP's ticket starts one priority higher, at least High.
      t.vip = true;
      t.priority = VipPriority(t.priority);
    }
    if (t.assignee_id && !store::ActiveStaffName(sql, *t.assignee_id)) {
      throw ValidationError("assignee_id", "No active staff member has that id");
    }
    DueTimes due = DueFor(now, t.priority, StoredSla(sql));
    t.first_response_due_at = due.first_response;
    t.resolution_due_at = due.resolution;
    t.number = store::NextNumber(sql);
    t.id = store::InsertTicket(sql, t, now_iso);
    System(sql, t,
           std::string("Opened by ") + actor.name + " (" + SourceName(t.source) + ")" +
               (t.vip ? ", VIP contact: priority " + std::string(PriorityLabel(t.priority)) : ""),
           now_iso);
    audit_.Write(
        sql, actor.Who(),
        {"create", "ticket", t.id, t.client_id,
         "Opened ticket #" + std::to_string(t.number) + " " + t.subject, "", Snapshot(t).dump()});
    t = Found(sql, t.id);
  });
  return t;
}

Ticket TicketService::Get(const staff::Actor& actor, int64_t id) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::optional<Ticket> t;
  db_.Read([&](soci::session& sql) { t = store::FindTicket(sql, id); });
  if (!t) throw NotFound("Ticket");
  return *t;
}

TicketPage TicketService::List(const staff::Actor& actor, const TicketQuery& q) {
  staff::Require(actor, staff::Permission::kReadClients);
  store::Filter f;
  if (q.client_id) clients_.Get(actor, *q.client_id);  // NotFound, or ClientMerged (moved)
  f.client_id = q.client_id;
  f.endpoint_id = q.endpoint_id;
  f.triage = q.triage;
  if (q.status == "active") {
    f.statuses = {"new", "open", "waiting_on_client"};
  } else if (q.status == "done") {
    f.statuses = {"resolved", "closed"};
  } else if (!q.status.empty()) {
    if (!ParseStatus(q.status)) {
      throw ValidationError("status",
                            "status must be new, open, waiting_on_client, resolved, closed, "
                            "active or done");
    }
    f.statuses = {q.status};
  }
  if (!q.priority.empty() && !ParsePriority(q.priority)) {
    throw ValidationError("priority", "priority must be low, normal, high or urgent");
  }
  f.priority = q.priority;
  f.assignee_id = q.mine ? std::optional<int64_t>(actor.user_id) : q.assignee_id;
  if (q.sla != "" && q.sla != "breached" && q.sla != "due_soon") {
    throw ValidationError("sla", "sla must be breached or due_soon");
  }
  f.sla = q.sla;
  f.now = clock_.NowUnix();
  static const std::set<std::string> kSorts = {"number", "priority", "due", "updated"};
  std::string key = !q.sort.empty() && q.sort[0] == '-' ? q.sort.substr(1) : q.sort;
  if (!q.sort.empty() && !kSorts.count(key)) {
    throw ValidationError("sort", "sort must be number, priority, due or updated");
  }
  f.sort = q.sort;
  TicketPage page;
  db_.Read([&](soci::session& sql) {
    if (!text::Trim(q.q).empty()) {
      f.searched = true;
      f.number = NumberOf(q.q);
      f.words = search::QueryWords(q.q);
      // The rarest word (fewer than 20,000 tickets have it) drives the query; the
      // others are checked per ticket.
      constexpr int64_t kRare = 20000;
      int64_t fewest = kRare;
      size_t rarest = f.words.size();
      for (size_t i = 0; i < f.words.size(); ++i) {
        int64_t n = search::CountPrefix(sql, search::Kind::kTicket, f.words[i], kRare);
        if (n < fewest) {
          fewest = n;
          rarest = i;
        }
      }
      f.rare.assign(f.words.size(), false);
      if (rarest < f.words.size()) f.rare[rarest] = true;
    }
    page.items = store::ListTickets(sql, f, q.offset, q.limit);
    page.total =
        q.with_total ? store::CountTickets(sql, f) : static_cast<int64_t>(page.items.size());
  });
  return page;
}

std::vector<Ticket> TicketService::Search(const staff::Actor& actor, const std::string& query,
                                          int limit) {
  TicketQuery q;
  q.q = query;
  q.limit = limit;
  q.with_total = false;
  if (text::Trim(query).empty()) return {};
  return List(actor, q).items;
}

Ticket TicketService::Update(const staff::Actor& actor, int64_t id, const TicketPatch& patch) {
  staff::Require(actor, staff::Permission::kWorkTickets);
  int64_t now = clock_.NowUnix();
  std::string now_iso = FormatIsoUtc(now);
  Ticket t;
  db_.Write([&](db::Tx& tx) {
    soci::session& sql = tx.sql();
    Ticket before = Found(sql, id);
    t = before;
    std::vector<std::string> changes;
    if (patch.subject) t.subject = ValidSubject(*patch.subject);
    if (patch.status) {
      auto s = ParseStatus(*patch.status);
      if (!s) {
        throw ValidationError("status",
                              "status must be new, open, waiting_on_client, resolved or closed");
      }
      t.status = *s;
      if (IsDone(t.status) && !IsDone(before.status)) t.resolved_at = now;
      if (!IsDone(t.status)) t.resolved_at.reset();
    }
    if (patch.priority) {
      auto p = ParsePriority(*patch.priority);
      if (!p) throw ValidationError("priority", "priority must be low, normal, high or urgent");
      t.priority = *p;
      if (t.priority != before.priority) {
        // The SLA follows the new priority, from when the ticket was opened.
        DueTimes due = DueFor(ParseIsoUtc(t.created_at), t.priority, StoredSla(sql));
        t.first_response_due_at = due.first_response;
        t.resolution_due_at = due.resolution;
      }
    }
    if (patch.client_id) {
      if (!*patch.client_id) throw ValidationError("client_id", "A ticket keeps its client");
      if (*patch.client_id != before.client_id) {
        // A new client: what belonged to the old one does not come along.
        t.client_id = *patch.client_id;
        t.contact_id.reset();
        t.endpoint_id.reset();
        t.site_id.reset();
      }
    }
    if ((patch.add_sender_contact || patch.add_sender_domain) && !before.client_id && t.client_id) {
      std::string sender = store::FirstMailSender(sql, id);
      auto email = text::NormalizeEmail(sender);
      if (!email) throw ValidationError("client_id", "This ticket has no sender's address to add");
      if (patch.add_sender_domain) {
        clients::ClientDetail c = clients_.GetIn(tx, actor, *t.client_id);
        std::string domain = email->substr(email->find('@') + 1);
        if (c.client.domain != domain && std::find(c.client.domains.begin(), c.client.domains.end(),
                                                   domain) == c.client.domains.end()) {
          clients::ClientInput in;
          std::vector<std::string> domains = c.client.domains;
          domains.push_back(domain);
          if (c.client.domain.empty()) {
            in.domain = domain;
          } else {
            in.domains = domains;
          }
          clients_.Update(actor, *t.client_id, in, true);
        }
      }
      if (patch.add_sender_contact) {
        std::optional<int64_t> existing;
        for (const auto& [contact, client] : clients_.MatchSenderIn(tx, *email).contacts) {
          if (client == *t.client_id) existing = contact;
        }
        t.contact_id = existing ? *existing
                                : clients_.AddMailContactIn(tx, actor, *t.client_id, "", *email).id;
      }
    }
    if (patch.contact_id) t.contact_id = *patch.contact_id;
    if (patch.endpoint_id) t.endpoint_id = *patch.endpoint_id;
    if (patch.site_id) t.site_id = *patch.site_id;
    if (patch.assignee_id) {
      t.assignee_id = *patch.assignee_id;
      if (t.assignee_id && !store::ActiveStaffName(sql, *t.assignee_id)) {
        throw ValidationError("assignee_id", "No active staff member has that id");
      }
    }
    CheckRelations(actor, t);
    store::UpdateTicket(sql, t, now_iso, t.subject != before.subject);
    Ticket after = Found(sql, id);
    auto note = [&](const std::string& what, const std::string& from, const std::string& to) {
      if (from != to) {
        changes.push_back(what + ": " + (from.empty() ? "none" : from) + " → " +
                          (to.empty() ? "none" : to));
      }
    };
    note("Subject", before.subject, after.subject);
    note("Status", StatusLabel(before.status), StatusLabel(after.status));
    note("Priority", PriorityLabel(before.priority), PriorityLabel(after.priority));
    note("Client", before.client_name, after.client_name);
    note("Contact", before.contact_name, after.contact_name);
    note("Assignee", before.assignee_name, after.assignee_name);
    note("Endpoint", before.endpoint_name, after.endpoint_name);
    note("Site", before.site_name, after.site_name);
    if (!changes.empty()) {
      std::string text;
      for (const auto& c : changes) text += (text.empty() ? "" : "; ") + c;
      System(sql, after, text + " (" + actor.name + ")", now_iso);
      audit_.Write(sql, actor.Who(),
                   {"update", "ticket", id, after.client_id,
                    "Changed ticket #" + std::to_string(after.number), Snapshot(before).dump(),
                    Snapshot(after).dump()});
    }
    t = after;
  });
  return t;
}

int64_t TicketService::UpdateMany(const staff::Actor& actor, const std::vector<int64_t>& ids,
                                  const TicketPatch& patch) {
  staff::Require(actor, staff::Permission::kWorkTickets);
  if (ids.empty()) throw ValidationError("ids", "Tick the tickets to change");
  if (ids.size() > 500) throw ValidationError("ids", "Change at most 500 tickets at once");
  if (!patch.status && !patch.assignee_id) {
    throw ValidationError("status", "Choose a status or an assignee");
  }
  int64_t changed = 0;
  db_.Write([&](db::Tx&) {
    for (int64_t id : std::set<int64_t>(ids.begin(), ids.end())) {
      Update(actor, id, patch);
      ++changed;
    }
  });
  return changed;
}

std::string TicketService::MailSender(const staff::Actor& actor, int64_t id) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::string out;
  db_.Read([&](soci::session& sql) {
    Found(sql, id);
    out = store::FirstMailSender(sql, id);
  });
  return text::NormalizeEmail(out) ? out : "";
}

Entry TicketService::Reply(const staff::Actor& actor, int64_t id, const std::string& body) {
  return AddEntry(actor, id, EntryKind::kPublic, body);
}

Entry TicketService::Note(const staff::Actor& actor, int64_t id, const std::string& body) {
  return AddEntry(actor, id, EntryKind::kInternal, body);
}

Entry TicketService::AddEntry(const staff::Actor& actor, int64_t id, EntryKind kind,
                              const std::string& body) {
  staff::Require(actor, staff::Permission::kWorkTickets);
  const bool reply = kind == EntryKind::kPublic;
  Entry e;
  e.kind = kind;
  e.body = ValidBody(body, "body");
  e.from = actor.name;
  int64_t now = clock_.NowUnix();
  e.created_at = FormatIsoUtc(now);
  db_.Write([&](soci::session& sql) {
    Ticket t = Found(sql, id);
    if (reply && !t.client_id) {
      throw ValidationError("client_id", "Choose the ticket's client before replying");
    }
    e.id = store::InsertEntry(sql, id, e,
                              actor.user_id ? std::optional<int64_t>(actor.user_id) : std::nullopt);
    if (reply) {
      if (!t.first_responded_at) t.first_responded_at = now;
      if (t.status == Status::kNew) t.status = Status::kOpen;
    }
    store::UpdateTicket(sql, t, e.created_at);  // updated_at, and a reply's marks
    // T2: a public reply is emailed to the contact, queued in this transaction.
    std::string from = settings::Get(sql, "mail_from").value_or("");
    std::vector<std::string> to;
    if (!t.contact_email.empty()) to.push_back(t.contact_email);
    for (const auto& p : store::Participants(sql, id)) {
      if (text::FoldCase(p) != text::FoldCase(from) &&
          text::FoldCase(p) != text::FoldCase(t.contact_email)) {
        to.push_back(p);
      }
    }
    if (reply && !to.empty() && !from.empty()) {
      outbox::Mail mail;
      mail.from = from;
      mail.to = to;
      mail.subject = "Re: [#" + std::to_string(t.number) + "] " + t.subject;
      mail.body = outbox::Fill(
          settings::Get(sql, "reply_template").value_or(std::string(outbox::kReplyTemplate)),
          {{"body", e.body},
           {"number", std::to_string(t.number)},
           {"subject", t.subject},
           {"name", t.contact_name},
           {"technician", actor.name}});
      mail.ref = "ticket:" + std::to_string(t.id);
      mail.references = outbox::SentFor(sql, mail.ref);
      if (!mail.references.empty()) mail.in_reply_to = mail.references.back();
      outbox::Enqueue(sql, mail, now);
    }
    std::string number = "#" + std::to_string(t.number);
    audit_.Write(
        sql, actor.Who(),
        {reply ? "reply" : "note", "ticket", id, t.client_id,
         reply ? "Replied on ticket " + number : "Added an internal note on ticket " + number, "",
         ""});
  });
  return e;
}

std::vector<Entry> TicketService::Entries(const staff::Actor& actor, int64_t id) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::vector<Entry> out;
  db_.Read([&](soci::session& sql) {
    Found(sql, id);
    out = store::ListEntriesWithFiles(sql, id);
  });
  return out;
}

AttachmentFile TicketService::GetAttachment(const staff::Actor& actor, int64_t ticket_id,
                                            int64_t attachment_id) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::optional<std::pair<Attachment, std::string>> found;
  db_.Read([&](soci::session& sql) { found = store::FindAttachment(sql, attachment_id); });
  // The file's own ticket decides, not the address it was asked for under.
  if (!found || found->first.ticket_id != ticket_id) throw NotFound("Attachment");
  return {found->first, std::move(found->second)};
}

std::vector<std::string> TicketService::Participants(const staff::Actor& actor, int64_t id) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::vector<std::string> out;
  db_.Read([&](soci::session& sql) {
    Found(sql, id);
    out = store::Participants(sql, id);
  });
  return out;
}

TimeEntry TicketService::LogTime(const staff::Actor& actor, int64_t id,
                                 const TimeEntryInput& input) {
  staff::Require(actor, staff::Permission::kWorkTickets);
  TimeEntryInput in = ValidTimeEntry(input);
  std::string now_iso = FormatIsoUtc(clock_.NowUnix());
  TimeEntry e;
  e.ticket_id = id;
  e.staff_id = actor.user_id ? std::optional<int64_t>(actor.user_id) : std::nullopt;
  e.staff_name = actor.name;
  e.minutes = in.minutes;
  e.date = in.date;
  e.billable = in.billable;
  e.note = in.note;
  e.created_at = now_iso;
  db_.Write([&](soci::session& sql) {
    Ticket t = Found(sql, id);
    e.id = store::InsertTimeEntry(sql, e, now_iso);
    audit_.Write(
        sql, actor.Who(),
        {"log_time", "ticket", id, t.client_id,
         "Logged " + std::to_string(in.minutes) + " min on ticket #" + std::to_string(t.number), "",
         ""});
  });
  return e;
}

std::vector<TimeEntry> TicketService::TimeEntries(const staff::Actor& actor, int64_t id) {
  staff::Require(actor, staff::Permission::kReadClients);
  std::vector<TimeEntry> out;
  db_.Read([&](soci::session& sql) {
    Found(sql, id);
    out = store::ListTimeEntries(sql, id);
  });
  return out;
}

std::string TicketService::CloseResolved() {
  int64_t now = clock_.NowUnix();
  std::string now_iso = FormatIsoUtc(now);
  int64_t closed = 0;
  db_.Write([&](soci::session& sql) {
    int64_t days = 7;
    if (auto v = settings::Get(sql, "auto_close_days")) {
      if (!v->empty() && v->size() < 5 && v->find_first_not_of("0123456789") == std::string::npos) {
        days = std::stoll(*v);
      }
    }
    if (days == 0) return;  // 0: never close by themselves
    long long before = now - days * 86400;
    std::vector<long long> ids;
    soci::rowset<long long> rs =
        (sql.prepare << "SELECT id FROM tickets WHERE status = 'resolved' AND resolved_at < :b",
         soci::use(before));
    for (long long id : rs) ids.push_back(id);
    for (long long id : ids) {
      Ticket t = Found(sql, id);
      t.status = Status::kClosed;
      store::UpdateTicket(sql, t, now_iso);
      System(sql, t, "Closed: resolved " + std::to_string(days) + " days ago", now_iso);
      ++closed;
    }
  });
  return std::to_string(closed) + " resolved tickets closed";
}

int64_t TicketService::BillableMinutesIn(db::Tx& tx, int64_t client_id, const std::string& from,
                                         const std::string& to) {
  return store::BillableMinutes(tx.sql(), client_id, from, to);
}

}  // namespace opsmerge::tickets
