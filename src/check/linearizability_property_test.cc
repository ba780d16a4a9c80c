// Properties of the linearizability checker over generated histories (rapidcheck).

#include <algorithm>
#include <map>
#include <random>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "check/linearizability.h"

namespace spofless::check {

// How rapidcheck prints a counterexample's operation kinds.
void showValue(OpKind kind, std::ostream& os) { os << to_string(kind); }

namespace {

// A history recorded by clients of a real register. Each operation takes effect at an instant
// (non-decreasing over the history, so that some instants coincide) on a map standing in for
// the store; its client called it some time before and saw it return some time after. A client
// runs one operation at a time, but about one in ten times out: the client moves on after a
// deadline while the operation may still take effect, or never does. Values repeat and some
// writes delete, so that reads alone cannot tell writes apart.
std::vector<Operation> gen_recorded_history() {
  const int keys = *rc::gen::inRange(1, 4);
  const int clients = *rc::gen::inRange(1, 6);
  const int count = *rc::gen::inRange(0, 60);
  std::map<std::string, std::optional<std::string>> store;
  std::vector<std::int64_t> client_free(clients, 0);  // when each client may call again
  std::vector<Operation> history;
  std::int64_t instant = 0;
  for (int i = 0; i < count; ++i) {
    Operation op;
    op.client = static_cast<std::uint64_t>(*rc::gen::inRange(0, clients));
    std::int64_t& idle_from = client_free[op.client];
    instant = std::max(instant + *rc::gen::inRange(0, 4), idle_from);
    op.key = "k" + std::to_string(*rc::gen::inRange(0, keys));
    op.kind = *rc::gen::element(OpKind::kRead, OpKind::kWrite);
    bool timed_out = *rc::gen::inRange(0, 10) == 0;
    if (op.kind == OpKind::kWrite) {
      int v = *rc::gen::inRange(0, 8);
      if (v > 0) op.value = "v" + std::to_string(v);
      if (!timed_out || *rc::gen::arbitrary<bool>()) store[op.key] = op.value;
    } else {
      op.value = store[op.key];
    }
    op.call_time = instant - *rc::gen::inRange<std::int64_t>(
                                 0, std::min<std::int64_t>(instant - idle_from, 20) + 1);
    if (timed_out) {
      idle_from = op.call_time + *rc::gen::inRange(0, 20);
    } else {
      op.return_time = instant + *rc::gen::inRange(0, 20);
      idle_from = *op.return_time;
    }
    history.push_back(std::move(op));
  }
  std::mt19937 shuffle(*rc::gen::arbitrary<std::uint32_t>());
  std::shuffle(history.begin(), history.end(), shuffle);
  return history;
}

// The check of `history`; a failing property prints the history and the explanation.
CheckResult logged_check(const std::vector<Operation>& history) {
  for (std::size_t i = 0; i < history.size(); ++i) {
    RC_LOG() << "#" << i << " " << history[i].key << ": " << to_string(history[i]) << "\n";
  }
  auto r = check_linearizable(history);
  RC_ASSERT(r.is_ok());
  RC_LOG() << to_string(r->verdict) << "\n" << r->explanation;
  return *r;
}

RC_GTEST_PROP(LinearizabilityProperty, RecordedHistoriesOfARealRegisterAreLinearizable, ()) {
  RC_ASSERT(logged_check(gen_recorded_history()).verdict == Verdict::kLinearizable);
}

// The bad read ends the shortest bad prefix: every earlier prefix is one of a real register.
RC_GTEST_PROP(LinearizabilityProperty, AReadOfAValueNeverWrittenIsCaughtAndNamed, ()) {
  std::vector<Operation> history = gen_recorded_history();
  std::vector<std::size_t> reads;
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (history[i].kind == OpKind::kRead && history[i].return_time) reads.push_back(i);
  }
  RC_PRE(!reads.empty());
  std::size_t bad = *rc::gen::elementOf(reads);
  history[bad].value = "never written";
  CheckResult r = logged_check(history);
  RC_ASSERT(r.verdict == Verdict::kNotLinearizable);
  RC_ASSERT(r.key == history[bad].key);
  RC_ASSERT(std::count(r.prefix.begin(), r.prefix.end(), bad) == 1);
  RC_ASSERT(r.explanation.find("once #" + std::to_string(bad) + " returns at") !=
            std::string::npos);
}

// The dumb oracle: some subset of the unknown-outcome writes, together with every completed
// operation, has an order that respects real time (an operation returning strictly before
// another's call comes first) in which every read returns the last value written.
bool brute_force_linearizable(const std::vector<Operation>& history) {
  std::vector<std::size_t> completed, unknown_writes;
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (history[i].return_time) {
      completed.push_back(i);
    } else if (history[i].kind == OpKind::kWrite) {
      unknown_writes.push_back(i);
    }
  }
  auto respects_real_time = [&](const std::vector<std::size_t>& order) {
    for (std::size_t a = 0; a < order.size(); ++a) {
      for (std::size_t b = a + 1; b < order.size(); ++b) {
        const auto& later = history[order[b]].return_time;
        if (later && *later < history[order[a]].call_time) return false;
      }
    }
    return true;
  };
  auto reads_are_legal = [&](const std::vector<std::size_t>& order) {
    std::optional<std::string> value;
    for (std::size_t i : order) {
      if (history[i].kind == OpKind::kWrite) value = history[i].value;
      if (history[i].kind == OpKind::kRead && history[i].value != value) return false;
    }
    return true;
  };
  for (std::uint32_t subset = 0; subset < (1u << unknown_writes.size()); ++subset) {
    std::vector<std::size_t> order = completed;
    for (std::size_t j = 0; j < unknown_writes.size(); ++j) {
      if (subset & (1u << j)) order.push_back(unknown_writes[j]);
    }
    std::sort(order.begin(), order.end());
    do {
      if (respects_real_time(order) && reads_are_legal(order)) return true;
    } while (std::next_permutation(order.begin(), order.end()));
  }
  return false;
}

