// Log entries and snapshots: what encode() writes decode() reads back, and bytes that are not
// a well-formed command or state are refused with the field that is wrong.

#include <gtest/gtest.h>

#include "kv/command.h"
#include "kv/kv.pb.h"
#include "kv/state_machine.h"

namespace spofless::kv {
namespace {

Command exec_example() {
  Command c;
  c.kind = CommandKind::kExec;
  ReadOp scan{ReadKind::kScan, {}, ScanArgs{7, "a*", 20, "string"}};
  c.transaction = {
      WriteOp{WriteKind::kMSet, {"a", "b"}, {"1", "2"}}, ReadOp{ReadKind::kMGet, {"a", "b"}, {}},
      scan, WriteOp{WriteKind::kSet, {"k"}, {"v"}, 0, SetCondition::kIfAbsent, SetReply::kOldValue},
      WriteOp{WriteKind::kIncrBy, {"n"}, {}, -5}};
  c.watched = {{"a", 3}, {"", 0}};
  c.session = Session{11, 2};
  c.now_ms = 123456;
  c.session_ttl_ms = 1000;
  return c;
}

TEST(KvCodec, ACommandRoundTrips) {
  const Command exec = exec_example();
  auto decoded = decode(encode(exec));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, exec);
  Command reg;
  reg.kind = CommandKind::kRegister;
  reg.now_ms = 5;
  EXPECT_EQ(*decode(encode(reg)), reg);
}

void expect_refused(const pb::Command& command, std::string_view field) {
  auto decoded = decode(command.SerializeAsString());
  ASSERT_FALSE(decoded.is_ok()) << field;
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find(field), std::string::npos)
      << decoded.status().message();
}

TEST(KvCodec, MalformedCommandsNameTheField) {
  EXPECT_FALSE(decode("\xff\xff\xff").is_ok());
  pb::Command c;
  c.mutable_write()->set_kind(pb::WRITE_SET);
  c.mutable_write()->add_keys("k");
  expect_refused(c, "command.write.values: 0 values, expected 1");
  c.mutable_write()->add_keys("j");
  expect_refused(c, "command.write.keys: 2 keys, expected 1");

  pb::Command mset;
  mset.mutable_write()->set_kind(pb::WRITE_MSET);
  mset.mutable_write()->add_keys("k");
  expect_refused(mset, "command.write.values");

  pb::Command unknown;
  unknown.set_kind(static_cast<pb::CommandKind>(9));
  expect_refused(unknown, "command.kind: unknown command kind 9");

  pb::Command exec;
  exec.set_kind(pb::COMMAND_EXEC);
  exec.add_transaction()->mutable_read()->set_kind(pb::READ_GET);
  expect_refused(exec, "command.transaction[0].read.keys: 0 keys, expected 1");
  exec.mutable_transaction(0)->mutable_read()->add_keys("k");
  exec.add_transaction();
  expect_refused(exec, "command.transaction[1]: neither a read nor a write");

  pb::Command scan;
  scan.set_kind(pb::COMMAND_EXEC);
  scan.add_transaction()->mutable_read()->set_kind(pb::READ_SCAN);
  expect_refused(scan, "command.transaction[0].read.count: 0");

  pb::Command seq_zero;
  seq_zero.mutable_write()->set_kind(pb::WRITE_DEL);
  seq_zero.mutable_write()->add_keys("k");
  seq_zero.mutable_session()->set_client_id(1);
  expect_refused(seq_zero, "command.session.seq");
}

TEST(KvCodec, TransactionsAreBounded) {
  pb::Command exec;
  exec.set_kind(pb::COMMAND_EXEC);
  for (std::size_t i = 0; i <= limits::kKvMaxTransactionOps; ++i) {
    pb::ReadOp& read = *exec.add_transaction()->mutable_read();
    read.set_kind(pb::READ_DBSIZE);
  }
  expect_refused(exec, "command.transaction: 4097 commands exceed the limit of 4096");
}

void expect_restore_refused(const pb::State& state, std::string_view field) {
  StateMachine machine;
  Status s = machine.restore(state.SerializeAsString());
  ASSERT_FALSE(s.is_ok()) << field;
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
  EXPECT_EQ(machine.applied(), 0U);
}

TEST(KvSnapshot, MalformedStatesAreRefusedAndChangeNothing) {
  StateMachine machine;
  EXPECT_FALSE(machine.restore("\xff\xff\xff").is_ok());

  pb::State state;
  state.set_format(2);
  expect_restore_refused(state, "snapshot.format: 2, expected 1");
  state.set_format(1);
  state.set_applied(10);
  state.set_horizon(11);
  expect_restore_refused(state, "snapshot.horizon");
  state.set_horizon(0);
  pb::KeyValue* kv = state.add_keys();
  kv->set_key("k");
  kv->set_version(11);
  expect_restore_refused(state, "snapshot.keys[0].version: 11, expected an index in 1..10");
  kv->set_version(3);
  *state.add_keys() = *kv;
  expect_restore_refused(state, "snapshot.keys[1]: duplicate key");
  state.mutable_keys()->RemoveLast();
  pb::Tombstone* t = state.add_tombstones();
  t->set_key("k");
  t->set_version(4);
  expect_restore_refused(state, "snapshot.tombstones[0]: a key that is live");
  t->set_key("gone");
  pb::ClientSession* s = state.add_sessions();
  s->set_client_id(5);
  s->set_last_seq(1);
  expect_restore_refused(state, "snapshot.sessions[0]: a last reply iff a last sequence number");
  s->mutable_last_reply()->set_kind(pb::REPLY_ERROR);
  expect_restore_refused(state, "snapshot.sessions[0].last_reply.str");
  s->mutable_last_reply()->set_str("ERR cached");
  s->set_last_active_ms(1);
  expect_restore_refused(state, "snapshot.sessions[0].last_active_ms");
  state.set_time_ms(1);
  EXPECT_TRUE(machine.restore(state.SerializeAsString()).is_ok());
  EXPECT_EQ(machine.applied(), 10U);
  EXPECT_EQ(machine.size(), 1U);
  EXPECT_EQ(machine.session_count(), 1U);
}

TEST(KvSnapshot, LimitsAreChecked) {
  pb::State state;
  state.set_format(1);
  state.set_applied(10);
  for (int i = 0; i < 3; ++i) {
    pb::Tombstone* t = state.add_tombstones();
    t->set_key("k" + std::to_string(i));
    t->set_version(1);
  }
  StateMachine machine(Options{.max_tombstones = 2});
  Status s = machine.restore(state.SerializeAsString());
  EXPECT_NE(s.message().find("snapshot.tombstones: 3 entries exceed this server's limit of 2"),
            std::string::npos)
      << s.message();
}

}  // namespace
}  // namespace spofless::kv
