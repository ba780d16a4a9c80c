#include "check/linearizability.h"

#include <ostream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace spofless::check {

void PrintTo(Verdict verdict, std::ostream* os) { *os << to_string(verdict); }

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr std::optional<std::int64_t> kTimedOut = std::nullopt;
constexpr std::optional<std::string> kAbsent = std::nullopt;

Operation write(std::uint64_t client, std::optional<std::string> value, std::int64_t call,
                std::optional<std::int64_t> ret, std::string key = "x") {
  return {client, OpKind::kWrite, std::move(key), std::move(value), call, ret};
}

Operation read(std::uint64_t client, std::optional<std::string> value, std::int64_t call,
               std::optional<std::int64_t> ret, std::string key = "x") {
  return {client, OpKind::kRead, std::move(key), std::move(value), call, ret};
}

CheckResult check(const std::vector<Operation>& history, CheckOptions options = {}) {
  auto r = check_linearizable(history, options);
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? *r : CheckResult{};
}

Verdict verdict(const std::vector<Operation>& history) { return check(history).verdict; }

TEST(Linearizability, EmptyHistoryIsLinearizable) {
  CheckResult r = check({});
  EXPECT_EQ(r.verdict, Verdict::kLinearizable);
  EXPECT_EQ(r.key, "");
  EXPECT_EQ(r.explanation, "");
}

TEST(Linearizability, SequentialReadsOfTheLastWriteAreLinearizable) {
  EXPECT_EQ(
      verdict({write(1, "1", 0, 1), read(2, "1", 2, 3), write(1, "2", 4, 5), read(2, "2", 6, 7)}),
      Verdict::kLinearizable);
}

