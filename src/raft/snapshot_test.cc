// Scenario tests of log compaction and InstallSnapshot (Raft §7, thesis chapter 5).

#include <gtest/gtest.h>

#include "raft/memory_storage.h"
#include "raft/raft.h"
#include "raft/test_cluster.h"

namespace spofless::raft {
namespace {

using testing::add_learner;
using testing::Cluster;
using testing::data_of;
using testing::expect_error;
using testing::Fate;
using testing::members;
using testing::n;
using Kind = ConfChange::Kind;

void write(Cluster& c, std::uint64_t leader, int from, int to) {
  for (int i = from; i <= to; ++i) {
    ASSERT_TRUE(c.propose(leader, "w" + std::to_string(i)).is_ok()) << i;
  }
}

std::vector<std::string> values(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back("w" + std::to_string(i));
  return out;
}

// §7: the snapshot stands for every entry up to its index, which the log then drops.
TEST(RaftSnapshot, CompactionDropsTheEntriesTheSnapshotStandsFor) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 5);
  LogIndex applied = c.raft(1).log().applied();
  ASSERT_TRUE(c.compact(1).is_ok());
  const Snapshot& s = c.raft(1).snapshot();
  EXPECT_EQ(s.index, applied);
  EXPECT_EQ(s.term, c.raft(1).term());
  EXPECT_EQ(s.membership, members({1, 2, 3}));
  EXPECT_EQ(s.data, "w1,w2,w3,w4,w5");
  EXPECT_EQ(c.raft(1).log().snapshot_index(), applied);
  EXPECT_EQ(c.raft(1).log().first_index(), applied.next());
  EXPECT_EQ(c.raft(1).log().entry(applied), nullptr);
  EXPECT_EQ(c.raft(1).log().term_at(applied), s.term);
  EXPECT_EQ(c.disk(1).snapshot, s);
  EXPECT_TRUE(c.disk(1).entries.empty());
  write(c, 1, 6, 6);  // the log goes on after the snapshot
  c.tick_all(2);
  EXPECT_EQ(c.state(2), values(1, 6));
}

TEST(RaftSnapshot, CompactRefusesIndexesNotAppliedOrAlreadyCompacted) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 3);
  Raft& r = c.raft(1);
  LogIndex applied = r.log().applied();
  EXPECT_EQ(r.compact(applied.next(), "x").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(r.compact(LogIndex{2}, "x").is_ok());
  EXPECT_EQ(r.compact(LogIndex{2}, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.compact(LogIndex{1}, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.compact(LogIndex{0}, "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.snapshot().index, LogIndex{2});
  EXPECT_TRUE(r.compact(applied, "y").is_ok());
}

// A snapshot must only stand for entries that are durable here: an entry applied but not yet
// persisted (the leader applies what a majority of followers stored, §10.2.1) is refused.
TEST(RaftSnapshot, CompactRefusesEntriesNotYetDurable) {
  Cluster c(3);
  c.elect(1);
  c.hold_disk(1, true);
  Result<LogIndex> index = c.raft(1).propose("x");
  ASSERT_TRUE(index.is_ok());
  Ready rd = c.raft(1).ready();
  for (const Message& m : rd.messages) c.raft(static_cast<std::uint64_t>(m.to)).step(m);
  c.raft(1).advance(Ready{});
  c.settle();
  ASSERT_GE(c.raft(1).log().committed(), *index);
  rd = c.raft(1).ready();  // the write and the apply arrive together...
  ASSERT_FALSE(rd.committed.empty());
  rd.entries.clear();  // ...and the apply happens to be reported before the write
  c.raft(1).advance(rd);
  ASSERT_GE(c.raft(1).log().applied(), *index);
  ASSERT_LT(c.raft(1).log().stable(), *index);
  EXPECT_EQ(c.raft(1).compact(*index, "x").code(), StatusCode::kInvalidArgument);
}

// §7: a follower that needs entries the leader compacted away gets the snapshot, loads it,
// and then catches up with the entries after it.
TEST(RaftSnapshot, ALaggingFollowerCatchesUpBySnapshotThenByEntries) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 2);
  c.tick_all(2);
  c.isolate(3);
  write(c, 1, 3, 6);
  ASSERT_TRUE(c.compact(1).is_ok());
  LogIndex compacted = c.raft(1).snapshot().index;
  write(c, 1, 7, 8);  // after the snapshot: these go by entries
  c.heal();
  c.tick_all(2);
  ASSERT_EQ(c.loaded_snapshots(3).size(), 1u);
  EXPECT_EQ(c.loaded_snapshots(3)[0], c.raft(1).snapshot());
  EXPECT_EQ(c.count_sent(MessageType::kSnapshot), 1u);
  EXPECT_EQ(c.raft(3).log().snapshot_index(), compacted);
  EXPECT_EQ(c.raft(3).log().last_index(), c.raft(1).log().last_index());
  EXPECT_EQ(c.raft(3).membership(), members({1, 2, 3}));
  EXPECT_EQ(c.disk(3).snapshot, c.raft(1).snapshot());
  EXPECT_EQ(c.state(3), values(1, 8));
  // w3 to w6 came in the snapshot.
  EXPECT_EQ(data_of(c.applied(3)), (std::vector<std::string>{"w1", "w2", "w7", "w8"}));
  write(c, 1, 9, 9);
  c.tick_all(2);
  EXPECT_EQ(c.state(3), values(1, 9));
  std::vector<FollowerProgress> progress = c.raft(1).progress();
  EXPECT_TRUE(progress[1].replicating);
  EXPECT_EQ(progress[1].entries_behind, 0u);
}

// A follower's log past the snapshot is not thrown away: only a leader's entries that the
// follower lacks need the snapshot, and an up-to-date follower gets none.
TEST(RaftSnapshot, AnUpToDateFollowerNeverNeedsTheSnapshot) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 4);
  ASSERT_TRUE(c.compact(1).is_ok());
  write(c, 1, 5, 6);
  c.tick_all(4);
  EXPECT_EQ(c.count_sent(MessageType::kSnapshot), 0u);
  EXPECT_EQ(c.state(2), values(1, 6));
}

