// Scenario tests of the lost-log state: a server whose disk lost log entries it may have
// acknowledged re-syncs from a leader without voting (Config::log_lost; docs/raft.md, "Lost
// log: re-syncing after disk corruption").

#include <algorithm>

#include <gtest/gtest.h>

#include "raft/progress.h"
#include "raft/raft.h"
#include "raft/test_cluster.h"

namespace spofless::raft {
namespace {

using testing::Cluster;
using testing::Fate;
using testing::n;
using Loss = Cluster::Loss;

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

FollowerProgress progress_of(Raft& leader, std::uint64_t id) {
  for (const FollowerProgress& p : leader.progress()) {
    if (p.id == n(id)) return p;
  }
  ADD_FAILURE() << "no progress for " << id;
  return {};
}

bool holds(Raft& r, LogIndex index, const std::string& data) {
  const Entry* e = r.log().entry(index);
  return e != nullptr && e->data == data;
}

// The messages `from` sent of `type`, starting at position `since` of everything sent.
std::vector<Message> sent_by(const Cluster& c, std::uint64_t from, MessageType type,
                             std::size_t since = 0) {
  std::vector<Message> out;
  for (std::size_t i = since; i < c.sent().size(); ++i) {
    const Message& m = c.sent()[i];
    if (m.from == n(from) && m.type == type) out.push_back(m);
  }
  return out;
}

// Servers 1 (leader) and 3 hold X, committed with 3's acknowledgement; 2 missed it. Then 1
// crashes and 3 restarts with X gone from its disk. Returns X's index.
LogIndex commit_x_on_1_and_3_then_lose_it_on_3(Cluster& c, Loss loss) {
  c.elect(1);
  write(c, 1, 1, 2);
  c.tick_all(2);
  c.isolate(2);
  Result<LogIndex> x = c.propose(1, "X");
  EXPECT_TRUE(x.is_ok());
  EXPECT_GE(c.raft(1).log().committed(), *x);  // 1 and 3: a majority
  EXPECT_TRUE(holds(c.raft(3), *x, "X"));
  EXPECT_FALSE(holds(c.raft(2), *x, "X"));
  c.stop(1);
  c.restart_losing_log(3, x->prev(), loss);
  c.heal();
  return *x;
}

// What the lost-log state prevents: a server that forgot an entry it acknowledged votes for a
// candidate lacking it (§5.4.1 compares logs, and the entry is in neither), and a committed
// entry is lost.
TEST(RaftLostLog, UnnoticedTheLossElectsALeaderWithoutACommittedEntry) {
  Cluster c(3);
  LogIndex x = commit_x_on_1_and_3_then_lose_it_on_3(c, Loss::kUnnoticed);
  ASSERT_EQ(c.wait_for_leader(), 2u);
  c.tick_all(4);
  EXPECT_FALSE(holds(c.raft(2), x, "X"));
  EXPECT_FALSE(holds(c.raft(3), x, "X"));
}

// The same scenario with the loss noticed: 3 grants no vote, so 2, which lacks X, cannot win;
// with 1 back, 1 leads, X stays committed everywhere, and 3 re-syncs and leaves the state.
TEST(RaftLostLog, NoLeaderLackingACommittedEntryIsElected) {
  Cluster c(3);
  LogIndex x = commit_x_on_1_and_3_then_lose_it_on_3(c, Loss::kNoticed);
  std::size_t before = c.sent().size();
  ASSERT_TRUE(c.raft(3).log_lost());
  EXPECT_EQ(c.raft(3).log().last_index(), x.prev());
  c.tick_all(200);
  EXPECT_TRUE(c.leaders().empty());
  EXPECT_FALSE(sent_by(c, 2, MessageType::kPreVote, before).empty());  // 2 did campaign
  for (MessageType type : {MessageType::kPreVoteResp, MessageType::kVoteResp}) {
    for (const Message& m : sent_by(c, 3, type, before)) EXPECT_TRUE(m.reject);
  }

  c.restart(1);
  ASSERT_EQ(c.wait_for_leader(), 1u);
  c.tick_all(4);
  EXPECT_FALSE(c.raft(3).log_lost());
  EXPECT_FALSE(c.log_lost_marker(3));
  for (std::uint64_t id : {1, 2, 3}) {
    EXPECT_TRUE(holds(c.raft(id), x, "X")) << id;
    EXPECT_GE(c.raft(id).log().committed(), x) << id;
    EXPECT_EQ(c.state(id), (std::vector<std::string>{"w1", "w2", "X"})) << id;
  }
}

// With a live leader the server re-syncs, leaves the state (its marker goes), and may then
// lead: it accepts a leadership transfer again.
TEST(RaftLostLog, ReSyncsFromALiveLeaderAndLeavesTheState) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 5);
  c.tick_all(2);
  c.restart_losing_log(3, LogIndex{3});
  ASSERT_TRUE(c.raft(3).log_lost());
  ASSERT_EQ(c.raft(3).log().committed(), LogIndex{3});  // the commit index is cut to the log
  c.tick_all(4);
  EXPECT_FALSE(c.raft(3).log_lost());
  EXPECT_FALSE(c.log_lost_marker(3));
  EXPECT_EQ(c.raft(3).log().last_index(), c.raft(1).log().last_index());
  EXPECT_EQ(c.state(3), values(1, 5));
  EXPECT_EQ(progress_of(c.raft(1), 3).match, c.raft(1).log().last_index());

