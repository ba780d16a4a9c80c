// DbClient against scripted fake servers: sessions and seq numbers (Raft thesis §6.3), the
// retry rules (next node on a failed connection, backoff on -TRYAGAIN / -BUSY), and what a
// failed write's Status promises. Waits between retries are recorded, not slept.

#include "client/db_client.h"

#include <gtest/gtest.h>

#include "client/fake_resp_server.h"

namespace spofless::client {
namespace {

using fake::RefusingPort;
using fake::Reply;
using fake::RespServer;
using std::chrono::milliseconds;
using Commands = std::vector<std::vector<std::string>>;

// Long enough for a loaded machine to answer a scripted reply; a silent server costs this.
constexpr milliseconds kTimeout{300};

bool is_seq(const std::vector<std::string>& argv) { return argv[0] == "SPOFLESS.SEQ"; }

// Registers every session as client 7 (then 8, 9, ...) and hands other commands to `rest`.
fake::Script with_sessions(fake::Script rest) {
  return [rest = std::move(rest), next_id = 7](const std::vector<std::string>& argv) mutable {
    if (argv[0] == "SPOFLESS.REGISTER") return Reply::integer(next_id++);
    return rest(argv);
  };
}

class DbClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<RespServer> serve(fake::Script script) {
    auto server = RespServer::start(std::move(script));
    EXPECT_TRUE(server.is_ok()) << server.status().to_string();
    return server.is_ok() ? std::move(*server) : nullptr;
  }

