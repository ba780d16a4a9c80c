// Scenario tests of linearizable reads without writing to the log (Raft thesis §6.4): the
// ReadIndex protocol, reads forwarded by followers, and the leader lease.

#include <gtest/gtest.h>

#include "raft/raft.h"
#include "raft/test_cluster.h"

namespace spofless::raft {
namespace {

using testing::Cluster;
using testing::Fate;
using testing::kFirstTerm;
using testing::n;
using testing::Options;

constexpr Options kLease{.read_mode = ReadMode::kLease};

// Writes `values` through the leader; returns the index of the last, acknowledged (committed).
LogIndex write(Cluster& c, std::uint64_t leader, std::initializer_list<const char*> values) {
  LogIndex last;
  for (const char* v : values) {
    Result<LogIndex> index = c.propose(leader, v);
    EXPECT_TRUE(index.is_ok()) << index.status().to_string();
    if (!index.is_ok()) return last;
    EXPECT_GE(c.raft(leader).log().committed(), *index) << v << " was not acknowledged";
    last = *index;
  }
  return last;
}

bool is_heartbeat_response(const Message& m) { return m.type == MessageType::kHeartbeatResp; }

// §6.4 steps 1-4: the read index is the commit index when the read arrived, so the read sees
// every write acknowledged before it.
TEST(RaftReadIndex, ALeaderReadSeesEveryAcknowledgedWrite) {
  Cluster c(3);
  c.elect(1);
  LogIndex last_write = write(c, 1, {"a", "b", "c"});
  ASSERT_TRUE(c.read(1, "r1").is_ok());
  ASSERT_EQ(c.read_states(1).size(), 1u);
  EXPECT_EQ(c.read_states(1)[0].context, "r1");
  EXPECT_GE(c.read_states(1)[0].index, last_write);
  EXPECT_EQ(c.read_states(1)[0].index, c.raft(1).log().committed());
  EXPECT_GE(c.raft(1).log().applied(), c.read_states(1)[0].index);  // servable at once
}

// §6.4: a follower asks the leader for the read index, then serves the read itself once it
// has applied that far.
TEST(RaftReadIndex, AFollowerReadIsForwardedToTheLeader) {
  Cluster c(3);
  c.elect(1);
  LogIndex last_write = write(c, 1, {"a", "b"});
  ASSERT_TRUE(c.read(2, "from-2").is_ok());
  EXPECT_EQ(c.count_sent(MessageType::kReadIndex), 1u);
  EXPECT_EQ(c.count_sent(MessageType::kReadIndexResp), 1u);
  EXPECT_TRUE(c.read_states(1).empty());  // answered to the follower, not to the leader's app
  ASSERT_EQ(c.read_states(2).size(), 1u);
  ReadState read = c.read_states(2)[0];
  EXPECT_EQ(read.context, "from-2");
  EXPECT_GE(read.index, last_write);
  c.tick_all(2);  // the next heartbeat tells the follower the commit index
  EXPECT_GE(c.raft(2).log().applied(), read.index);
  EXPECT_EQ(c.state(2), (std::vector<std::string>{"a", "b"}));
}

// §6.4 step 3: only a heartbeat round sent after the read arrived proves that the leader still
// led when it took the read index; acknowledgements of an earlier round do not.
TEST(RaftReadIndex, AReadWaitsForARoundSentAfterItArrived) {
  Cluster c(3);
  c.elect(1);
  c.set_filter(
      [](const Message& m) { return is_heartbeat_response(m) ? Fate::kHold : Fate::kDeliver; });
  c.tick_all(2);  // heartbeat round 1; its acknowledgements are held
  ASSERT_TRUE(c.read(1, "x").is_ok());
  ASSERT_TRUE(c.read(1, "y").is_ok());
  c.release([](const Message& m) { return m.round == 1; });
  EXPECT_TRUE(c.read_states(1).empty());
  c.clear_filter();
  c.release_all();
  ASSERT_EQ(c.read_states(1).size(), 2u);
  EXPECT_EQ(c.read_states(1)[0].context, "x");
  EXPECT_EQ(c.read_states(1)[1].context, "y");
}

// One acknowledgement besides the leader's own is a majority of three; the slowest follower
// does not hold reads up.
TEST(RaftReadIndex, AMajorityOfAcknowledgementsSuffices) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  ASSERT_TRUE(c.read(1, "x").is_ok());
  EXPECT_EQ(c.read_states(1).size(), 1u);
  c.isolate(2);  // now the leader hears nobody
  ASSERT_TRUE(c.read(1, "y").is_ok());
  EXPECT_EQ(c.read_states(1).size(), 1u);
}

// §6.4 step 1: a new leader does not know the true commit index until it commits an entry of
// its own term; reads wait for that, then see the previous leader's acknowledged writes.
TEST(RaftReadIndex, ANewLeaderAnswersReadsOnlyAfterCommittingInItsTerm) {
  Cluster c(3);
  c.elect(1);
  LogIndex last_write = write(c, 1, {"a", "b"});
  // Leader 2's appends (its no-op among them) go nowhere until the filter is lifted.
  c.set_filter([](const Message& m) {
    return m.type == MessageType::kAppend && m.from == n(2) ? Fate::kDrop : Fate::kDeliver;
  });
  ASSERT_TRUE(c.raft(1).transfer_leadership(n(2)).is_ok());
  c.settle();
  ASSERT_EQ(c.raft(2).role(), Role::kLeader);
  ASSERT_LT(c.raft(2).log().committed(), c.raft(2).log().last_index());
  ASSERT_TRUE(c.read(2, "early").is_ok());
  c.tick_all(2);  // 3 hears 2's heartbeat: now it knows where to forward reads
  ASSERT_TRUE(c.read(3, "via-3").is_ok());
  c.tick_all(4);  // heartbeat rounds are acknowledged, but nothing of term 3 commits
  EXPECT_TRUE(c.read_states(2).empty());
  EXPECT_TRUE(c.read_states(3).empty());
  c.clear_filter();
  c.tick_all(2);
  ASSERT_EQ(c.read_states(2).size(), 1u);
  ASSERT_EQ(c.read_states(3).size(), 1u);
  LogIndex noop = c.raft(2).log().last_index();
  EXPECT_EQ(c.raft(2).log().term_at(noop), kFirstTerm.next());
  EXPECT_GE(c.read_states(2)[0].index, noop);
  EXPECT_GT(c.read_states(2)[0].index, last_write);
  EXPECT_GE(c.read_states(3)[0].index, noop);
}

// The reason for the heartbeat round: a leader cut off from the majority may already be
// deposed, and the new leader may have accepted writes its state machine never sees. Its
// reads never complete, so no stale value is returned.
TEST(RaftReadIndex, ADeposedLeaderNeverConfirmsARead) {
  Cluster c(3, Options{.pre_vote = false, .check_quorum = false});  // 1 keeps believing it leads
  c.elect(1);
  write(c, 1, {"old"});
  c.isolate(1);
  ASSERT_TRUE(c.read(1, "stale?").is_ok());
  c.elect(2);
  ASSERT_EQ(c.raft(2).role(), Role::kLeader);
  LogIndex newer = write(c, 2, {"new"});
  c.tick_all(30);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);  // still believes it leads, in an old term
  EXPECT_TRUE(c.read_states(1).empty());
  ASSERT_TRUE(c.read(2, "fresh").is_ok());
  ASSERT_EQ(c.read_states(2).size(), 1u);
  EXPECT_GE(c.read_states(2)[0].index, newer);
  c.heal();
  c.tick_all(10);  // 1 learns of term 3 and steps down: its pending read is dropped
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_TRUE(c.read_states(1).empty());
}

