// Fuzzes the decoder of Raft membership entries ("voters=1,2,3 learners=4"): any text must
// decode to a membership that encodes back to text decoding to the same membership, or to
// nothing — never crash. A membership is well formed: ids are non-zero, distinct, and no
// server is both a voter and a learner.

#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "raft/types.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<spofless::raft::Membership> m = spofless::raft::decode_membership(text);
  if (!m) return 0;
  for (spofless::raft::NodeId id : m->voters) {
    SPOFLESS_CHECK(id != spofless::raft::NodeId::kNone && !m->is_learner(id),
                   "a decoded membership is well formed");
  }
  SPOFLESS_CHECK(m->learners.count(spofless::raft::NodeId::kNone) == 0, "no learner 0");
  std::optional<spofless::raft::Membership> again =
      spofless::raft::decode_membership(spofless::raft::encode(*m));
  SPOFLESS_CHECK(again.has_value() && *again == *m, "a membership round-trips");
  return 0;
}
