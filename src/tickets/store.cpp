#include "tickets/store.h"

#include <map>

#include <soci/soci.h>

#include "platform/crypto.h"
#include "platform/db.h"
#include "platform/search_terms.h"

namespace opsmerge::tickets::store {

namespace {

// A ticket row with the names its lists and page show.
constexpr const char* kColumns =
    "SELECT t.id, t.number, t.subject, t.description, t.client_id, c.name AS client_name, "
    "t.contact_id, p.name AS contact_name, p.email AS contact_email, t.status, t.priority, t.vip, "
    "t.assignee_id, u.name AS assignee_name, t.endpoint_id, e.hostname AS endpoint_name, "
    "t.site_id, s.name AS site_name, t.source, t.first_response_due_at, t.resolution_due_at, "
    "t.first_responded_at, t.resolved_at, t.created_at, t.updated_at FROM tickets t "
    "LEFT JOIN clients c ON c.id = t.client_id LEFT JOIN contacts p ON p.id = t.contact_id "
    "LEFT JOIN staff_users u ON u.id = t.assignee_id LEFT JOIN endpoints e ON e.id = t.endpoint_id "
    "LEFT JOIN sites s ON s.id = t.site_id ";

Ticket ToTicket(const soci::row& r) {
  Ticket t;
  t.id = db::RowInt(r, "id");
  t.number = db::RowInt(r, "number");
  t.subject = db::RowText(r, "subject");
  t.description = db::RowText(r, "description");
  t.client_id = db::RowOptInt(r, "client_id");
  t.client_name = db::RowText(r, "client_name");
  t.contact_id = db::RowOptInt(r, "contact_id");
  t.contact_name = db::RowText(r, "contact_name");
  t.contact_email = db::RowText(r, "contact_email");
  t.status = ParseStatus(db::RowText(r, "status")).value_or(Status::kNew);
  t.priority = ParsePriority(db::RowText(r, "priority")).value_or(Priority::kNormal);
  t.vip = db::RowBool(r, "vip");
  t.assignee_id = db::RowOptInt(r, "assignee_id");
  t.assignee_name = db::RowText(r, "assignee_name");
  t.endpoint_id = db::RowOptInt(r, "endpoint_id");
  t.endpoint_name = db::RowText(r, "endpoint_name");
  t.site_id = db::RowOptInt(r, "site_id");
  t.site_name = db::RowText(r, "site_name");
  t.source = ParseSource(db::RowText(r, "source")).value_or(Source::kStaff);
  t.first_response_due_at = db::RowOptInt(r, "first_response_due_at");
  t.resolution_due_at = db::RowOptInt(r, "resolution_due_at");
  t.first_responded_at = db::RowOptInt(r, "first_responded_at");
  t.resolved_at = db::RowOptInt(r, "resolved_at");
  t.created_at = db::RowText(r, "created_at");
  t.updated_at = db::RowText(r, "updated_at");
  return t;
}

soci::indicator Ind(bool present) { return present ? soci::i_ok : soci::i_null; }

// The values of a ticket's columns, kept alive for the statement's binds.
struct Row {
  long long client_id, contact_id, assignee_id, endpoint_id, site_id;
  long long frd, rd, fra, ra;
  soci::indicator client_i, contact_i, assignee_i, endpoint_i, site_i, frd_i, rd_i, fra_i, ra_i;
  int vip;
  std::string status, priority, source;
  explicit Row(const Ticket& t)
      : client_id(t.client_id.value_or(0)),
        contact_id(t.contact_id.value_or(0)),
        assignee_id(t.assignee_id.value_or(0)),
        endpoint_id(t.endpoint_id.value_or(0)),
        site_id(t.site_id.value_or(0)),
        frd(t.first_response_due_at.value_or(0)),
        rd(t.resolution_due_at.value_or(0)),
        fra(t.first_responded_at.value_or(0)),
        ra(t.resolved_at.value_or(0)),
        client_i(Ind(t.client_id.has_value())),
        contact_i(Ind(t.contact_id.has_value())),
        assignee_i(Ind(t.assignee_id.has_value())),
        endpoint_i(Ind(t.endpoint_id.has_value())),
        site_i(Ind(t.site_id.has_value())),
        frd_i(Ind(t.first_response_due_at.has_value())),
        rd_i(Ind(t.resolution_due_at.has_value())),
        fra_i(Ind(t.first_responded_at.has_value())),
        ra_i(Ind(t.resolved_at.has_value())),
        vip(t.vip ? 1 : 0),
        status(StatusName(t.status)),
        priority(PriorityName(t.priority)),
        source(SourceName(t.source)) {}
};

std::vector<std::string> TicketTerms(const Ticket& t) {
  return search::TermsOf({t.subject, std::to_string(t.number)});
}

// WHERE fragments, all constant; the values are bound in the same order (Bind).
std::string Where(const Filter& f) {
  std::string w = " WHERE 1 = 1";
  if (f.triage) {
    w += " AND t.client_id IS NULL";
  } else if (f.client_id) {
    w += " AND t.client_id = :client_id";
  }
  if (f.endpoint_id) w += " AND t.endpoint_id = :endpoint_id";
  if (!f.statuses.empty()) {
    w += " AND t.status IN (";
    for (size_t i = 0; i < f.statuses.size(); ++i) {
      w += (i ? ", :s" : ":s") + std::to_string(i);
    }
    w += ")";
  }
  if (!f.priority.empty()) w += " AND t.priority = :priority";
  if (f.assignee_id)
    w += *f.assignee_id == 0 ? " AND t.assignee_id IS NULL" : " AND t.assignee_id = :assignee";
  if (f.searched) {
    // The number typed, or every word a prefix of a term of the ticket's subject: the
    // queue's own filters and order apply to all the matches (no cap, a true total).
    w += " AND (t.number = :number";
    if (!f.words.empty()) {
      w += " OR (1 = 1";
      // A rare word's few tickets are looked up by the word; a common word is checked
      // per ticket while the tickets are read newest first (the page fills at once).
      for (size_t i = 0; i < f.words.size(); ++i) {
        std::string n = std::to_string(i);
        bool rare = i < f.rare.size() && f.rare[i];
        w.append(rare ? " AND t.id IN (SELECT ticket_id FROM ticket_terms WHERE term >= :lo"
                      : " AND EXISTS (SELECT 1 FROM ticket_terms x WHERE x.ticket_id = t.id AND "
                        "x.term >= :lo")
            .append(n)
            .append(rare ? " AND term < :hi" : " AND x.term < :hi")
            .append(n)
            .append(")");
      }
      w += ")";
    }
    w += ")";
  }
  // The SLA runs on active tickets only (status IN: the queue index, not a scan).
  if (f.sla == "breached") {
    w += " AND t.status IN ('new', 'open', 'waiting_on_client') AND ((t.first_responded_at IS "
         "NULL AND t.first_response_due_at < :now1) OR t.resolution_due_at < :now2)";
  } else if (f.sla == "due_soon") {
    w += " AND t.status IN ('new', 'open', 'waiting_on_client') AND ((t.first_responded_at IS "
         "NULL AND t.first_response_due_at BETWEEN :now1 AND :soon1) OR t.resolution_due_at "
         "BETWEEN :now2 "
         "AND :soon2)";
  }
  if (f.on_contact_id) {
    w += " AND (t.contact_id = :on_contact OR t.contact_id IN (SELECT id FROM contacts WHERE "
         "LOWER(email) = :on_email1) OR EXISTS (SELECT 1 FROM ticket_participants tp WHERE "
         "tp.ticket_id = t.id AND LOWER(tp.email) = :on_email2))";
  }
  return w;
}

struct Binds {
  long long client_id = 0, endpoint_id = 0, assignee = 0, number = 0, now = 0, soon = 0;
  long long on_contact = 0;
  std::string on_email;
  std::vector<std::string> statuses;
  std::string priority;
  std::vector<std::string> bounds;  // lo, hi per word
};

void Bind(soci::statement& st, const Filter& f, Binds& b) {
  b.client_id = f.client_id.value_or(0);
  b.statuses = f.statuses;
  b.priority = f.priority;
  b.assignee = f.assignee_id.value_or(0);
  b.number = f.number.value_or(-1);
  b.bounds.clear();
  b.bounds.reserve(f.words.size() * 2);
  for (const auto& word : f.words) {
    b.bounds.push_back(word);
    b.bounds.push_back(search::PrefixEnd(word));
  }
  b.now = f.now;
  b.soon = f.now + 3600;
  b.endpoint_id = f.endpoint_id.value_or(0);
  if (!f.triage && f.client_id) st.exchange(soci::use(b.client_id));
  if (f.endpoint_id) st.exchange(soci::use(b.endpoint_id));
  for (auto& s : b.statuses) st.exchange(soci::use(s));
  if (!f.priority.empty()) st.exchange(soci::use(b.priority));
  if (f.assignee_id && *f.assignee_id != 0) st.exchange(soci::use(b.assignee));
  if (f.searched) {
    st.exchange(soci::use(b.number));
    for (auto& bound : b.bounds) st.exchange(soci::use(bound));
  }
  if (f.sla == "breached") {
    st.exchange(soci::use(b.now));
    st.exchange(soci::use(b.now));
  } else if (f.sla == "due_soon") {
    st.exchange(soci::use(b.now));
    st.exchange(soci::use(b.soon));
    st.exchange(soci::use(b.now));
    st.exchange(soci::use(b.soon));
  }
  if (f.on_contact_id) {
    b.on_contact = *f.on_contact_id;
    b.on_email = f.on_email;
    st.exchange(soci::use(b.on_contact));
    st.exchange(soci::use(b.on_email));
    st.exchange(soci::use(b.on_email));
  }
}

// A whitelisted ORDER BY: the sort name never reaches the SQL text itself.
std::string OrderBy(const std::string& sort) {
  bool desc = !sort.empty() && sort[0] == '-';
  std::string key = desc ? sort.substr(1) : sort;
  std::string dir = desc ? " DESC" : "";
  if (key == "priority") {
    return " ORDER BY CASE t.priority WHEN 'urgent' THEN 4 WHEN 'high' THEN 3 WHEN 'normal' THEN 2 "
           "ELSE 1 END" +
           std::string(desc ? "" : " DESC") + ", t.id DESC";
  }
  if (key == "due")
    return " ORDER BY t.resolution_due_at IS NULL, t.resolution_due_at" + dir + ", t.id";
  if (key == "updated") return " ORDER BY t.updated_at" + dir + ", t.id" + dir;
  // Newest first by default.
  return std::string(" ORDER BY t.id") + (key == "number" && !desc ? "" : " DESC");
}

}  // namespace

int64_t NextNumber(soci::session& sql) {
  long long n = 0;
  sql << "UPDATE counters SET value = value + 1 WHERE name = 'ticket_number' RETURNING value",
      soci::into(n);
  return n;
}

int64_t InsertTicket(soci::session& sql, const Ticket& t, const std::string& now) {
  Row v(t);
  long long number = t.number, id = 0;
  sql << "INSERT INTO tickets (number, subject, description, client_id, contact_id, status, "
         "priority, vip, assignee_id, endpoint_id, site_id, source, first_response_due_at, "
         "resolution_due_at, created_at, updated_at) VALUES (:n, :s, :d, :c, :p, :st, :pr, :v, "
         ":a, :e, :si, :so, :frd, :rd, :ca, :ua) RETURNING id",
      soci::use(number), soci::use(t.subject), soci::use(t.description),
      soci::use(v.client_id, v.client_i), soci::use(v.contact_id, v.contact_i), soci::use(v.status),
      soci::use(v.priority), soci::use(v.vip), soci::use(v.assignee_id, v.assignee_i),
      soci::use(v.endpoint_id, v.endpoint_i), soci::use(v.site_id, v.site_i), soci::use(v.source),
      soci::use(v.frd, v.frd_i), soci::use(v.rd, v.rd_i), soci::use(now), soci::use(now),
      soci::into(id);
  search::AddTerms(sql, search::Kind::kTicket, id, TicketTerms(t));
  return id;
}

void UpdateTicket(soci::session& sql, const Ticket& t, const std::string& now,
                  bool subject_changed) {
  Row v(t);
  long long id = t.id;
  sql << "UPDATE tickets SET subject = :s, client_id = :c, contact_id = :p, status = :st, "
         "priority = :pr, vip = :v, assignee_id = :a, endpoint_id = :e, site_id = :si, "
         "first_response_due_at = :frd, resolution_due_at = :rd, first_responded_at = :fra, "
         "resolved_at = :ra, updated_at = :u WHERE id = :id",
      soci::use(t.subject), soci::use(v.client_id, v.client_i),
      soci::use(v.contact_id, v.contact_i), soci::use(v.status), soci::use(v.priority),
      soci::use(v.vip), soci::use(v.assignee_id, v.assignee_i),
      soci::use(v.endpoint_id, v.endpoint_i), soci::use(v.site_id, v.site_i),
      soci::use(v.frd, v.frd_i), soci::use(v.rd, v.rd_i), soci::use(v.fra, v.fra_i),
      soci::use(v.ra, v.ra_i), soci::use(now), soci::use(id);
  if (subject_changed) search::SetTerms(sql, search::Kind::kTicket, t.id, TicketTerms(t));
}

std::optional<Ticket> FindTicket(soci::session& sql, int64_t id) {
  long long tid = id;
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kColumns) + "WHERE t.id = :id", soci::use(tid));
  for (const auto& r : rs) return ToTicket(r);
  return std::nullopt;
}