// Thesis §6.2 with §6.4: check-quorum deposes the cut-off leader, which drops its pending reads
// (the client's deadline retries them on the new leader).
TEST(RaftReadIndex, ACutOffLeaderDropsPendingReadsWhenItStepsDown) {
  Cluster c(3);
  c.elect(1);
  c.isolate(1);
  ASSERT_TRUE(c.read(1, "lost").is_ok());
  c.tick_all(40);
  EXPECT_NE(c.raft(1).role(), Role::kLeader);
  std::vector<std::uint64_t> leaders = c.leaders();
  ASSERT_EQ(leaders.size(), 1u);
  EXPECT_NE(leaders[0], 1u);
  c.heal();
  c.tick_all(10);
  EXPECT_TRUE(c.read_states(1).empty());
}

TEST(RaftReadIndex, ASingleServerConfirmsReadsAlone) {
  Cluster c(1);
  c.elect(1);
  LogIndex last_write = write(c, 1, {"a"});
  ASSERT_TRUE(c.read(1, "x").is_ok());
  ASSERT_EQ(c.read_states(1).size(), 1u);
  EXPECT_GE(c.read_states(1)[0].index, last_write);
}

// Thesis §4.2.1: learners serve as read replicas; their reads are as linearizable as a voter's.
TEST(RaftReadIndex, ALearnerServesLinearizableReads) {
  Cluster c(3);
  c.elect(1);
  c.add_server(4);
  ASSERT_TRUE(c.change(1, ConfChange::Kind::kAddLearner, 4).is_ok());
  c.tick_all(2);
  LogIndex last_write = write(c, 1, {"a", "b"});
  ASSERT_TRUE(c.read(4, "replica").is_ok());
  ASSERT_EQ(c.read_states(4).size(), 1u);
  EXPECT_GE(c.read_states(4)[0].index, last_write);
  c.tick_all(2);
  EXPECT_GE(c.raft(4).log().applied(), c.read_states(4)[0].index);
  EXPECT_EQ(c.state(4), (std::vector<std::string>{"a", "b"}));
}

