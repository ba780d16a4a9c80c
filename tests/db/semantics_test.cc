// What a Redis client sees on one connection to a three-node `spofless db` cluster, as
// docs/db.md ("Client protocol", "Transactions", "Reads from replicas") promises it: Redis's
// errors for unknown commands and broken framing, QUIT and half-closed connections,
// MULTI/EXEC/WATCH/DISCARD with Redis's replies, AUTH and HELLO under --requirepass (followers
// authenticate what they forward), and READONLY reads from a replica's own state.

#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "db/fixture.h"

namespace spofless::db_test {
namespace {

using proto::resp_array;
using proto::resp_bulk;
using proto::resp_error;
using proto::resp_integer;
using proto::resp_null;
using proto::resp_simple;
using proto::RespArgs;
using proto::RespValue;

class DbSemanticsTest : public DbClusterTest {
 protected:
  int follower() const { return leader_ % static_cast<int>(cluster_->size()) + 1; }

  // `argv` on `conn`, expecting a reply.
  static RespValue call(RawConnection& conn, const RespArgs& argv) {
    auto reply = conn.call(argv);
    EXPECT_TRUE(reply.is_ok()) << fmt::format("{}", fmt::join(argv, " ")) << ": "
                               << reply.status().to_string();
    return reply.is_ok() ? *reply : resp_error("(no reply)");
  }

  // A linearizable read of `key` on node `id`, on a connection of its own.
  RespValue get(int id, const std::string& key) {
    auto conn = connect_raw(id);
    if (conn == nullptr) return resp_error("(no connection)");
    return call(*conn, {"GET", key});
  }
};

// docs/db.md: "An unknown command gets Redis's -ERR unknown command ...; the connection stays
// open." The wording is Redis 7's.
TEST_F(DbSemanticsTest, UnknownCommandGetsRedisErrorAndTheConnectionKeepsWorking) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  auto conn = connect_raw(follower());
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(call(*conn, {"NOSUCHCMD", "a", "b"}),
            resp_error("ERR unknown command 'NOSUCHCMD', with args beginning with: 'a' 'b' "));
  EXPECT_EQ(call(*conn, {"SET", "after-unknown", "1"}), resp_simple("OK"));
  EXPECT_EQ(call(*conn, {"GET", "after-unknown"}), resp_bulk("1"));
}

// docs/db.md: a RESP protocol error gets "-ERR Protocol error: ... at byte N" and closes that
// connection (as Redis does); requests framed before the error are answered first, and the
// other connections are unaffected.
TEST_F(DbSemanticsTest, ProtocolErrorClosesOnlyThatConnection) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  for (int id : {leader_, follower()}) {
    auto bystander = connect_raw(id);
    ASSERT_NE(bystander, nullptr);
    EXPECT_EQ(call(*bystander, {"PING"}), resp_simple("PONG"));

    auto broken = connect_raw(id);
    ASSERT_NE(broken, nullptr);
    // "*1\r\n$4\r\nPING\r\n" is 14 bytes; the bad bulk header "$x" starts at byte 18.
    ASSERT_TRUE(broken->send("*1\r\n$4\r\nPING\r\n*1\r\n$x\r\n").is_ok());
    auto answer = broken->read_until_closed();
    ASSERT_TRUE(answer.is_ok()) << "node " << id << ": " << answer.status().to_string();
    EXPECT_EQ(*answer, "+PONG\r\n-ERR Protocol error: invalid bulk length at byte 18\r\n")
        << "node " << id;

    EXPECT_EQ(call(*bystander, {"SET", fmt::format("bystander-{}", id), "ok"}), resp_simple("OK"));
    EXPECT_EQ(get(id, fmt::format("bystander-{}", id)), resp_bulk("ok"));

    // A write framed before the error waits for its commit; its answer still comes first.
    auto writer = connect_raw(id);
    ASSERT_NE(writer, nullptr);
    std::string set = fmt::format("SET before-error-{} 1\r\n", id);
    ASSERT_TRUE(writer->send(set + "*1\r\n$x\r\n").is_ok());
    answer = writer->read_until_closed();
    ASSERT_TRUE(answer.is_ok()) << "node " << id << ": " << answer.status().to_string();
    EXPECT_EQ(*answer, fmt::format("+OK\r\n-ERR Protocol error: invalid bulk length at byte {}\r\n",
                                   set.size() + 4))  // the "$x" after "*1\r\n"
        << "node " << id;
    EXPECT_EQ(get(id, fmt::format("before-error-{}", id)), resp_bulk("1"));
  }
}