  ASSERT_TRUE(c.raft(1).transfer_leadership(n(3)).is_ok());
  c.settle();
  EXPECT_EQ(c.leaders(), std::vector<std::uint64_t>{3});
  write(c, 3, 6, 6);
  c.tick_all(2);
  EXPECT_EQ(c.state(1), values(1, 6));
}

// The leader lowers its match for the server when a flagged reject comes at or below that
// match (a reject there is otherwise stale and ignored), and counts only what the server
// proved it holds: a write needing the server's acknowledgement waits for the re-sync.
TEST(RaftLostLog, AFlaggedRejectBelowTheMatchLowersIt) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 5);
  c.tick_all(2);
  LogIndex old_match = progress_of(c.raft(1), 3).match;
  ASSERT_EQ(old_match, c.raft(1).log().last_index());
  std::size_t before = c.sent().size();
  c.set_filter([](const Message& m) {  // hold the catch-up
    return m.type == MessageType::kAppend && m.to == n(3) && !m.entries.empty() ? Fate::kHold
                                                                                : Fate::kDeliver;
  });
  c.restart_losing_log(3, LogIndex{3});
  c.tick_all(2);  // a heartbeat draws an append, which 3 rejects

  bool flagged_reject_at_or_below_match = false;
  for (const Message& m : sent_by(c, 3, MessageType::kAppendResp, before)) {
    EXPECT_TRUE(m.log_lost);  // every one, while in the state
    flagged_reject_at_or_below_match |= m.reject && m.index <= old_match;
  }
  EXPECT_TRUE(flagged_reject_at_or_below_match);
  FollowerProgress p = progress_of(c.raft(1), 3);
  EXPECT_EQ(p.match, LogIndex{3});
  EXPECT_FALSE(p.replicating);
  // Nor does the leader tell it that it is re-synced while its match is below where the leader
  // stood when it heard of the loss.
  for (const Message& m : sent_by(c, 1, MessageType::kAppend, before)) {
    EXPECT_FALSE(m.to == n(3) && m.log_lost);
  }

  c.cut(1, 2);  // only 3 could make a majority with 1 now
  Result<LogIndex> w6 = c.propose(1, "w6");
  ASSERT_TRUE(w6.is_ok());
  c.tick_all(2);
  EXPECT_LT(c.raft(1).log().committed(), *w6);
  c.clear_filter();
  c.release_all();
  c.tick_all(4);
  EXPECT_GE(c.raft(1).log().committed(), *w6);
  EXPECT_FALSE(c.raft(3).log_lost());
  std::vector<Message> appends = sent_by(c, 1, MessageType::kAppend, before);
  EXPECT_TRUE(std::any_of(appends.begin(), appends.end(),
                          [](const Message& m) { return m.to == n(3) && m.log_lost; }));
}

// A flagged accept counts for what it says the server holds, even below the match the leader
// recorded: match drops to it.
TEST(RaftLostLog, AFlaggedAcceptBelowTheMatchLowersIt) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 5);
  c.tick_all(2);
  ASSERT_EQ(progress_of(c.raft(1), 3).match, c.raft(1).log().last_index());
  c.isolate(3);  // the leader's probe stays unanswered
  Message m;
  m.type = MessageType::kAppendResp;
  m.from = n(3);
  m.to = n(1);
  m.term = c.raft(1).term();
  m.index = LogIndex{4};
  m.log_lost = true;
  c.raft(1).step(m);
  c.settle();
  FollowerProgress p = progress_of(c.raft(1), 3);
  EXPECT_EQ(p.match, LogIndex{4});
  EXPECT_FALSE(p.replicating);
}