// Reads pending when leadership moves are dropped, never answered by the old leader with an
// index that the new leader's writes may already have passed.
TEST(RaftReadIndex, PendingReadsAreDroppedWhenLeadershipMoves) {
  Cluster c(3);
  c.elect(1);
  c.set_filter(
      [](const Message& m) { return is_heartbeat_response(m) ? Fate::kHold : Fate::kDeliver; });
  ASSERT_TRUE(c.read(1, "pending").is_ok());
  ASSERT_TRUE(c.raft(1).transfer_leadership(n(2)).is_ok());
  c.settle();
  ASSERT_EQ(c.raft(2).role(), Role::kLeader);
  c.clear_filter();
  c.release_all();
  c.tick_all(4);
  EXPECT_TRUE(c.read_states(1).empty());
}

TEST(RaftReadIndex, WithNoLeaderKnownAReadIsUnavailable) {
  Cluster c(3);
  Status s = c.raft(2).read_index("x");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(c.count_sent(MessageType::kReadIndex), 0u);
}

// A limit on everything: a leader that cannot confirm rounds holds at most kRaftMaxPendingReads
// reads; beyond that its own callers get resource_exhausted and forwarded reads are refused.
TEST(RaftReadIndex, TooManyPendingReadsAreShed) {
  Cluster c(3);
  c.elect(1);
  c.set_filter(
      [](const Message& m) { return is_heartbeat_response(m) ? Fate::kDrop : Fate::kDeliver; });
  for (std::size_t i = 0; i < limits::kRaftMaxPendingReads; ++i) {
    ASSERT_TRUE(c.raft(1).read_index(std::to_string(i)).is_ok()) << i;
  }
  EXPECT_EQ(c.raft(1).read_index("one too many").code(), StatusCode::kResourceExhausted);
  c.settle();
  ASSERT_TRUE(c.read(2, "forwarded").is_ok());  // the follower cannot know; the leader sheds it
  bool rejected = false;
  for (const Message& m : c.sent()) {
    rejected |= m.type == MessageType::kReadIndexResp && m.to == n(2) && m.reject;
  }
  EXPECT_TRUE(rejected);
  EXPECT_TRUE(c.read_states(2).empty());
  c.clear_filter();
  c.tick_all(2);  // one acknowledged round confirms every pending read
  EXPECT_EQ(c.read_states(1).size(), limits::kRaftMaxPendingReads);
  EXPECT_TRUE(c.raft(1).read_index("room again").is_ok());
}

