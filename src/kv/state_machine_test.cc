// Replies of the commands as redis-server 7.0 gives them (the command reference at
// redis.io/commands and t_string.c / db.c), through classify() and apply() as the server
// drives them.

#include "kv/state_machine.h"

#include <gtest/gtest.h>

#include "kv/test_db.h"

namespace spofless::kv {
namespace {

using testing::bulks;
using testing::TestDb;

const Reply kNotAnInteger = Reply::error("ERR value is not an integer or out of range");
const Reply kOverflow = Reply::error("ERR increment or decrement would overflow");

TEST(KvStrings, GetOfAMissingKeyIsNil) {
  TestDb db;
  EXPECT_EQ(db.run({"GET", "k"}), Reply::nil());
  EXPECT_EQ(db.run({"SET", "k", "v"}), Reply::ok());
  EXPECT_EQ(db.run({"GET", "k"}), Reply::bulk("v"));
  EXPECT_EQ(db.run({"SET", "k", ""}), Reply::ok());
  EXPECT_EQ(db.run({"GET", "k"}), Reply::bulk(""));
}

TEST(KvStrings, KeysAndValuesAreBinary) {
  TestDb db;
  const std::string key("a\0b\r\n", 5);
  const std::string value("\xff\x00\x01", 3);
  EXPECT_EQ(db.run({"SET", key, value}), Reply::ok());
  EXPECT_EQ(db.run({"GET", key}), Reply::bulk(value));
  EXPECT_EQ(db.run({"GET", "a"}), Reply::nil());
}

// SET: NX sets only an absent key, XX only a present one; a failed condition replies nil.
TEST(KvStrings, SetNxXx) {
  TestDb db;
  EXPECT_EQ(db.run({"SET", "k", "1", "XX"}), Reply::nil());
  EXPECT_EQ(db.run({"EXISTS", "k"}), Reply::number(0));
  EXPECT_EQ(db.run({"SET", "k", "1", "NX"}), Reply::ok());
  EXPECT_EQ(db.run({"SET", "k", "2", "NX"}), Reply::nil());
  EXPECT_EQ(db.run({"GET", "k"}), Reply::bulk("1"));
  EXPECT_EQ(db.run({"SET", "k", "3", "XX"}), Reply::ok());
  EXPECT_EQ(db.run({"GET", "k"}), Reply::bulk("3"));
}

// SET ... GET replies the old value (or nil), whether or not the condition let it set.
TEST(KvStrings, SetGet) {
  TestDb db;
  EXPECT_EQ(db.run({"SET", "k", "1", "GET"}), Reply::nil());
  EXPECT_EQ(db.run({"SET", "k", "2", "GET"}), Reply::bulk("1"));
  EXPECT_EQ(db.run({"SET", "k", "3", "NX", "GET"}), Reply::bulk("2"));
  EXPECT_EQ(db.run({"GET", "k"}), Reply::bulk("2"));
  EXPECT_EQ(db.run({"SET", "new", "1", "NX", "GET"}), Reply::nil());
  EXPECT_EQ(db.run({"GET", "new"}), Reply::bulk("1"));
  EXPECT_EQ(db.run({"SET", "absent", "1", "XX", "GET"}), Reply::nil());
  EXPECT_EQ(db.run({"EXISTS", "absent"}), Reply::number(0));
  EXPECT_EQ(db.run({"SET", "k", "4", "KEEPTTL"}), Reply::ok());
}

// INCR: a missing key counts as 0; the result is stored as its decimal text.
TEST(KvCounters, IncrDecr) {
  TestDb db;
  EXPECT_EQ(db.run({"INCR", "n"}), Reply::number(1));
  EXPECT_EQ(db.run({"INCRBY", "n", "10"}), Reply::number(11));
  EXPECT_EQ(db.run({"DECR", "n"}), Reply::number(10));
  EXPECT_EQ(db.run({"DECRBY", "n", "15"}), Reply::number(-5));
  EXPECT_EQ(db.run({"GET", "n"}), Reply::bulk("-5"));
  EXPECT_EQ(db.run({"SET", "m", "-9223372036854775808"}), Reply::ok());
  EXPECT_EQ(db.run({"INCR", "m"}), Reply::number(-9223372036854775807LL));
}

TEST(KvCounters, ANonIntegerValueIsRefusedAndKept) {
  TestDb db;
  for (const char* value : {"abc", "1.5", " 1", "01", "+1", "", "99999999999999999999"}) {
    ASSERT_EQ(db.run({"SET", "k", value}), Reply::ok());
    EXPECT_EQ(db.run({"INCR", "k"}), kNotAnInteger) << '"' << value << '"';
    EXPECT_EQ(db.run({"GET", "k"}), Reply::bulk(value));
  }
}

// t_string.c incrDecrCommand: the sum must stay within 64 bits; on overflow nothing changes.
TEST(KvCounters, OverflowIsRefused) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "k", "9223372036854775807"}), Reply::ok());
  EXPECT_EQ(db.run({"INCR", "k"}), kOverflow);
  EXPECT_EQ(db.run({"GET", "k"}), Reply::bulk("9223372036854775807"));
  EXPECT_EQ(db.run({"INCRBY", "k", "-9223372036854775808"}), Reply::number(-1));
  ASSERT_EQ(db.run({"SET", "k", "-9223372036854775808"}), Reply::ok());
  EXPECT_EQ(db.run({"DECR", "k"}), kOverflow);
  EXPECT_EQ(db.run({"DECRBY", "k", "1"}), kOverflow);
  EXPECT_EQ(db.run({"INCRBY", "k", "9223372036854775807"}), Reply::number(-1));
  EXPECT_EQ(db.run({"INCRBY", "zero", "-9223372036854775808"}),
            Reply::number(std::numeric_limits<long long>::min()));
}

