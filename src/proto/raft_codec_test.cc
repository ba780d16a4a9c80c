// The Raft codec: every message survives a round trip, and every malformed one is refused
// with an error naming the field.

#include "proto/raft_codec.h"

#include <cstdint>
#include <limits>
#include <set>
#include <tuple>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/limits.h"

namespace spofless::proto {
namespace {

using raft::EntryType;
using raft::LogIndex;
using raft::MessageType;
using raft::NodeId;
using raft::Term;
using ::testing::HasSubstr;

// Every field of a Message, for comparing two (Message has no operator==). A field added to
// raft::Message belongs here too; the reflection test below catches one added to the proto.
auto fields(const raft::Message& m) {
  return std::tie(m.type, m.from, m.to, m.term, m.index, m.log_term, m.entries, m.commit, m.reject,
                  m.hint_index, m.hint_term, m.leader_transfer, m.round, m.context, m.snapshot,
                  m.log_lost);
}

std::string describe(const raft::Message& m) { return to_pb(m).ShortDebugString(); }

// --- Generators of well-formed values ---

constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();

std::uint64_t gen_u64() { return *rc::gen::arbitrary<std::uint64_t>(); }

// Large values as well as small: the wire uses varints, whose length depends on the value.
std::uint64_t gen_small_or_huge() {
  return *rc::gen::oneOf(rc::gen::inRange<std::uint64_t>(0, 1000),
                         rc::gen::arbitrary<std::uint64_t>());
}

// In [lo, hi], hitting hi often: a boundary the decoder must accept.
std::uint64_t gen_between(std::uint64_t lo, std::uint64_t hi) {
  if (lo == hi) return lo;
  return *rc::gen::oneOf(rc::gen::just(hi), rc::gen::inRange(lo, hi));
}

std::string gen_bytes() { return *rc::gen::container<std::string>(rc::gen::arbitrary<char>()); }

raft::Membership gen_membership() {
  raft::Membership m;
  int voters = *rc::gen::inRange<int>(0, static_cast<int>(limits::kRaftMaxVoters) + 1);
  int learners = *rc::gen::inRange(0, 6);
  for (int i = 0; i < voters; ++i) m.voters.insert(NodeId{*rc::gen::inRange<std::uint64_t>(1, 50)});
  for (int i = 0; i < learners; ++i) {
    NodeId id{*rc::gen::inRange<std::uint64_t>(1, 50)};
    if (!m.is_voter(id)) m.learners.insert(id);
  }
  return m;
}

raft::Entry gen_entry(LogIndex index, Term term) {
  raft::Entry e{term, index,
                *rc::gen::element(EntryType::kNormal, EntryType::kNoop, EntryType::kMembership),
                ""};
  e.data = e.type == EntryType::kMembership ? raft::encode(gen_membership()) : gen_bytes();
  return e;
}

// A message of `type` with every field that type may carry set to something arbitrary.
raft::Message gen_message(MessageType type) {
  raft::Message m;
  m.type = type;
  m.from = NodeId{gen_between(1, kMaxU64)};
  m.to = NodeId{gen_between(1, kMaxU64)};
  m.term = Term{gen_small_or_huge()};
  m.index = LogIndex{gen_small_or_huge()};
  m.log_term = Term{gen_between(0, m.term.value)};
  m.commit = LogIndex{gen_u64()};
  m.reject = *rc::gen::arbitrary<bool>();
  m.hint_index = LogIndex{gen_u64()};
  m.hint_term = Term{gen_u64()};
  m.leader_transfer = *rc::gen::arbitrary<bool>();
  m.round = gen_u64();
  m.context = gen_bytes();
  m.log_lost = *rc::gen::arbitrary<bool>();
  if (type == MessageType::kAppend) {
    int count = *rc::gen::inRange(0, 8);
    if (m.index.value > kMaxU64 - 8) m.index = LogIndex{kMaxU64 - 8};
    Term term = m.log_term;
    for (int i = 0; i < count; ++i) {
      term = Term{gen_between(term.value, m.term.value)};
      m.entries.push_back(gen_entry(LogIndex{m.index.value + 1 + i}, term));
    }
  }
  if (type == MessageType::kSnapshot) {
    raft::Snapshot s{LogIndex{gen_u64()}, Term{gen_between(0, m.term.value)}, gen_membership(),
                     gen_bytes()};
    m.snapshot = std::move(s);
  }
  return m;
}

MessageType gen_type() {
  return static_cast<MessageType>(
      *rc::gen::inRange<int>(0, static_cast<int>(MessageType::kSnapshot) + 1));
}

// --- Round trips ---

RC_GTEST_PROP(RaftCodecProperty, EveryWellFormedMessageSurvivesEncodeAndDecode, ()) {
  raft::Message m = gen_message(gen_type());
  RC_LOG() << describe(m) << "\n";
  Result<raft::Message> back = decode_message(encode_message(m));
  RC_ASSERT(back.is_ok());
  RC_ASSERT(fields(*back) == fields(m));
}

RC_GTEST_PROP(RaftCodecProperty, EntriesAndSnapshotsSurviveToPbAndBack, ()) {
  raft::Entry e = gen_entry(LogIndex{gen_u64()}, Term{gen_u64()});
  Result<raft::Entry> entry = from_pb(to_pb(e));
  RC_ASSERT(entry.is_ok());
  RC_ASSERT(*entry == e);

  raft::Snapshot s{LogIndex{gen_u64()}, Term{gen_u64()}, gen_membership(), gen_bytes()};
  Result<raft::Snapshot> snapshot = from_pb(to_pb(s));
  RC_ASSERT(snapshot.is_ok());
  RC_ASSERT(*snapshot == s);

  raft::HardState hs{Term{gen_u64()}, NodeId{gen_u64()}, LogIndex{gen_u64()}};
  RC_ASSERT(from_pb(to_pb(hs)) == hs);
}

// A field added to raft.proto but not to the codec would silently be dropped: the two messages
// between them set every field, so every field of pb::Message must be present on the wire.
TEST(RaftCodec, ToPbSetsEveryProtoField) {
  raft::Message append;
  append.type = MessageType::kAppend;
  append.from = NodeId{1};
  append.to = NodeId{2};
  append.term = Term{5};
  append.index = LogIndex{10};
  append.log_term = Term{4};
  append.entries = {{Term{5}, LogIndex{11}, EntryType::kNormal, "x"}};
  append.commit = LogIndex{9};
  append.reject = true;
  append.hint_index = LogIndex{3};
  append.hint_term = Term{2};
  append.leader_transfer = true;
  append.round = 7;
  append.context = "c";
  append.log_lost = true;
  raft::Message snapshot = append;
  snapshot.type = MessageType::kSnapshot;
  snapshot.entries.clear();
  snapshot.snapshot = raft::Snapshot{LogIndex{9}, Term{4}, {{NodeId{1}}, {NodeId{2}}}, "s"};

  std::set<int> present;
  for (const raft::Message* m : {&append, &snapshot}) {
    pb::Message p = to_pb(*m);
    std::vector<const google::protobuf::FieldDescriptor*> set;
    p.GetReflection()->ListFields(p, &set);
    for (const auto* f : set) present.insert(f->number());
    ASSERT_TRUE(decode_message(p.SerializeAsString()).is_ok()) << describe(*m);
  }
  const google::protobuf::Descriptor* d = pb::Message::descriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    EXPECT_TRUE(present.count(d->field(i)->number())) << "never set: " << d->field(i)->name();
  }
}

TEST(RaftCodec, EveryMessageTypeMapsToItsWireType) {
  // raft.proto's numbering follows raft::MessageType's order.
  for (int t = 0; t <= static_cast<int>(MessageType::kSnapshot); ++t) {
    raft::Message m;
    m.type = static_cast<MessageType>(t);
    m.from = NodeId{1};
    m.to = NodeId{2};
    if (m.type == MessageType::kSnapshot) m.snapshot = raft::Snapshot{};
    EXPECT_EQ(static_cast<int>(to_pb(m).type()), t);
    Result<raft::Message> back = decode_message(encode_message(m));
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(back->type, m.type);
  }
}

// --- Validation: each malformed input is refused, naming the field ---

// An append from 1 to 2 at term 5 after (10, term 4): entries 11 (term 4) and 12 (term 5).
pb::Message valid_append() {
  pb::Message m;
  m.set_type(pb::MSG_APPEND);
  m.set_from(1);
  m.set_to(2);
  m.set_term(5);
  m.set_index(10);
  m.set_log_term(4);
  for (std::uint64_t i : {11, 12}) {
    pb::Entry* e = m.add_entries();
    e->set_index(i);
    e->set_term(i == 11 ? 4 : 5);
    e->set_data("put");
  }
  return m;
}

pb::Message valid_snapshot() {
  pb::Message m;
  m.set_type(pb::MSG_SNAPSHOT);
  m.set_from(1);
  m.set_to(2);
  m.set_term(5);
  pb::Snapshot* s = m.mutable_snapshot();
  s->set_index(20);
  s->set_term(5);
  s->mutable_membership()->add_voters(1);
  s->mutable_membership()->add_voters(2);
  s->mutable_membership()->add_learners(3);
  return m;
}

// The error decode_message gives for `m`; fails the test if `m` is accepted.
std::string error_of(const pb::Message& m) {
  Result<raft::Message> r = decode_message(m.SerializeAsString());
  EXPECT_FALSE(r.is_ok()) << m.ShortDebugString();
  if (r.is_ok()) return "";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

TEST(RaftCodec, TheValidExamplesAreAccepted) {
  Result<raft::Message> append = decode_message(valid_append().SerializeAsString());
  ASSERT_TRUE(append.is_ok()) << append.status().to_string();
  EXPECT_EQ(append->entries.size(), 2u);
  Result<raft::Message> snapshot = decode_message(valid_snapshot().SerializeAsString());
  ASSERT_TRUE(snapshot.is_ok()) << snapshot.status().to_string();
  EXPECT_EQ(snapshot->snapshot->membership.learners, std::set<NodeId>{NodeId{3}});
}

TEST(RaftCodec, RefusesBytesThatAreNotAMessage) {
  // Field 7 (entries) as a length-delimited field claiming 100 bytes, with 1 present.
  Result<raft::Message> r = decode_message(std::string("\x3a\x64\x00", 3));
  ASSERT_FALSE(r.is_ok());
  EXPECT_THAT(r.status().message(), HasSubstr("3 bytes that do not parse"));
  EXPECT_FALSE(decode_message("\xff\xff\xff").is_ok());
}

TEST(RaftCodec, RefusesUnknownEnumValues) {
  // Field 1 (type) = 99, as a peer running a newer version might send.
  pb::Message m = valid_append();
  m.set_type(static_cast<pb::MessageType>(99));
  EXPECT_THAT(error_of(m), HasSubstr("type: unknown message type 99"));
  m = valid_append();
  m.mutable_entries(1)->set_type(static_cast<pb::EntryType>(7));
  EXPECT_THAT(error_of(m), HasSubstr("entries[1].type: unknown entry type 7"));
}

TEST(RaftCodec, RefusesServerIdZero) {
  pb::Message m = valid_append();
  m.set_from(0);
  EXPECT_THAT(error_of(m), HasSubstr("from: 0"));
  m = valid_append();
  m.set_to(0);
  EXPECT_THAT(error_of(m), HasSubstr("to: 0"));
}

TEST(RaftCodec, RefusesMembershipEntriesRaftCannotRead) {
  pb::Message m = valid_append();
  m.mutable_entries(0)->set_type(pb::ENTRY_MEMBERSHIP);
  m.mutable_entries(0)->set_data("voters=1,2 learners=3");
  ASSERT_TRUE(decode_message(m.SerializeAsString()).is_ok());
  for (const char* bad :
       {"put", "voters=0 learners=", "voters=1,1 learners=", "voters=1 learners=1"}) {
    m.mutable_entries(0)->set_data(bad);
    EXPECT_THAT(error_of(m), HasSubstr("entries[0].data: not a membership")) << bad;
  }
  m.mutable_entries(0)->set_data("voters=1,2,3,4,5,6,7,8,9,10 learners=");
  EXPECT_THAT(error_of(m), HasSubstr("entries[0].data.voters: 10 voters, at most 9"));
}

TEST(RaftCodec, RefusesBadSnapshotMemberships) {
  pb::Message m = valid_snapshot();
  m.mutable_snapshot()->mutable_membership()->set_learners(0, 0);
  EXPECT_THAT(error_of(m), HasSubstr("snapshot.membership.learners[0]: id 0"));
  m = valid_snapshot();
  m.mutable_snapshot()->mutable_membership()->set_voters(1, 1);
  EXPECT_THAT(error_of(m), HasSubstr("snapshot.membership.voters[1]: id 1 appears twice"));
  m = valid_snapshot();
  m.mutable_snapshot()->mutable_membership()->set_learners(0, 2);
  EXPECT_THAT(error_of(m), HasSubstr("snapshot.membership.learners: 2 is also a voter"));
  m = valid_snapshot();
  for (std::uint64_t id = 10; id < 10 + limits::kPeerMaxMembers; ++id) {
    m.mutable_snapshot()->mutable_membership()->add_learners(id);
  }
  EXPECT_THAT(error_of(m), HasSubstr("at most 1024 allowed"));
}

TEST(RaftCodec, RefusesASnapshotOnAnyTypeButSnapshotAndRequiresItThere) {
  pb::Message m = valid_snapshot();
  m.clear_snapshot();
  EXPECT_THAT(error_of(m), HasSubstr("snapshot: missing on a"));
  m = valid_append();
  *m.mutable_snapshot() = valid_snapshot().snapshot();
  EXPECT_THAT(error_of(m), HasSubstr("snapshot: present on a"));
  m = valid_snapshot();
  m.mutable_snapshot()->set_term(6);
  EXPECT_THAT(error_of(m), HasSubstr("snapshot.term: 6, above the message term 5"));
}

TEST(RaftCodec, RefusesEntriesOnAnyTypeButAppend) {
  pb::Message m = valid_append();
  m.set_type(pb::MSG_HEARTBEAT);
  EXPECT_THAT(error_of(m), HasSubstr("entries: 2 entries on a"));
}

TEST(RaftCodec, RefusesAppendsWhoseEntriesDoNotContinueTheLog) {
  pb::Message m = valid_append();
  m.mutable_entries(0)->set_index(12);  // the first must follow index 10
  EXPECT_THAT(error_of(m), HasSubstr("entries[0].index: 12, expected 11"));
  m = valid_append();
  m.mutable_entries(1)->set_index(13);  // a gap
  EXPECT_THAT(error_of(m), HasSubstr("entries[1].index: 13, expected 12"));
  m = valid_append();
  m.mutable_entries(1)->set_index(11);  // a repeat
  EXPECT_THAT(error_of(m), HasSubstr("entries[1].index: 11, expected 12"));
  m = valid_append();
  m.mutable_entries(1)->set_term(3);  // terms go down
  EXPECT_THAT(error_of(m), HasSubstr("entries[1].term: 3, below the previous term 4"));
  m = valid_append();
  m.mutable_entries(0)->set_term(3);  // below the entry before them
  EXPECT_THAT(error_of(m), HasSubstr("entries[0].term: 3, below the previous term 4"));
  m = valid_append();
  m.mutable_entries(1)->set_term(6);  // from the future
  EXPECT_THAT(error_of(m), HasSubstr("entries[1].term: 6, above the message term 5"));
}

TEST(RaftCodec, RefusesAppendsPastTheLargestIndex) {
  pb::Message m = valid_append();
  m.set_index(kMaxU64 - 1);
  m.mutable_entries(0)->set_index(kMaxU64);
  m.mutable_entries(1)->set_index(0);  // what kMaxU64 + 1 wraps to
  EXPECT_THAT(error_of(m), HasSubstr("entries[1].index: past the largest index"));
}

TEST(RaftCodec, RefusesMoreEntriesThanTheLimit) {
  pb::Message m = valid_append();
  m.clear_entries();
  for (std::uint64_t i = 0; i <= limits::kPeerMaxEntriesPerMessage; ++i) {
    pb::Entry* e = m.add_entries();
    e->set_index(11 + i);
    e->set_term(5);
  }
  EXPECT_THAT(error_of(m), HasSubstr("entries: 4097 entries, at most 4096 allowed"));
  m.mutable_entries()->RemoveLast();
  EXPECT_TRUE(decode_message(m.SerializeAsString()).is_ok());
}

}  // namespace
}  // namespace spofless::proto