std::vector<Ticket> ListTickets(soci::session& sql, const Filter& f, int64_t offset,
                                int64_t limit) {
  std::vector<Ticket> out;
  long long lim = limit, off = offset;
  Binds b;
  soci::row r;
  soci::statement st(sql);
  st.exchange(soci::into(r));
  Bind(st, f, b);
  st.exchange(soci::use(lim));
  st.exchange(soci::use(off));
  st.alloc();
  // The page's ids first, from the tickets table and its indexes alone; then the
  // names of those few rows. (Joining first would look up every matching ticket's
  // client, contact ... before sorting: 30,000 active tickets cost 90 ms, not 2.)
  st.prepare(std::string(kColumns) + "WHERE t.id IN (SELECT t.id FROM tickets t" + Where(f) +
             OrderBy(f.sort) + " LIMIT :limit OFFSET :offset)" + OrderBy(f.sort));
  st.define_and_bind();
  st.execute();
  while (st.fetch()) out.push_back(ToTicket(r));
  return out;
}

int64_t CountTickets(soci::session& sql, const Filter& f) {
  long long n = 0;
  Binds b;
  soci::statement st(sql);
  st.exchange(soci::into(n));
  Bind(st, f, b);
  st.alloc();
  // A search's total is counted up to kSearchCountCap (a word in every tenth subject
  // of a million tickets would otherwise cost a scan per page view).
  st.prepare(f.searched ? "SELECT COUNT(*) FROM (SELECT 1 FROM tickets t" + Where(f) + " LIMIT " +
                              std::to_string(kSearchCountCap + 1) + ") capped"
                        : "SELECT COUNT(*) FROM tickets t" + Where(f));
  st.define_and_bind();
  st.execute(true);
  return n;
}

