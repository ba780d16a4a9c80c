// WATCH / MULTI / EXEC as optimistic transactions (redis.io/docs/interact/transactions):
// EXEC aborts with a nil array when a watched key was modified after WATCH; otherwise every
// queued command runs, in order, at one log index; a command that fails there leaves an error
// in the reply and the others still run.

#include <gtest/gtest.h>

#include "kv/test_db.h"

namespace spofless::kv {
namespace {

using testing::TestDb;

TEST(KvExec, RunsTheQueueInOrderAndRepliesAnArray) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "k", "1"}), Reply::ok());
  WatchedKey w = db.watch("k");
  Reply r = db.exec({{"INCR", "k"}, {"GET", "k"}, {"SET", "j", "x"}, {"MGET", "k", "j"}}, {w});
  EXPECT_EQ(r, Reply::array({Reply::number(2), Reply::bulk("2"), Reply::ok(),
                             Reply::array({Reply::bulk("2"), Reply::bulk("x")})}));
}

TEST(KvExec, AnEmptyTransactionRepliesAnEmptyArray) {
  TestDb db;
  EXPECT_EQ(db.exec({}), Reply::array({}));
}

// A failing command does not roll back the others (Redis: "errors happening after EXEC").
TEST(KvExec, AFailingCommandLeavesAnErrorAndTheOthersApply) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "s", "text"}), Reply::ok());
  Reply r = db.exec({{"SET", "a", "1"}, {"INCR", "s"}, {"INCR", "a"}});
  ASSERT_EQ(r.kind, Reply::Kind::kArray);
  ASSERT_EQ(r.elements.size(), 3U);
  EXPECT_EQ(r.elements[0], Reply::ok());
  EXPECT_EQ(r.elements[1], Reply::error("ERR value is not an integer or out of range"));
  EXPECT_EQ(r.elements[2], Reply::number(2));
  EXPECT_EQ(db.run({"GET", "a"}), Reply::bulk("2"));
}

TEST(KvExec, AbortsWhenAWatchedKeyChanged) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "k", "1"}), Reply::ok());
  WatchedKey w = db.watch("k");
  ASSERT_EQ(db.run({"SET", "k", "1"}), Reply::ok());  // same value: still a modification
  EXPECT_EQ(db.exec({{"SET", "k", "2"}, {"SET", "other", "x"}}, {w}), Reply::nil_array());
  EXPECT_EQ(db.run({"GET", "k"}), Reply::bulk("1"));
  EXPECT_EQ(db.run({"EXISTS", "other"}), Reply::number(0));
}

TEST(KvExec, AbortsWhenAWatchedKeyWasDeleted) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "k", "1"}), Reply::ok());
  WatchedKey w = db.watch("k");
  ASSERT_EQ(db.run({"DEL", "k"}), Reply::number(1));
  EXPECT_EQ(db.exec({{"SET", "k", "2"}}, {w}), Reply::nil_array());
  EXPECT_EQ(db.run({"EXISTS", "k"}), Reply::number(0));
}

// ABA: the key is back with its old value, but it was modified, so EXEC aborts.
TEST(KvExec, AbortsWhenAWatchedKeyWasDeletedAndRecreated) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "k", "1"}), Reply::ok());
  WatchedKey w = db.watch("k");
  ASSERT_EQ(db.run({"DEL", "k"}), Reply::number(1));
  ASSERT_EQ(db.run({"SET", "k", "1"}), Reply::ok());
  EXPECT_EQ(db.exec({{"INCR", "k"}}, {w}), Reply::nil_array());
}

TEST(KvExec, AbortsWhenAnAbsentWatchedKeyAppearedAndVanished) {
  TestDb db;
  WatchedKey w = db.watch("k");
  ASSERT_EQ(db.run({"SET", "k", "1"}), Reply::ok());
  ASSERT_EQ(db.run({"DEL", "k"}), Reply::number(1));
  EXPECT_EQ(db.exec({{"SET", "k", "2"}}, {w}), Reply::nil_array());
}

