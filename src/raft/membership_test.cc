// Scenario tests of membership changes one server at a time (Raft thesis §4.1-§4.2), learners,
// and bootstrapping.

#include <gtest/gtest.h>

#include "raft/raft.h"
#include "raft/test_cluster.h"

namespace spofless::raft {
namespace {

using testing::add_learner;
using testing::Cluster;
using testing::expect_error;
using testing::Fate;
using testing::kFirstTerm;
using testing::members;
using testing::n;
using testing::Options;
using Kind = ConfChange::Kind;

// Whether `id` sent a message of `type`, counting from the `since`th message sent.
bool sent_by(const Cluster& c, std::uint64_t id, MessageType type, std::size_t since = 0) {
  for (std::size_t i = since; i < c.sent().size(); ++i) {
    if (c.sent()[i].from == n(id) && c.sent()[i].type == type) return true;
  }
  return false;
}

// Bootstrapping writes the first membership as committed entry 1 at term 1, the same on every
// first voter, so the first election is for term 2.
TEST(RaftMembership, BootstrapWritesTheMembershipAsCommittedEntryOne) {
  Cluster c(3);
  c.settle();
  for (std::uint64_t id : {1, 2, 3}) {
    const RaftLog& log = c.raft(id).log();
    ASSERT_EQ(log.last_index(), LogIndex{1}) << id;
    EXPECT_EQ(log.entry(LogIndex{1})->type, EntryType::kMembership);
    EXPECT_EQ(log.entry(LogIndex{1})->term, Term{1});
    EXPECT_EQ(decode_membership(log.entry(LogIndex{1})->data), members({1, 2, 3}));
    EXPECT_EQ(log.committed(), LogIndex{1});
    EXPECT_EQ(c.raft(id).membership(), members({1, 2, 3}));
    EXPECT_EQ(c.disk(id).entries.size(), 1u);  // the first Ready persisted it
  }
  c.elect(1);
  EXPECT_EQ(c.raft(1).term(), kFirstTerm);
}

TEST(RaftMembership, EncodingRoundTripsAndRejectsGarbage) {
  Membership m = members({1, 2, 3}, {7});
  EXPECT_EQ(encode(m), "voters=1,2,3 learners=7");
  EXPECT_EQ(decode_membership(encode(m)), m);
  EXPECT_EQ(decode_membership(encode(Membership{})), Membership{});
  for (const char* bad :
       {"", "voters=1,2", "voters=1,,2 learners=", "voters=1,2, learners=", "voters=0 learners=",
        "voters=1,1 learners=", "voters=1 learners=1", "voters=x learners="}) {
    EXPECT_FALSE(decode_membership(bad).has_value()) << bad;
  }
}

// A joining server starts with no membership, never campaigns, and learns the whole
// membership history from the leader's log, beginning with the bootstrap entry.
TEST(RaftMembership, AJoinerLearnsTheMembershipFromTheLog) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.propose(1, "a").is_ok());
  c.add_server(4);
  EXPECT_EQ(c.raft(4).membership(), Membership{});
  EXPECT_EQ(c.raft(4).log().last_index(), LogIndex{0});
  c.tick_all(30);  // not a member yet: never campaigns
  EXPECT_FALSE(sent_by(c, 4, MessageType::kPreVote));
  EXPECT_EQ(c.raft(4).term(), Term{});
  ASSERT_TRUE(c.change(1, Kind::kAddLearner, 4).is_ok());
  c.tick_all(2);
  EXPECT_EQ(c.raft(4).membership(), members({1, 2, 3}, {4}));
  EXPECT_EQ(decode_membership(c.raft(4).log().entry(LogIndex{1})->data), members({1, 2, 3}));
  EXPECT_EQ(c.raft(4).leader(), n(1));
  EXPECT_EQ(c.state(4), (std::vector<std::string>{"a"}));
}

// Thesis §4.2.1: a learner catches up without a vote; it never campaigns, even cut off.
TEST(RaftMembership, ALearnerReceivesTheLogButNeverCampaigns) {
  Cluster c(3);
  c.elect(1);
  add_learner(c, 1, 4);
  ASSERT_TRUE(c.propose(1, "x").is_ok());
  c.tick_all(2);
  EXPECT_EQ(c.state(4), (std::vector<std::string>{"x"}));
  c.isolate(4);
  c.tick_all(100);
  EXPECT_FALSE(sent_by(c, 4, MessageType::kPreVote));
  EXPECT_FALSE(sent_by(c, 4, MessageType::kVote));
  EXPECT_EQ(c.raft(4).role(), Role::kFollower);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  EXPECT_EQ(c.raft(4).term(), kFirstTerm);
  std::vector<FollowerProgress> progress = c.raft(1).progress();
  ASSERT_EQ(progress.size(), 3u);
  EXPECT_TRUE(progress[2].learner);
}