// Redis: QUIT is answered +OK after every earlier request's answer, then the connection is
// closed; nothing sent after QUIT runs, even when it arrived in the same packet. A client that
// half-closes its side after a pipeline still gets every answer.
TEST_F(DbSemanticsTest, QuitAnswersWhatCameBeforeAndRunsNothingAfter) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  for (int id : {leader_, follower()}) {
    auto conn = connect_raw(id);
    ASSERT_NE(conn, nullptr);
    std::string before = fmt::format("before-quit-{}", id);
    std::string after = fmt::format("after-quit-{}", id);
    ASSERT_TRUE(conn->send(fmt::format("SET {} 1\r\nQUIT\r\nSET {} 1\r\n", before, after)).is_ok());
    auto answer = conn->read_until_closed();
    ASSERT_TRUE(answer.is_ok()) << "node " << id << ": " << answer.status().to_string();
    EXPECT_EQ(*answer, "+OK\r\n+OK\r\n") << "node " << id;

    auto half_closed = connect_raw(id);
    ASSERT_NE(half_closed, nullptr);
    std::string key = fmt::format("half-closed-{}", id);
    ASSERT_TRUE(half_closed->send(fmt::format("SET {} 1\r\nINCR {}\r\n", key, key)).is_ok());
    ASSERT_TRUE(half_closed->shutdown_sending().is_ok());
    answer = half_closed->read_until_closed();
    ASSERT_TRUE(answer.is_ok()) << "node " << id << ": " << answer.status().to_string();
    EXPECT_EQ(*answer, "+OK\r\n:2\r\n") << "node " << id;

    auto reader = connect_raw(id);
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(call(*reader, {"MGET", before, after, key}),
              resp_array({resp_bulk("1"), resp_null(), resp_bulk("2")}))
        << "node " << id;
  }
}

// MULTI/EXEC (docs/db.md "Transactions"): the queued commands are answered QUEUED, EXEC
// answers with each one's reply, and the whole transaction is one log entry, so no reader on
// any node ever sees part of it.
TEST_F(DbSemanticsTest, MultiExecAppliesQueuedCommandsAtomicallyAndReturnsTheirReplies) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  auto conn = connect_raw(follower());  // EXEC is forwarded to the leader like any write
  ASSERT_NE(conn, nullptr);
  auto replies = conn->pipeline({{"MULTI"},
                                 {"SET", "tx-a", "1"},
                                 {"INCRBY", "tx-a", "41"},
                                 {"SET", "tx-b", "x"},
                                 {"GET", "tx-a"},
                                 {"EXEC"}});
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  std::vector<RespValue> expected = {
      resp_simple("OK"),
      resp_simple("QUEUED"),
      resp_simple("QUEUED"),
      resp_simple("QUEUED"),
      resp_simple("QUEUED"),
      resp_array({resp_simple("OK"), resp_integer(42), resp_simple("OK"), resp_bulk("42")})};
  EXPECT_EQ(*replies, expected);
  for (int id = 1; id <= static_cast<int>(cluster_->size()); ++id) {
    auto reader = connect_raw(id);
    ASSERT_NE(reader, nullptr);
    EXPECT_EQ(call(*reader, {"MGET", "tx-a", "tx-b"}),
              resp_array({resp_bulk("42"), resp_bulk("x")}))
        << "node " << id;
  }

  // Atomic for readers: transactions set two keys to the same value while another node's
  // connection reads both at once; every read sees them equal.
  constexpr int kTransactions = 50;
  std::string batch;
  proto::RespWriter writer(batch);
  for (int i = 0; i < kTransactions; ++i) {
    writer.request({"MULTI"});
    writer.request({"SET", "pair-x", std::to_string(i)});
    writer.request({"SET", "pair-y", std::to_string(i)});
    writer.request({"EXEC"});
  }
  ASSERT_TRUE(conn->send(batch).is_ok());
  auto reader = connect_raw(leader_);
  ASSERT_NE(reader, nullptr);
  auto reads = reader->pipeline(std::vector<RespArgs>(kTransactions, {"MGET", "pair-x", "pair-y"}));
  ASSERT_TRUE(reads.is_ok()) << reads.status().to_string();
  for (const RespValue& read : *reads) {
    ASSERT_EQ(read.elements.size(), 2u) << read.to_string();
    EXPECT_EQ(read.elements[0], read.elements[1]) << "a reader saw half a transaction";
  }
  auto written = conn->read_replies(4 * kTransactions);
  ASSERT_TRUE(written.is_ok()) << written.status().to_string();
  EXPECT_EQ(written->back(), resp_array({resp_simple("OK"), resp_simple("OK")}));
}