TEST(RaftReadIndex, AReadIndexLeaderNeverClaimsALease) {
  Cluster c(3);
  c.elect(1);
  c.tick_all(4);
  ASSERT_TRUE(c.read(1, "x").is_ok());
  EXPECT_FALSE(c.raft(1).has_lease());
}

// --- The leader lease (thesis §6.4.1) ---

// With a lease, a read right after an acknowledged heartbeat is answered without a round trip.
TEST(RaftLease, ReadsInsideTheLeaseNeedNoRoundTrip) {
  Cluster c(3, kLease);
  std::uint64_t leader = c.wait_for_leader();
  ASSERT_NE(leader, 0u);
  LogIndex last_write = write(c, leader, {"a"});
  c.tick_all(2);  // an acknowledged heartbeat round starts the lease
  ASSERT_TRUE(c.raft(leader).has_lease());
  for (int t = 0; t < 30; ++t) {  // heartbeats every 2 ticks renew an 8-tick lease
    c.tick_all(1);
    ASSERT_TRUE(c.raft(leader).has_lease()) << "tick " << t;
  }
  std::size_t heartbeats = c.count_sent(MessageType::kHeartbeat);
  ASSERT_TRUE(c.read(leader, "fast").is_ok());
  EXPECT_EQ(c.count_sent(MessageType::kHeartbeat), heartbeats);
  ASSERT_EQ(c.read_states(leader).size(), 1u);
  EXPECT_GE(c.read_states(leader)[0].index, last_write);
  // A follower's read costs its forwarding, still no heartbeat round.
  std::uint64_t follower = leader == 1 ? 2 : 1;
  ASSERT_TRUE(c.read(follower, "forwarded").is_ok());
  EXPECT_EQ(c.count_sent(MessageType::kHeartbeat), heartbeats);
  ASSERT_EQ(c.read_states(follower).size(), 1u);
  EXPECT_GE(c.read_states(follower)[0].index, last_write);
}

// The lease lasts lease_ticks (election timeout - 1, shortened by the allowed clock drift:
// 8 ticks at the defaults) from the sending of the last acknowledged round; a leader cut off
// from the majority stops answering on its own when it runs out.
TEST(RaftLease, TheLeaseRunsOutWhenTheLeaderIsCutOff) {
  Cluster c(3, kLease);
  std::uint64_t leader = c.wait_for_leader();
  ASSERT_NE(leader, 0u);
  c.tick_all(2);
  ASSERT_TRUE(c.raft(leader).has_lease());
  c.isolate(leader);
  int ticks_with_lease = 0;
  while (c.raft(leader).has_lease() && ticks_with_lease < 100) {
    c.tick(leader);
    ++ticks_with_lease;
  }
  EXPECT_GE(ticks_with_lease, 6);  // at least lease_ticks() minus the 2 since the round
  EXPECT_LE(ticks_with_lease, 8);
  EXPECT_EQ(c.raft(leader).role(), Role::kLeader);  // check-quorum has not deposed it yet
  ASSERT_TRUE(c.read(leader, "after").is_ok());
  c.tick(leader);
  EXPECT_TRUE(c.read_states(leader).empty());
}

// Safety of the lease (§4.2.3): voters that acknowledged a heartbeat ignore vote requests for an
// election timeout, so while the cut-off leader still holds its lease nobody else is elected.
TEST(RaftLease, NoOtherLeaderIsElectedWhileTheLeaseHolds) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    Cluster c(3, kLease, seed);
    std::uint64_t old_leader = c.wait_for_leader();
    ASSERT_NE(old_leader, 0u);
    c.tick_all(2);
    c.isolate(old_leader);
    bool new_leader = false;
    for (int t = 0; t < 60 && !new_leader; ++t) {
      c.tick_all(1);
      for (std::uint64_t id : c.leaders()) {
        if (id == old_leader) continue;
        new_leader = true;
        EXPECT_FALSE(c.raft(old_leader).has_lease()) << "seed " << seed << " tick " << t;
      }
    }
    EXPECT_TRUE(new_leader) << "seed " << seed;
  }
}