// Learners do not count toward commit (nor toward check-quorum): a leader with only a learner
// for company cannot commit.
TEST(RaftMembership, ALearnerDoesNotCountTowardCommit) {
  Cluster c(3);
  c.elect(1);
  add_learner(c, 1, 4);
  c.cut(1, 2);
  c.cut(1, 3);
  Result<LogIndex> index = c.propose(1, "x");
  ASSERT_TRUE(index.is_ok());
  EXPECT_EQ(c.raft(4).log().last_index(), *index);  // the learner has it...
  EXPECT_LT(c.raft(1).log().committed(), *index);   // ...which makes no majority
  c.heal();
  c.tick_all(2);
  EXPECT_GE(c.raft(1).log().committed(), *index);
}

// A learner that was added but never answers costs the cluster nothing.
TEST(RaftMembership, AnUnreachableLearnerDoesNotBlockTheCluster) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.change(1, Kind::kAddLearner, 9).is_ok());  // no such server runs
  c.tick_all(30);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  ASSERT_TRUE(c.propose(1, "x").is_ok());
  EXPECT_EQ(c.state(1), (std::vector<std::string>{"x"}));
}

// Thesis §4.2.1: a new voter with an empty log would sit in every majority until it caught up,
// so only a learner within one append batch of the leader is promoted.
TEST(RaftMembership, PromotionWaitsUntilTheLearnerCatchesUp) {
  Cluster c(3, Options{.max_entries_per_append = 4});
  c.elect(1);
  add_learner(c, 1, 4);
  c.isolate(4);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.propose(1, std::to_string(i)).is_ok());
  expect_error(c.change(1, Kind::kAddVoter, 4).status(), StatusCode::kUnavailable, "behind");
  EXPECT_EQ(c.raft(1).membership(), members({1, 2, 3}, {4}));
  c.heal();
  c.tick_all(4);
  ASSERT_TRUE(c.change(1, Kind::kAddVoter, 4).is_ok());
  c.tick_all(2);
  for (std::uint64_t id : {1, 2, 3, 4}) {
    EXPECT_EQ(c.raft(id).membership(), members({1, 2, 3, 4})) << id;
  }
  EXPECT_EQ(c.state(4), c.state(1));
  // A voter now: it can lead.
  ASSERT_TRUE(c.raft(1).transfer_leadership(n(4)).is_ok());
  c.settle();
  EXPECT_EQ(c.raft(4).role(), Role::kLeader);
}

// Thesis §4.2.3 with §4.2.1: a learner that has not heard from the leader for an election
// timeout forgets it. A learner promoted without knowing it yet still holds that leader's lease
// otherwise, and ignores the vote requests that the remaining voters need from it.
TEST(RaftMembership, ALearnerPromotedUnawaresStillVotesOnceTheLeaderIsGone) {
  Cluster c(3);  // pre-vote and check-quorum on
  c.elect(1);
  add_learner(c, 1, 4);
  ASSERT_TRUE(c.read(1, "heartbeat").is_ok());  // a heartbeat round: 4 has just heard from 1
  ASSERT_EQ(c.raft(4).leader(), n(1));
  c.cut(1, 4);
  Result<LogIndex> promoted = c.change(1, Kind::kAddVoter, 4);
  ASSERT_TRUE(promoted.is_ok());
  ASSERT_GE(c.raft(1).log().committed(), *promoted);  // 1, 2 and 3: three of four voters
  c.stop(1);
  EXPECT_EQ(c.raft(4).membership(), members({1, 2, 3}, {4}));  // 4 missed its promotion
  // 4 hears nothing for 2T - 1 ticks: longer than any timeout it can draw in [T, 2T).
  for (int t = 0; t < 19; ++t) c.tick(4);
  EXPECT_EQ(c.raft(4).leader(), NodeId::kNone);
  // Then its clock stalls while 2 and 3 campaign: with 1 gone, every election needs 4's vote.
  for (int t = 0; t < 100 && c.leaders().empty(); ++t) {
    c.tick(2);
    c.tick(3);
  }
  std::vector<std::uint64_t> leaders = c.leaders();
  ASSERT_EQ(leaders.size(), 1u);
  EXPECT_NE(leaders[0], 4u);
  c.tick(leaders[0]);
  EXPECT_EQ(c.raft(4).membership(), members({1, 2, 3, 4}));
  EXPECT_EQ(c.raft(4).leader(), n(leaders[0]));
}