// An acknowledgement the server sent before its disk lost the entries, delivered after the
// leader lowered its match, does not raise the match again: it promises what the disk broke.
TEST(RaftLostLog, AnAcknowledgementFromBeforeTheLossDoesNotCount) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 3);
  c.tick_all(2);
  c.set_filter([](const Message& m) {
    return m.type == MessageType::kAppendResp && m.from == n(3) ? Fate::kHold : Fate::kDeliver;
  });
  write(c, 1, 4, 5);  // committed by 1 and 2; 3's acknowledgements are held
  LogIndex acked = c.raft(3).log().last_index();
  c.set_filter([](const Message& m) {  // now hold the catch-up instead
    return m.type == MessageType::kAppend && m.to == n(3) && !m.entries.empty() ? Fate::kHold
                                                                                : Fate::kDeliver;
  });
  c.restart_losing_log(3, LogIndex{3});
  c.tick_all(2);
  ASSERT_EQ(progress_of(c.raft(1), 3).match, LogIndex{3});
  c.release([](const Message& m) { return m.type == MessageType::kAppendResp; });
  EXPECT_EQ(progress_of(c.raft(1), 3).match, LogIndex{3}) << "stale ack of " << acked.value;
  c.clear_filter();
  c.release_all();
  c.tick_all(4);
  EXPECT_EQ(progress_of(c.raft(1), 3).match, c.raft(1).log().last_index());
  EXPECT_FALSE(c.raft(3).log_lost());
}

// A restart before the re-sync ends keeps the state (the marker), and a server in it never
// campaigns however long it hears nothing.
TEST(RaftLostLog, ARestartBeforeTheReSyncKeepsTheState) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 3);
  c.tick_all(2);
  c.isolate(3);
  std::size_t before = c.sent().size();
  c.restart_losing_log(3, LogIndex{2});
  c.tick_all(100);
  EXPECT_TRUE(c.raft(3).log_lost());
  EXPECT_TRUE(sent_by(c, 3, MessageType::kPreVote, before).empty());
  EXPECT_TRUE(sent_by(c, 3, MessageType::kVote, before).empty());
  EXPECT_EQ(c.raft(3).role(), Role::kFollower);

  c.restart(3);
  EXPECT_TRUE(c.raft(3).log_lost());
  c.heal();
  c.tick_all(4);
  EXPECT_FALSE(c.raft(3).log_lost());
  c.restart(3);  // re-synced: the marker is gone
  EXPECT_FALSE(c.raft(3).log_lost());
}

// The other two servers are a majority without it: writes go on while it is cut off, and
// while it re-syncs. Once re-synced it counts again: with 2 down, 1 and 3 commit.
TEST(RaftLostLog, ALostServerDoesNotBlockWrites) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 3);
  c.tick_all(2);
  c.isolate(3);
  c.restart_losing_log(3, LogIndex{2});
  write(c, 1, 4, 6);
  EXPECT_EQ(c.raft(1).log().committed(), c.raft(1).log().last_index());
  c.heal();
  write(c, 1, 7, 8);
  EXPECT_EQ(c.raft(1).log().committed(), c.raft(1).log().last_index());
  c.tick_all(4);
  ASSERT_FALSE(c.raft(3).log_lost());
  c.stop(2);
  write(c, 1, 9, 9);
  c.tick_all(2);
  EXPECT_EQ(c.raft(1).log().committed(), c.raft(1).log().last_index());
  EXPECT_EQ(c.state(3), values(1, 9));
}