int64_t InsertEntry(soci::session& sql, int64_t ticket_id, const Entry& e,
                    std::optional<int64_t> author_id) {
  long long tid = ticket_id, aid = author_id.value_or(0), id = 0;
  soci::indicator ai = Ind(author_id.has_value());
  std::string k = EntryKindName(e.kind);
  int via_mail = e.from_mail ? 1 : 0;
  sql << "INSERT INTO ticket_entries (ticket_id, kind, body, author_id, author_name, created_at, "
         "via_mail) VALUES (:t, :k, :b, :a, :n, :c, :m) RETURNING id",
      soci::use(tid), soci::use(k), soci::use(e.body), soci::use(aid, ai), soci::use(e.from),
      soci::use(e.created_at), soci::use(via_mail), soci::into(id);
  return id;
}

std::vector<Entry> ListEntries(soci::session& sql, int64_t ticket_id) {
  std::vector<Entry> out;
  long long tid = ticket_id;
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT id, kind, body, author_name, created_at, via_mail FROM "
                      "ticket_entries WHERE ticket_id = :t ORDER BY id",
       soci::use(tid));
  for (const auto& r : rs) {
    Entry e;
    e.id = db::RowInt(r, "id");
    std::string k = db::RowText(r, "kind");
    e.kind = k == "public"     ? EntryKind::kPublic
             : k == "internal" ? EntryKind::kInternal
                               : EntryKind::kSystem;
    e.body = db::RowText(r, "body");
    e.from = db::RowText(r, "author_name");
    e.created_at = db::RowText(r, "created_at");
    e.from_mail = db::RowBool(r, "via_mail");
    out.push_back(std::move(e));
  }
  return out;
}