// With four voters a majority is three: the promoted server counts.
TEST(RaftMembership, APromotedVoterCountsInMajorities) {
  Cluster c(3);
  c.elect(1);
  add_learner(c, 1, 4);
  ASSERT_TRUE(c.change(1, Kind::kAddVoter, 4).is_ok());
  c.tick_all(2);
  c.isolate(2);
  c.isolate(3);
  Result<LogIndex> index = c.propose(1, "needs 1, 4 and one more");
  ASSERT_TRUE(index.is_ok());
  EXPECT_LT(c.raft(1).log().committed(), *index);
  c.heal();
  c.isolate(3);
  c.tick_all(2);
  EXPECT_GE(c.raft(1).log().committed(), *index);
}

// A removed follower leaves the majorities at once (when the entry is appended, §4.1), and,
// cut off afterwards, cannot disrupt the cluster (§4.2.3).
TEST(RaftMembership, RemovingAFollowerShrinksTheMajority) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.change(1, Kind::kRemove, 3).is_ok());
  c.tick_all(2);
  EXPECT_EQ(c.raft(1).membership(), members({1, 2}));
  EXPECT_EQ(c.raft(2).membership(), members({1, 2}));
  ASSERT_EQ(c.raft(1).progress().size(), 1u);
  c.isolate(3);
  c.tick_all(100);
  EXPECT_EQ(c.leaders(), std::vector<std::uint64_t>{1});
  EXPECT_EQ(c.raft(1).term(), kFirstTerm);
  ASSERT_TRUE(c.propose(1, "without 3").is_ok());
  c.tick_all(2);
  EXPECT_EQ(c.state(2), (std::vector<std::string>{"without 3"}));
}

// Removing an unreachable voter shrinks the majority, so an entry waiting for it commits.
TEST(RaftMembership, RemovingAnUnreachableVoterCommitsWhatWaitedForIt) {
  Cluster c(4);
  c.elect(1);
  c.stop(3);
  c.stop(4);
  Result<LogIndex> waiting = c.propose(1, "needs three of four");
  ASSERT_TRUE(waiting.is_ok());
  EXPECT_LT(c.raft(1).log().committed(), *waiting);
  ASSERT_TRUE(c.change(1, Kind::kRemove, 4).is_ok());
  EXPECT_GE(c.raft(1).log().committed(), *waiting);
  c.tick_all(2);
  EXPECT_EQ(c.state(2), (std::vector<std::string>{"needs three of four"}));
}

TEST(RaftMembership, RemovingALearnerStopsItsReplication) {
  Cluster c(3);
  c.elect(1);
  add_learner(c, 1, 4);
  ASSERT_TRUE(c.change(1, Kind::kRemove, 4).is_ok());
  c.tick_all(2);
  EXPECT_EQ(c.raft(1).membership(), members({1, 2, 3}));
  LogIndex before = c.raft(4).log().last_index();
  ASSERT_TRUE(c.propose(1, "x").is_ok());
  c.tick_all(4);
  EXPECT_EQ(c.raft(4).log().last_index(), before);
  EXPECT_EQ(c.raft(1).progress().size(), 2u);
}

// Thesis §4.2.2: a leader removing itself keeps leading without counting itself in majorities
// until the change commits, then steps down; the remaining voters elect a new leader.
TEST(RaftMembership, ARemovedLeaderStepsDownOnceTheChangeCommits) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.propose(1, "before").is_ok());
  c.cut(1, 3);
  Result<LogIndex> index = c.change(1, Kind::kRemove, 1);
  ASSERT_TRUE(index.is_ok());
  // 1 and 2 hold the entry: a majority of the old membership, but the new one is {2, 3}.
  EXPECT_EQ(c.raft(2).log().last_index(), *index);
  EXPECT_LT(c.raft(1).log().committed(), *index);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  EXPECT_TRUE(c.propose(1, "still leads").is_ok());  // and still takes proposals
  c.heal();
  c.tick_all(2);
  EXPECT_GE(c.raft(1).log().committed(), *index);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  std::size_t stepped_down = c.sent().size();
  c.tick_all(40);
  std::vector<std::uint64_t> leaders = c.leaders();
  ASSERT_EQ(leaders.size(), 1u);
  EXPECT_NE(leaders[0], 1u);
  // No longer a voter: it never campaigns.
  EXPECT_FALSE(sent_by(c, 1, MessageType::kPreVote, stepped_down));
  ASSERT_TRUE(c.propose(leaders[0], "after").is_ok());
  c.tick_all(2);
  for (std::uint64_t id : {2, 3}) {
    EXPECT_EQ(c.state(id), (std::vector<std::string>{"before", "still leads", "after"})) << id;
    EXPECT_EQ(c.raft(id).membership(), members({2, 3}));
  }
}

