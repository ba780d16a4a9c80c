// Properties of the state machine over generated command histories (rapidcheck): replicas
// agree, a snapshot stands in for the entries before it, the keyspace behaves like a plain
// map, WATCH aborts exactly when it must, and SCAN meets every key that stays.

#include <limits>
#include <map>
#include <optional>
#include <set>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "kv/integer.h"
#include "kv/test_db.h"

namespace spofless::kv {
namespace {

using testing::Argv;

// Small bounds, so that generated histories reach every limit.
constexpr Options kSmall{.max_keys = 4, .max_tombstones = 2, .max_sessions = 2};

std::string gen_key() { return *rc::gen::element<std::string>("a", "b", "c", "d", "e", "f"); }

std::string gen_value() {
  return *rc::gen::element<std::string>("1", "-3", "x", "", "9223372036854775807",
                                        "-9223372036854775808");
}

std::string gen_delta() {
  return *rc::gen::element<std::string>("0", "1", "-2", "9223372036854775807",
                                        "-9223372036854775808");
}

Argv gen_write_argv() {
  switch (*rc::gen::inRange(0, 6)) {
    case 0: {
      Argv argv{"SET", gen_key(), gen_value()};
      if (*rc::gen::arbitrary<bool>()) argv.push_back(*rc::gen::element<std::string>("NX", "XX"));
      if (*rc::gen::arbitrary<bool>()) argv.push_back("GET");
      return argv;
    }
    case 1:
      return {"DEL", gen_key(), gen_key()};
    case 2:
      return {"INCR", gen_key()};
    case 3:
      return {"INCRBY", gen_key(), gen_delta()};
    case 4:
      return {"DECR", gen_key()};
    default:
      return {"MSET", gen_key(), gen_value(), gen_key(), gen_value()};
  }
}

Argv gen_read_argv() {
  switch (*rc::gen::inRange(0, 6)) {
    case 0:
      return {"GET", gen_key()};
    case 1:
      return {"MGET", gen_key(), gen_key()};
    case 2:
      return {"EXISTS", gen_key(), gen_key()};
    case 3:
      return {"DBSIZE"};
    case 4:
      return {"STRLEN", gen_key()};
    default:
      return {"SCAN",  "0",
              "COUNT", std::to_string(*rc::gen::inRange(1, 4)),
              "MATCH", *rc::gen::element<std::string>("*", "[a-c]", "?", "d*")};
  }
}

Classified classified(const Argv& argv) {
  auto c = classify(argv);
  RC_ASSERT(c && std::holds_alternative<Classified>(*c));
  return std::get<Classified>(*c);
}

// A log entry as a leader proposes it: a write, an EXEC, a REGISTER or a sequenced write (of a
// client registered at one of `registered`, mostly), with a leader clock that sometimes runs
// backwards (a new leader).
Command gen_command(const std::vector<std::uint64_t>& registered) {
  Command c;
  const int kind = *rc::gen::inRange(0, 10);
  if (kind == 0) {
    c.kind = CommandKind::kRegister;
  } else if (kind <= 2) {
    std::vector<Classified> queued;
    const int ops = *rc::gen::inRange(0, 4);
    for (int i = 0; i < ops; ++i) {
      queued.push_back(
          classified(*rc::gen::arbitrary<bool>() ? gen_write_argv() : gen_read_argv()));
    }
    std::vector<WatchedKey> watched;
    const int keys = *rc::gen::inRange(0, 3);
    for (int i = 0; i < keys; ++i) {
      watched.push_back({gen_key(), *rc::gen::inRange<std::uint64_t>(0, 40)});
    }
    c = make_exec(queued, std::move(watched));
  } else {
    c = classified(gen_write_argv()).command;
  }
  if (kind != 0 && *rc::gen::inRange(0, 3) == 0) {
    const bool known = !registered.empty() && *rc::gen::inRange(0, 5) > 0;
    c.session =
        Session{known ? *rc::gen::elementOf(registered) : *rc::gen::inRange<std::uint64_t>(1, 100),
                *rc::gen::inRange<std::uint64_t>(1, 4)};
  }
  c.now_ms = *rc::gen::inRange<std::uint64_t>(0, 400);
  c.session_ttl_ms = *rc::gen::element<std::uint64_t>(0, 50, 150);
  return c;
}

std::vector<std::string> gen_entries() {
  const int count = *rc::gen::inRange(0, 60);
  std::vector<std::string> entries;
  std::vector<std::uint64_t> registered;
  for (int i = 0; i < count; ++i) {
    Command c = gen_command(registered);
    if (c.kind == CommandKind::kRegister) registered.push_back(static_cast<std::uint64_t>(i) + 1);
    entries.push_back(encode(c));
  }
  return entries;
}

// Every key's value, and the rest of the state through its snapshot bytes.
void expect_same_state(const StateMachine& a, const StateMachine& b) {
  RC_ASSERT(a.snapshot() == b.snapshot());
  for (const char* key : {"a", "b", "c", "d", "e", "f"}) {
    ReadOp get{ReadKind::kGet, {key}, {}};
    RC_ASSERT(a.read(get) == b.read(get));
  }
}

RC_GTEST_PROP(KvProperty, CommandsRoundTripThroughTheLog, ()) {
  const Command c = gen_command({1, 2});
  auto decoded = decode(encode(c));
  RC_ASSERT(decoded.is_ok());
  RC_ASSERT(*decoded == c);
}

// Two replicas applying the same entries give the same replies and the same snapshot bytes,
// whatever reads one of them serves in between.
RC_GTEST_PROP(KvProperty, ReplicasApplyingTheSameEntriesAgree, ()) {
  const auto entries = gen_entries();
  StateMachine a(kSmall);
  StateMachine b(kSmall);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (*rc::gen::arbitrary<bool>()) b.read(classified(gen_read_argv()).read);
    const Reply ra = a.apply(i + 1, entries[i]);
    const Reply rb = b.apply(i + 1, entries[i]);
    RC_ASSERT(ra == rb);
  }
  expect_same_state(a, b);
}

// Raft §7: a snapshot stands in for the entries it covers. A replica restored from a snapshot
// taken at any point then behaves exactly as the one that applied everything.
RC_GTEST_PROP(KvProperty, ARestoredSnapshotBehavesAsTheOriginal, ()) {
  const auto entries = gen_entries();
  const auto cut = *rc::gen::inRange<std::size_t>(0, entries.size() + 1);
  StateMachine original(kSmall);
  for (std::size_t i = 0; i < cut; ++i) original.apply(i + 1, entries[i]);
  StateMachine restored(kSmall);
  restored.apply(1, encode(classified({"SET", "stale", "x"}).command));  // replaced wholesale
  RC_ASSERT(restored.restore(original.snapshot()).is_ok());
  expect_same_state(original, restored);
  RC_ASSERT(restored.applied() == original.applied());
  for (std::size_t i = cut; i < entries.size(); ++i) {
    RC_ASSERT(original.apply(i + 1, entries[i]) == restored.apply(i + 1, entries[i]));
  }
  expect_same_state(original, restored);
}

// The dumb oracle: a std::map, with each key's last modification index (deletions included),
// against plain writes and EXECs of one SET under WATCH.
struct Oracle {
  std::map<std::string, std::string> values;
  std::map<std::string, std::uint64_t> modified;