int64_t InsertAttachment(soci::session& sql, const Attachment& a, const std::string& content,
                         const std::string& now) {
  long long tid = a.ticket_id, eid = a.entry_id, size = static_cast<long long>(content.size()),
            id = 0;
  std::string encoded = crypto::Base64(content);
  sql << "INSERT INTO ticket_attachments (ticket_id, entry_id, filename, content_type, size, "
         "content, created_at) VALUES (:t, :e, :f, :ct, :s, :c, :now) RETURNING id",
      soci::use(tid), soci::use(eid), soci::use(a.filename), soci::use(a.content_type),
      soci::use(size), soci::use(encoded), soci::use(now), soci::into(id);
  return id;
}

namespace {
Attachment ToAttachment(const soci::row& r) {
  Attachment a;
  a.id = db::RowInt(r, "id");
  a.ticket_id = db::RowInt(r, "ticket_id");
  a.entry_id = db::RowInt(r, "entry_id");
  a.filename = db::RowText(r, "filename");
  a.content_type = db::RowText(r, "content_type");
  a.size = db::RowInt(r, "size");
  return a;
}
constexpr const char* kAttachmentCols =
    "SELECT id, ticket_id, entry_id, filename, content_type, size";
}  // namespace

std::vector<Attachment> ListAttachments(soci::session& sql, int64_t ticket_id) {
  std::vector<Attachment> out;
  long long tid = ticket_id;
  soci::rowset<soci::row> rs = (sql.prepare << std::string(kAttachmentCols) +
                                                   " FROM ticket_attachments WHERE ticket_id = :t "
                                                   "ORDER BY id",
                                soci::use(tid));
  for (const auto& r : rs) out.push_back(ToAttachment(r));
  return out;
}