// A leadership transfer lets the target campaign past the followers' promise: the leader gives
// up its lease at once, and for the rest of its term, even if the transfer fails. Reads then
// fall back to heartbeat rounds.
TEST(RaftLease, ATransferAttemptRevokesTheLeaseForTheTerm) {
  Cluster c(3, kLease);
  std::uint64_t leader = c.wait_for_leader();
  ASSERT_NE(leader, 0u);
  std::uint64_t target = leader == 3 ? 2 : 3;
  c.tick_all(2);
  ASSERT_TRUE(c.raft(leader).has_lease());
  c.set_filter([](const Message& m) {
    return m.type == MessageType::kTimeoutNow ? Fate::kDrop : Fate::kDeliver;
  });
  ASSERT_TRUE(c.raft(leader).transfer_leadership(n(target)).is_ok());
  EXPECT_FALSE(c.raft(leader).has_lease());
  c.settle();
  EXPECT_GE(c.count_sent(MessageType::kTimeoutNow), 1u);
  c.tick_all(12);  // the transfer times out
  ASSERT_EQ(c.raft(leader).role(), Role::kLeader);
  ASSERT_EQ(c.raft(leader).transferring_to(), NodeId::kNone);
  EXPECT_FALSE(c.raft(leader).has_lease());
  std::size_t heartbeats = c.count_sent(MessageType::kHeartbeat);
  ASSERT_TRUE(c.read(leader, "slow path").is_ok());
  EXPECT_GT(c.count_sent(MessageType::kHeartbeat), heartbeats);
  EXPECT_EQ(c.read_states(leader).size(), 1u);
}

// A server that restarts may have promised a leader, just before it crashed, to ignore vote
// requests for an election timeout; with lease reads it keeps that promise after the restart.
TEST(RaftLease, ARestartedServerRefusesVotesForItsFirstElectionTimeout) {
  Cluster c(3, kLease);
  std::uint64_t leader = c.wait_for_leader();
  ASSERT_NE(leader, 0u);
  std::uint64_t voter = leader == 1 ? 2 : 1;
  std::uint64_t candidate = 6 - leader - voter;
  c.restart(voter);
  c.isolate(voter);
  c.settle();
  auto vote_request = [&] {
    Message m;
    m.type = MessageType::kVote;
    m.from = n(candidate);
    m.to = n(voter);
    m.term = c.raft(voter).term().next();
    m.index = c.raft(voter).log().last_index();
    m.log_term = c.raft(voter).log().last_term();
    return m;
  };
  std::size_t restarted = c.sent().size();
  auto answers = [&] {
    std::size_t count = 0;
    for (std::size_t i = restarted; i < c.sent().size(); ++i) {
      const Message& m = c.sent()[i];
      count += m.type == MessageType::kVoteResp && m.from == n(voter) && !m.reject;
    }
    return count;
  };
  Term before = c.raft(voter).term();
  c.raft(voter).step(vote_request());
  c.settle();
  EXPECT_EQ(answers(), 0u);
  EXPECT_EQ(c.raft(voter).term(), before);
  for (int t = 0; t < 10; ++t) c.tick(voter);  // waits out one election timeout
  c.raft(voter).step(vote_request());
  c.settle();
  EXPECT_EQ(answers(), 1u);
}

TEST(RaftLease, WithoutLeasesARestartedServerVotesAtOnce) {
  Cluster c(3);
  c.elect(1);
  c.restart(2);
  c.isolate(2);
  Message m;
  m.type = MessageType::kVote;
  m.from = n(3);
  m.to = n(2);
  m.term = c.raft(2).term().next();
  m.index = c.raft(2).log().last_index();
  m.log_term = c.raft(2).log().last_term();
  c.raft(2).step(m);
  c.settle();
  bool granted = false;
  for (const Message& r : c.sent()) {
    granted |= r.type == MessageType::kVoteResp && r.from == n(2) && !r.reject;
  }
  EXPECT_TRUE(granted);
}

}  // namespace
}  // namespace spofless::raft