// Found by the simulator (seed 945): the server re-synced, then lost entries again, under the
// same leader, which had meanwhile compacted its log past what the server kept. Refining the
// server's hint with the leader's log answered the snapshot's index, which the server does not
// hold, and the leader probed there forever. Its hint itself is what it proved: it gets the
// snapshot.
TEST(RaftLostLog, ASecondLossUnderTheSameLeaderReSyncsBySnapshot) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 5);
  c.tick_all(2);
  c.restart_losing_log(3, LogIndex{3});
  c.tick_all(4);
  ASSERT_FALSE(c.raft(3).log_lost());
  write(c, 1, 6, 10);
  c.tick_all(2);
  ASSERT_TRUE(c.compact(1).is_ok());
  write(c, 1, 11, 12);
  c.tick_all(2);
  ASSERT_GT(c.raft(1).snapshot().index, LogIndex{5});
  c.restart_losing_log(3, LogIndex{5});
  c.tick_all(6);
  EXPECT_FALSE(c.raft(3).log_lost());
  EXPECT_EQ(c.loaded_snapshots(3).size(), 1u);
  EXPECT_EQ(c.state(3), values(1, 12));
  EXPECT_EQ(progress_of(c.raft(1), 3).match, c.raft(1).log().last_index());
}

// Thesis §3.10's TimeoutNow would make it campaign at once: refused while in the state.
TEST(RaftLostLog, TimeoutNowIsRefused) {
  Cluster c(3);
  c.elect(1);
  write(c, 1, 1, 2);
  c.tick_all(2);
  c.isolate(3);
  c.restart_losing_log(3, LogIndex{2});
  Message m;
  m.type = MessageType::kTimeoutNow;
  m.from = n(1);
  m.to = n(3);
  m.term = c.raft(1).term();
  c.raft(3).step(m);
  c.settle();
  EXPECT_EQ(c.raft(3).role(), Role::kFollower);
  EXPECT_EQ(c.raft(3).term(), c.raft(1).term());
}

Entry entry(std::uint64_t term, std::uint64_t index) {
  return Entry{Term{term}, LogIndex{index}, EntryType::kNormal, "e" + std::to_string(index)};
}

// The follower's rule, step by step on one server (term 3, log of terms 1 2 2 2).
class LostLogFollower : public ::testing::Test {
 protected:
  LostLogFollower() : random_(1) {
    PersistentState disk;
    disk.hard_state = HardState{Term{3}, NodeId::kNone, LogIndex{6}};  // beyond the log: cut
    disk.entries.push_back(Entry{Term{1}, LogIndex{1}, EntryType::kMembership,
                                 encode(Membership{{n(1), n(2), n(3)}, {}})});
    for (std::uint64_t i = 2; i <= 4; ++i) disk.entries.push_back(entry(2, i));
    Config config;
    config.id = n(3);
    config.log_lost = true;
    raft_ = std::make_unique<Raft>(config, disk, random_);
  }

  // An append from leader 1 of term 3 after index `prev`, with the leader's commit index.
  Message append(LogIndex prev, Term prev_term, std::vector<Entry> entries, LogIndex commit,
                 bool leader_knows) {
    Message m;
    m.type = MessageType::kAppend;
    m.from = n(1);
    m.to = n(3);
    m.term = Term{3};
    m.index = prev;
    m.log_term = prev_term;
    m.entries = std::move(entries);
    m.commit = commit;
    m.log_lost = leader_knows;
    return m;
  }

  // Does one Ready as the server would, durably; returns the messages it sent.
  std::vector<Message> process() {
    Ready rd = raft_->ready();
    std::vector<Message> out = rd.messages;
    out.insert(out.end(), rd.messages_after_persist.begin(), rd.messages_after_persist.end());
    raft_->advance(rd);
    return out;
  }

  SeededRandom random_;
  std::unique_ptr<Raft> raft_;
};

TEST_F(LostLogFollower, GrantsNoVoteOrPreVoteAndNeverCampaigns) {
  EXPECT_EQ(raft_->log().committed(), LogIndex{4});
  for (MessageType type : {MessageType::kPreVote, MessageType::kVote}) {
    Message m;
    m.type = type;
    m.from = n(2);
    m.to = n(3);
    m.term = Term{4};
    m.index = LogIndex{10};  // more up to date than this log
    m.log_term = Term{3};
    raft_->step(m);
    std::vector<Message> out = process();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].reject) << to_string(type);
  }
  for (int t = 0; t < 100; ++t) raft_->tick();
  EXPECT_EQ(raft_->role(), Role::kFollower);
  EXPECT_FALSE(raft_->has_ready());  // nothing to send: no campaign
}

