// Seeds a data dir with N clients, each with contacts and some with sites, through
// the clients store (so keys and domains are exactly what the app writes).
// Endpoints go through the RMM store with a validated inventory (hostname, address,
// serial), as an enrolling agent's would.
// Tickets go through the tickets store (search terms included): mostly closed
// history, a few percent active, as a help desk's book looks after some years.
// usage: opsmerge_bench_seed DATA_DIR|postgresql://... [clients=10000] [contacts=100000]
//        [sites=20000] [endpoints=0] [tickets=0]
#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include <nlohmann/json.hpp>
#include <soci/soci.h>
#include <sys/stat.h>

#include "clients/model.h"
#include "clients/store.h"
#include "platform/clock.h"
#include "platform/db.h"
#include "rmm/model.h"
#include "rmm/store.h"
#include "tickets/model.h"
#include "tickets/store.h"

int main(int argc, char** argv) {
  using namespace opsmerge;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR [clients] [contacts] [sites]\n", argv[0]);
    return 64;
  }
  std::string dir = argv[1];
  int clients = argc > 2 ? std::stoi(argv[2]) : 10000;
  int contacts = argc > 3 ? std::stoi(argv[3]) : 100000;
  int sites = argc > 4 ? std::stoi(argv[4]) : 20000;
  int endpoints = argc > 5 ? std::stoi(argv[5]) : 0;
  int tickets = argc > 6 ? std::stoi(argv[6]) : 0;
  bool postgres = dir.rfind("postgresql://", 0) == 0;
  if (!postgres) mkdir(dir.c_str(), 0700);
  auto db = db::Database::Open(postgres ? dir : dir + "/opsmerge.db", 1);
  db->Migrate();
  const char* words[] = {"Acme",    "Brindle", "Copper",  "Delta",   "Ember",  "Falcon",  "Granite",
                         "Harbour", "Iris",    "Juniper", "Kestrel", "Lumen",  "Maple",   "Nimbus",
                         "Orchid",  "Pioneer", "Quartz",  "Raven",   "Summit", "Thistle", "Umber",
                         "Vertex",  "Willow",  "Yarrow",  "Zephyr"};
  const char* kinds[] = {"Dental",  "Legal",   "Accountants", "Builders", "Logistics",
                         "Surgery", "Estates", "Engineering", "Bakery",   "Studio"};
  const char* suffixes[] = {"Ltd", "LLP", "Limited", "plc", "& Co", "Group"};
  std::mt19937 rng(42);
  std::string now = FormatIsoUtc(SystemClock().NowUnix());
  auto start = std::chrono::steady_clock::now();
  db->Write([&](soci::session& sql) {
    std::vector<int64_t> ids;
    for (int i = 0; i < clients; ++i) {
      clients::CleanClient c;
      c.name = std::string(words[i % 25]) + " " + words[(i / 25) % 25] + " " +
               kinds[(i / 625) % 10] + " " + suffixes[i % 6] + " " + std::to_string(i);
      c.domain = "client" + std::to_string(i) + ".example";
      c.contact_email = "it@" + c.domain;
      int64_t id = clients::store::InsertClient(sql, c, now);
      clients::store::ReplaceDomains(sql, id, c, true);
      ids.push_back(id);
    }
    for (int i = 0; i < contacts; ++i) {
      clients::Contact p;
      p.client_id = ids[static_cast<size_t>(i) % ids.size()];
      static const char* first[] = {"Jane",  "John",   "Priya", "Mohammed", "Olivia",
                                    "Liam",  "Amelia", "Noah",  "Isla",     "George",
                                    "Ava",   "Oscar",  "Emily", "Jack",     "Sofia",
                                    "Harry", "Mia",    "Leo",   "Grace",    "Arthur"};
      static const char* last[] = {"Smith",  "Jones",   "Taylor", "Brown",   "Williams",
                                   "Wilson", "Evans",   "Thomas", "Roberts", "Walker",
                                   "Wright", "Khan",    "Patel",  "Hughes",  "Edwards",
                                   "Green",  "Hall",    "Wood",   "Harris",  "Clarke",
                                   "Lewis",  "Jackson", "Turner", "Hill",    "Moore"};
      p.name = std::string(first[i % 20]) + " " + last[(i / 20) % 25];
      p.phone = "+44 20 " + std::to_string(7000 + i % 3000) + " " + std::to_string(1000 + i % 9000);
      p.email = "person" + std::to_string(i) + "@client" +
                std::to_string(static_cast<size_t>(i) % ids.size()) + ".example";
      p.roles.vip = rng() % 10 == 0;
      p.roles.portal_user = rng() % 3 == 0;
      clients::store::InsertContact(sql, p, now);
    }
    for (int i = 0; i < sites; ++i) {
      clients::Site s;
      s.client_id = ids[static_cast<size_t>(i) % ids.size()];
      s.name = "Site " + std::to_string(i / static_cast<int>(ids.size())) + " " + std::to_string(i);
      s.address = std::to_string(i) + " High Street";
      clients::store::InsertSite(sql, s, now);
    }
    for (int i = 0; i < endpoints; ++i) {
      std::string host = "ws-" + std::to_string(i);
      nlohmann::json inv = {
          {"hostname", host},
          {"hardware", {{"serial", "SN" + std::to_string(100000 + i)}}},
          {"network",
           {{{"name", "eth0"},
             {"mac", ""},
             {"addresses",
              {"10." + std::to_string(i / 65536 % 256) + "." + std::to_string(i / 256 % 256) + "." +
               std::to_string(i % 256)}}}}}};
      rmm::Inventory clean = rmm::ValidateInventory(inv);
      int64_t id = rmm::store::InsertEndpoint(sql, ids[static_cast<size_t>(i) % ids.size()],
                                              std::nullopt, host, "x", 0, now);
      int64_t at = SystemClock().NowUnix();
      rmm::store::RecordInventory(sql, id, at, clean, "");
      // A fleet as it is: most machines checked in within the minute, one in twenty
      // offline for up to a month.
      long long seen = i % 20 == 0 ? at - 600 - static_cast<int64_t>(rng() % (30 * 86400))
                                   : at - static_cast<int64_t>(rng() % 60);
      long long eid = id;
      sql << "UPDATE endpoints SET last_seen_at = :t WHERE id = :id", soci::use(seen),
          soci::use(eid);
    }
    static const char* topics[] = {
        "Printer offline",      "VPN will not connect",    "Outlook keeps asking for password",
        "New starter laptop",   "Backup failed",           "Wi-Fi slow in meeting room",
        "Shared drive missing", "Phishing email reported", "Teams calls dropping",
        "Licence renewal",      "Scanner error",           "Password reset"};
    static const tickets::Status statuses[] = {tickets::Status::kNew, tickets::Status::kOpen,
                                               tickets::Status::kWaitingOnClient};
    int64_t opened = SystemClock().NowUnix() - int64_t{3} * 365 * 86400;
    for (int i = 0; i < tickets; ++i) {
      tickets::Ticket t;
      t.number = i + 1;
      t.client_id = ids[static_cast<size_t>(rng()) % ids.size()];
      t.subject = std::string(topics[i % 12]) + " (" + std::to_string(i % 997) + ")";
      t.source = i % 3 == 0 ? tickets::Source::kStaff : tickets::Source::kEmail;
      t.priority = static_cast<tickets::Priority>(rng() % 4);
      // 3% active (the queue), 2% resolved, the rest closed.
      int r = static_cast<int>(rng() % 100);
      t.status = r < 3   ? statuses[rng() % 3]
                 : r < 5 ? tickets::Status::kResolved
                         : tickets::Status::kClosed;
      int64_t at = opened + static_cast<int64_t>(i) * (3 * 365 * 86400 / std::max(tickets, 1));
      tickets::DueTimes due = tickets::DueFor(at, t.priority, tickets::SlaTargets{});
      t.first_response_due_at = due.first_response;
      t.resolution_due_at = due.resolution;
      tickets::store::InsertTicket(sql, t, FormatIsoUtc(at));
    }
    if (tickets > 0) {
      long long last = tickets;
      sql << "UPDATE counters SET value = :v WHERE name = 'ticket_number'", soci::use(last);
    }
  });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("seeded %d clients, %d contacts, %d sites, %d endpoints, %d tickets in %.1f s\n",
              clients, contacts, sites, endpoints, tickets, secs);
  return 0;
}
