// DbClient::transaction against a fake server that implements just enough of Redis's
// WATCH / MULTI / EXEC and of the session table (one cached reply per client, Raft thesis
// §6.3), with knobs for a conflicting writer and for EXEC replies that get lost.

#include <map>
#include <mutex>

#include <gtest/gtest.h>

#include "client/db_client.h"
#include "client/fake_resp_server.h"

namespace spofless::client {
namespace {

using fake::Reply;
using proto::RespValue;
using std::chrono::milliseconds;
using Args = std::vector<std::string>;

constexpr milliseconds kTimeout{300};

// One client's view of a Redis with sessions. The script runs on the server's thread; the
// test sets knobs and reads the data between calls, under the same mutex.
class FakeKv {
 public:
  fake::Script script() {
    return [this](const Args& argv) {
      std::lock_guard lock(mutex);
      return handle(argv);
    };
  }

  std::mutex mutex;
  std::map<std::string, std::string> data;
  int conflicts = 0;                     // EXECs that find a watched key changed by another client
  int drop_exec_before_apply = 0;        // EXECs that vanish before they apply
  int lose_exec_replies = 0;             // EXECs that apply but whose reply is lost
  bool other_writer_after_drop = false;  // a watched key changes after a dropped EXEC
  bool forget_session_after_lost_reply = false;  // the session expires after a lost reply
  int watch_tryagain = 0;                        // WATCHes answered -TRYAGAIN

 private:
  Reply handle(const Args& argv) {
    const std::string& name = argv[0];
    if (name == "SPOFLESS.REGISTER") return Reply::integer(7);
    if (name == "WATCH") {
      if (watch_tryagain > 0) {
        --watch_tryagain;
        return Reply::error("TRYAGAIN no leader");
      }
      watched_.assign(argv.begin() + 1, argv.end());
      dirty_ = false;
      return Reply::ok();
    }
    if (name == "UNWATCH") return Reply::ok();
    if (name == "GET") {
      auto it = data.find(argv[1]);
      return Reply::value(it == data.end() ? proto::resp_null() : proto::resp_bulk(it->second));
    }
    if (name == "MULTI") {
      queued_.clear();
      return Reply::ok();
    }
    if (name == "SPOFLESS.SEQ" && argv[3] == "EXEC") return exec(std::stoll(argv[2]));
    if (name == "SPOFLESS.SEQ" && argv[3] == "SET") {
      data[argv[4]] = argv[5];
      return Reply::ok();
    }
    queued_.push_back(argv);
    return Reply::value(proto::resp_simple("QUEUED"));
  }

  Reply exec(long long seq) {
    if (expired_) return Reply::error("SESSIONEXPIRED client 7 has no session");
    if (drop_exec_before_apply > 0) {
      --drop_exec_before_apply;
      if (other_writer_after_drop) data[watched_[0]] += "0";
      return Reply::silent();
    }
    if (seq == last_seq_) return Reply::value(last_reply_);
    if (conflicts > 0) {
      --conflicts;
      data[watched_[0]] += "0";  // another client's write to a watched key
      dirty_ = true;
    }
    RespValue reply = proto::resp_null_array();  // EXEC aborted by WATCH
    if (!dirty_) {
      std::vector<RespValue> replies;
      for (const Args& command : queued_) {
        data[command.at(1)] = command.at(2);  // every queued command is a SET here
        replies.push_back(proto::resp_simple("OK"));
      }
      reply = proto::resp_array(std::move(replies));
    }
    last_seq_ = seq;
    last_reply_ = reply;
    if (lose_exec_replies > 0) {
      --lose_exec_replies;
      expired_ = forget_session_after_lost_reply;
      return Reply::silent();
    }
    return Reply::value(reply);
  }

  std::vector<std::string> watched_;
  bool dirty_ = false;
  bool expired_ = false;
  std::vector<Args> queued_;
  long long last_seq_ = 0;
  RespValue last_reply_;
};

class TransactionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kv_.data = {{"a", "10"}, {"b", "5"}};
    auto server = fake::RespServer::start(kv_.script());
    ASSERT_TRUE(server.is_ok()) << server.status().to_string();
    server_ = std::move(*server);
    DbClientOptions o;
    o.nodes = {server_->address()};
    o.timeout = kTimeout;
    o.retry_for = milliseconds(20'000);
    o.seed = 1;
    o.sleep_for = [](milliseconds) {};
    client_ = std::make_unique<DbClient>(o);
  }

  // Moves 3 from a to b; counts its calls.
  TransactionBody transfer() {
    return [this](const std::vector<std::optional<std::string>>& values) {
      ++bodies_;
      long long a = std::stoll(values[0].value());
      long long b = std::stoll(values[1].value());
      return std::vector<Command>{{"SET", "a", std::to_string(a - 3)},
                                  {"SET", "b", std::to_string(b + 3)}};
    };
  }

  std::map<std::string, std::string> data() {
    std::lock_guard lock(kv_.mutex);
    return kv_.data;
  }

  // The seq of every EXEC the server received, in order.
  std::vector<std::string> exec_seqs() {
    std::vector<std::string> seqs;
    for (const Args& argv : server_->received()) {
      if (argv[0] == "SPOFLESS.SEQ") seqs.push_back(argv[2]);
    }
    return seqs;
  }

