#include "raft/log.h"

#include <gtest/gtest.h>

namespace spofless::raft {
namespace {

Entry e(std::uint64_t term, std::uint64_t index) {
  return Entry{Term{term}, LogIndex{index}, EntryType::kNormal, {}};
}

std::vector<Entry> terms(std::initializer_list<std::uint64_t> ts) {
  std::vector<Entry> out;
  std::uint64_t i = 1;
  for (std::uint64_t t : ts) out.push_back(e(t, i++));
  return out;
}

TEST(RaftLog, TermsAndUpToDateness) {
  RaftLog log(LogIndex{0}, Term{0}, terms({1, 1, 2}));
  EXPECT_EQ(log.last_index(), LogIndex{3});
  EXPECT_EQ(log.last_term(), Term{2});
  EXPECT_EQ(log.term_at(LogIndex{0}), Term{0});
  EXPECT_FALSE(log.term_at(LogIndex{4}).has_value());
  // §5.4.1: a later last term wins; with equal last terms the longer log wins.
  EXPECT_TRUE(log.is_up_to_date(LogIndex{1}, Term{3}));
  EXPECT_TRUE(log.is_up_to_date(LogIndex{3}, Term{2}));
  EXPECT_FALSE(log.is_up_to_date(LogIndex{2}, Term{2}));
  EXPECT_FALSE(log.is_up_to_date(LogIndex{9}, Term{1}));
}

TEST(RaftLog, PlaceKeepsAgreeingEntriesAndTruncatesAtTheFirstConflict) {
  RaftLog log(LogIndex{0}, Term{0}, terms({1, 1, 1, 1}));
  // §5.3: entries 2-3 agree, 4 conflicts; 4 is replaced and 5 appended.
  LogIndex last = log.place(LogIndex{1}, {e(1, 2), e(1, 3), e(2, 4), e(2, 5)});
  EXPECT_EQ(last, LogIndex{5});
  EXPECT_EQ(log.term_at(LogIndex{4}), Term{2});
  EXPECT_EQ(log.stable(), LogIndex{3});  // the persisted entry 4 was replaced
  // A stale, shorter append does not truncate what follows it.
  EXPECT_EQ(log.place(LogIndex{1}, {e(1, 2)}), LogIndex{2});
  EXPECT_EQ(log.last_index(), LogIndex{5});
}

TEST(RaftLogDeathTest, CommittedEntriesAreNeverOverwritten) {
  RaftLog log(LogIndex{0}, Term{0}, terms({1, 1}));
  log.commit_to(LogIndex{2});
  EXPECT_DEATH(log.place(LogIndex{1}, {e(2, 2)}), "committed entry is never overwritten");
}

TEST(RaftLog, LastIndexWithTermAtMostSkipsWholeTerms) {
  RaftLog log(LogIndex{0}, Term{0}, terms({1, 1, 2, 2, 4, 4, 4}));
  EXPECT_EQ(log.last_index_with_term_at_most(LogIndex{7}, Term{3}), LogIndex{4});
  EXPECT_EQ(log.last_index_with_term_at_most(LogIndex{9}, Term{4}), LogIndex{7});
  EXPECT_EQ(log.last_index_with_term_at_most(LogIndex{7}, Term{0}), LogIndex{0});
}

TEST(RaftLog, StableIgnoresEntriesReplacedSinceTheyWereHandedOut) {
  RaftLog log(LogIndex{0}, Term{0}, {});
  log.append({e(1, 1), e(1, 2)});
  EXPECT_EQ(log.unstable().size(), 2u);
  log.stable_to(LogIndex{2}, Term{3});  // not what is at index 2 now
  EXPECT_EQ(log.stable(), LogIndex{0});
  log.stable_to(LogIndex{2}, Term{1});
  EXPECT_TRUE(log.unstable().empty());
}

}  // namespace
}  // namespace spofless::raft
