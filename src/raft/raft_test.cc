// Scenario tests of the Raft core, citing the sections of the Raft paper (§) and of Ongaro's
// thesis that each checks. A small in-memory cluster delivers every message at once, in
// order, except across the links a test cuts.

#include "raft/raft.h"

#include <gtest/gtest.h>

#include "raft/test_cluster.h"

namespace spofless::raft {
namespace {

using testing::Cluster;
using testing::data_of;
using testing::expect_error;
using testing::kFirstTerm;
using testing::n;
using testing::Options;

TEST(RaftElection, SingleServerElectsItselfAndCommitsAlone) {
  Cluster c(1);
  c.elect(1);
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  ASSERT_TRUE(c.propose(1, "x").is_ok());
  EXPECT_EQ(data_of(c.applied(1)), std::vector<std::string>{"x"});
}

// §5.2: a server that times out campaigns; a majority elects it; the others follow.
TEST(RaftElection, FirstToTimeOutWinsAndEveryoneFollows) {
  Cluster c(3);
  c.elect(1);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  EXPECT_EQ(c.raft(1).term(), kFirstTerm);
  for (std::uint64_t id : {2, 3}) {
    EXPECT_EQ(c.raft(id).role(), Role::kFollower);
    EXPECT_EQ(c.raft(id).leader(), n(1));
    EXPECT_EQ(c.raft(id).term(), kFirstTerm);
  }
}

// §5.3: entries commit once a majority stores them; followers learn the commit index.
TEST(RaftReplication, ProposalsCommitEverywhereInOrder) {
  Cluster c(3);
  c.elect(1);
  for (const char* v : {"a", "b", "c"}) ASSERT_TRUE(c.propose(1, v).is_ok());
  c.tick_all(4);  // heartbeats carry the commit index
  for (std::uint64_t id : {1, 2, 3}) {
    EXPECT_EQ(data_of(c.applied(id)), (std::vector<std::string>{"a", "b", "c"})) << id;
  }
}

TEST(RaftReplication, FollowersRefuseProposalsAndNameTheLeader) {
  Cluster c(3);
  c.elect(1);
  expect_error(c.propose(2, "x").status(), StatusCode::kUnavailable, "leader is 1");
}

// §5.4.1: a candidate whose log is behind cannot win, so no committed entry is lost.
TEST(RaftElection, AServerWithAStaleLogCannotWin) {
  Cluster c(3, Options{.pre_vote = false, .check_quorum = false});
  c.elect(1);
  c.isolate(3);
  ASSERT_TRUE(c.propose(1, "committed").is_ok());  // on 1 and 2 only
  c.heal();
  c.isolate(1);  // the leader goes away; 3 times out first
  for (int t = 0; t < 100 && c.raft(3).role() != Role::kLeader; ++t) c.tick(3);
  EXPECT_NE(c.raft(3).role(), Role::kLeader);
  c.elect(2);  // 2 has the entry and wins
  EXPECT_EQ(c.raft(2).role(), Role::kLeader);
}

// Figure 2: a follower restarts its election timer on a vote it grants, not on every vote
// request of a higher term. Otherwise a voter whose log is behind, campaigning again and again
// (no pre-vote, no check-quorum), would hold off the timeout of the servers that could win,
// and the cluster would stay leaderless.
TEST(RaftElection, RefusedVoteRequestsDoNotHoldOffTheServersThatCanWin) {
  Cluster c(3, Options{.pre_vote = false, .check_quorum = false});
  c.elect(1);
  c.isolate(3);
  ASSERT_TRUE(c.propose(1, "committed").is_ok());  // on 1 and 2 only
  c.stop(1);
  c.heal();
  // 3's clock runs three times as fast: it campaigns within 7 ticks of 2's, sooner than any
  // election timeout of 2's ([10, 20) ticks), and 2 refuses each vote (§5.4.1).
  for (int t = 0; t < 100 && c.leaders().empty(); ++t) {
    c.tick_all(1);
    c.tick(3);
    c.tick(3);
  }
  EXPECT_GT(c.raft(3).term(), kFirstTerm.next());  // 3 campaigned, and lost, more than once
  EXPECT_EQ(c.leaders(), std::vector<std::uint64_t>{2});
}

// Thesis §9.6: a server cut off from the others campaigns without raising its term, so on
// rejoining it does not depose a healthy leader.
TEST(RaftPreVote, ARejoiningServerDoesNotDisruptTheLeader) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  c.tick_all(50);  // 3 times out again and again
  EXPECT_EQ(c.raft(3).term(), kFirstTerm);
  c.heal();
  c.tick_all(5);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  EXPECT_EQ(c.raft(1).term(), kFirstTerm);
}

// Without pre-vote the same partition raises the isolated server's term (the disruption
// pre-vote exists to prevent); the cluster still recovers a single leader.
TEST(RaftPreVote, WithoutItARejoiningServerForcesANewTerm) {
  Cluster c(3, Options{.pre_vote = false, .check_quorum = false});
  c.elect(1);
  c.isolate(3);
  c.tick_all(50);
  EXPECT_GT(c.raft(3).term(), kFirstTerm);
  c.heal();
  c.tick_all(60);
  EXPECT_EQ(c.leaders().size(), 1u);
  EXPECT_GT(c.raft(1).term(), kFirstTerm);
}

// Thesis §6.2: a leader that cannot hear a majority for an election timeout steps down.
TEST(RaftCheckQuorum, APartitionedLeaderStepsDown) {
  Cluster c(3);
  c.elect(1);
  c.isolate(1);
  for (int t = 0; t < 2 * 10; ++t) c.tick(1);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  auto r = c.propose(1, "x");
  EXPECT_FALSE(r.is_ok());
}

TEST(RaftCheckQuorum, ALeaderThatHearsAMajorityStays) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  c.tick_all(100);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  EXPECT_EQ(c.raft(1).term(), kFirstTerm);
}