// Redis: a command refused while queueing (wrong arity, unknown) makes EXEC answer
// EXECABORT and apply nothing; the connection leaves MULTI.
TEST_F(DbSemanticsTest, QueuedSyntaxErrorMakesExecAbort) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  auto conn = connect_raw(follower());
  ASSERT_NE(conn, nullptr);
  const RespValue aborted =
      resp_error("EXECABORT Transaction discarded because of previous errors.");
  auto replies = conn->pipeline(
      {{"MULTI"}, {"SET", "abort-a", "1"}, {"SET", "abort-b"}, {"SET", "abort-c", "3"}, {"EXEC"}});
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  std::vector<RespValue> expected = {resp_simple("OK"), resp_simple("QUEUED"),
                                     resp_error("ERR wrong number of arguments for 'set' command"),
                                     resp_simple("QUEUED"), aborted};
  EXPECT_EQ(*replies, expected);

  replies = conn->pipeline({{"MULTI"}, {"SET", "abort-a", "1"}, {"NOSUCHCMD"}, {"EXEC"}});
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  EXPECT_EQ((*replies)[2],
            resp_error("ERR unknown command 'NOSUCHCMD', with args beginning with: "));
  EXPECT_EQ((*replies)[3], aborted);

  EXPECT_EQ(call(*conn, {"MGET", "abort-a", "abort-b", "abort-c"}),
            resp_array({resp_null(), resp_null(), resp_null()}));
  EXPECT_EQ(call(*conn, {"EXEC"}), resp_error("ERR EXEC without MULTI")) << "MULTI was left";
}

// WATCH (docs/db.md "Transactions"): when another client modifies a watched key between
// WATCH and EXEC, EXEC answers the null array (*-1, RESP2's nil for an aborted transaction)
// and applies nothing. Watching on the leader and on a follower (whose EXEC is forwarded).
TEST_F(DbSemanticsTest, WatchedKeyChangedByAnotherClientMakesExecReturnNil) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  for (int id : {leader_, follower()}) {
    std::string key = fmt::format("watched-{}", id);
    std::string other = fmt::format("untouched-{}", id);
    auto watcher = connect_raw(id);
    auto writer = connect_raw(leader_ % static_cast<int>(cluster_->size()) + 1);
    ASSERT_TRUE(watcher != nullptr && writer != nullptr);
    EXPECT_EQ(call(*watcher, {"WATCH", key}), resp_simple("OK"));
    EXPECT_EQ(call(*writer, {"SET", key, "theirs"}), resp_simple("OK"));
    auto queued = watcher->pipeline({{"MULTI"}, {"SET", key, "mine"}, {"SET", other, "mine"}});
    ASSERT_TRUE(queued.is_ok()) << queued.status().to_string();
    EXPECT_EQ(queued->back(), resp_simple("QUEUED"));
    ASSERT_TRUE(watcher->send("*1\r\n$4\r\nEXEC\r\n").is_ok());
    auto exec = watcher->read_bytes(5);
    ASSERT_TRUE(exec.is_ok()) << exec.status().to_string();
    EXPECT_EQ(*exec, "*-1\r\n") << "node " << id;
    EXPECT_EQ(call(*watcher, {"MGET", key, other}), resp_array({resp_bulk("theirs"), resp_null()}))
        << "node " << id << ": nothing of the aborted transaction applied";

    // The control: with no write in between, the same transaction applies.
    EXPECT_EQ(call(*watcher, {"WATCH", key}), resp_simple("OK"));
    auto applied =
        watcher->pipeline({{"MULTI"}, {"SET", key, "mine"}, {"SET", other, "mine"}, {"EXEC"}});
    ASSERT_TRUE(applied.is_ok()) << applied.status().to_string();
    EXPECT_EQ(applied->back(), resp_array({resp_simple("OK"), resp_simple("OK")}));
    EXPECT_EQ(get(leader_, other), resp_bulk("mine"));
  }
}