TEST(KvKeys, DelCountsWhatItDeleted) {
  TestDb db;
  ASSERT_EQ(db.run({"MSET", "a", "1", "b", "2"}), Reply::ok());
  EXPECT_EQ(db.run({"DEL", "a", "a", "missing", "b"}), Reply::number(2));
  EXPECT_EQ(db.run({"DBSIZE"}), Reply::number(0));
  EXPECT_EQ(db.run({"DEL", "a"}), Reply::number(0));
}

// EXISTS counts a key named twice twice (since Redis 3.0.3).
TEST(KvKeys, ExistsCountsEveryMention) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "a", "1"}), Reply::ok());
  EXPECT_EQ(db.run({"EXISTS", "a", "a", "b"}), Reply::number(2));
}

TEST(KvKeys, MsetMgetDbsizeTypeStrlen) {
  TestDb db;
  EXPECT_EQ(db.run({"MSET", "a", "1", "b", "22", "a", "333"}), Reply::ok());  // the last wins
  EXPECT_EQ(db.run({"MGET", "a", "x", "b"}),
            Reply::array({Reply::bulk("333"), Reply::nil(), Reply::bulk("22")}));
  EXPECT_EQ(db.run({"DBSIZE"}), Reply::number(2));
  EXPECT_EQ(db.run({"TYPE", "a"}), Reply::status("string"));
  EXPECT_EQ(db.run({"TYPE", "x"}), Reply::status("none"));
  EXPECT_EQ(db.run({"STRLEN", "b"}), Reply::number(2));
  EXPECT_EQ(db.run({"STRLEN", "x"}), Reply::number(0));
  EXPECT_EQ(db.machine().size(), 2U);
}

// Over the key limit a write fails as Redis's do over maxmemory (an OOM error), and MSET
// sets all of its keys or none.
TEST(KvKeys, TheKeyLimitRefusesNewKeysAndMsetIsAtomic) {
  TestDb db(Options{.max_keys = 3});
  ASSERT_EQ(db.run({"MSET", "a", "1", "b", "2"}), Reply::ok());
  Reply r = db.run({"MSET", "a", "9", "c", "3", "d", "4"});
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.str.rfind("OOM ", 0), 0U) << r.str;
  EXPECT_EQ(db.run({"MGET", "a", "c", "d"}),
            Reply::array({Reply::bulk("1"), Reply::nil(), Reply::nil()}));
  EXPECT_EQ(db.run({"MSET", "a", "9", "c", "3", "c", "5"}), Reply::ok());  // one new key fits
  EXPECT_TRUE(db.run({"SET", "d", "1"}).is_error());
  EXPECT_TRUE(db.run({"INCR", "d"}).is_error());
  EXPECT_EQ(db.run({"SET", "a", "overwrite"}), Reply::ok());
  EXPECT_EQ(db.run({"INCR", "c"}), Reply::number(6));
  EXPECT_EQ(db.run({"DBSIZE"}), Reply::number(3));
}

Reply scan(TestDb& db, std::vector<std::string> argv) {
  argv.insert(argv.begin(), "SCAN");
  return db.run(argv);
}

TEST(KvScan, ASmallDatabaseInOneCall) {
  TestDb db;
  ASSERT_EQ(db.run({"MSET", "user:1", "a", "user:2", "b", "order:1", "c"}), Reply::ok());
  Reply r = scan(db, {"0", "COUNT", "100"});
  ASSERT_EQ(r.kind, Reply::Kind::kArray);
  ASSERT_EQ(r.elements.size(), 2U);
  EXPECT_EQ(r.elements[0], Reply::bulk("0"));  // the walk is over
  EXPECT_EQ(r.elements[1].elements.size(), 3U);
  r = scan(db, {"0", "MATCH", "user:*", "COUNT", "100"});
  std::vector<std::string> keys;
  for (const Reply& k : r.elements[1].elements) keys.push_back(k.str);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"user:1", "user:2"}));
}

