#include "check/linearizability.h"

#include <algorithm>
#include <limits>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

namespace spofless::check {
namespace {

constexpr std::size_t kNoPosition = std::numeric_limits<std::size_t>::max();
constexpr std::uint32_t kNil = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t kAbsent = 0;  // the interned value of an absent key

// One operation of a key's history, its value interned.
struct KeyOp {
  std::size_t input = 0;  // index into the checked history
  bool is_write = false;
  std::uint32_t value = kAbsent;
  std::size_t return_position = kNoPosition;  // in KeyHistory::events; none when unknown
};

struct Event {
  std::uint32_t op = 0;  // index into KeyHistory::ops
  bool is_return = false;
};

// One key's operations, with their calls and known returns in time order. At equal times calls
// come first, so that operations touching at an instant overlap.
struct KeyHistory {
  std::string_view key;
  std::vector<KeyOp> ops;
  std::vector<Event> events;
  std::uint32_t value_count = 1;  // interned values, kAbsent included
};

// REQUIRES: every index in `indices` names an operation on `key`.
KeyHistory build_key_history(std::string_view key, std::span<const Operation> history,
                             const std::vector<std::size_t>& indices) {
  KeyHistory h;
  h.key = key;
  std::unordered_map<std::string_view, std::uint32_t> interned;
  std::vector<std::tuple<std::int64_t, bool, std::uint32_t>> timed;  // time, is_return, op
  for (std::size_t input : indices) {
    const Operation& op = history[input];
    auto index = static_cast<std::uint32_t>(h.ops.size());
    KeyOp k;
    k.input = input;
    k.is_write = op.kind == OpKind::kWrite;
    if (op.value) {
      auto [it, inserted] = interned.try_emplace(*op.value, h.value_count);
      if (inserted) ++h.value_count;
      k.value = it->second;
    }
    h.ops.push_back(k);
    timed.emplace_back(op.call_time, false, index);
    if (op.return_time) timed.emplace_back(*op.return_time, true, index);
  }
  std::sort(timed.begin(), timed.end());
  for (const auto& [time, is_return, op] : timed) {
    if (is_return) h.ops[op].return_position = h.events.size();
    h.events.push_back(Event{op, is_return});
  }
  return h;
}

// The visited search states {linearized operations, register value}, stored flat: a state is
// `words` bitset words followed by the value. Not movable: the hash functors point back here.
class Memo {
 public:
  explicit Memo(std::size_t words) : words_(words), slots_(16, Hash{this}, Equal{this}) {}
  Memo(const Memo&) = delete;
  Memo& operator=(const Memo&) = delete;

  // Records the state; false when it was recorded before. REQUIRES: bits.size() == words.
  bool insert(const std::vector<std::uint64_t>& bits, std::uint32_t value) {
    std::size_t slot = arena_.size() / stride();
    arena_.insert(arena_.end(), bits.begin(), bits.end());
    arena_.push_back(value);
    if (slots_.insert(slot).second) return true;
    arena_.resize(slot * stride());
    return false;
  }

 private:
  std::size_t stride() const { return words_ + 1; }
  const std::uint64_t* state(std::size_t slot) const { return arena_.data() + slot * stride(); }

  struct Hash {
    const Memo* memo;
    std::size_t operator()(std::size_t slot) const {
      const std::uint64_t* s = memo->state(slot);
      std::uint64_t h = 0;
      for (std::size_t i = 0; i < memo->stride(); ++i) {
        h = (h ^ s[i]) * 0x9e3779b97f4a7c15ULL;  // multiply-xorshift, word by word
        h ^= h >> 31;
      }
      return static_cast<std::size_t>(h);
    }
  };
  struct Equal {
    const Memo* memo;
    bool operator()(std::size_t a, std::size_t b) const {
      return std::equal(memo->state(a), memo->state(a) + memo->stride(), memo->state(b));
    }
  };

  std::size_t words_;
  std::vector<std::uint64_t> arena_;
  std::unordered_set<std::size_t, Hash, Equal> slots_;
};

// An entry of the search's doubly linked event list; entry 0 is the head.
struct Node {
  bool is_return = false;
  bool outcome_unknown = false;  // a return node standing at +infinity
  bool is_write = false;         // calls only, as are the fields below but prev and next
  std::uint32_t value = kAbsent;
  std::uint32_t bit = 0;      // the operation's bit in a search state
  std::uint32_t match = 0;    // the call's return node
  std::uint32_t twin = kNil;  // an unknown write: the previous unknown write of its value
  std::uint32_t prev = kNil;
  std::uint32_t next = kNil;