// Down to one voter: the survivor of a removed leader campaigns alone and leads by itself.
TEST(RaftMembership, ALeaderOfTwoHandsTheClusterToTheOther) {
  Cluster c(2);
  c.elect(1);
  ASSERT_TRUE(c.change(1, Kind::kRemove, 1).is_ok());
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  c.tick_all(40);
  EXPECT_EQ(c.leaders(), std::vector<std::uint64_t>{2});
  EXPECT_EQ(c.raft(2).membership(), members({2}));
  ASSERT_TRUE(c.propose(2, "alone").is_ok());
  EXPECT_EQ(c.state(2), (std::vector<std::string>{"alone"}));
}

// Thesis §4.1: replacing a dead server is two changes, remove then add (as a learner, then
// promoted). Afterwards the cluster again survives one more failure.
TEST(RaftMembership, ReplacingADeadServerRestoresFaultTolerance) {
  Cluster c(3);
  c.elect(1);
  ASSERT_TRUE(c.propose(1, "a").is_ok());
  c.stop(3);
  ASSERT_TRUE(c.change(1, Kind::kRemove, 3).is_ok());
  c.tick_all(2);
  add_learner(c, 1, 4);
  ASSERT_TRUE(c.change(1, Kind::kAddVoter, 4).is_ok());
  c.tick_all(2);
  EXPECT_EQ(c.raft(1).membership(), members({1, 2, 4}));
  c.stop(2);
  ASSERT_TRUE(c.propose(1, "b").is_ok());
  c.tick_all(30);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);  // check-quorum counts 1 and 4
  EXPECT_EQ(c.state(1), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.state(4), (std::vector<std::string>{"a", "b"}));
}

// Thesis §4.1: the next change waits until the last is committed, so that consecutive
// memberships always differ by one server.
TEST(RaftMembership, OneChangeAtATime) {
  Cluster c(3);
  c.elect(1);
  c.isolate(1);
  Result<LogIndex> first = c.change(1, Kind::kAddLearner, 4);
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(c.raft(1).membership(), members({1, 2, 3}, {4}));  // in force once appended
  expect_error(c.change(1, Kind::kAddLearner, 5).status(), StatusCode::kUnavailable,
               "not committed");
  c.heal();
  c.tick_all(2);
  ASSERT_GE(c.raft(1).log().committed(), *first);
  EXPECT_TRUE(c.change(1, Kind::kAddLearner, 5).is_ok());
}

// The fix to the single-server algorithm (Ongaro, raft-dev 2015): no change before the leader
// has committed an entry of its own term.
TEST(RaftMembership, NoChangeBeforeTheLeaderCommitsInItsTerm) {
  Cluster c(3);
  c.set_filter([](const Message& m) {
    return m.type == MessageType::kAppend ? Fate::kDrop : Fate::kDeliver;
  });
  c.elect(1);
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  expect_error(c.change(1, Kind::kAddLearner, 4).status(), StatusCode::kUnavailable, "term");
  c.clear_filter();
  c.tick_all(2);
  EXPECT_TRUE(c.change(1, Kind::kAddLearner, 4).is_ok());
}