// Arbitrary small histories on one key, most of them not linearizable: random intervals (often
// touching), random values read and written, some outcomes unknown.
std::vector<Operation> gen_arbitrary_history() {
  const int count = *rc::gen::inRange(0, 8);
  std::vector<Operation> history;
  for (int i = 0; i < count; ++i) {
    Operation op;
    op.client = static_cast<std::uint64_t>(i);
    op.key = "x";
    op.kind = *rc::gen::element(OpKind::kRead, OpKind::kWrite);
    int v = *rc::gen::inRange(0, 3);
    if (v > 0) op.value = "v" + std::to_string(v);
    op.call_time = *rc::gen::inRange(0, 10);
    if (*rc::gen::inRange(0, 6) != 0) op.return_time = op.call_time + *rc::gen::inRange(0, 6);
    history.push_back(std::move(op));
  }
  return history;
}

// The explained operations, cut at the return the explanation names (those still running then
// become unknown outcomes), are not linearizable either, by the oracle.
void check_explanation(const std::vector<Operation>& history, const CheckResult& r) {
  std::int64_t cut = 0;
  for (std::size_t i : r.prefix) {
    RC_ASSERT(r.explanation.find("#" + std::to_string(i) + " client") != std::string::npos);
    if (r.explanation.find("once #" + std::to_string(i) + " returns") != std::string::npos) {
      cut = *history[i].return_time;
    }
  }
  std::vector<Operation> prefix;
  for (std::size_t i : r.prefix) {
    prefix.push_back(history[i]);
    if (prefix.back().return_time > cut) prefix.back().return_time.reset();
  }
  RC_ASSERT(!brute_force_linearizable(prefix));
}

RC_GTEST_PROP(LinearizabilityProperty, AgreesWithBruteForceOnSmallHistories, ()) {
  std::vector<Operation> history = gen_arbitrary_history();
  bool expected = brute_force_linearizable(history);
  RC_TAG(expected ? "linearizable" : "not linearizable");
  auto r = check_linearizable(history);
  RC_ASSERT(r.is_ok());
  RC_ASSERT(r->verdict == (expected ? Verdict::kLinearizable : Verdict::kNotLinearizable));
  if (!expected) check_explanation(history, *r);
}

}  // namespace
}  // namespace spofless::check