// DISCARD drops the queue and leaves MULTI; EXEC and DISCARD outside MULTI are errors.
TEST_F(DbSemanticsTest, DiscardDropsTheQueueAndExecWithoutMultiIsAnError) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  auto conn = connect_raw(follower());
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(call(*conn, {"EXEC"}), resp_error("ERR EXEC without MULTI"));
  EXPECT_EQ(call(*conn, {"DISCARD"}), resp_error("ERR DISCARD without MULTI"));
  auto replies = conn->pipeline({{"MULTI"}, {"SET", "discarded", "1"}, {"DISCARD"}, {"EXEC"}});
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  std::vector<RespValue> expected = {resp_simple("OK"), resp_simple("QUEUED"), resp_simple("OK"),
                                     resp_error("ERR EXEC without MULTI")};
  EXPECT_EQ(*replies, expected);
  EXPECT_EQ(call(*conn, {"GET", "discarded"}), resp_null());
  EXPECT_EQ(get(leader_, "discarded"), resp_null());
}

// --requirepass (docs/db.md flags): every command but AUTH answers NOAUTH until the client
// authenticates (by AUTH, or HELLO's AUTH option as in Redis 7); a wrong password answers
// WRONGPASS and changes nothing. A follower forwards an authenticated client's write to the
// leader, authenticating its own forwarding connection.
TEST_F(DbSemanticsTest, RequirepassRefusesUntilAuthAndFollowersStillForwardWrites) {
  ClusterOptions options;
  options.extra_args = {"--requirepass", "s3cret"};
  ASSERT_NO_FATAL_FAILURE(start_cluster(options));
  const RespValue noauth = resp_error("NOAUTH Authentication required.");
  auto conn = connect_raw(follower());
  ASSERT_NE(conn, nullptr);
  EXPECT_EQ(call(*conn, {"GET", "secret-key"}), noauth);
  EXPECT_EQ(call(*conn, {"SET", "secret-key", "v"}), noauth);
  EXPECT_EQ(call(*conn, {"MULTI"}), noauth);
  EXPECT_EQ(call(*conn, {"AUTH", "wrong"}),
            resp_error("WRONGPASS invalid username-password pair or user is disabled."));
  EXPECT_EQ(call(*conn, {"GET", "secret-key"}), noauth) << "a failed AUTH grants nothing";
  EXPECT_EQ(call(*conn, {"AUTH", "s3cret"}), resp_simple("OK"));
  EXPECT_EQ(call(*conn, {"SET", "secret-key", "v"}), resp_simple("OK")) << "forwarded";
  EXPECT_EQ(call(*conn, {"INCR", "secret-counter"}), resp_integer(1)) << "forwarded";

  auto on_leader = connect_raw(leader_);
  ASSERT_NE(on_leader, nullptr);
  EXPECT_EQ(call(*on_leader, {"AUTH", "default", "s3cret"}), resp_simple("OK"));
  EXPECT_EQ(call(*on_leader, {"MGET", "secret-key", "secret-counter"}),
            resp_array({resp_bulk("v"), resp_bulk("1")}));

  // HELLO's AUTH option authenticates too; an unauthenticated HELLO is refused (Redis 7).
  auto hello = connect_raw(follower());
  ASSERT_NE(hello, nullptr);
  RespValue refused = call(*hello, {"HELLO", "2"});
  EXPECT_TRUE(refused.kind == RespValue::Kind::kError &&
              refused.str.starts_with("NOAUTH HELLO must be called with the client already "
                                      "authenticated"))
      << refused.to_string();
  EXPECT_EQ(call(*hello, {"HELLO", "2", "AUTH", "default", "wrong"}),
            resp_error("WRONGPASS invalid username-password pair or user is disabled."));
  RespValue greeting =
      call(*hello, {"HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "probe"});
  ASSERT_EQ(greeting.kind, RespValue::Kind::kArray) << greeting.to_string();
  EXPECT_EQ(greeting.elements.at(4), resp_bulk("proto"));
  EXPECT_EQ(greeting.elements.at(5), resp_bulk("2"));
  EXPECT_EQ(call(*hello, {"CLIENT", "GETNAME"}), resp_bulk("probe"));
  EXPECT_EQ(call(*hello, {"GET", "secret-key"}), resp_bulk("v"));

  client::DbClientOptions with_password = cluster_->client_options(follower());
  with_password.password = "s3cret";
  client::DbClient session(with_password);
  EXPECT_TRUE(session.set("session-key", "w").is_ok()) << "a session write through a follower";
  auto value = session.get("session-key");
  ASSERT_TRUE(value.is_ok()) << value.status().to_string();
  EXPECT_EQ(*value, "w");
}

// docs/db.md "Reads from replicas" and "What is not guaranteed": after READONLY a connection
// reads the replica's own state without a round trip, and "with fewer than a majority of
// voters up, writes and linearizable reads stop (-TRYAGAIN); READONLY reads continue within
// --max-stale-ms". Here the two other nodes die (kill -9), so no leader can be elected; once the
// surviving follower answers a linearizable GET with -TRYAGAIN, its READONLY connection still
// serves the last value it applied.
TEST_F(DbSemanticsTest, ReadonlyReadsOnAFollowerOutliveTheLeader) {
  ClusterOptions options;
  // A read staler than a minute is refused; a linearizable read gives up after 2 s.
  options.extra_args = {"--max-stale-ms", "60000", "--request-timeout-ms", "2000"};
  ASSERT_NO_FATAL_FAILURE(start_cluster(options));
  const int survivor = follower();
  auto writer = connect_raw(leader_);
  ASSERT_NE(writer, nullptr);
  EXPECT_EQ(call(*writer, {"SET", "stale-key", "v1"}), resp_simple("OK"));

  auto readonly = connect_raw(survivor);
  ASSERT_NE(readonly, nullptr);
  EXPECT_EQ(call(*readonly, {"READONLY"}), resp_simple("OK"));
  Status replicated = Cluster::wait_until(
      [&]() -> Result<bool> {
        return call(*readonly, {"GET", "stale-key"}) == resp_bulk("v1");
      },
      kConvergenceTimeout, "a READONLY GET of the follower's own copy");
  ASSERT_TRUE(replicated.is_ok()) << replicated.to_string();

  // Every other node dies, the leader among them (wherever an election may have moved it).
  for (int id = 1; id <= static_cast<int>(cluster_->size()); ++id) {
    if (id == survivor) continue;
    ASSERT_TRUE(cluster_->kill(id).is_ok());
  }
  auto linearizable = connect_raw(survivor);
  ASSERT_NE(linearizable, nullptr);
  RespValue refused;
  Status noticed = Cluster::wait_until(
      [&]() -> Result<bool> {
        refused = call(*linearizable, {"GET", "stale-key"});
        return refused.kind == RespValue::Kind::kError && refused.str.starts_with("TRYAGAIN");
      },
      kElectionTimeout, "a linearizable GET on the follower answering -TRYAGAIN");
  ASSERT_TRUE(noticed.is_ok()) << noticed.to_string() << "; last reply " << refused.to_string();

  EXPECT_EQ(call(*readonly, {"GET", "stale-key"}), resp_bulk("v1"))
      << "READONLY reads continue within --max-stale-ms without a quorum";
  EXPECT_EQ(call(*readonly, {"MGET", "stale-key", "missing"}),
            resp_array({resp_bulk("v1"), resp_null()}));
  EXPECT_EQ(call(*readonly, {"READWRITE"}), resp_simple("OK"));
  RespValue linear_again = call(*readonly, {"GET", "stale-key"});
  EXPECT_TRUE(linear_again.kind == RespValue::Kind::kError &&
              linear_again.str.starts_with("TRYAGAIN"))
      << "after READWRITE the connection reads linearizably again: " << linear_again.to_string();
}

}  // namespace
}  // namespace spofless::db_test
