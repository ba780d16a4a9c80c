// Exactly-once client sessions (Raft thesis §6.3, "Implementing linearizable semantics"):
// a client registers, numbers its commands, and a command retried after a lost reply is
// answered from the session's cache instead of being applied twice.

#include <gtest/gtest.h>

#include "kv/test_db.h"

namespace spofless::kv {
namespace {

using testing::Argv;
using testing::TestDb;

constexpr std::uint64_t kTtlMs = 1000;

// The client id is the index of the REGISTER entry: unique and the same on every replica.
std::string register_client(TestDb& db, std::uint64_t now_ms = 0) {
  Reply r = db.run({"SPOFLESS.REGISTER"}, now_ms, kTtlMs);
  EXPECT_EQ(r.kind, Reply::Kind::kInteger);
  EXPECT_EQ(static_cast<std::uint64_t>(r.integer), db.last_index());
  return std::to_string(r.integer);
}

Reply seq(TestDb& db, const std::string& client, int n, Argv command, std::uint64_t now_ms = 0) {
  Argv argv{"SPOFLESS.SEQ", client, std::to_string(n)};
  argv.insert(argv.end(), command.begin(), command.end());
  return db.run(argv, now_ms, kTtlMs);
}

bool expired(const Reply& r) { return r.is_error() && r.str.rfind("SESSIONEXPIRED ", 0) == 0; }

TEST(KvSessions, ARetriedCommandIsAnsweredFromTheCacheAndAppliedOnce) {
  TestDb db;
  std::string client = register_client(db);
  EXPECT_EQ(seq(db, client, 1, {"INCR", "n"}), Reply::number(1));
  EXPECT_EQ(seq(db, client, 1, {"INCR", "n"}), Reply::number(1));  // the retry
  EXPECT_EQ(db.run({"GET", "n"}), Reply::bulk("1"));
  EXPECT_EQ(seq(db, client, 2, {"INCR", "n"}), Reply::number(2));
  EXPECT_EQ(seq(db, client, 2, {"INCR", "n"}), Reply::number(2));
  EXPECT_EQ(db.run({"GET", "n"}), Reply::bulk("2"));
}

// The cache holds the reply that was given, error or not, even if the state moved on.
TEST(KvSessions, TheCachedReplyIsTheOriginalOne) {
  TestDb db;
  std::string client = register_client(db);
  ASSERT_EQ(db.run({"SET", "k", "text"}), Reply::ok());
  Reply first = seq(db, client, 1, {"INCR", "k"});
  ASSERT_TRUE(first.is_error());
  ASSERT_EQ(db.run({"SET", "k", "5"}), Reply::ok());
  EXPECT_EQ(seq(db, client, 1, {"INCR", "k"}), first);
  EXPECT_EQ(db.run({"GET", "k"}), Reply::bulk("5"));
}

TEST(KvSessions, AnOlderSequenceNumberIsRefused) {
  TestDb db;
  std::string client = register_client(db);
  ASSERT_EQ(seq(db, client, 5, {"SET", "k", "v"}), Reply::ok());  // gaps are allowed
  EXPECT_EQ(seq(db, client, 4, {"SET", "k", "w"}),
            Reply::error("ERR session sequence number already acknowledged"));
  EXPECT_EQ(db.run({"GET", "k"}), Reply::bulk("v"));
}

TEST(KvSessions, AnUnknownClientIsRefused) {
  TestDb db;
  EXPECT_TRUE(expired(seq(db, "42", 1, {"SET", "k", "v"})));
  EXPECT_EQ(db.run({"EXISTS", "k"}), Reply::number(0));
}

// A session is forgotten when (the applying entry's time - its last activity) > TTL, by the
// leader-stamped clock, the same on every replica.
TEST(KvSessions, ExpireAfterTheirTtlOfInactivity) {
  TestDb db;
  std::string client = register_client(db, 1000);
  EXPECT_EQ(seq(db, client, 1, {"INCR", "n"}, 2000), Reply::number(1));  // exactly the TTL
  EXPECT_EQ(db.machine().session_count(), 1U);
  ASSERT_EQ(db.run({"SET", "other", "x"}, 3001, kTtlMs), Reply::ok());  // any entry expires it
  EXPECT_EQ(db.machine().session_count(), 0U);
  EXPECT_TRUE(expired(seq(db, client, 2, {"INCR", "n"}, 3001)));
  EXPECT_TRUE(expired(seq(db, client, 1, {"INCR", "n"}, 3001)));
  EXPECT_EQ(db.run({"GET", "n"}), Reply::bulk("1"));
}

// A retry keeps its session alive; a slow leader clock cannot expire anything early.
TEST(KvSessions, ActivityIsMeasuredByTheLargestTimeSeen) {
  TestDb db;
  std::string client = register_client(db, 5000);
  EXPECT_EQ(seq(db, client, 1, {"INCR", "n"}, 100), Reply::number(1));  // time stays 5000
  EXPECT_EQ(seq(db, client, 1, {"INCR", "n"}, 5900), Reply::number(1));
  EXPECT_EQ(seq(db, client, 2, {"INCR", "n"}, 6800), Reply::number(2));
}

// At most max_sessions: registering one more evicts the least recently active.
TEST(KvSessions, TheLeastRecentlyActiveIsEvicted) {
  TestDb db(Options{.max_sessions = 2});
  std::string a = register_client(db, 10);
  std::string b = register_client(db, 20);
  ASSERT_EQ(seq(db, a, 1, {"INCR", "n"}, 30), Reply::number(1));  // a is now the most recent
  std::string c = register_client(db, 40);
  EXPECT_EQ(db.machine().session_count(), 2U);
  EXPECT_TRUE(expired(seq(db, b, 1, {"INCR", "n"}, 50)));
  EXPECT_EQ(seq(db, a, 1, {"INCR", "n"}, 50), Reply::number(1));
  EXPECT_EQ(seq(db, c, 1, {"INCR", "n"}, 50), Reply::number(2));
}

TEST(KvSessions, ATransactionIsAppliedOnce) {
  TestDb db;
  std::string client = register_client(db);
  std::vector<Classified> queued;
  for (const Argv& argv : std::vector<Argv>{{"INCR", "n"}, {"INCR", "n"}}) {
    queued.push_back(std::get<Classified>(*classify(argv)));
  }
  Command exec = make_exec(queued, {});
  exec.session = Session{std::stoull(client), 1};
  exec.session_ttl_ms = kTtlMs;
  const Reply both = Reply::array({Reply::number(1), Reply::number(2)});
  EXPECT_EQ(db.apply(exec), both);
  EXPECT_EQ(db.apply(exec), both);
  EXPECT_EQ(db.run({"GET", "n"}), Reply::bulk("2"));
}

TEST(KvSessions, AWrappedReadNeedsNoSession) {
  TestDb db;
  ASSERT_EQ(db.run({"SET", "k", "v"}), Reply::ok());
  EXPECT_EQ(seq(db, "999", 1, {"GET", "k"}), Reply::bulk("v"));
}

}  // namespace
}  // namespace spofless::kv