TEST(Linearizability, SequentialReadOfAnOverwrittenValueIsNot) {
  EXPECT_EQ(verdict({write(1, "1", 0, 1), write(1, "2", 2, 3), read(2, "1", 4, 5)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, ConcurrentWritesLetAnOverlappingReadSeeEither) {
  for (const char* seen : {"1", "2"}) {
    EXPECT_EQ(verdict({write(1, "1", 0, 10), write(2, "2", 0, 10), read(3, seen, 5, 15)}),
              Verdict::kLinearizable)
        << seen;
  }
  EXPECT_EQ(verdict({write(1, "1", 0, 10), write(2, "2", 0, 10), read(3, kAbsent, 5, 15)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, LaterReadsAgreeOnTheWinnerOfConcurrentWrites) {
  EXPECT_EQ(verdict({write(1, "1", 0, 10), write(2, "2", 0, 10), read(3, "2", 20, 25),
                     read(3, "2", 30, 35)}),
            Verdict::kLinearizable);
  EXPECT_EQ(verdict({write(1, "1", 0, 10), write(2, "2", 0, 10), read(3, "2", 20, 25),
                     read(3, "1", 30, 35)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, StaleReadAfterACompletedWriteIsNot) {
  EXPECT_EQ(verdict({write(1, "1", 0, 10), write(1, "2", 20, 30), read(2, "1", 40, 50)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, ReadOverlappingTheOverwriteMaySeeTheOldValue) {
  EXPECT_EQ(verdict({write(1, "1", 0, 10), write(1, "2", 20, 30), read(2, "1", 25, 50)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, ReadOfAValueNeverWrittenIsNot) {
  EXPECT_EQ(verdict({write(1, "1", 0, 10), read(2, "7", 5, 15)}), Verdict::kNotLinearizable);
}

TEST(Linearizability, AbsentKeyReadBeforeAnyWriteIsLinearizable) {
  EXPECT_EQ(verdict({read(1, kAbsent, 0, 5), write(2, "1", 10, 20), read(1, "1", 30, 40)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, AbsentKeyReadAfterACompletedWriteIsNot) {
  EXPECT_EQ(verdict({write(2, "1", 0, 10), read(1, kAbsent, 20, 30)}), Verdict::kNotLinearizable);
}

TEST(Linearizability, DeleteMakesTheKeyAbsentAgain) {
  std::vector<Operation> h = {write(1, "1", 0, 10), write(1, kAbsent, 20, 30)};
  h.push_back(read(2, kAbsent, 40, 50));
  EXPECT_EQ(verdict(h), Verdict::kLinearizable);
  h.back() = read(2, "1", 40, 50);
  EXPECT_EQ(verdict(h), Verdict::kNotLinearizable);
}

TEST(Linearizability, UnknownOutcomeWriteMayHaveTakenEffect) {
  EXPECT_EQ(verdict({write(1, "1", 0, kTimedOut), read(2, "1", 100, 110)}), Verdict::kLinearizable);
}

TEST(Linearizability, UnknownOutcomeWriteMayNeverTakeEffect) {
  EXPECT_EQ(verdict({write(1, "1", 0, kTimedOut), read(2, kAbsent, 100, 110),
                     read(2, kAbsent, 200, 210)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, UnknownOutcomeWriteTakesEffectAfterItsCall) {
  EXPECT_EQ(verdict({read(2, "1", 0, 5), write(1, "1", 10, kTimedOut)}), Verdict::kNotLinearizable);
}

TEST(Linearizability, UnknownOutcomeWriteTakesEffectAtMostOnce) {
  EXPECT_EQ(verdict({write(1, "1", 0, kTimedOut), write(2, "2", 10, 20), read(3, "1", 5, 8),
                     read(3, "2", 30, 40), read(3, "1", 50, 60)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, UnknownOutcomeReadConstrainsNothing) {
  EXPECT_EQ(verdict({write(1, "1", 0, 10), read(2, "never written", 20, kTimedOut)}),
            Verdict::kLinearizable);
}

// The classic violation: a read sees the new value, a later read (not overlapping it) sees the
// old one again, so the two writes would have to take effect in both orders.
TEST(Linearizability, ReadsThatSeeConcurrentWritesInOppositeOrdersAreNot) {
  EXPECT_EQ(verdict({write(1, "1", 0, 100), write(2, "2", 0, 100), read(3, "1", 10, 20),
                     read(4, "2", 25, 35), read(3, "1", 40, 50)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, ThoseReadsAreLinearizableOnceTheyOverlap) {
  EXPECT_EQ(verdict({write(1, "1", 0, 100), write(2, "2", 0, 100), read(3, "1", 10, 20),
                     read(4, "2", 15, 45), read(3, "1", 40, 50)}),
            Verdict::kLinearizable);
}

// A return and a call at the same time overlap: the read may take effect before the write.
TEST(Linearizability, EqualReturnAndCallTimesOverlap) {
  EXPECT_EQ(verdict({write(1, "1", 0, 10), read(2, kAbsent, 10, 20)}), Verdict::kLinearizable);
  EXPECT_EQ(verdict({write(1, "1", 0, 10), write(2, "2", 10, 20), read(3, "1", 30, 40)}),
            Verdict::kLinearizable);
  EXPECT_EQ(verdict({write(1, "1", 0, 10), write(2, "2", 11, 20), read(3, "1", 30, 40)}),
            Verdict::kNotLinearizable);
}

TEST(Linearizability, InputOrderDoesNotMatter) {
  EXPECT_EQ(verdict({read(2, "1", 4, 5), write(1, "2", 2, 3), write(1, "1", 0, 1)}),
            Verdict::kNotLinearizable);
  EXPECT_EQ(verdict({read(2, "2", 4, 5), write(1, "2", 2, 3), write(1, "1", 0, 1)}),
            Verdict::kLinearizable);
}

TEST(Linearizability, KeysAreIndependentRegisters) {
  EXPECT_EQ(verdict({write(1, "1", 0, 10, "a"), read(2, "1", 20, 30, "b")}),
            Verdict::kNotLinearizable);
  EXPECT_EQ(verdict({write(1, "1", 0, 10, "a"), write(1, "2", 0, 10, "b"),
                     read(2, "2", 20, 30, "b"), read(2, "1", 20, 30, "a")}),
            Verdict::kLinearizable);
}

TEST(Linearizability, TheBadKeyIsFoundAmongGoodOnesAndNamed) {
  std::vector<Operation> h;
  for (const char* key : {"a", "b", "c", "d"}) {
    h.push_back(write(1, "1", 0, 10, key));
    h.push_back(read(2, "1", 20, 30, key));
  }
  h.push_back(read(3, kAbsent, 40, 50, "c"));  // #8
  CheckResult r = check(h);
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.key, "c");
  EXPECT_THAT(r.prefix, ElementsAre(4, 5, 8));
  EXPECT_THAT(r.explanation, HasSubstr("key \"c\""));
}

// `writes` concurrent writes, then reads that no order of them explains: the search visits
// every subset of the writes before it can say so.
std::vector<Operation> adversarial_history(int writes) {
  std::vector<Operation> h;
  for (int i = 0; i < writes; ++i) h.push_back(write(i, std::to_string(i), 0, 100));
  h.push_back(read(100, "0", 200, 210));
  h.push_back(read(100, "1", 220, 230));
  return h;
}

TEST(Linearizability, RunningOutOfBudgetGivesUnknownNotAHang) {
  CheckResult r = check(adversarial_history(14), CheckOptions{.max_steps_per_key = 1000});
  EXPECT_EQ(r.verdict, Verdict::kUnknown);
  EXPECT_EQ(r.key, "x");
  EXPECT_THAT(r.explanation, HasSubstr("gave up after"));
  EXPECT_THAT(r.explanation, HasSubstr("on 16 operations"));
  EXPECT_TRUE(r.prefix.empty());
}

TEST(Linearizability, ASmallerSuchHistoryIsDecidedWithTheDefaultBudget) {
  CheckResult r = check(adversarial_history(12));
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.prefix.size(), 14u);
}

TEST(Linearizability, ABadKeyOutranksAnUndecidedOne) {
  std::vector<Operation> h = adversarial_history(14);
  h.push_back(write(1, "1", 0, 10, "y"));
  h.push_back(read(2, "2", 20, 30, "y"));
  CheckResult r = check(h, CheckOptions{.max_steps_per_key = 1000});
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.key, "y");
}

// 2^40 subsets of timed-out retries, were they told apart; linearized in call order, they are not.
TEST(Linearizability, TimedOutRetriesOfOneWriteDoNotMultiplyTheSearch) {
  std::vector<Operation> h;
  for (int i = 0; i < 40; ++i) h.push_back(write(1, "1", i, kTimedOut));
  h.push_back(read(2, "1", 50, 60));
  h.push_back(read(2, kAbsent, 70, 80));
  EXPECT_EQ(check(h, CheckOptions{.max_steps_per_key = 20'000}).verdict, Verdict::kNotLinearizable);
}

// 2^60 subsets of concurrent reads, were each tried both ways; a legal read is linearized at once.
TEST(Linearizability, ConcurrentReadsDoNotMultiplyTheSearch) {
  std::vector<Operation> h = {write(1, "1", 0, 100), write(2, "2", 0, 100)};
  for (int i = 0; i < 60; ++i) h.push_back(read(3 + i, i % 2 == 0 ? "1" : "2", 10, 90));
  h.push_back(read(3, kAbsent, 200, 210));
  EXPECT_EQ(check(h, CheckOptions{.max_steps_per_key = 20'000}).verdict, Verdict::kNotLinearizable);
}

TEST(Linearizability, ExplanationIsTheShortestBadPrefixOneOperationPerLine) {
  CheckResult r = check({
      write(1, "1", 0, 10),          // #0
      read(2, "1", 20, 30),          // #1
      write(1, "2", 40, 50),         // #2
      read(2, "1", 60, 70),          // #3: stale
      write(3, "3", 65, 80),         // #4: still running when #3 returns
      write(4, "4", 66, kTimedOut),  // #5
      read(2, "3", 100, 110),        // #6: after the violation
  });
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_THAT(r.prefix, ElementsAre(0, 1, 2, 3, 4, 5));
  EXPECT_EQ(r.explanation,
            "key \"x\": no order of these 6 operations, each taking effect between its call and "
            "its return, explains them once #3 returns at 70:\n"
            "  #0 client 1 write \"1\" [0, 10]\n"
            "  #1 client 2 read \"1\" [20, 30]\n"
            "  #2 client 1 write \"2\" [40, 50]\n"
            "  #3 client 2 read \"1\" [60, 70]  <- returns last\n"
            "  #4 client 3 write \"3\" [65, 80] (still running at 70)\n"
            "  #5 client 4 write \"4\" [66, ?]\n");
}

TEST(Linearizability, OperationsPrintForPeople) {
  EXPECT_EQ(to_string(read(7, kAbsent, 1, 2)), "client 7 read <absent> [1, 2]");
  EXPECT_EQ(to_string(read(7, "v", 1, kTimedOut)), "client 7 read ? [1, ?]");
  EXPECT_EQ(to_string(write(7, kAbsent, 1, 2)), "client 7 write <absent> [1, 2]");
  EXPECT_EQ(to_string(write(7, "a\"b\n", 1, 2)), "client 7 write \"a\\\"b\\x0a\" [1, 2]");
  EXPECT_EQ(to_string(write(7, std::string(50, 'z'), 1, 2)),
            "client 7 write \"" + std::string(40, 'z') + "\"... [1, 2]");
}

TEST(Linearizability, RefusesAReturnBeforeItsCall) {
  std::vector<Operation> h = {write(1, "1", 0, 10), read(2, "1", 20, 15)};
  auto r = check_linearizable(h);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("operation #1 (client 2 read \"1\" [20, 15])"));
  EXPECT_THAT(r.status().message(), HasSubstr("returns at 15, before its call at 20"));
}

TEST(Linearizability, RefusesTooManyOperationsOnOneKey) {
  std::vector<Operation> h;
  for (std::size_t i = 0; i <= limits::kLinearizabilityMaxOperationsPerKey; ++i) {
    h.push_back(write(1, "1", static_cast<std::int64_t>(i), static_cast<std::int64_t>(i)));
  }
  auto r = check_linearizable(h);
  ASSERT_FALSE(r.is_ok());
  EXPECT_THAT(r.status().message(), HasSubstr("key \"x\" has 4097 operations"));
}

TEST(Linearizability, RefusesAZeroBudget) {
  auto r = check_linearizable({}, CheckOptions{.max_steps_per_key = 0});
  ASSERT_FALSE(r.is_ok());
  EXPECT_THAT(r.status().message(), HasSubstr("max_steps_per_key"));
}

TEST(Linearizability, TheLargestKeyIsDecidedWithinTheDefaultBudget) {
  std::vector<Operation> h;
  for (std::size_t i = 0; i < limits::kLinearizabilityMaxOperationsPerKey; ++i) {
    auto t = static_cast<std::int64_t>(i) * 10;
    h.push_back(i % 2 == 0 ? write(i % 5, std::to_string(i), t, t + 15)
                           : read(i % 5, std::to_string(i - 1), t, t + 15));
  }
  EXPECT_EQ(verdict(h), Verdict::kLinearizable);
}

}  // namespace
}  // namespace spofless::check
