#pragma once

// A linearizability checker for histories of key-value registers: does some total order of the
// operations, each taking effect at one instant between its call and its return, explain every
// value read? (Herlihy & Wing 1990.) The simulator's clients and `spofless drill` record such
// histories; a verdict of kNotLinearizable comes with the shortest prefix of one key's history
// that already has no linearization, one operation per line, for a person to read.
//
// The search is Wing & Gong's (1993) over the history as a list of call and return events, with
// Lowe's memo of visited {linearized operations, register value} states ("Testing for
// linearizability", 2017), as in Porcupine. Each key is checked on its own: linearizability is
// local (Herlihy & Wing, Theorem 1), so the history is linearizable iff each key's is.
//
// Decisions beyond the classic algorithm, and why:
// - A call and a return at the same time overlap: an operation precedes another only if it
//   returns strictly before the other is called. Clocks are coarse; equal times prove nothing.
// - An operation with no return time (timed out, outcome unknown) may take effect at any instant
//   after its call, or never. A read of that kind constrains nothing and is dropped; so is such a
//   write whose value no completed read returned (taking it out of a linearization leaves one,
//   as no read depends on it). Both shrink the search without changing the verdict.
// - Two symmetry reductions, neither of which changes a verdict, keep the search narrow: a read
//   that is legal where the search stands is linearized there with no alternative tried (it
//   changes no state and nothing pending must precede it), so concurrent reads do not multiply
//   states; and unknown-outcome writes of one value are linearized in call order, so timed-out
//   retries of the same write do not either.
// - A write of std::nullopt deletes the key, so that DEL is as checkable as SET.
// - The explanation is the shortest prefix (by events) with no linearization, found by bisection
//   since linearizability is prefix-closed: it ends at the return that made the history illegal.
// - The budget is counted in steps that include the 64-bit words hashed and stored in the memo,
//   so that one number bounds both the time and the memory of a search.
// - Client ids are only printed: a client that timed out and retried has overlapping operations,
//   so per-client order is not checked.
//
// Pure: no I/O, clocks or threads. Every function is re-entrant; nothing is shared between calls.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "core/result.h"

namespace spofless::check {

enum class OpKind { kRead, kWrite };
std::string_view to_string(OpKind kind);

// One client operation on one key. Times are integers in one unit for the whole history
// (simulated ticks or nanoseconds); only their order matters.
struct Operation {
  std::uint64_t client = 0;
  OpKind kind = OpKind::kRead;
  std::string key;
  // A write: the value written (std::nullopt deletes the key). A read: the value returned
  // (std::nullopt when the key was absent). Ignored for a read with an unknown outcome.
  std::optional<std::string> value;
  std::int64_t call_time = 0;
  // std::nullopt when the outcome is unknown (the client gave up waiting): the operation may
  // have taken effect at any time after its call, or not at all.
  std::optional<std::int64_t> return_time;
};

// "client 3 write "v" [10, 15]"; an unknown outcome prints as "[10, ?]".
std::string to_string(const Operation& op);

enum class Verdict {
  kLinearizable,
  kNotLinearizable,
  kUnknown,  // a search ran out of budget before deciding; no key was found not linearizable
};
std::string_view to_string(Verdict verdict);

struct CheckOptions {
  // Steps each key's search may take before giving up with kUnknown (see limits.h). Must be > 0.
  std::uint64_t max_steps_per_key = limits::kLinearizabilityDefaultSearchSteps;
};

struct CheckResult {
  Verdict verdict = Verdict::kLinearizable;
  // kNotLinearizable: the first key (in byte order) found not linearizable. kUnknown: the first
  // key whose search ran out of budget. Empty when kLinearizable.
  std::string key;
  // kNotLinearizable: the key's shortest non-linearizable prefix, one operation per line, in
  // call order, ending with the operation whose return leaves no linearization. kUnknown: which
  // search gave up, after how many steps. Empty when kLinearizable.
  std::string explanation;
  // kNotLinearizable: indices into the checked history of the operations in that prefix, in
  // call order; the last one returned is named in the explanation. Empty otherwise.
  std::vector<std::size_t> prefix;
};

// Checks that `history` (operations in any order) is linearizable for registers that start
// absent. Keys are checked in byte order; the first key found not linearizable ends the check.
// Refuses (invalid_argument, naming the operation) a return time before its call time, more than
// kLinearizabilityMaxOperationsPerKey operations on one key, more than
// kLinearizabilityMaxOperations in all, and a zero budget.
// Cost per key of n operations: at most max_steps_per_key steps for the verdict, and as many
// again for each of the O(log n) searches that find the shortest bad prefix.
Result<CheckResult> check_linearizable(std::span<const Operation> history,
                                       const CheckOptions& options = {});

}  // namespace spofless::check