  static Node call(bool is_write, std::uint32_t value, std::uint32_t bit) {
    Node n;
    n.is_write = is_write;
    n.value = value;
    n.bit = bit;
    return n;
  }
  static Node known_return() {
    Node n;
    n.is_return = true;
    return n;
  }
  static Node unknown_return() {
    Node n = known_return();
    n.outcome_unknown = true;
    return n;
  }
};

// The search list for the first `prefix` events of `h`: the operations that can matter, then a
// return at +infinity for each of those whose return is not among the events. An operation still
// running at the cut of the prefix has, for the prefix, an unknown outcome.
std::vector<Node> build_list(const KeyHistory& h, std::size_t prefix, std::uint32_t& bits) {
  std::vector<bool> observed(h.value_count, false);  // returned by a completed read
  for (std::size_t i = 0; i < prefix; ++i) {
    const KeyOp& op = h.ops[h.events[i].op];
    if (h.events[i].is_return && !op.is_write) observed[op.value] = true;
  }
  std::vector<Node> list(1);
  std::vector<std::uint32_t> call_node(h.ops.size(), kNil);
  std::vector<std::uint32_t> last_unknown_write(h.value_count, kNil);
  std::vector<std::uint32_t> pending;
  bits = 0;
  for (std::size_t i = 0; i < prefix; ++i) {
    const Event& e = h.events[i];
    const KeyOp& op = h.ops[e.op];
    bool completed = op.return_position < prefix;
    // Unknown reads, and unknown writes that no read saw, can be left out of any linearization.
    if (!completed && (!op.is_write || !observed[op.value])) continue;
    auto index = static_cast<std::uint32_t>(list.size());
    if (e.is_return) {
      list[call_node[e.op]].match = index;
      list.push_back(Node::known_return());
      continue;
    }
    call_node[e.op] = index;
    list.push_back(Node::call(op.is_write, op.value, bits++));
    if (completed) continue;
    pending.push_back(index);
    list[index].twin = std::exchange(last_unknown_write[op.value], index);
  }
  for (std::uint32_t call : pending) {
    list[call].match = static_cast<std::uint32_t>(list.size());
    list.push_back(Node::unknown_return());
  }
  for (std::uint32_t i = 0; i < list.size(); ++i) {
    list[i].prev = i == 0 ? kNil : i - 1;
    list[i].next = i + 1 == list.size() ? kNil : i + 1;
  }
  return list;
}

void unlink(std::vector<Node>& list, std::uint32_t n) {
  list[list[n].prev].next = list[n].next;
  if (list[n].next != kNil) list[list[n].next].prev = list[n].prev;
}

void relink(std::vector<Node>& list, std::uint32_t n) {
  list[list[n].prev].next = n;
  if (list[n].next != kNil) list[list[n].next].prev = n;
}

// The search's position: the operations linearized so far (in order), the set of them as a
// bitset, and the register's value after them.
class Path {
 public:
  Path(std::vector<Node>& list, std::size_t words) : list_(list), bits_(words, 0) {}

  std::uint32_t value() const { return value_; }
  const std::vector<std::uint64_t>& bits() const { return bits_; }
  bool has(std::uint32_t bit) const { return (bits_[bit / 64] >> (bit % 64)) & 1; }
  void flip(std::uint32_t bit) { bits_[bit / 64] ^= std::uint64_t{1} << (bit % 64); }

  // Linearizes `call` next: takes it and its return out of the list. REQUIRES: bit set.
  void lift(std::uint32_t call, std::uint32_t value_after) {
    stack_.push_back({call, value_});
    value_ = value_after;
    unlink(list_, call);
    unlink(list_, list_[call].match);
  }