// A snapshot that brings nothing new (at or below the follower's commit) changes nothing; one
// whose last entry the follower already holds only advances its commit, keeping its log.
TEST(RaftSnapshot, AFollowerIgnoresSnapshotsItDoesNotNeed) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 4);
  c.tick_all(2);
  ASSERT_TRUE(c.compact(1).is_ok());
  Message m;
  m.type = MessageType::kSnapshot;
  m.from = n(1);
  m.to = n(2);
  m.term = c.raft(1).term();
  m.snapshot = c.raft(1).snapshot();
  LogIndex last = c.raft(2).log().last_index();
  c.raft(2).step(m);
  c.settle();
  EXPECT_TRUE(c.loaded_snapshots(2).empty());
  EXPECT_EQ(c.raft(2).log().last_index(), last);
  EXPECT_EQ(c.raft(2).log().first_index(), LogIndex{1});

  // w5 reaches 2 alone and its acknowledgement is lost: 2 holds it, not known committed.
  c.cut(1, 3);
  c.set_filter([](const Message& msg) {
    return msg.type == MessageType::kAppendResp ? Fate::kDrop : Fate::kDeliver;
  });
  Result<LogIndex> index = c.propose(1, "w5");
  ASSERT_TRUE(index.is_ok());
  c.clear_filter();
  ASSERT_EQ(c.raft(2).log().last_index(), *index);
  ASSERT_LT(c.raft(2).log().committed(), *index);
  Snapshot ahead{*index, c.raft(1).term(), members({1, 2, 3}), "w1,w2,w3,w4,w5"};
  m.snapshot = ahead;
  c.raft(2).step(m);
  c.settle();
  EXPECT_TRUE(c.loaded_snapshots(2).empty());
  EXPECT_EQ(c.raft(2).log().committed(), *index);
  EXPECT_EQ(c.raft(2).log().first_index(), LogIndex{1});
  EXPECT_EQ(c.state(2), values(1, 5));
}

// A snapshot or its acknowledgement may be lost; the leader sends nothing else to a follower
// awaiting one, so after an election timeout without an answer it sends it again.
TEST(RaftSnapshot, ALostSnapshotIsResentAfterAnElectionTimeout) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  write(c, 1, 1, 5);
  ASSERT_TRUE(c.compact(1).is_ok());
  bool dropped = false;
  c.set_filter([&dropped](const Message& m) {
    if (m.type != MessageType::kSnapshot || dropped) return Fate::kDeliver;
    dropped = true;
    return Fate::kDrop;
  });
  c.heal();
  c.tick_all(2);
  ASSERT_TRUE(dropped);
  EXPECT_EQ(c.count_sent(MessageType::kSnapshot), 1u);
  c.tick_all(6);  // within the timeout: no second copy while the first may be on its way
  EXPECT_EQ(c.count_sent(MessageType::kSnapshot), 1u);
  EXPECT_TRUE(c.loaded_snapshots(3).empty());
  c.tick_all(6);
  EXPECT_EQ(c.count_sent(MessageType::kSnapshot), 2u);
  ASSERT_EQ(c.loaded_snapshots(3).size(), 1u);
  EXPECT_EQ(c.state(3), values(1, 5));
}