// Writes that change nothing do not touch the key (Redis signals only real modifications).
TEST(KvExec, WritesThatChangeNothingDoNotAbort) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "k", "text"}), Reply::ok());
  WatchedKey w = db.watch("k");
  WatchedKey absent = db.watch("absent");
  ASSERT_EQ(db.run({"SET", "k", "x", "NX"}), Reply::nil());
  ASSERT_EQ(db.run({"SET", "absent", "x", "XX"}), Reply::nil());
  ASSERT_TRUE(db.run({"INCR", "k"}).is_error());
  ASSERT_EQ(db.run({"DEL", "absent"}), Reply::number(0));
  ASSERT_EQ(db.run({"SET", "unwatched", "x"}), Reply::ok());
  EXPECT_EQ(db.exec({{"GET", "k"}}, {w, absent}), Reply::array({Reply::bulk("text")}));
}

// A modification at or before the watch index was seen by the client: no abort.
TEST(KvExec, ModificationsBeforeWatchDoNotAbort) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "k", "1"}), Reply::ok());
  ASSERT_EQ(db.run({"DEL", "k"}), Reply::number(1));
  WatchedKey w = db.watch("k");
  EXPECT_EQ(db.exec({{"SET", "k", "2"}}, {w}), Reply::array({Reply::ok()}));
}

// The watch check is one key at a time: each key has the index its WATCH saw.
TEST(KvExec, EachWatchedKeyHasItsOwnIndex) {
  TestDb db;
  WatchedKey a = db.watch("a");
  ASSERT_EQ(db.run({"SET", "b", "1"}), Reply::ok());
  WatchedKey b = db.watch("b");
  EXPECT_EQ(db.exec({{"GET", "b"}}, {a, b}), Reply::array({Reply::bulk("1")}));
  WatchedKey stale_b{"b", a.watch_index};
  EXPECT_EQ(db.exec({{"GET", "b"}}, {a, stale_b}), Reply::nil_array());
}

// Tombstones are bounded: once one is evicted, an absent key watched below the horizon
// may have been modified, so EXEC aborts; a watch at or above the horizon is exact again.
TEST(KvExec, AnEvictedTombstoneAbortsConservatively) {
  TestDb db(Options{.max_tombstones = 2});
  WatchedKey never = db.watch("never-written");
  ASSERT_EQ(db.run({"MSET", "a", "1", "b", "1", "c", "1"}), Reply::ok());
  ASSERT_EQ(db.run({"DEL", "a"}), Reply::number(1));
  ASSERT_EQ(db.run({"DEL", "b"}), Reply::number(1));
  EXPECT_EQ(db.machine().horizon(), 0U);
  ASSERT_EQ(db.run({"DEL", "c"}), Reply::number(1));  // evicts a's tombstone
  EXPECT_EQ(db.machine().horizon(), 2U);
  EXPECT_EQ(db.exec({{"SET", "x", "1"}}, {never}), Reply::nil_array());
  EXPECT_EQ(db.exec({{"SET", "x", "1"}}, {{"never-written", 2}}), Reply::array({Reply::ok()}));
  // b's and c's tombstones are still exact.
  EXPECT_EQ(db.exec({{"SET", "x", "2"}}, {{"b", 2}}), Reply::nil_array());
  EXPECT_EQ(db.exec({{"SET", "x", "2"}}, {{"b", 3}}), Reply::array({Reply::ok()}));
  // Recreating a key forgets its tombstone; its version is live again.
  ASSERT_EQ(db.run({"SET", "c", "again"}), Reply::ok());
  WatchedKey c = db.watch("c");
  EXPECT_EQ(db.exec({{"GET", "c"}}, {c}), Reply::array({Reply::bulk("again")}));
}

TEST(KvExec, ReadsSeeTheStateAtExecTime) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "k", "before"}), Reply::ok());
  // The client queued GET while k was "before"; another client changes k before EXEC.
  ASSERT_EQ(db.run({"SET", "k", "after"}), Reply::ok());
  EXPECT_EQ(db.exec({{"GET", "k"}, {"DBSIZE"}}),
            Reply::array({Reply::bulk("after"), Reply::number(1)}));
}

}  // namespace
}  // namespace spofless::kv