  DbClientOptions options(std::vector<HostPort> nodes) {
    DbClientOptions o;
    o.nodes = std::move(nodes);
    o.timeout = kTimeout;
    o.retry_for = milliseconds(20'000);
    o.seed = 1;
    o.sleep_for = [this](milliseconds wait) { waits_.push_back(wait); };
    return o;
  }

  std::vector<milliseconds> waits_;
};

TEST_F(DbClientTest, RegistersOnceThenNumbersEveryNewWriteInItsSession) {
  auto server = serve(with_sessions([](const std::vector<std::string>& argv) {
    return argv[3] == "INCR" ? Reply::integer(41) : Reply::ok();
  }));
  DbClient client(options({server->address()}));
  ASSERT_TRUE(client.set("k", "v").is_ok());
  auto n = client.incr("c");
  ASSERT_TRUE(n.is_ok()) << n.status().to_string();
  EXPECT_EQ(*n, 41);
  ASSERT_TRUE(client.set("k", "w").is_ok());

  EXPECT_EQ(server->received(), (Commands{{"SPOFLESS.REGISTER"},
                                          {"SPOFLESS.SEQ", "7", "1", "SET", "k", "v"},
                                          {"SPOFLESS.SEQ", "7", "2", "INCR", "c"},
                                          {"SPOFLESS.SEQ", "7", "3", "SET", "k", "w"}}));
  EXPECT_EQ(client.session_id(), 7);
}

// Raft thesis §6.3: a retried command carries the same serial number, so the cluster can
// answer it from the session instead of applying it again.
TEST_F(DbClientTest, AWriteRetriedAfterATimeoutCarriesTheSameSeq) {
  auto server = serve(with_sessions([seqs = 0](const std::vector<std::string>& argv) mutable {
    if (++seqs == 1) return Reply::silent();
    return argv[3] == "INCR" ? Reply::integer(1) : Reply::ok();
  }));
  DbClient client(options({server->address()}));
  auto n = client.incr("c");
  ASSERT_TRUE(n.is_ok()) << n.status().to_string();
  ASSERT_TRUE(client.set("k", "v").is_ok());

  EXPECT_EQ(server->received(), (Commands{{"SPOFLESS.REGISTER"},
                                          {"SPOFLESS.SEQ", "7", "1", "INCR", "c"},
                                          {"SPOFLESS.SEQ", "7", "1", "INCR", "c"},
                                          {"SPOFLESS.SEQ", "7", "2", "SET", "k", "v"}}));
  EXPECT_EQ(server->connections(), 2u) << "the timed-out connection is not reused";
}

TEST_F(DbClientTest, AWriteWhoseConnectionBrokeIsRetriedOnTheNextNodeWithTheSameSeq) {
  auto dying = serve(with_sessions([](const std::vector<std::string>&) { return Reply::close(); }));
  auto next = serve([](const std::vector<std::string>&) { return Reply::ok(); });
  DbClient client(options({dying->address(), next->address()}));
  ASSERT_TRUE(client.set("k", "v").is_ok());

  EXPECT_EQ(dying->received(),
            (Commands{{"SPOFLESS.REGISTER"}, {"SPOFLESS.SEQ", "7", "1", "SET", "k", "v"}}));
  EXPECT_EQ(next->received(), (Commands{{"SPOFLESS.SEQ", "7", "1", "SET", "k", "v"}}));
  EXPECT_EQ(client.current_node(), next->address());
}

TEST_F(DbClientTest, ARefusedConnectionFailsOverToTheNextNodeAtOnce) {
  auto refusing = RefusingPort::open();
  ASSERT_TRUE(refusing.is_ok()) << refusing.status().to_string();
  auto server =
      serve([](const std::vector<std::string>&) { return Reply::value(proto::resp_bulk("v")); });
  DbClient client(options({(*refusing)->address(), server->address()}));
  auto value = client.get("k");
  ASSERT_TRUE(value.is_ok()) << value.status().to_string();
  EXPECT_EQ(*value, "v");
  EXPECT_EQ(server->received(), (Commands{{"GET", "k"}})) << "reads need no session";
  EXPECT_TRUE(waits_.empty()) << "another node was left to try, so no backoff";
  EXPECT_EQ(client.stats().node_switches, 1u);
}

TEST_F(DbClientTest, TryAgainIsRetriedAfterGrowingJitteredWaitsWithTheSameSeq) {
  auto server = serve(with_sessions([seqs = 0](const std::vector<std::string>&) mutable {
    return ++seqs <= 4 ? Reply::error("TRYAGAIN no leader elected yet; retry shortly")
                       : Reply::ok();
  }));
  DbClient client(options({server->address()}));
  ASSERT_TRUE(client.set("k", "v").is_ok());

  Commands expected = {{"SPOFLESS.REGISTER"}};
  for (int i = 0; i < 5; ++i) expected.push_back({"SPOFLESS.SEQ", "7", "1", "SET", "k", "v"});
  EXPECT_EQ(server->received(), expected);
  ASSERT_EQ(waits_.size(), 4u) << "one wait before each retry";
  for (std::size_t n = 0; n < waits_.size(); ++n) {
    EXPECT_LE(waits_[n].count(), std::min(500LL, 25LL << n)) << "retry " << n;
  }
}

TEST_F(DbClientTest, BusyIsRetriedLikeTryAgain) {
  auto server = serve([calls = 0](const std::vector<std::string>&) mutable {
    return ++calls <= 2 ? Reply::error("BUSY too many reads waiting; retry later")
                        : Reply::value(proto::resp_null());
  });
  DbClient client(options({server->address()}));
  auto value = client.get("missing");
  ASSERT_TRUE(value.is_ok()) << value.status().to_string();
  EXPECT_EQ(*value, std::nullopt);
  EXPECT_EQ(server->received().size(), 3u);
  EXPECT_EQ(waits_.size(), 2u);
}

TEST_F(DbClientTest, SessionExpiredFailsTheWriteAsUnknownAndTheNextWriteRegistersAnew) {
  auto server = serve(with_sessions([seqs = 0](const std::vector<std::string>&) mutable {
    return ++seqs == 1 ? Reply::error("SESSIONEXPIRED unknown client id 7") : Reply::ok();
  }));
  DbClient client(options({server->address()}));
  Status failed = client.set("k", "v");
  EXPECT_EQ(failed.code(), StatusCode::kDeadlineExceeded) << failed.to_string();
  EXPECT_NE(failed.message().find("outcome unknown"), std::string::npos) << failed.message();
  EXPECT_EQ(client.session_id(), std::nullopt);

  ASSERT_TRUE(client.set("k", "w").is_ok());
  EXPECT_EQ(server->received(), (Commands{{"SPOFLESS.REGISTER"},
                                          {"SPOFLESS.SEQ", "7", "1", "SET", "k", "v"},
                                          {"SPOFLESS.REGISTER"},
                                          {"SPOFLESS.SEQ", "8", "1", "SET", "k", "w"}}))
      << "the expired write is never sent again, under either session";
  EXPECT_EQ(client.stats().sessions, 2u);
}

TEST_F(DbClientTest, AnErrorReplyIsReturnedAndNotRetried) {
  auto server = serve(with_sessions([](const std::vector<std::string>&) {
    return Reply::error("ERR value is not an integer or out of range");
  }));
  DbClient client(options({server->address()}));
  auto n = client.incr("text");
  EXPECT_EQ(n.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(n.status().message().find("ERR value is not an integer"), std::string::npos);
  EXPECT_EQ(server->received().size(), 2u);
}

TEST_F(DbClientTest, AWriteNoNodeAnsweredIsUnknownOnceSentAndNotAppliedOtherwise) {
  auto silent = serve(with_sessions([](const std::vector<std::string>& argv) {
    return is_seq(argv) ? Reply::silent() : Reply::ok();
  }));
  DbClientOptions o = options({silent->address()});
  o.retry_for = milliseconds(1000);
  DbClient client(o);
  Status unknown = client.set("k", "v");
  EXPECT_EQ(unknown.code(), StatusCode::kDeadlineExceeded) << unknown.to_string();
  EXPECT_NE(unknown.message().find("outcome unknown"), std::string::npos);
  for (const auto& argv : silent->received()) {
    if (is_seq(argv)) {
      EXPECT_EQ(argv[2], "1") << "every try is the same command";
    }
  }

  auto refusing = RefusingPort::open();
  ASSERT_TRUE(refusing.is_ok());
  DbClient unreachable(options({(*refusing)->address()}));
  Status not_applied = unreachable.set("k", "v");
  EXPECT_EQ(not_applied.code(), StatusCode::kUnavailable) << not_applied.to_string();
}

TEST_F(DbClientTest, WithoutSessionsALostWriteIsNotSentAgain) {
  auto server = serve([](const std::vector<std::string>&) { return Reply::silent(); });
  DbClientOptions o = options({server->address()});
  o.exactly_once = false;
  DbClient client(o);
  Status lost = client.set("k", "v");
  EXPECT_EQ(lost.code(), StatusCode::kDeadlineExceeded) << lost.to_string();
  EXPECT_EQ(server->received(), (Commands{{"SET", "k", "v"}}));
}

TEST_F(DbClientTest, CallReturnsAnErrorReplyAsAValueWithoutRetrying) {
  auto server = serve([](const std::vector<std::string>&) { return Reply::error("TRYAGAIN x"); });
  DbClient client(options({server->address()}));
  auto reply = client.call({"PING"});
  ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
  EXPECT_EQ(reply->kind, proto::RespValue::Kind::kError);
  EXPECT_EQ(reply->str, "TRYAGAIN x");
  EXPECT_EQ(server->received().size(), 1u);
}

TEST_F(DbClientTest, APasswordIsSentOnEveryNewConnection) {
  auto server = serve([](const std::vector<std::string>& argv) {
    if (argv[0] == "AUTH") return argv[1] == "s3cret" ? Reply::ok() : Reply::error("WRONGPASS");
    return Reply::value(proto::resp_simple("PONG"));
  });
  DbClientOptions o = options({server->address()});
  o.password = "s3cret";
  DbClient client(o);
  ASSERT_TRUE(client.call({"PING"}).is_ok());
  EXPECT_EQ(server->received(), (Commands{{"AUTH", "s3cret"}, {"PING"}}));

  o.password = "wrong";
  DbClient refused(o);
  auto reply = refused.read({"PING"});
  EXPECT_EQ(reply.status().code(), StatusCode::kInvalidArgument) << "a wrong password is final";
}

}  // namespace
}  // namespace spofless::client