// Thesis §4.2.1 with chapter 5: a server joining after the log was compacted starts from the
// snapshot, which carries the membership in force at its index, itself included.
TEST(RaftSnapshot, ANewLearnerAfterCompactionStartsFromTheSnapshot) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 3);
  c.add_server(4);
  c.isolate(4);
  ASSERT_TRUE(c.change(1, Kind::kAddLearner, 4).is_ok());
  write(c, 1, 4, 5);
  ASSERT_TRUE(c.compact(1).is_ok());
  EXPECT_EQ(c.raft(1).snapshot().membership, members({1, 2, 3}, {4}));
  c.heal();
  c.tick_all(2);
  ASSERT_EQ(c.loaded_snapshots(4).size(), 1u);
  EXPECT_EQ(c.loaded_snapshots(4)[0].membership, members({1, 2, 3}, {4}));
  EXPECT_EQ(c.raft(4).membership(), members({1, 2, 3}, {4}));
  EXPECT_EQ(c.state(4), values(1, 5));
  write(c, 1, 6, 6);
  c.tick_all(2);
  EXPECT_EQ(c.state(4), values(1, 6));
}

// The same when the change comes after the compaction: the snapshot's membership lacks the new
// server, which learns of its own addition from the entries after it.
TEST(RaftSnapshot, ALearnerAddedAfterCompactionLearnsItselfFromEntries) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 3);
  ASSERT_TRUE(c.compact(1).is_ok());
  c.add_server(4);
  ASSERT_TRUE(c.change(1, Kind::kAddLearner, 4).is_ok());
  c.tick_all(2);
  ASSERT_EQ(c.loaded_snapshots(4).size(), 1u);
  EXPECT_EQ(c.loaded_snapshots(4)[0].membership, members({1, 2, 3}));
  EXPECT_EQ(c.raft(4).membership(), members({1, 2, 3}, {4}));
  EXPECT_EQ(c.state(4), values(1, 3));
  // Promoted, it is a full voter whose log starts at the snapshot.
  ASSERT_TRUE(c.change(1, Kind::kAddVoter, 4).is_ok());
  c.tick_all(2);
  EXPECT_EQ(c.raft(4).membership(), members({1, 2, 3, 4}));
}

// Thesis §4.2.1 with chapter 5: a learner whose match is below the leader's snapshot still
// needs the snapshot, so it is not caught up, however few entries follow the snapshot.
TEST(RaftSnapshot, ALearnerThatStillNeedsTheSnapshotIsNotPromoted) {
  Cluster c(3);
  c.elect(1);
  add_learner(c, 1, 4);
  c.isolate(4);
  write(c, 1, 1, 3);
  ASSERT_TRUE(c.compact(1).is_ok());
  write(c, 1, 4, 4);  // one entry after the snapshot: well within one append batch
  const RaftLog& log = c.raft(1).log();
  ASSERT_LT(log.last_index().value - log.snapshot_index().value,
            limits::kRaftMaxEntriesPerAppend);
  expect_error(c.change(1, Kind::kAddVoter, 4).status(), StatusCode::kUnavailable, "behind");
  EXPECT_EQ(c.raft(1).membership(), members({1, 2, 3}, {4}));
  c.heal();
  c.tick_all(2);  // 4 loads the snapshot and the entry after it
  ASSERT_EQ(c.loaded_snapshots(4).size(), 1u);
  EXPECT_EQ(c.state(4), values(1, 4));
  ASSERT_TRUE(c.change(1, Kind::kAddVoter, 4).is_ok());
  c.tick_all(2);
  EXPECT_EQ(c.raft(4).membership(), members({1, 2, 3, 4}));
}

// Figure 2 with §7: a restart reads back the snapshot and the entries after it; the log, the
// commit index and the membership are as before, and the state machine starts from the
// snapshot and re-applies only what follows it.
TEST(RaftSnapshot, ARestartRecoversFromTheSnapshotAndTheLogAfterIt) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 4);
  c.tick_all(2);
  ASSERT_TRUE(c.compact(2).is_ok());
  LogIndex compacted = c.raft(2).snapshot().index;
  add_learner(c, 1, 4);
  write(c, 1, 5, 6);
  c.tick_all(2);
  LogIndex last = c.raft(2).log().last_index();
  LogIndex committed = c.raft(2).log().committed();
  Membership membership = c.raft(2).membership();
  ASSERT_EQ(membership, members({1, 2, 3}, {4}));
  c.restart(2);
  EXPECT_EQ(c.raft(2).log().snapshot_index(), compacted);
  EXPECT_EQ(c.raft(2).log().last_index(), last);
  EXPECT_EQ(c.raft(2).log().committed(), committed);
  EXPECT_EQ(c.raft(2).membership(), membership);  // from the log entry after the snapshot
  c.settle();
  EXPECT_EQ(c.state(2), values(1, 6));
  EXPECT_EQ(data_of(c.applied(2)), values(5, 6));
  // Compacted past the change, the membership comes from the snapshot alone.
  ASSERT_TRUE(c.compact(2).is_ok());
  c.restart(2);
  EXPECT_EQ(c.raft(2).log().snapshot_index(), last);
  EXPECT_EQ(c.raft(2).membership(), membership);
  c.settle();
  EXPECT_EQ(c.state(2), values(1, 6));
  EXPECT_TRUE(c.applied(2).empty());
}

