// The command table against Redis 7's replies: arity and syntax errors come from classify()
// before anything is proposed. Error texts are those of redis-server 7.0 (server.c
// processCommand, t_string.c, db.c scanGenericCommand).

#include "kv/classify.h"

#include <gtest/gtest.h>

#include "kv/test_db.h"

namespace spofless::kv {
namespace {

using testing::Argv;

Reply error_of(const Argv& argv) {
  auto c = classify(argv);
  if (!c || !std::holds_alternative<Reply>(*c)) return Reply::status("(classified)");
  return std::get<Reply>(*c);
}

Classified classified(const Argv& argv) {
  auto c = classify(argv);
  EXPECT_TRUE(c && std::holds_alternative<Classified>(*c)) << argv[0];
  if (!c || !std::holds_alternative<Classified>(*c)) return {};
  return std::get<Classified>(*c);
}

TEST(KvClassify, UnknownCommandsAreLeftToTheServer) {
  EXPECT_FALSE(classify({"PING"}));
  EXPECT_FALSE(classify({"MULTI"}));
  EXPECT_FALSE(classify({"GETX", "k"}));
  EXPECT_FALSE(classify({}));
}

TEST(KvClassify, CommandNamesAreCaseInsensitive) {
  EXPECT_EQ(classified({"gEt", "k"}).read.kind, ReadKind::kGet);
  EXPECT_EQ(classified({"SPOFLESS.Register"}).command.kind, CommandKind::kRegister);
}

// Redis 7 names the command in lower case, whatever case the client used.
TEST(KvClassify, WrongArityNamesTheCommandInLowerCase) {
  EXPECT_EQ(error_of({"GET"}), Reply::error("ERR wrong number of arguments for 'get' command"));
  EXPECT_EQ(error_of({"get", "a", "b"}),
            Reply::error("ERR wrong number of arguments for 'get' command"));
  EXPECT_EQ(error_of({"SET", "k"}),
            Reply::error("ERR wrong number of arguments for 'set' command"));
  EXPECT_EQ(error_of({"DEL"}), Reply::error("ERR wrong number of arguments for 'del' command"));
  EXPECT_EQ(error_of({"dbsize", "x"}),
            Reply::error("ERR wrong number of arguments for 'dbsize' command"));
  EXPECT_EQ(error_of({"incrby", "k"}),
            Reply::error("ERR wrong number of arguments for 'incrby' command"));
  EXPECT_EQ(error_of({"scan"}), Reply::error("ERR wrong number of arguments for 'scan' command"));
}

// t_string.c msetGenericCommand: an odd number of key/value arguments is an arity error.
TEST(KvClassify, MsetNeedsPairs) {
  EXPECT_EQ(error_of({"MSET", "a", "1", "b"}),
            Reply::error("ERR wrong number of arguments for 'mset' command"));
  Classified c = classified({"MSET", "a", "1", "b", "2"});
  EXPECT_EQ(c.command.write.keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.command.write.values, (std::vector<std::string>{"1", "2"}));
}

TEST(KvClassify, ReadsAndWritesAreTold) {
  for (const Argv& argv : std::vector<Argv>{{"GET", "k"},
                                            {"MGET", "a", "b"},
                                            {"EXISTS", "a"},
                                            {"DBSIZE"},
                                            {"SCAN", "0"},
                                            {"TYPE", "k"},
                                            {"STRLEN", "k"}}) {
    EXPECT_EQ(classified(argv).access, Access::kRead) << argv[0];
  }
  for (const Argv& argv : std::vector<Argv>{{"SET", "k", "v"},
                                            {"DEL", "a", "b"},
                                            {"INCR", "k"},
                                            {"INCRBY", "k", "2"},
                                            {"DECR", "k"},
                                            {"DECRBY", "k", "2"},
                                            {"MSET", "k", "v"},
                                            {"SPOFLESS.REGISTER"}}) {
    EXPECT_EQ(classified(argv).access, Access::kWrite) << argv[0];
  }
}

TEST(KvClassify, IncrementsBecomeOneDelta) {
  EXPECT_EQ(classified({"INCR", "k"}).command.write.delta, 1);
  EXPECT_EQ(classified({"DECR", "k"}).command.write.delta, -1);
  EXPECT_EQ(classified({"INCRBY", "k", "-7"}).command.write.delta, -7);
  EXPECT_EQ(classified({"DECRBY", "k", "7"}).command.write.delta, -7);
  EXPECT_EQ(classified({"DECRBY", "k", "-9223372036854775807"}).command.write.delta,
            9223372036854775807LL);
}

// util.c string2ll: no sign but '-', no spaces, no leading zeros, 64-bit range.
TEST(KvClassify, IncrementsMustBeRedisIntegers) {
  const Reply not_integer = Reply::error("ERR value is not an integer or out of range");
  for (const char* bad : {"", "x", "1.5", "+1", " 1", "1 ", "01", "-0", "9223372036854775808",
                          "-9223372036854775809", "99999999999999999999999"}) {
    EXPECT_EQ(error_of({"INCRBY", "k", bad}), not_integer) << '"' << bad << '"';
  }
  EXPECT_EQ(classified({"INCRBY", "k", "-9223372036854775808"}).command.write.delta,
            std::numeric_limits<std::int64_t>::min());
}

// Redis 7 t_string.c decrbyCommand: negating LLONG_MIN would overflow.
TEST(KvClassify, DecrbyOfTheSmallestIntegerWouldOverflow) {
  EXPECT_EQ(error_of({"DECRBY", "k", "-9223372036854775808"}),
            Reply::error("ERR decrement would overflow"));
}

TEST(KvClassify, SetOptions) {
  WriteOp op = classified({"SET", "k", "v", "nx", "GET"}).command.write;
  EXPECT_EQ(op.condition, SetCondition::kIfAbsent);  // NX with GET: allowed since Redis 7.0
  EXPECT_EQ(op.reply, SetReply::kOldValue);
  op = classified({"SET", "k", "v", "XX", "xx", "KEEPTTL"}).command.write;
  EXPECT_EQ(op.condition, SetCondition::kIfPresent);
  EXPECT_EQ(op.reply, SetReply::kOk);
}

TEST(KvClassify, SetRefusesConflictsUnknownOptionsAndExpiry) {
  const Reply syntax = Reply::error("ERR syntax error");
  EXPECT_EQ(error_of({"SET", "k", "v", "NX", "XX"}), syntax);
  EXPECT_EQ(error_of({"SET", "k", "v", "XX", "NX"}), syntax);
  EXPECT_EQ(error_of({"SET", "k", "v", "FOO"}), syntax);
  EXPECT_EQ(error_of({"SET", "k", "v", "EX"}), syntax);  // EX without its argument
  for (const char* option : {"EX", "px", "EXAT", "pxat"}) {
    Reply r = error_of({"SET", "k", "v", option, "10"});
    ASSERT_TRUE(r.is_error()) << option;
    EXPECT_NE(r.str.find("not supported"), std::string::npos) << r.str;
    EXPECT_EQ(r.str.rfind("ERR ", 0), 0U);
  }
}

TEST(KvClassify, ScanOptions) {
  ReadOp op = classified({"SCAN", "42", "match", "user:*", "COUNT", "100", "type", "string"}).read;
  EXPECT_EQ(op.scan.cursor, 42U);
  EXPECT_EQ(op.scan.pattern, "user:*");
  EXPECT_EQ(op.scan.count, 100U);
  EXPECT_EQ(op.scan.type, "string");
  op = classified({"SCAN", "18446744073709551615"}).read;
  EXPECT_EQ(op.scan.cursor, 18446744073709551615ULL);
  EXPECT_EQ(op.scan.count, limits::kKvScanDefaultCount);
  EXPECT_FALSE(op.scan.pattern);
}

// db.c parseScanCursorOrReply and scanGenericCommand.
TEST(KvClassify, ScanErrors) {
  const Reply syntax = Reply::error("ERR syntax error");
  EXPECT_EQ(error_of({"SCAN", "x"}), Reply::error("ERR invalid cursor"));
  EXPECT_EQ(error_of({"SCAN", "18446744073709551616"}), Reply::error("ERR invalid cursor"));
  EXPECT_EQ(error_of({"SCAN", "0", "COUNT", "0"}), syntax);
  EXPECT_EQ(error_of({"SCAN", "0", "COUNT", "-1"}), syntax);
  EXPECT_EQ(error_of({"SCAN", "0", "COUNT", "ten"}),
            Reply::error("ERR value is not an integer or out of range"));
  EXPECT_EQ(error_of({"SCAN", "0", "MATCH"}), syntax);
  EXPECT_EQ(error_of({"SCAN", "0", "LIMIT", "3"}), syntax);
}

TEST(KvClassify, SeqWrapsAWriteInItsSession) {
  Classified c = classified({"SPOFLESS.SEQ", "7", "3", "incr", "k"});
  EXPECT_EQ(c.access, Access::kWrite);
  ASSERT_TRUE(c.command.session);
  EXPECT_EQ(*c.command.session, (Session{7, 3}));
  EXPECT_EQ(c.command.write.kind, WriteKind::kIncrBy);
  // A wrapped read needs no session: it is served as a plain read.
  c = classified({"spofless.seq", "7", "4", "GET", "k"});
  EXPECT_EQ(c.access, Access::kRead);
  EXPECT_EQ(c.read.keys, std::vector<std::string>{"k"});
}

TEST(KvClassify, SeqErrors) {
  EXPECT_EQ(error_of({"SPOFLESS.SEQ", "7", "1"}),
            Reply::error("ERR wrong number of arguments for 'spofless.seq' command"));
  EXPECT_EQ(error_of({"SPOFLESS.SEQ", "x", "1", "INCR", "k"}),
            Reply::error("ERR value is not an integer or out of range"));
  EXPECT_EQ(error_of({"SPOFLESS.SEQ", "7", "0", "INCR", "k"}),
            Reply::error("ERR session sequence numbers start at 1"));
  EXPECT_EQ(error_of({"SPOFLESS.SEQ", "7", "1", "INCR"}),
            Reply::error("ERR wrong number of arguments for 'incr' command"));
  EXPECT_EQ(error_of({"SPOFLESS.SEQ", "7", "1", "FOO", "a"}),
            Reply::error("ERR unknown command 'FOO', with args beginning with: 'a' "));
  EXPECT_EQ(error_of({"SPOFLESS.SEQ", "7", "1", "SPOFLESS.REGISTER"}),
            Reply::error("ERR SPOFLESS.SEQ wraps a read or write, not 'spofless.register'"));
}

// server.c processCommand: arguments are quoted until 128 bytes are shown.
TEST(KvUnknownCommand, QuotesTheFirstArgumentsAsRedisDoes) {
  EXPECT_EQ(unknown_command({"foo"}),
            Reply::error("ERR unknown command 'foo', with args beginning with: "));
  EXPECT_EQ(unknown_command({"foo", "a", "b c"}),
            Reply::error("ERR unknown command 'foo', with args beginning with: 'a' 'b c' "));
  Reply r = unknown_command({"foo", std::string(200, 'x'), "next"});
  EXPECT_EQ(r.str, "ERR unknown command 'foo', with args beginning with: '" +
                       std::string(128, 'x') + "' ");
  EXPECT_EQ(unknown_command({"a\r\nb"}).str,
            "ERR unknown command 'a  b', with args beginning with: ");
}

TEST(KvIsQueueable, DataCommandsOnly) {
  EXPECT_TRUE(is_queueable({"get", "k"}));
  EXPECT_TRUE(is_queueable({"SET"}));  // arity is checked when it is classified
  EXPECT_FALSE(is_queueable({"SPOFLESS.REGISTER"}));
  EXPECT_FALSE(is_queueable({"SPOFLESS.SEQ", "1", "1", "GET", "k"}));
  EXPECT_FALSE(is_queueable({"MULTI"}));
  EXPECT_FALSE(is_queueable({}));
}

TEST(KvMakeExec, KeepsTheQueueInOrder) {
  Command c = make_exec({classified({"SET", "k", "1"}), classified({"GET", "k"})}, {{"k", 4}});
  EXPECT_EQ(c.kind, CommandKind::kExec);
  ASSERT_EQ(c.transaction.size(), 2U);
  EXPECT_TRUE(std::holds_alternative<WriteOp>(c.transaction[0]));
  EXPECT_TRUE(std::holds_alternative<ReadOp>(c.transaction[1]));
  EXPECT_EQ(c.watched, (std::vector<WatchedKey>{{"k", 4}}));
}

}  // namespace
}  // namespace spofless::kv
