// The database layer's transactions, on a real SQLite file: what a use case that
// crosses features relies on.
#include "platform/db.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>
#include <soci/soci.h>
#include <unistd.h>

#include "audit/service.h"
#include "clients/json.h"
#include "clients/owners.h"
#include "clients/service.h"
#include "platform/clock.h"
#include "platform/errors.h"
#include "platform/scheduler.h"

namespace opsmerge {
namespace {

class TempDb {
 public:
  explicit TempDb(size_t pool = 4) {
    static std::atomic<int> n{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("opsmerge-db-test-" + std::to_string(getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(dir_);
    db = db::Database::OpenSqlite((dir_ / "t.db").string(), pool);
    db->Migrate();
    db->Write([](soci::session& sql) { sql << "CREATE TABLE notes (id INTEGER, text TEXT)"; });
  }
  ~TempDb() {
    db.reset();
    std::filesystem::remove_all(dir_);
  }
  long long Count(const std::string& table = "notes") {
    long long n = 0;
    db->Read([&](soci::session& sql) { sql << "SELECT COUNT(*) FROM " + table, soci::into(n); });
    return n;
  }
  std::string path() const { return (dir_ / "t.db").string(); }
  std::unique_ptr<db::Database> db;

 private:
  std::filesystem::path dir_;
};

void Insert(soci::session& sql, int id) {
  sql << "INSERT INTO notes (id, text) VALUES (:i, 'x')", soci::use(id);
}

TEST(Tx, ANestedWriteJoinsTheOuterTransactionAndNeverDeadlocks) {
  TempDb t(1);  // one session only: a second transaction could never start
  t.db->Write([&](db::Tx& tx) {
    Insert(tx.sql(), 1);
    t.db->Write([&](soci::session& sql) { Insert(sql, 2); });  // another service's write
    long long seen = 0;
    t.db->Read([&](soci::session& sql) { sql << "SELECT COUNT(*) FROM notes", soci::into(seen); });
    EXPECT_EQ(seen, 2) << "a read inside the transaction sees its own rows";
  });
  EXPECT_EQ(t.Count(), 2);
}

TEST(Tx, AFailingNestedWriteRollsBackAloneAndTheOuterDecides) {
  TempDb t;
  t.db->Write([&](db::Tx& tx) {
    Insert(tx.sql(), 1);
    EXPECT_THROW(t.db->Write([&](soci::session& sql) {
      Insert(sql, 2);
      throw ValidationError("x", "refused");
    }),
                 ValidationError);
    Insert(tx.sql(), 3);
  });
  EXPECT_EQ(t.Count(), 2) << "1 and 3 kept, 2 rolled back to its savepoint";
  EXPECT_THROW(t.db->Write([&](db::Tx& tx) {
    Insert(tx.sql(), 4);
    t.db->Write([&](soci::session& sql) { Insert(sql, 5); });
    throw Conflict("conflict", "the whole use case fails");
  }),
               Conflict);
  EXPECT_EQ(t.Count(), 2) << "nothing of a failed use case stays, nested parts included";
}

TEST(Tx, AfterCommitHooksRunOnlyOnceCommitted) {
  TempDb t;
  int ran = 0;
  t.db->Write([&](db::Tx& tx) {
    Insert(tx.sql(), 1);
    tx.AfterCommit([&] { ran++; });
    t.db->Write([&](db::Tx& inner) { inner.AfterCommit([&] { ran += 10; }); });
    EXPECT_EQ(ran, 0) << "not before the commit";
  });
  EXPECT_EQ(ran, 11) << "the outer commit runs the nested one's hooks too";
  EXPECT_THROW(t.db->Write([&](db::Tx& tx) {
    tx.AfterCommit([&] { ran = -1; });
    throw std::runtime_error("rolled back");
  }),
               std::runtime_error);
  EXPECT_EQ(ran, 11) << "never after a rollback";
  // A part rolled back to its savepoint takes its hooks with it (a message the
  // gateway could not store is never logged as stored); the rest commit.
  t.db->Write([&](db::Tx& tx) {
    tx.AfterCommit([&] { ran += 100; });
    EXPECT_THROW(t.db->Write([&](db::Tx& inner) {
      inner.AfterCommit([&] { ran = -1; });
      throw std::runtime_error("this part fails");
    }),
                 std::runtime_error);
    t.db->Write([&](db::Tx& inner) { inner.AfterCommit([&] { ran += 1000; }); });
  });
  EXPECT_EQ(ran, 1111);
}

// Code that holds only the session (the mail queue) hooks the commit the same way.
TEST(Tx, AfterCommitByTheSessionFollowsItsTransaction) {
  TempDb t;
  int ran = 0;
  t.db->Write([&](soci::session& sql) {
    Insert(sql, 1);
    db::AfterCommit(sql, [&] { ran++; });
    EXPECT_EQ(ran, 0) << "not before the commit";
  });
  EXPECT_EQ(ran, 1);
  EXPECT_THROW(t.db->Write([&](soci::session& sql) {
    db::AfterCommit(sql, [&] { ran = -1; });
    throw std::runtime_error("rolled back");
  }),
               std::runtime_error);
  EXPECT_EQ(ran, 1) << "never after a rollback";
  // A session in no transaction committed each statement as it ran: at once.
  t.db->Read([&](soci::session& sql) { db::AfterCommit(sql, [&] { ran += 10; }); });
  EXPECT_EQ(ran, 11);
}

class TestClock final : public Clock {
 public:
  int64_t NowUnix() const override { return now; }
  int64_t now = 1'800'000'000;
};

// Work that arrives (mail just queued) runs at once instead of at its period, and
// still only where the job's lease is held.
TEST(Scheduler, RunSoonRunsAJobBeforeItsPeriodOnlyOnTheLeaseHolder) {
  TempDb t;
  TestClock clock;
  int a_runs = 0, b_runs = 0;
  Scheduler a(*t.db, clock, "node-a", 30), b(*t.db, clock, "node-b", 30);
  a.Add({"mail-send", 15, [&] { return std::to_string(++a_runs); }});
  b.Add({"mail-send", 15, [&] { return std::to_string(++b_runs); }});
  a.Tick();  // node A takes the lease and runs this period
  EXPECT_EQ(a_runs, 1);
  a.Tick();
  EXPECT_EQ(a_runs, 1) << "the period is not over";
  a.RunSoon("mail-send");
  a.RunSoon("mail-send");  // merged with the first
  a.Tick();
  EXPECT_EQ(a_runs, 2) << "asked for: run now, once";
  a.Tick();
  EXPECT_EQ(a_runs, 2) << "the request was taken";
  // Node B does not hold the lease: a request there waits for A's next period.
  b.RunSoon("mail-send");
  b.Tick();
  EXPECT_EQ(b_runs, 0);
  // The period's own run is unchanged by the early one.
  clock.now += 15;
  a.Tick();
  EXPECT_EQ(a_runs, 3);
  a.RunSoon("no-such-job");
  a.Tick();
  EXPECT_EQ(a_runs, 3);
}

// Between full passes a request wakes a pass over the requested job alone: a
// stream of queued mail does not run (or renew the lease of) every other job.
TEST(Scheduler, ARequestedPassRunsOnlyWhatWasAskedFor) {
  TempDb t;
  TestClock clock;
  int mail = 0, cleanup = 0;
  Scheduler s(*t.db, clock, "node-a", 30);
  s.Add({"mail-send", 15, [&] { return std::to_string(++mail); }});
  s.Add({"cleanup", 15, [&] { return std::to_string(++cleanup); }});
  s.Tick();
  ASSERT_EQ(mail, 1);
  ASSERT_EQ(cleanup, 1);
  clock.now += 15;  // both periods over
  s.RunSoon("mail-send");
  s.TickRequested();
  EXPECT_EQ(mail, 2);
  EXPECT_EQ(cleanup, 1) << "a due job waits for the full pass";
  s.TickRequested();
  EXPECT_EQ(mail, 2) << "nothing asked for, nothing run";
  s.Tick();
  EXPECT_EQ(mail, 3) << "the period's own run still happens";
  EXPECT_EQ(cleanup, 2);
}

TEST(Database, TheWalIsCopiedBackIntoTheDatabaseAsItGrows) {
  TempDb t;
  // Until a checkpoint, new pages live only in the WAL: the database file keeps its
  // size. About 5 MB of commits cross the 1,000 pages at which the checkpointer
  // (a thread of its own, not the committing one) copies them back.
  const auto file = t.path();
  const auto before = std::filesystem::file_size(file);
  std::string blob(4000, 'x');
  for (int i = 0; i < 1200; ++i) {
    t.db->Write([&](soci::session& sql) {
      sql << "INSERT INTO notes (id, text) VALUES (:i, :t)", soci::use(i), soci::use(blob);
    });
  }
  // The last commits woke the checkpointer; once it is idle the pages are back
  // (the limit only bounds a broken build's wait).
  ASSERT_TRUE(t.db->WaitForCheckpointer(std::chrono::seconds(60)));
  EXPECT_GT(std::filesystem::file_size(file), before + (2u << 20))
      << "the WAL was not copied back into the database file";
  EXPECT_EQ(t.Count(), 1200);
}

TEST(Tx, WritersOnTwoThreadsStillQueue) {
  TempDb t;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 25; ++k) {
        t.db->Write([&](db::Tx& tx) {
          Insert(tx.sql(), i * 100 + k);
          t.db->Write([&](soci::session& sql) { Insert(sql, -1); });
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(t.Count(), 200);
}

// A feature that owns client data, registered the way app/ registers real ones:
// clients/ counts it, refuses to delete over it and moves it on merge, without
// a line of clients/ knowing it exists.
TEST(ClientOwners, MergeAndDeleteSeeEveryRegisteredOwner) {
  TempDb t;
  t.db->Write([](soci::session& sql) {
    sql << "CREATE TABLE gadgets (id INTEGER PRIMARY KEY, client_id INTEGER NOT NULL)";
  });
  clients::ClientOwners owners;
  clients::ClientOwner gadgets;
  gadgets.key = "gadgets";
  gadgets.singular = "gadget";
  gadgets.plural = "gadgets";
  gadgets.blocks_delete = true;
  gadgets.count_many = [](soci::session& sql, const std::vector<int64_t>& ids) {
    return db::CountIn(
        sql, "SELECT client_id, COUNT(*) FROM gadgets WHERE client_id IN ($ids) GROUP BY client_id",
        ids);
  };
  gadgets.move = [](db::Tx& tx, int64_t from, int64_t to) {
    long long f = from, d = to;
    tx.sql() << "UPDATE gadgets SET client_id = :t WHERE client_id = :f", soci::use(d),
        soci::use(f);
  };
  owners.Register(gadgets);
  EXPECT_THROW(owners.Register(gadgets), std::logic_error) << "one owner per key";

  SystemClock clock;
  audit::AuditLog audit(clock);
  clients::ClientService service(*t.db, audit, clock, owners);
  staff::Actor admin = staff::Actor::System();
  clients::ClientInput keep_in, gone_in;
  keep_in.name = "Keep Ltd";
  gone_in.name = "Gone Ltd";
  int64_t keep = service.Create(admin, keep_in, false).client.id;
  int64_t gone = service.Create(admin, gone_in, false).client.id;
  t.db->Write([&](soci::session& sql) {
    long long g = gone;
    sql << "INSERT INTO gadgets (client_id) VALUES (:c)", soci::use(g);
    sql << "INSERT INTO gadgets (client_id) VALUES (:c)", soci::use(g);
  });

  clients::ClientDetail d = service.Get(admin, gone);
  EXPECT_EQ(d.counts.Owned("gadgets"), 2);
  EXPECT_EQ(clients::ClientJson(d)["counts"]["gadgets"], 2) << "in the client JSON";
  EXPECT_EQ(service.List(admin, {}).items.size(), 2u);
  try {
    service.Delete(admin, gone);
    FAIL() << "delete must be refused while gadgets exist";
  } catch (const Conflict& e) {
    EXPECT_EQ(e.code(), "has_dependents");
    EXPECT_NE(std::string(e.what()).find("2 gadgets"), std::string::npos) << e.what();
  }
  service.Merge(admin, keep, {gone});
  EXPECT_EQ(service.Get(admin, keep).counts.Owned("gadgets"), 2) << "moved to the survivor";
  EXPECT_EQ(t.Count("gadgets"), 2);
  EXPECT_THROW(service.Delete(admin, keep), Conflict);
}

TEST(Rows, MappersReadColumnsByNameWhateverTheirOrder) {
  TempDb t;
  t.db->Write(
      [](soci::session& sql) { sql << "INSERT INTO notes (id, text) VALUES (7, 'seven')"; });
  t.db->Read([](soci::session& sql) {
    for (const char* query : {"SELECT id, text FROM notes", "SELECT text, id FROM notes",
                              "SELECT n.text AS text, n.id FROM notes n"}) {
      soci::rowset<soci::row> rs = sql.prepare << query;
      for (const soci::row& r : rs) {
        EXPECT_EQ(db::RowInt(r, "id"), 7) << query;
        EXPECT_EQ(db::RowText(r, "text"), "seven") << query;
        EXPECT_FALSE(db::RowIsNull(r, "text")) << query;
        // A name the query does not have is a programming error, never a silent 0.
        EXPECT_THROW(db::RowInt(r, "missing"), std::logic_error) << query;
      }
    }
  });
}

}  // namespace
}  // namespace opsmerge
