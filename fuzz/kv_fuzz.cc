// Fuzzes the key-value state machine's three parsers, chosen by the first byte:
//   0: a log entry (kv::decode): a decoded command re-encodes to the same command, and
//      applying it never crashes;
//   1: a snapshot (StateMachine::restore): a restored state snapshots to bytes that restore
//      to the same bytes; a refused one leaves the machine as it was;
//   2: a client command, argv separated by '\n' (kv::classify): a write round-trips through
//      the log and applies, a read is served (SCAN MATCH runs the glob matcher).
// Anything else is refused with invalid_argument or an error reply, never a crash.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/check.h"
#include "kv/classify.h"
#include "kv/state_machine.h"

namespace {

using spofless::StatusCode;
namespace kv = spofless::kv;

// A machine with a few keys, a deleted one and a session, so that commands meet them.
kv::StateMachine seeded_machine() {
  kv::StateMachine machine(kv::Options{.max_keys = 64, .max_tombstones = 4, .max_sessions = 4});
  std::uint64_t index = 0;
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {"MSET", "a", "1", "b", "text", "user:1", "x"}, {"DEL", "b"}, {"SPOFLESS.REGISTER"}}) {
    auto c = kv::classify(argv);
    SPOFLESS_CHECK(c && std::holds_alternative<kv::Classified>(*c), "the seed commands classify");
    machine.apply(++index, kv::encode(std::get<kv::Classified>(*c).command));
  }
  return machine;
}

void fuzz_entry(std::string_view bytes) {
  auto command = kv::decode(bytes);
  if (!command) {
    SPOFLESS_CHECK(command.status().code() == StatusCode::kInvalidArgument,
                   "a bad entry is invalid_argument");
  } else {
    auto again = kv::decode(kv::encode(*command));
    SPOFLESS_CHECK(again.is_ok() && *again == *command, "a command round-trips");
  }
  kv::StateMachine machine = seeded_machine();
  machine.apply(machine.applied() + 1, bytes);
}

void fuzz_snapshot(std::string_view bytes) {
  kv::StateMachine machine = seeded_machine();
  const std::string before = machine.snapshot();
  spofless::Status s = machine.restore(bytes);
  if (!s.is_ok()) {
    SPOFLESS_CHECK(s.code() == StatusCode::kInvalidArgument, "a bad snapshot is invalid_argument");
    SPOFLESS_CHECK(machine.snapshot() == before, "a refused snapshot changes nothing");
    return;
  }
  const std::string taken = machine.snapshot();
  kv::StateMachine copy(kv::Options{.max_keys = 64, .max_tombstones = 4, .max_sessions = 4});
  SPOFLESS_CHECK(copy.restore(taken).is_ok() && copy.snapshot() == taken,
                 "a restored state snapshots to bytes that restore to themselves");
}

void fuzz_argv(std::string_view bytes) {
  std::vector<std::string> argv;
  std::size_t start = 0;
  while (start <= bytes.size()) {  // one field per '\n', bounded by the input's size
    std::size_t end = bytes.find('\n', start);
    if (end == std::string_view::npos) end = bytes.size();
    argv.emplace_back(bytes.substr(start, end - start));
    start = end + 1;
  }
  auto outcome = kv::classify(argv);
  if (!outcome) return;
  if (const auto* reply = std::get_if<kv::Reply>(&*outcome)) {
    SPOFLESS_CHECK(reply->is_error(), "classify() replies only errors");
    return;
  }
  const auto& c = std::get<kv::Classified>(*outcome);
  kv::StateMachine machine = seeded_machine();
  if (c.access == kv::Access::kRead) {
    machine.read(c.read);
    return;
  }
  auto decoded = kv::decode(kv::encode(c.command));
  SPOFLESS_CHECK(decoded.is_ok() && *decoded == c.command, "a classified write round-trips");
  machine.apply(machine.applied() + 1, kv::encode(c.command));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      fuzz_entry(bytes);
      break;
    case 1:
      fuzz_snapshot(bytes);
      break;
    default:
      fuzz_argv(bytes);
      break;
  }
  return 0;
}