TEST(RaftMembership, NoChangeDuringATransferOrOnAFollower) {
  Cluster c(3);
  c.elect(1);
  EXPECT_EQ(c.change(2, Kind::kAddLearner, 4).status().code(), StatusCode::kUnavailable);
  c.isolate(3);
  ASSERT_TRUE(c.raft(1).transfer_leadership(n(3)).is_ok());
  Result<LogIndex> during = c.change(1, Kind::kAddLearner, 4);
  EXPECT_EQ(during.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(c.raft(1).membership(), members({1, 2, 3}));
}

TEST(RaftMembership, ChangesThatMakeNoSenseAreInvalid) {
  Cluster c(3);
  c.elect(1);
  add_learner(c, 1, 4);
  auto code = [&](Kind kind, std::uint64_t node) {
    return c.change(1, kind, node).status().code();
  };
  EXPECT_EQ(code(Kind::kAddLearner, 0), StatusCode::kInvalidArgument);  // id 0 means none
  EXPECT_EQ(code(Kind::kAddLearner, 2), StatusCode::kInvalidArgument);  // already a voter
  EXPECT_EQ(code(Kind::kAddLearner, 4), StatusCode::kInvalidArgument);  // already a learner
  EXPECT_EQ(code(Kind::kAddVoter, 2), StatusCode::kInvalidArgument);    // already a voter
  EXPECT_EQ(code(Kind::kAddVoter, 7), StatusCode::kInvalidArgument);    // must be a learner
  EXPECT_EQ(code(Kind::kRemove, 7), StatusCode::kInvalidArgument);      // not a member
  EXPECT_EQ(c.raft(1).membership(), members({1, 2, 3}, {4}));
}

TEST(RaftMembership, TheLastVoterCannotBeRemoved) {
  Cluster c(1);
  c.elect(1);
  EXPECT_EQ(c.change(1, Kind::kRemove, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(RaftMembership, NoMoreThanTheMaximumOfVoters) {
  Cluster c(limits::kRaftMaxVoters);
  c.elect(1);
  std::uint64_t extra = limits::kRaftMaxVoters + 1;
  add_learner(c, 1, extra);
  EXPECT_EQ(c.change(1, Kind::kAddVoter, extra).status().code(), StatusCode::kInvalidArgument);
}

// §4.1: a membership is in force on a server as soon as its entry is in that server's log, on
// followers too, before it commits.
TEST(RaftMembership, AChangeTakesEffectOnFollowersWhenAppended) {
  Cluster c(3);
  c.elect(1);
  c.cut(1, 3);
  c.set_filter([](const Message& m) {  // 2 gets the entry, but its acknowledgement is lost
    return m.type == MessageType::kAppendResp && m.from == n(2) ? Fate::kDrop : Fate::kDeliver;
  });
  Result<LogIndex> index = c.change(1, Kind::kRemove, 3);
  ASSERT_TRUE(index.is_ok());
  EXPECT_LT(c.raft(2).log().committed(), *index);
  EXPECT_EQ(c.raft(2).membership(), members({1, 2}));
  EXPECT_EQ(c.raft(3).membership(), members({1, 2, 3}));
}

// Thesis §4.1: a server uses the latest membership in its log whether or not it is committed;
// when a new leader truncates that entry, the server falls back to the one before it.
TEST(RaftMembership, ATruncatedChangeRollsTheMembershipBack) {
  Cluster c(5, Options{.pre_vote = false, .check_quorum = false});
  c.elect(1);
  ASSERT_TRUE(c.propose(1, "a").is_ok());
  for (std::uint64_t id : {3, 4, 5}) c.cut(1, id);
  Result<LogIndex> index = c.change(1, Kind::kAddLearner, 6);  // reaches 2 only
  ASSERT_TRUE(index.is_ok());
  EXPECT_LT(c.raft(1).log().committed(), *index);
  EXPECT_EQ(c.raft(1).membership(), members({1, 2, 3, 4, 5}, {6}));
  EXPECT_EQ(c.raft(2).membership(), members({1, 2, 3, 4, 5}, {6}));
  c.heal();
  c.isolate(1);
  c.isolate(2);
  c.elect(3);  // 3, 4 and 5 elect 3, whose log lacks the change
  ASSERT_EQ(c.raft(3).role(), Role::kLeader);
  ASSERT_TRUE(c.propose(3, "b").is_ok());
  ASSERT_TRUE(c.propose(3, "c").is_ok());
  c.heal();
  c.tick_all(4);
  for (std::uint64_t id : {1, 2, 3, 4, 5}) {
    EXPECT_EQ(c.raft(id).membership(), members({1, 2, 3, 4, 5})) << id;
    EXPECT_EQ(c.state(id), (std::vector<std::string>{"a", "b", "c"})) << id;
    EXPECT_EQ(c.raft(id).log().last_index(), c.raft(3).log().last_index()) << id;
  }
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  // The rolled-back change no longer blocks the next one.
  EXPECT_TRUE(c.change(3, Kind::kAddLearner, 6).is_ok());
}

// A membership change survives a restart: it is read back from the log.
TEST(RaftMembership, ARestartedServerReadsTheMembershipFromItsLog) {
  Cluster c(3);
  c.elect(1);
  add_learner(c, 1, 4);
  c.restart(2);
  c.restart(4);
  EXPECT_EQ(c.raft(2).membership(), members({1, 2, 3}, {4}));
  EXPECT_EQ(c.raft(4).membership(), members({1, 2, 3}, {4}));
  c.tick_all(30);
  EXPECT_FALSE(sent_by(c, 4, MessageType::kPreVote));
  EXPECT_EQ(c.state(4), c.state(1));
}

}  // namespace
}  // namespace spofless::raft