std::vector<Entry> ListEntriesWithFiles(soci::session& sql, int64_t ticket_id) {
  std::vector<Entry> out = ListEntries(sql, ticket_id);
  std::map<int64_t, Entry*> by_id;
  for (Entry& e : out) by_id[e.id] = &e;
  for (Attachment& a : ListAttachments(sql, ticket_id)) {
    if (auto it = by_id.find(a.entry_id); it != by_id.end()) {
      it->second->attachments.push_back(std::move(a));
    }
  }
  return out;
}

std::optional<std::pair<Attachment, std::string>> FindAttachment(soci::session& sql, int64_t id) {
  long long aid = id;
  soci::rowset<soci::row> rs =
      (sql.prepare << std::string(kAttachmentCols) +
                          ", content FROM ticket_attachments WHERE id = :id",
       soci::use(aid));
  for (const auto& r : rs) {
    return std::make_pair(ToAttachment(r), crypto::FromBase64(db::RowText(r, "content")));
  }
  return std::nullopt;
}

void AddParticipant(soci::session& sql, int64_t ticket_id, const std::string& email) {
  long long tid = ticket_id;
  sql << "INSERT INTO ticket_participants (ticket_id, email) VALUES (:t, :e) "
         "ON CONFLICT DO NOTHING",
      soci::use(tid), soci::use(email);
}

std::vector<std::string> Participants(soci::session& sql, int64_t ticket_id) {
  std::vector<std::string> out;
  long long tid = ticket_id;
  soci::rowset<std::string> rs =
      (sql.prepare << "SELECT email FROM ticket_participants WHERE ticket_id = :t ORDER BY email",
       soci::use(tid));
  for (const auto& e : rs) out.push_back(e);
  return out;
}

std::string ClientName(soci::session& sql, int64_t client_id) {
  long long id = client_id;
  std::string name;
  sql << "SELECT name FROM clients WHERE id = :id", soci::use(id), soci::into(name);
  return name;
}

std::optional<int64_t> TicketIdByNumber(soci::session& sql, int64_t number) {
  long long n = number, id = 0;
  sql << "SELECT id FROM tickets WHERE number = :n", soci::use(n), soci::into(id);
  if (!sql.got_data()) return std::nullopt;
  return id;
}