// Thesis §4.2.3: a server that hears from a current leader ignores vote requests, even of a
// higher term, so a server with a stale view cannot depose the leader.
TEST(RaftElection, FollowersOfALiveLeaderIgnoreVoteRequests) {
  Cluster c(3, Options{.pre_vote = false, .check_quorum = true});
  c.elect(1);
  Message vote;
  vote.type = MessageType::kVote;
  vote.from = n(3);
  vote.to = n(2);
  vote.term = Term{5};
  vote.index = c.raft(2).log().last_index();
  vote.log_term = c.raft(2).log().last_term();
  c.raft(2).step(vote);
  c.settle();
  EXPECT_EQ(c.raft(2).term(), kFirstTerm);
  EXPECT_EQ(c.raft(2).leader(), n(1));
}

// PreVote and CheckQuorum in every combination: after any partition heals and a majority
// is up, one leader emerges and a proposal commits on every server (etcd #8243, raft-rs
// #84 and canonical/raft #279 were liveness bugs in these interactions).
class RaftLiveness : public ::testing::TestWithParam<std::tuple<bool, bool>> {};

TEST_P(RaftLiveness, RecoversAfterEachServerIsIsolatedInTurn) {
  auto [pre_vote, check_quorum] = GetParam();
  Cluster c(3, Options{pre_vote, check_quorum}, 7);
  c.elect(1);
  for (std::uint64_t victim : {1, 2, 3, 1}) {
    c.isolate(victim);
    c.tick_all(60);
    c.heal();
    c.tick_all(60);
    std::vector<std::uint64_t> leaders = c.leaders();
    ASSERT_EQ(leaders.size(), 1u) << "after isolating " << victim;
    std::string value = "after-" + std::to_string(victim);
    ASSERT_TRUE(c.propose(leaders[0], value).is_ok());
    c.tick_all(4);
    for (std::uint64_t id : {1, 2, 3}) {
      std::vector<std::string> got = data_of(c.applied(id));
      ASSERT_FALSE(got.empty()) << id;
      EXPECT_EQ(got.back(), value) << "server " << id;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(PreVoteXCheckQuorum, RaftLiveness,
                         ::testing::Combine(::testing::Bool(), ::testing::Bool()));

// §5.3, Figure 7: a follower with a divergent tail is repaired; the conflicting entries go.
TEST(RaftReplication, ADivergentFollowerIsRepaired) {
  Cluster c(3, Options{.pre_vote = false, .check_quorum = false});
  c.elect(1);
  c.isolate(1);
  for (const char* v : {"lost-1", "lost-2", "lost-3"}) ASSERT_TRUE(c.propose(1, v).is_ok());
  c.elect(2);  // 2 and 3 elect a new leader; 1 still holds three uncommitted entries
  ASSERT_EQ(c.raft(2).role(), Role::kLeader);
  ASSERT_TRUE(c.propose(2, "kept").is_ok());
  c.heal();
  c.tick_all(30);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(data_of(c.applied(1)), std::vector<std::string>{"kept"});
  EXPECT_EQ(c.raft(1).log().last_index(), c.raft(2).log().last_index());
}

// Thesis §10.2.1: the leader writes its own log in parallel with replication; a majority
// of durable copies commits an entry, whether or not the leader's is among them.
TEST(RaftReplication, LeaderPersistsInParallelWithReplication) {
  Cluster c(3);
  c.elect(1);
  c.hold_disk(1, true);  // the leader's disk is slow: its Ready work waits
  Result<LogIndex> index = c.raft(1).propose("x");
  ASSERT_TRUE(index.is_ok());
  // Its appends may go out before its own write: send them, persist nothing.
  Ready rd = c.raft(1).ready();
  ASSERT_FALSE(rd.messages.empty());
  c.raft(1).advance(Ready{});
  for (const Message& m : rd.messages) c.raft(static_cast<std::uint64_t>(m.to)).step(m);
  c.settle();
  // 2 and 3 hold durable copies: a majority, without the leader's own.
  EXPECT_LT(c.raft(1).log().stable(), *index);
  EXPECT_GE(c.raft(1).log().committed(), *index);
}

// Pipelining: a leader in replicate state sends several batches before any is answered.
TEST(RaftReplication, AppendsArePipelinedUpToTheWindow) {
  Cluster c(3);
  c.elect(1);
  c.cut(1, 2);
  c.cut(1, 3);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.raft(1).propose(std::to_string(i)).is_ok());
  Ready rd = c.raft(1).ready();
  std::size_t to_two = 0;
  for (const Message& m : rd.messages) to_two += m.to == n(2) && m.type == MessageType::kAppend;
  EXPECT_GT(to_two, 1u);
  EXPECT_LE(to_two, limits::kRaftMaxInflightAppends);
  c.raft(1).advance(rd);
}

// Figure 2: currentTerm and votedFor survive a restart, so no server votes twice in a term.
TEST(RaftPersistence, ARestartedServerKeepsItsTermAndVote) {
  Cluster c(3, Options{.pre_vote = false, .check_quorum = false});
  c.elect(1);
  c.restart(2);
  EXPECT_EQ(c.raft(2).term(), kFirstTerm);
  EXPECT_EQ(c.raft(2).hard_state().vote, n(1));
  Message vote;
  vote.type = MessageType::kVote;
  vote.from = n(3);
  vote.to = n(2);
  vote.term = kFirstTerm;
  vote.index = LogIndex{9};
  vote.log_term = Term{9};
  c.raft(2).step(vote);
  Ready rd = c.raft(2).ready();
  ASSERT_EQ(rd.messages_after_persist.size(), 1u);
  EXPECT_TRUE(rd.messages_after_persist[0].reject);
  c.raft(2).advance(rd);
}

// Thesis §3.10: a planned switchover moves leadership to the chosen server without losing a
// write: the old leader refuses new proposals (clients retry on the new one) until it ends.
TEST(RaftTransfer, LeadershipMovesToAnUpToDateFollower) {
  Cluster c(3);  // pre-vote and check-quorum on: the transfer must get past both
  c.elect(1);
  ASSERT_TRUE(c.propose(1, "before").is_ok());
  ASSERT_TRUE(c.raft(1).transfer_leadership(n(3)).is_ok());
  c.settle();
  EXPECT_EQ(c.raft(3).role(), Role::kLeader);
  EXPECT_EQ(c.raft(3).term(), kFirstTerm.next());
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  ASSERT_TRUE(c.propose(3, "after").is_ok());
  c.tick_all(4);
  for (std::uint64_t id : {1, 2, 3}) {
    EXPECT_EQ(data_of(c.applied(id)), (std::vector<std::string>{"before", "after"})) << id;
  }
}

TEST(RaftTransfer, ALaggingTargetCatchesUpFirst) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  for (const char* v : {"a", "b", "c"}) ASSERT_TRUE(c.propose(1, v).is_ok());
  ASSERT_TRUE(c.raft(1).transfer_leadership(n(3)).is_ok());
  auto refused = c.propose(1, "during");
  ASSERT_FALSE(refused.is_ok());
  EXPECT_NE(refused.status().message().find("moving to 3"), std::string::npos);
  c.heal();
  c.tick_all(3);  // heartbeats find 3 behind; it catches up, then is told to campaign
  EXPECT_EQ(c.raft(3).role(), Role::kLeader);
  EXPECT_EQ(data_of(c.raft(3).log().slice(LogIndex{1}, c.raft(3).log().last_index(), 100)),
            (std::vector<std::string>{"a", "b", "c"}));
}

TEST(RaftTransfer, AnUnreachableTargetAbortsAfterAnElectionTimeout) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  ASSERT_TRUE(c.raft(1).transfer_leadership(n(3)).is_ok());
  EXPECT_FALSE(c.propose(1, "x").is_ok());
  for (int t = 0; t < 10; ++t) c.tick(1);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  EXPECT_EQ(c.raft(1).transferring_to(), NodeId::kNone);
  EXPECT_TRUE(c.propose(1, "x").is_ok());
}

TEST(RaftTransfer, RefusesStrangersAndNonLeaders) {
  Cluster c(3);
  c.elect(1);
  EXPECT_EQ(c.raft(1).transfer_leadership(n(9)).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.raft(2).transfer_leadership(n(3)).code(), StatusCode::kUnavailable);
  EXPECT_TRUE(c.raft(1).transfer_leadership(n(1)).is_ok());  // already there
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
}

TEST(RaftProgress, LeaderReportsEachFollowersLag) {
  Cluster c(3);
  c.elect(1);
  c.isolate(3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.propose(1, "x").is_ok());
  c.tick_all(3);
  std::vector<FollowerProgress> p = c.raft(1).progress();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].id, n(2));
  EXPECT_EQ(p[0].entries_behind, 0u);
  EXPECT_TRUE(p[0].replicating);
  EXPECT_EQ(p[1].id, n(3));
  EXPECT_EQ(p[1].entries_behind, 5u);
  EXPECT_GE(p[1].ticks_since_contact, 3u);
}

}  // namespace
}  // namespace spofless::raft
