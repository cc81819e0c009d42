// Seeds a data dir with N clients, each with contacts and some with sites, through
// the clients store (so keys and domains are exactly what the app writes).
// usage: opsmerge_bench_seed DATA_DIR|postgresql://... [clients=10000] [contacts=100000]
//        [sites=20000]
#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include <soci/soci.h>
#include <sys/stat.h>

#include "clients/model.h"
#include "clients/store.h"
#include "platform/clock.h"
#include "platform/db.h"

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
      p.name = std::string("Person ") + std::to_string(i);
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
  });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("seeded %d clients, %d contacts, %d sites in %.1f s\n", clients, contacts, sites,
              secs);
  return 0;
}