std::string FirstMailSender(soci::session& sql, int64_t ticket_id) {
  long long tid = ticket_id;
  std::string name;
  sql << "SELECT author_name FROM ticket_entries WHERE ticket_id = :t AND kind = 'public' AND "
         "via_mail = 1 ORDER BY id LIMIT 1",
      soci::use(tid), soci::into(name);
  return sql.got_data() ? name : "";
}

int64_t InsertTimeEntry(soci::session& sql, const TimeEntry& e, const std::string& now) {
  long long tid = e.ticket_id, sid = e.staff_id.value_or(0), minutes = e.minutes, id = 0;
  soci::indicator si = Ind(e.staff_id.has_value());
  int billable = e.billable ? 1 : 0;
  sql << "INSERT INTO time_entries (ticket_id, staff_id, staff_name, minutes, work_date, billable, "
         "note, created_at) VALUES (:t, :s, :n, :m, :d, :b, :note, :c) RETURNING id",
      soci::use(tid), soci::use(sid, si), soci::use(e.staff_name), soci::use(minutes),
      soci::use(e.date), soci::use(billable), soci::use(e.note), soci::use(now), soci::into(id);
  return id;
}

std::vector<TimeEntry> ListTimeEntries(soci::session& sql, int64_t ticket_id) {
  std::vector<TimeEntry> out;
  long long tid = ticket_id;
  soci::rowset<soci::row> rs =
      (sql.prepare
           << "SELECT id, ticket_id, staff_id, staff_name, minutes, work_date, billable, "
              "note, created_at FROM time_entries WHERE ticket_id = :t ORDER BY work_date, id",
       soci::use(tid));
  for (const auto& r : rs) {
    TimeEntry e;
    e.id = db::RowInt(r, "id");
    e.ticket_id = db::RowInt(r, "ticket_id");
    e.staff_id = db::RowOptInt(r, "staff_id");
    e.staff_name = db::RowText(r, "staff_name");
    e.minutes = db::RowInt(r, "minutes");
    e.date = db::RowText(r, "work_date");
    e.billable = db::RowBool(r, "billable");
    e.note = db::RowText(r, "note");
    e.created_at = db::RowText(r, "created_at");
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<std::pair<int64_t, std::string>> ActiveStaff(soci::session& sql) {
  std::vector<std::pair<int64_t, std::string>> out;
  soci::rowset<soci::row> rs =
      (sql.prepare << "SELECT id, name FROM staff_users WHERE disabled = 0 ORDER BY name, id");
  for (const auto& r : rs) out.emplace_back(db::RowInt(r, "id"), db::RowText(r, "name"));
  return out;
}

namespace {
std::optional<std::string> ActiveStaffColumn(soci::session& sql, int64_t staff_id,
                                             const char* column_select) {
  long long id = staff_id;
  soci::rowset<soci::row> rs = (sql.prepare << column_select, soci::use(id));
  for (const auto& r : rs) return db::RowText(r, 0);
  return std::nullopt;
}
}  // namespace

std::optional<std::string> ActiveStaffName(soci::session& sql, int64_t staff_id) {
  return ActiveStaffColumn(sql, staff_id,
                           "SELECT name FROM staff_users WHERE id = :id AND disabled = 0");
}

std::optional<std::string> ActiveStaffEmail(soci::session& sql, int64_t staff_id) {
  return ActiveStaffColumn(sql, staff_id,
                           "SELECT email FROM staff_users WHERE id = :id AND disabled = 0");
}

int64_t BillableMinutes(soci::session& sql, int64_t client_id, const std::string& from,
                        const std::string& to) {
  long long cid = client_id, n = 0;
  soci::indicator ind = soci::i_ok;
  sql << "SELECT SUM(e.minutes) FROM time_entries e JOIN tickets t ON t.id = e.ticket_id "
         "WHERE t.client_id = :c AND e.billable = 1 AND e.work_date >= :f AND e.work_date <= :t",
      soci::use(cid), soci::use(from), soci::use(to), soci::into(n, ind);
  return ind == soci::i_ok ? n : 0;
}

}  // namespace opsmerge::tickets::store