// A follower that loaded a snapshot from the leader keeps it across a restart.
TEST(RaftSnapshot, AnInstalledSnapshotSurvivesARestart) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  write(c, 1, 1, 4);
  ASSERT_TRUE(c.compact(1).is_ok());
  c.heal();
  c.tick_all(2);
  ASSERT_EQ(c.loaded_snapshots(3).size(), 1u);
  c.restart(3);
  EXPECT_EQ(c.raft(3).snapshot(), c.raft(1).snapshot());
  EXPECT_EQ(c.raft(3).membership(), members({1, 2, 3}));
  c.settle();
  EXPECT_EQ(c.state(3), values(1, 4));
}

// A leader whose own log starts at a snapshot it installed serves that snapshot in turn.
TEST(RaftSnapshot, ALeaderThatInstalledASnapshotSendsItOn) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  write(c, 1, 1, 4);
  ASSERT_TRUE(c.compact(1).is_ok());
  c.heal();
  c.tick_all(2);
  ASSERT_EQ(c.loaded_snapshots(3).size(), 1u);
  c.isolate(2);
  ASSERT_TRUE(c.raft(1).transfer_leadership(n(3)).is_ok());
  c.settle();
  ASSERT_EQ(c.raft(3).role(), Role::kLeader);
  write(c, 3, 5, 6);
  ASSERT_TRUE(c.compact(3).is_ok());  // past what 2 holds
  c.heal();
  c.tick_all(4);
  ASSERT_EQ(c.loaded_snapshots(2).size(), 1u);
  EXPECT_EQ(c.loaded_snapshots(2)[0], c.raft(3).snapshot());
  EXPECT_EQ(c.state(2), values(1, 6));
}

// A server that restarts from its own compaction still has the snapshot to send, once it
// leads again.
TEST(RaftSnapshot, ARestartedLeaderSendsTheSnapshotItPersisted) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  write(c, 1, 1, 4);
  ASSERT_TRUE(c.compact(1).is_ok());
  Snapshot taken = c.raft(1).snapshot();
  c.restart(1);
  EXPECT_EQ(c.raft(1).snapshot(), taken);
  std::uint64_t leader = c.wait_for_leader();  // 1 or 2
  ASSERT_NE(leader, 0u);
  if (leader != 1) {
    ASSERT_TRUE(c.raft(leader).transfer_leadership(n(1)).is_ok());
    c.settle();
  }
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  c.heal();
  c.tick_all(2);
  ASSERT_EQ(c.loaded_snapshots(3).size(), 1u);
  EXPECT_EQ(c.loaded_snapshots(3)[0], taken);
  EXPECT_EQ(c.state(3), values(1, 4));
  EXPECT_EQ(c.state(1), values(1, 4));
}

// memory_storage: a Ready's snapshot replaces the whole persisted log; a compaction drops only
// the entries the snapshot covers, and an older one is ignored.
TEST(RaftSnapshot, MemoryStorageReplacesAndCompacts) {
  PersistentState disk;
  Ready rd;
  for (std::uint64_t i : {1, 2, 3}) {
    rd.entries.push_back(Entry{Term{i == 3 ? 2u : 1u}, LogIndex{i}, EntryType::kNormal, "e"});
  }
  persist(disk, rd);
  persist_compaction(disk, Snapshot{LogIndex{2}, Term{1}, {}, "s2"});
  ASSERT_EQ(disk.entries.size(), 1u);
  EXPECT_EQ(disk.entries[0].index, LogIndex{3});
  persist_compaction(disk, Snapshot{LogIndex{1}, Term{1}, {}, "s1"});
  EXPECT_EQ(disk.snapshot.data, "s2");
  Ready install;
  install.snapshot = Snapshot{LogIndex{9}, Term{3}, {}, "s9"};
  persist(disk, install);
  EXPECT_TRUE(disk.entries.empty());
  EXPECT_EQ(disk.snapshot.index, LogIndex{9});
}

}  // namespace
}  // namespace spofless::raft