TEST_F(LostLogFollower, LeavesOnlyOnceTheLeaderKnowsAndItsOwnTermCommitIsDurable) {
  std::vector<Entry> more{entry(2, 5), entry(3, 6)};
  // The leader's commit index is an entry of an earlier term: it may not yet cover everything
  // committed before this term.
  raft_->step(append(LogIndex{4}, Term{2}, more, LogIndex{5}, true));
  std::vector<Message> out = process();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].reject);
  EXPECT_TRUE(out[0].log_lost);
  EXPECT_TRUE(raft_->log_lost());
  // Its commit index is of its own term, but the leader has not yet seen a flagged response:
  // it may still count an acknowledgement from before the loss.
  raft_->step(append(LogIndex{6}, Term{3}, {}, LogIndex{6}, false));
  process();
  EXPECT_TRUE(raft_->log_lost());
  // Both: the state ends, but only in the advance() after the entries are durable.
  raft_->step(append(LogIndex{6}, Term{3}, {entry(3, 7)}, LogIndex{7}, true));
  EXPECT_TRUE(raft_->log_lost());
  Ready rd = raft_->ready();
  ASSERT_EQ(rd.entries.size(), 1u);
  ASSERT_EQ(rd.messages_after_persist.size(), 1u);
  EXPECT_TRUE(rd.messages_after_persist[0].log_lost);  // sent from within the state
  EXPECT_TRUE(raft_->log_lost());
  rd.entries.clear();  // as if the write of the entries were reported later
  raft_->advance(rd);
  EXPECT_TRUE(raft_->log_lost());
  rd = raft_->ready();
  ASSERT_EQ(rd.entries.size(), 1u);
  raft_->advance(rd);
  EXPECT_FALSE(raft_->log_lost());
  raft_->step(append(LogIndex{7}, Term{3}, {}, LogIndex{7}, true));
  out = process();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].log_lost);
}

// A log that does not reach the leader's commit index is not re-synced yet.
TEST_F(LostLogFollower, StaysWhileTheLogIsShortOfTheLeadersCommit) {
  raft_->step(append(LogIndex{4}, Term{2}, {entry(3, 5)}, LogIndex{6}, true));
  process();
  EXPECT_TRUE(raft_->log_lost());
}

TEST(RaftLostLogProgress, LowerMatchDropsToWhatIsProvenAndProbesFromThere) {
  Progress p(LogIndex{1}, 8);
  ASSERT_TRUE(p.accepted(LogIndex{10}));
  EXPECT_TRUE(p.lower_match(LogIndex{6}, LogIndex{12}));
  EXPECT_EQ(p.match(), LogIndex{6});
  EXPECT_EQ(p.next(), LogIndex{7});
  EXPECT_EQ(p.state(), Progress::State::kProbe);
  EXPECT_TRUE(p.fenced(LogIndex{12}));
  EXPECT_FALSE(p.lower_match(LogIndex{8}, LogIndex{14}));  // never raises
  EXPECT_EQ(p.match(), LogIndex{6});
  EXPECT_FALSE(p.fenced(LogIndex{13}));  // nor moves the fence without a drop
}

// Appends tell the follower it is re-synced only once match, proven since the loss, reaches
// the fence: from then on its unflagged acknowledgements count again.
TEST(RaftLostLogProgress, ResyncedOnceTheProvenMatchReachesTheFence) {
  Progress p(LogIndex{1}, 8);
  ASSERT_TRUE(p.accepted(LogIndex{10}));
  EXPECT_FALSE(p.resynced());
  p.fence(LogIndex{10});  // a flagged heartbeat response proves no match
  EXPECT_FALSE(p.resynced());
  ASSERT_TRUE(p.lower_match(LogIndex{4}, LogIndex{10}));
  EXPECT_FALSE(p.resynced());
  ASSERT_TRUE(p.accepted(LogIndex{9}));
  EXPECT_FALSE(p.resynced());
  ASSERT_TRUE(p.accepted(LogIndex{10}));
  EXPECT_TRUE(p.resynced());
}

TEST(RaftLostLogProgress, TheFenceRefusesUnflaggedAcknowledgementsUpToIt) {
  Progress p(LogIndex{1}, 8);
  EXPECT_FALSE(p.fenced(LogIndex{0}));
  p.fence(LogIndex{12});
  p.fence(LogIndex{20});  // the first report sets it
  EXPECT_TRUE(p.fenced(LogIndex{12}));
  EXPECT_FALSE(p.fenced(LogIndex{13}));
}

}  // namespace
}  // namespace spofless::raft