  FakeKv kv_;
  std::unique_ptr<fake::RespServer> server_;
  std::unique_ptr<DbClient> client_;
  int bodies_ = 0;
};

TEST_F(TransactionTest, WatchesReadsQueuesAndExecsThroughTheSession) {
  auto replies = client_->transaction({"a", "b"}, transfer());
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  EXPECT_EQ(*replies, (std::vector<RespValue>{proto::resp_simple("OK"), proto::resp_simple("OK")}));
  EXPECT_EQ(data(), (std::map<std::string, std::string>{{"a", "7"}, {"b", "8"}}));
  EXPECT_EQ(server_->received(), (std::vector<Args>{{"SPOFLESS.REGISTER"},
                                                    {"WATCH", "a", "b"},
                                                    {"GET", "a"},
                                                    {"GET", "b"},
                                                    {"MULTI"},
                                                    {"SET", "a", "7"},
                                                    {"SET", "b", "8"},
                                                    {"SPOFLESS.SEQ", "7", "1", "EXEC"}}));
}

TEST_F(TransactionTest, ANilExecRunsTheWholeTransactionAgainAsANewCommand) {
  kv_.conflicts = 1;  // a turns into "100" under the first EXEC
  auto replies = client_->transaction({"a", "b"}, transfer());
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  EXPECT_EQ(bodies_, 2) << "the commands are built again from the new values";
  EXPECT_EQ(data(), (std::map<std::string, std::string>{{"a", "97"}, {"b", "8"}}));
  EXPECT_EQ(exec_seqs(), (std::vector<std::string>{"1", "2"}));
}

TEST_F(TransactionTest, ALostExecIsSentAgainWithTheSameSeqWhileTheValuesAreUnchanged) {
  kv_.drop_exec_before_apply = 1;
  auto replies = client_->transaction({"a", "b"}, transfer());
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  EXPECT_EQ(bodies_, 1) << "the same commands are sent again, not rebuilt";
  EXPECT_EQ(data(), (std::map<std::string, std::string>{{"a", "7"}, {"b", "8"}}));
  EXPECT_EQ(exec_seqs(), (std::vector<std::string>{"1", "1"}));
}

TEST_F(TransactionTest, AnExecThatAppliedButLostItsReplyIsAnsweredFromTheSession) {
  kv_.lose_exec_replies = 1;
  auto replies = client_->transaction({"a", "b"}, transfer());
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  EXPECT_EQ(replies->size(), 2u) << "the first EXEC's replies";
  EXPECT_EQ(data(), (std::map<std::string, std::string>{{"a", "7"}, {"b", "8"}})) << "applied once";
  EXPECT_EQ(exec_seqs(), (std::vector<std::string>{"1", "1"}));
  std::vector<Args> received = server_->received();
  EXPECT_EQ(received.end()[-3], (Args{"UNWATCH"}));
  EXPECT_EQ(received.end()[-2], (Args{"MULTI"})) << "the claim queues no command";
}

TEST_F(TransactionTest, AnEmptyExecThatTakesTheSeqProvesTheLostOneNeverApplies) {
  kv_.drop_exec_before_apply = 1;
  kv_.other_writer_after_drop = true;  // so the retry finds the values changed
  auto replies = client_->transaction({"a", "b"}, transfer());
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  EXPECT_EQ(bodies_, 2) << "built again, from the other writer's values";
  EXPECT_EQ(data(), (std::map<std::string, std::string>{{"a", "97"}, {"b", "8"}}))
      << "one transfer, on the new values";
  EXPECT_EQ(exec_seqs(), (std::vector<std::string>{"1", "1", "2"}));
}

TEST_F(TransactionTest, ALostExecIsUnknownWhenTheSessionExpiredMeanwhile) {
  kv_.lose_exec_replies = 1;
  kv_.forget_session_after_lost_reply = true;
  auto replies = client_->transaction({"a", "b"}, transfer());
  EXPECT_EQ(replies.status().code(), StatusCode::kDeadlineExceeded) << replies.status().to_string();
  EXPECT_NE(replies.status().message().find("outcome unknown"), std::string::npos);
  EXPECT_EQ(bodies_, 1);
  EXPECT_EQ(data(), (std::map<std::string, std::string>{{"a", "7"}, {"b", "8"}}))
      << "never applied twice";
  EXPECT_EQ(client_->session_id(), std::nullopt) << "the next write registers anew";
}

TEST_F(TransactionTest, ABodyWithNoCommandsSendsNoMultiAndUnwatches) {
  auto replies = client_->transaction({"a"}, [](const auto&) { return std::vector<Command>{}; });
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  EXPECT_TRUE(replies->empty());
  EXPECT_EQ(server_->received().back(), (Args{"UNWATCH"}));
  EXPECT_TRUE(exec_seqs().empty());
  ASSERT_TRUE(client_->set("k", "v").is_ok());
  EXPECT_EQ(server_->received().back(), (Args{"SPOFLESS.SEQ", "7", "1", "SET", "k", "v"}))
      << "a seq never sent is not spent";
}

TEST_F(TransactionTest, TryAgainBeforeExecRestartsTheTryUnderTheSameSeq) {
  kv_.watch_tryagain = 2;
  auto replies = client_->transaction({"a", "b"}, transfer());
  ASSERT_TRUE(replies.is_ok()) << replies.status().to_string();
  EXPECT_EQ(exec_seqs(), (std::vector<std::string>{"1"}));
  ASSERT_TRUE(client_->set("k", "v").is_ok());
  EXPECT_EQ(exec_seqs(), (std::vector<std::string>{"1", "2"})) << "the next command's seq";
}

}  // namespace
}  // namespace spofless::client