// Every value is a string: TYPE string keeps every key, another type none (db.c compares
// the type's name without case).
TEST(KvScan, TypeFilter) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "k", "v"}), Reply::ok());
  EXPECT_EQ(scan(db, {"0", "TYPE", "STRING"}).elements[1], bulks({"k"}));
  EXPECT_EQ(scan(db, {"0", "TYPE", "hash"}).elements[1], bulks({}));
}

// COUNT is a bound on keys examined: the walk takes several calls and meets every key once.
TEST(KvScan, AWalkInSeveralCallsMeetsEveryKeyOnce) {
  TestDb db;
  std::set<std::string> all;
  for (int i = 0; i < 50; ++i) {
    all.insert("k" + std::to_string(i));
    ASSERT_EQ(db.run({"SET", "k" + std::to_string(i), "v"}), Reply::ok());
  }
  std::multiset<std::string> seen;
  std::string cursor = "0";
  int calls = 0;
  do {
    Reply r = scan(db, {cursor, "COUNT", "7"});
    cursor = r.elements[0].str;
    EXPECT_LE(r.elements[1].elements.size(), 7U);
    for (const Reply& k : r.elements[1].elements) seen.insert(k.str);
    ASSERT_LT(++calls, 100);
  } while (cursor != "0");
  EXPECT_EQ(seen, std::multiset<std::string>(all.begin(), all.end()));
  EXPECT_GE(calls, 50 / 7);
}

// db.c scanGenericCommand skips matching for the pattern "*" alone; stringmatchlen() itself
// never matches an empty key against a non-empty pattern.
TEST(KvScan, TheEmptyKeyMatchesStarButNoOtherPattern) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "", "v"}), Reply::ok());
  EXPECT_EQ(scan(db, {"0", "MATCH", "*"}).elements[1], bulks({""}));
  EXPECT_EQ(scan(db, {"0", "MATCH", "**"}).elements[1], bulks({}));
  EXPECT_EQ(scan(db, {"0", "MATCH", ""}).elements[1], bulks({""}));
}

TEST(KvScan, AnEmptyDatabase) {
  TestDb db;
  EXPECT_EQ(scan(db, {"0"}), Reply::array({Reply::bulk("0"), bulks({})}));
  EXPECT_EQ(scan(db, {"12345"}), Reply::array({Reply::bulk("0"), bulks({})}));
}

Command set_command(std::string key, std::string value, std::uint64_t now_ms = 0) {
  Command c;
  c.write = WriteOp{WriteKind::kSet, {std::move(key)}, {std::move(value)}};
  c.now_ms = now_ms;
  return c;
}

// An entry that does not decode only moves the applied index, like a skipped entry.
TEST(KvApply, AnEntryThatDoesNotDecodeChangesNothing) {
  StateMachine bad;
  StateMachine skipped;
  ASSERT_EQ(bad.apply(1, encode(set_command("k", "v", 500))), Reply::ok());
  ASSERT_EQ(skipped.apply(1, encode(set_command("k", "v", 500))), Reply::ok());
  Reply r = bad.apply(2, "\xff\xff not a command");
  ASSERT_TRUE(r.is_error());
  EXPECT_EQ(r.str.rfind("ERR log entry 2 is not a command: ", 0), 0U) << r.str;
  skipped.skip(2);
  EXPECT_EQ(bad.snapshot(), skipped.snapshot());
  EXPECT_EQ(bad.applied(), 2U);
}

TEST(KvApply, TimeNeverRunsBackwards) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "k", "v"}, 1000), Reply::ok());
  ASSERT_EQ(db.run({"SET", "k", "v"}, 400), Reply::ok());  // a new leader with a slower clock
  EXPECT_EQ(db.machine().time_ms(), 1000U);
  ASSERT_EQ(db.run({"SET", "k", "v"}, 1500), Reply::ok());
  EXPECT_EQ(db.machine().time_ms(), 1500U);
}

TEST(KvApply, SkippedEntriesStillMoveTheAppliedIndex) {
  StateMachine machine;
  machine.skip(1);  // a new leader's no-op
  EXPECT_EQ(machine.apply(2, encode(set_command("k", "v"))), Reply::ok());
  machine.skip(5);
  EXPECT_EQ(machine.applied(), 5U);
  EXPECT_EQ(machine.watch_index(), 5U);
}

}  // namespace
}  // namespace spofless::kv
