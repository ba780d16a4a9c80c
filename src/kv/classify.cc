#include "kv/classify.h"

#include <algorithm>
#include <array>
#include <limits>
#include <span>

#include <fmt/format.h>

#include "core/check.h"
#include "kv/ascii.h"
#include "kv/integer.h"

namespace spofless::kv {
namespace {

using Args = std::span<const std::string>;
using Outcome = std::variant<Classified, Reply>;

// Redis's texts (server.c, t_string.c, db.c).
constexpr std::string_view kSyntaxError = "ERR syntax error";
constexpr std::string_view kNotAnInteger = "ERR value is not an integer or out of range";

Reply error(std::string_view text) { return Reply::error(std::string(text)); }

Classified read_of(ReadKind kind, Args keys) {
  Classified c;
  c.access = Access::kRead;
  c.read.kind = kind;
  c.read.keys.assign(keys.begin(), keys.end());
  return c;
}

Classified write_of(WriteOp op) {
  Classified c;
  c.access = Access::kWrite;
  c.command.kind = CommandKind::kWrite;
  c.command.write = std::move(op);
  return c;
}

WriteOp incr_by(const std::string& key, std::int64_t delta) {
  WriteOp op;
  op.kind = WriteKind::kIncrBy;
  op.keys = {key};
  op.delta = delta;
  return op;
}

Outcome parse_get(Args argv) { return read_of(ReadKind::kGet, argv.subspan(1)); }
Outcome parse_mget(Args argv) { return read_of(ReadKind::kMGet, argv.subspan(1)); }
Outcome parse_exists(Args argv) { return read_of(ReadKind::kExists, argv.subspan(1)); }
Outcome parse_dbsize(Args) { return read_of(ReadKind::kDbSize, {}); }
Outcome parse_type(Args argv) { return read_of(ReadKind::kType, argv.subspan(1)); }
Outcome parse_strlen(Args argv) { return read_of(ReadKind::kStrLen, argv.subspan(1)); }

// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]; an option may repeat, the last wins.
Outcome parse_scan(Args argv) {
  auto cursor = parse_uint64(argv[1]);
  if (!cursor) return error("ERR invalid cursor");
  Classified c = read_of(ReadKind::kScan, {});
  c.read.scan.cursor = *cursor;
  for (std::size_t i = 2; i < argv.size(); i += 2) {  // bounded by argv's size
    const bool has_value = i + 1 < argv.size();
    if (has_value && equals_ignore_case(argv[i], "count")) {
      auto count = parse_int64(argv[i + 1]);
      if (!count) return error(kNotAnInteger);
      if (*count < 1) return error(kSyntaxError);
      c.read.scan.count = static_cast<std::uint64_t>(*count);
    } else if (has_value && equals_ignore_case(argv[i], "match")) {
      c.read.scan.pattern = argv[i + 1];
    } else if (has_value && equals_ignore_case(argv[i], "type")) {
      c.read.scan.type = argv[i + 1];
    } else {
      return error(kSyntaxError);
    }
  }
  return c;
}

// SET key value [NX | XX] [GET] [KEEPTTL]. Redis 7 allows NX with GET. KEEPTTL keeps a TTL no
// key has; the expiry options are refused, since keys never expire here.
Outcome parse_set(Args argv) {
  WriteOp op;
  op.kind = WriteKind::kSet;
  op.keys = {argv[1]};
  op.values = {argv[2]};
  for (std::size_t i = 3; i < argv.size(); ++i) {  // bounded by argv's size
    const std::string& option = argv[i];
    const bool expiry = equals_ignore_case(option, "ex") || equals_ignore_case(option, "px") ||
                        equals_ignore_case(option, "exat") || equals_ignore_case(option, "pxat");
    if (equals_ignore_case(option, "nx") && op.condition != SetCondition::kIfPresent) {
      op.condition = SetCondition::kIfAbsent;
    } else if (equals_ignore_case(option, "xx") && op.condition != SetCondition::kIfAbsent) {
      op.condition = SetCondition::kIfPresent;
    } else if (equals_ignore_case(option, "get")) {
      op.reply = SetReply::kOldValue;
    } else if (equals_ignore_case(option, "keepttl")) {
      continue;
    } else if (expiry && i + 1 < argv.size()) {
      return error(
          "ERR SET expiry options (EX, PX, EXAT, PXAT) are not supported: keys never expire in "
          "spofless db");
    } else {
      return error(kSyntaxError);
    }
  }
  return write_of(std::move(op));
}

Outcome parse_del(Args argv) {
  WriteOp op;
  op.kind = WriteKind::kDel;
  op.keys.assign(argv.begin() + 1, argv.end());
  return write_of(std::move(op));
}

Outcome parse_incr(Args argv) { return write_of(incr_by(argv[1], 1)); }
Outcome parse_decr(Args argv) { return write_of(incr_by(argv[1], -1)); }

Outcome parse_incrby(Args argv) {
  auto delta = parse_int64(argv[2]);
  if (!delta) return error(kNotAnInteger);
  return write_of(incr_by(argv[1], *delta));
}

Outcome parse_decrby(Args argv) {
  auto delta = parse_int64(argv[2]);
  if (!delta) return error(kNotAnInteger);
  if (*delta == std::numeric_limits<std::int64_t>::min()) {
    return error("ERR decrement would overflow");  // its negation is not an int64
  }
  return write_of(incr_by(argv[1], -*delta));
}

Outcome parse_mset(Args argv) {
  if (argv.size() % 2 == 0) return error("ERR wrong number of arguments for 'mset' command");
  WriteOp op;
  op.kind = WriteKind::kMSet;
  for (std::size_t i = 1; i + 1 < argv.size(); i += 2) {  // bounded by argv's size
    op.keys.push_back(argv[i]);
    op.values.push_back(argv[i + 1]);
  }
  return write_of(std::move(op));
}

Outcome parse_register(Args) {
  Classified c;
  c.access = Access::kWrite;
  c.command.kind = CommandKind::kRegister;
  return c;
}

Outcome parse_seq(Args argv);

enum class Family : std::uint8_t {
  kData,     // a read or write of the keyspace: may be queued in MULTI and wrapped in SEQ
  kSession,  // SPOFLESS.*
};

struct Spec {
  std::string_view name;  // lower case, as Redis 7 names a command in its errors
  int arity;              // Redis's convention: exactly n arguments, or at least -n
  Outcome (*parse)(Args argv);
  Family family = Family::kData;
};

constexpr std::array kTable{
    Spec{"get", 2, parse_get},
    Spec{"mget", -2, parse_mget},
    Spec{"exists", -2, parse_exists},
    Spec{"dbsize", 1, parse_dbsize},
    Spec{"scan", -2, parse_scan},
    Spec{"type", 2, parse_type},
    Spec{"strlen", 2, parse_strlen},
    Spec{"set", -3, parse_set},
    Spec{"del", -2, parse_del},
    Spec{"incr", 2, parse_incr},
    Spec{"incrby", 3, parse_incrby},
    Spec{"decr", 2, parse_decr},
    Spec{"decrby", 3, parse_decrby},
    Spec{"mset", -3, parse_mset},
    Spec{"spofless.register", 1, parse_register, Family::kSession},
    Spec{"spofless.seq", -4, parse_seq, Family::kSession},
};

const Spec* lookup(std::string_view name) {
  for (const Spec& spec : kTable) {
    if (equals_ignore_case(spec.name, name)) return &spec;
  }
  return nullptr;
}

std::optional<Outcome> dispatch(Args argv) {
  if (argv.empty()) return std::nullopt;
  const Spec* spec = lookup(argv[0]);
  if (spec == nullptr) return std::nullopt;
  const bool arity_ok = spec->arity > 0 ? argv.size() == static_cast<std::size_t>(spec->arity)
                                        : argv.size() >= static_cast<std::size_t>(-spec->arity);
  if (!arity_ok) {
    return error(fmt::format("ERR wrong number of arguments for '{}' command", spec->name));
  }
  if (argv.size() > limits::kKvMaxCommandArgs) {
    return error(fmt::format("ERR {} arguments exceed the limit of {}", argv.size(),
                             limits::kKvMaxCommandArgs));
  }
  return spec->parse(argv);
}

// SPOFLESS.SEQ client-id seq command [arg ...]: the command, applied at most once per
// (client-id, seq) (Raft thesis §6.3).
Outcome parse_seq(Args argv) {
  auto client_id = parse_uint64(argv[1]);
  auto seq = parse_uint64(argv[2]);
  if (!client_id || !seq) return error(kNotAnInteger);
  if (*seq == 0) return error("ERR session sequence numbers start at 1");
  Args inner = argv.subspan(3);
  const Spec* spec = lookup(inner[0]);
  if (spec == nullptr) return unknown_command({inner.begin(), inner.end()});
  if (spec->family != Family::kData) {
    return error(fmt::format("ERR SPOFLESS.SEQ wraps a read or write, not '{}'", spec->name));
  }
  Outcome outcome = *dispatch(inner);
  if (auto* c = std::get_if<Classified>(&outcome); c && c->access == Access::kWrite) {
    c->command.session = Session{*client_id, *seq};
  }
  return outcome;
}

}  // namespace

std::optional<std::variant<Classified, Reply>> classify(const std::vector<std::string>& argv) {
  return dispatch(argv);
}

bool is_queueable(const std::vector<std::string>& argv) {
  const Spec* spec = argv.empty() ? nullptr : lookup(argv[0]);
  return spec != nullptr && spec->family == Family::kData;
}

Command make_exec(const std::vector<Classified>& queued, std::vector<WatchedKey> watched) {
  SPOFLESS_CHECK(queued.size() <= limits::kKvMaxTransactionOps, "the server bounds MULTI");
  SPOFLESS_CHECK(watched.size() <= limits::kKvMaxWatchedKeys, "the server bounds WATCH");
  Command command;
  command.kind = CommandKind::kExec;
  command.watched = std::move(watched);
  for (const Classified& c : queued) {
    if (c.access == Access::kRead) {
      command.transaction.emplace_back(c.read);
    } else {
      SPOFLESS_CHECK(c.command.kind == CommandKind::kWrite, "only data commands are queued");
      command.transaction.emplace_back(c.command.write);
    }
  }
  return command;
}

Reply unknown_command(const std::vector<std::string>& argv) {
  SPOFLESS_CHECK(!argv.empty(), "a command has a name");
  // Redis quotes the arguments until 128 bytes are shown, and the name up to 128 bytes.
  constexpr std::size_t kShown = 128;
  std::string args;
  for (std::size_t i = 1; i < argv.size() && args.size() < kShown; ++i) {
    const std::size_t room = kShown - args.size();
    args += '\'';
    args += std::string_view(argv[i]).substr(0, room);
    args += "' ";
  }
  std::string text = fmt::format("ERR unknown command '{}', with args beginning with: {}",
                                 std::string_view(argv[0]).substr(0, kShown), args);
  // An error reply is one line: Redis turns CR and LF into spaces.
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return Reply::error(std::move(text));
}

}  // namespace spofless::kv