  // Undoes lift()s, the last first, up to and including one that was not a read: a read legal
  // where it was lifted is in some completion of that path if any exists, so when it fails the
  // path before it fails too. Returns the call undone last, back in the list; kNil when no
  // undone choice remains.
  std::uint32_t backtrack() {
    while (!stack_.empty()) {
      Lifted last = stack_.back();
      stack_.pop_back();
      value_ = last.value_before;
      flip(list_[last.call].bit);
      relink(list_, list_[last.call].match);
      relink(list_, last.call);
      if (list_[last.call].is_write) return last.call;
    }
    return kNil;
  }

 private:
  struct Lifted {
    std::uint32_t call;
    std::uint32_t value_before;
  };
  std::vector<Node>& list_;
  std::vector<std::uint64_t> bits_;
  std::vector<Lifted> stack_;
  std::uint32_t value_ = kAbsent;
};

enum class Outcome { kLinearizable, kNotLinearizable, kOutOfSteps };

struct Search {
  Outcome outcome = Outcome::kLinearizable;
  std::uint64_t steps = 0;
};

// Wing & Gong's search with Lowe's memo over the first `prefix` events of `h`. Walks the list
// from the head: a call whose operation is legal now and leads to an unvisited state is
// linearized (lifted out) and the walk restarts; a return met means its operation should have
// been linearized already, so the path backtracks and the walk resumes after the undone call.
// Two reductions keep the verdict: a read legal now is linearized now, with no alternative (every
// operation not yet linearized returns at or after its call, so none must precede it); and
// unknown writes of one value are linearized in call order (swapping two of them, one of which
// may take effect at any time after the other's call, yields another linearization).
Search search(const KeyHistory& h, std::size_t prefix, std::uint64_t max_steps) {
  std::uint32_t bit_count = 0;
  std::vector<Node> list = build_list(h, prefix, bit_count);
  const std::size_t words = bit_count / 64 + 1;
  Path path(list, words);
  Memo memo(words);
  Search s;
  for (std::uint32_t at = list[0].next; at != kNil;) {
    if (++s.steps > max_steps) return {Outcome::kOutOfSteps, s.steps};
    const Node& n = list[at];
    // Only operations that may be left out remain once an unknown return is reached.
    if (n.outcome_unknown) return s;
    bool dead_end = n.is_return;
    bool legal = !n.is_return && (n.is_write ? n.twin == kNil || path.has(list[n.twin].bit)
                                             : n.value == path.value());
    if (legal) {
      std::uint32_t after = n.is_write ? n.value : path.value();
      path.flip(n.bit);
      s.steps += words + 1;
      if (memo.insert(path.bits(), after)) {
        path.lift(at, after);
        at = list[0].next;
        continue;
      }
      path.flip(n.bit);
      dead_end = !n.is_write;
    }
    if (!dead_end) {
      at = n.next;
      continue;
    }
    std::uint32_t undone = path.backtrack();
    if (undone == kNil) return {Outcome::kNotLinearizable, s.steps};
    at = list[undone].next;
  }
  SPOFLESS_CHECK(list[0].next == kNil, "every call is followed by its return in the list");
  return s;
}

// The shortest prefix of `h`, in events, found not linearizable. REQUIRES: all of `h` is not.
// Linearizability is prefix-closed, so the bad prefixes are the longer ones and bisection finds
// the boundary; a prefix whose search runs out of steps counts as good, so the answer is always a
// prefix shown to be bad, the shortest one whenever no search ran out.
std::size_t shortest_bad_prefix(const KeyHistory& h, std::uint64_t max_steps) {
  std::size_t good = 0;
  std::size_t bad = h.events.size();
  while (bad - good > 1) {
    std::size_t mid = good + (bad - good) / 2;
    (search(h, mid, max_steps).outcome == Outcome::kNotLinearizable ? bad : good) = mid;
  }
  return bad;
}

// A value for people: quoted, bytes outside printable ASCII escaped, long values cut short.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < limits::kLinearizabilityValueShownMaxBytes; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  out += '"';
  if (s.size() > limits::kLinearizabilityValueShownMaxBytes) out += "...";
  return out;
}

// The operations of the first `prefix` events of `h`, in call order, one per line.
CheckResult explain(const KeyHistory& h, std::span<const Operation> history, std::size_t prefix) {
  const Event& last = h.events[prefix - 1];
  SPOFLESS_CHECK(last.is_return, "a shortest bad prefix ends with a return");
  const Operation& culprit = history[h.ops[last.op].input];
  CheckResult r;
  r.verdict = Verdict::kNotLinearizable;
  r.key = std::string(h.key);
  std::string lines;
  for (std::size_t i = 0; i < prefix; ++i) {
    if (h.events[i].is_return) continue;
    const KeyOp& op = h.ops[h.events[i].op];
    r.prefix.push_back(op.input);
    lines += fmt::format("  #{} {}", op.input, to_string(history[op.input]));
    if (h.events[i].op == last.op) {
      lines += "  <- returns last";
    } else if (op.return_position != kNoPosition && op.return_position >= prefix) {
      lines += fmt::format(" (still running at {})", *culprit.return_time);
    }
    lines += '\n';
  }
  r.explanation = fmt::format(
      "key {}: no order of these {} operations, each taking effect between its call and its "
      "return, explains them once #{} returns at {}:\n{}",
      quote(h.key), r.prefix.size(), h.ops[last.op].input, *culprit.return_time, lines);
  return r;
}

Status validate(std::span<const Operation> history, const CheckOptions& options) {
  if (options.max_steps_per_key == 0) {
    return invalid_argument("max_steps_per_key is 0; expected a search budget of at least 1");
  }
  if (history.size() > limits::kLinearizabilityMaxOperations) {
    return invalid_argument(
        fmt::format("the history has {} operations; the checker takes at most {}: check a "
                    "shorter history",
                    history.size(), limits::kLinearizabilityMaxOperations));
  }
  for (std::size_t i = 0; i < history.size(); ++i) {
    const Operation& op = history[i];
    if (op.return_time && *op.return_time < op.call_time) {
      return invalid_argument(fmt::format(
          "operation #{} ({}) returns at {}, before its call at {}; expected a return time at or "
          "after the call time",
          i, to_string(op), *op.return_time, op.call_time));
    }
  }
  return Status::ok();
}

}  // namespace