  std::optional<std::string> get(const std::string& key) const {
    auto it = values.find(key);
    return it == values.end() ? std::nullopt : std::optional(it->second);
  }
  void put(const std::string& key, const std::string& value, std::uint64_t index) {
    values[key] = value;
    modified[key] = index;
  }
  void apply(const WriteOp& op, std::uint64_t index) {
    const std::string& key = op.keys[0];
    switch (op.kind) {
      case WriteKind::kSet: {
        const bool present = values.count(key) > 0;
        if ((op.condition == SetCondition::kIfAbsent && present) ||
            (op.condition == SetCondition::kIfPresent && !present)) {
          return;
        }
        return put(key, op.values[0], index);
      }
      case WriteKind::kDel:
        for (const auto& k : op.keys) {
          if (values.erase(k) > 0) modified[k] = index;
        }
        return;
      case WriteKind::kIncrBy: {
        auto old = parse_int64(get(key).value_or("0"));
        if (!old) return;
        std::int64_t sum = 0;
        if (__builtin_add_overflow(*old, op.delta, &sum)) return;
        return put(key, std::to_string(sum), index);
      }
      case WriteKind::kMSet:
        for (std::size_t i = 0; i < op.keys.size(); ++i) put(op.keys[i], op.values[i], index);
        return;
    }
  }
};

RC_GTEST_PROP(KvProperty, TheKeyspaceIsAMapAndWatchAbortsExactlyWhenItMust, ()) {
  testing::TestDb db(Options{.max_tombstones = 2});
  Oracle oracle;
  const int steps = *rc::gen::inRange(1, 80);
  for (int step = 0; step < steps; ++step) {
    const std::uint64_t index = db.last_index() + 1;
    if (*rc::gen::inRange(0, 4) > 0) {
      const Argv argv = gen_write_argv();
      db.run(argv);
      oracle.apply(classified(argv).command.write, index);
    } else {
      const std::string key = gen_key();
      const WatchedKey watched{key, *rc::gen::inRange<std::uint64_t>(0, index)};
      const Reply r = db.exec({{"SET", "a", "exec"}}, {watched});
      const bool changed =
          oracle.modified.count(key) > 0 && oracle.modified[key] > watched.watch_index;
      const bool uncertain = !oracle.get(key) && watched.watch_index < db.machine().horizon();
      RC_ASSERT(!changed || r == Reply::nil_array());
      if (!changed && !uncertain) RC_ASSERT(r == Reply::array({Reply::ok()}));
      if (r.kind == Reply::Kind::kArray) oracle.put("a", "exec", index);
    }
    for (const char* key : {"a", "b", "c", "d", "e", "f"}) {
      auto expected = oracle.get(key);
      RC_ASSERT(db.run({"GET", key}) == (expected ? Reply::bulk(*expected) : Reply::nil()));
    }
    RC_ASSERT(db.run({"DBSIZE"}) == Reply::number(static_cast<long long>(oracle.values.size())));
  }
}

// SCAN's guarantee (redis.io/commands/scan): a key present for the whole walk is returned,
// while other keys are added and deleted between the calls. Ours returns it exactly once, and
// never returns a key that was never there.
RC_GTEST_PROP(KvProperty, ScanMeetsEveryKeyPresentThroughoutTheWalk, ()) {
  testing::TestDb db;
  const int stable = *rc::gen::inRange(0, 60);
  const int churn = *rc::gen::inRange(0, 60);
  std::set<std::string> present;
  for (int i = 0; i < stable; ++i) {
    present.insert("s" + std::to_string(i));
    db.run({"SET", "s" + std::to_string(i), "v"});
  }
  std::set<std::string> ever;
  std::multiset<std::string> returned;
  std::string cursor = "0";
  int calls = 0;
  do {
    for (int i = *rc::gen::inRange(0, 4); i > 0; --i) {
      const std::string key = "c" + std::to_string(*rc::gen::inRange(0, churn + 1));
      ever.insert(key);
      db.run(*rc::gen::arbitrary<bool>() ? Argv{"SET", key, "v"} : Argv{"DEL", key});
    }
    const Reply r = db.run({"SCAN", cursor, "COUNT", std::to_string(*rc::gen::inRange(1, 9))});
    cursor = r.elements[0].str;
    for (const Reply& key : r.elements[1].elements) returned.insert(key.str);
    RC_ASSERT(++calls <= 1000);
  } while (cursor != "0");
  for (const auto& key : present) RC_ASSERT(returned.count(key) == 1U);
  for (const auto& key : returned) {
    RC_ASSERT(present.count(key) + ever.count(key) > 0U);
    RC_ASSERT(returned.count(key) == 1U);
  }
}

}  // namespace
}  // namespace spofless::kv