std::string_view to_string(OpKind kind) {
  switch (kind) {
    case OpKind::kRead:
      return "read";
    case OpKind::kWrite:
      return "write";
  }
  return "unknown";
}

std::string_view to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::kLinearizable:
      return "linearizable";
    case Verdict::kNotLinearizable:
      return "not linearizable";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string to_string(const Operation& op) {
  std::string value;
  if (op.kind == OpKind::kRead && !op.return_time) {
    value = "?";
  } else {
    value = op.value ? quote(*op.value) : "<absent>";
  }
  std::string ret = op.return_time ? std::to_string(*op.return_time) : "?";
  return fmt::format("client {} {} {} [{}, {}]", op.client, to_string(op.kind), value, op.call_time,
                     ret);
}

Result<CheckResult> check_linearizable(std::span<const Operation> history,
                                       const CheckOptions& options) {
  if (Status s = validate(history, options); !s.is_ok()) return s;
  std::map<std::string_view, std::vector<std::size_t>> by_key;
  for (std::size_t i = 0; i < history.size(); ++i) by_key[history[i].key].push_back(i);
  for (const auto& [key, indices] : by_key) {
    if (indices.size() > limits::kLinearizabilityMaxOperationsPerKey) {
      return invalid_argument(fmt::format(
          "key {} has {} operations; the checker takes at most {} per key: check a shorter "
          "history or spread it over more keys",
          quote(key), indices.size(), limits::kLinearizabilityMaxOperationsPerKey));
    }
  }
  CheckResult result;
  for (const auto& [key, indices] : by_key) {
    KeyHistory h = build_key_history(key, history, indices);
    Search s = search(h, h.events.size(), options.max_steps_per_key);
    if (s.outcome == Outcome::kNotLinearizable) {
      return explain(h, history, shortest_bad_prefix(h, options.max_steps_per_key));
    }
    if (s.outcome == Outcome::kOutOfSteps && result.verdict == Verdict::kLinearizable) {
      result.verdict = Verdict::kUnknown;
      result.key = std::string(key);
      result.explanation = fmt::format(
          "key {}: the search gave up after {} steps on {} operations, so linearizability is "
          "unknown; raise max_steps_per_key or record fewer concurrent operations per key",
          quote(key), s.steps, indices.size());
    }
  }
  return result;
}

}  // namespace spofless::check
