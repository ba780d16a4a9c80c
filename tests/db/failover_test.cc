// Failover under load: client threads write through spofless's own client while the test
// kills -9 the leader and restarts it, and SIGSTOPs it and SIGCONTs it after an election,
// five times over. What must hold afterwards:
//   - no acknowledged write is lost (Raft §5.4: a committed entry is in every later leader's
//     log), and every replica serves the same data once it caught up;
//   - a session write retried across a failover applies once (Raft thesis §6.3): INCR never
//     returns the same value twice, and the counter ends between the acknowledged INCRs and
//     those plus the ones whose outcome is unknown;
//   - transactions are atomic and isolated: transfers between accounts never change the total,
//     in any linearizable read taken during the faults or on any node at the end.

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/random.h"
#include "db/faults.h"
#include "db/fixture.h"
#include "db/load.h"

namespace spofless::db_test {
namespace {

using client::DbClient;
using proto::RespValue;

constexpr std::size_t kThreads = 4;
// Each load thread stops after this many operations even if the faults are not over.
constexpr std::uint64_t kMaxOpsPerThread = 50'000;
// Keys read back per MGET when checking the acknowledged writes.
constexpr std::size_t kVerifyBatchKeys = 200;
// Unexpected failures kept per thread for the failure message.
constexpr std::size_t kErrorsKept = 20;

enum class Outcome { kAcknowledged, kUnknown, kNotApplied, kError };

// What a write's Status promises (client/db_client.h).
Outcome outcome_of(const Status& s) {
  if (s.is_ok()) return Outcome::kAcknowledged;
  if (s.code() == StatusCode::kDeadlineExceeded) return Outcome::kUnknown;
  if (s.code() == StatusCode::kUnavailable) return Outcome::kNotApplied;
  return Outcome::kError;
}

void keep_error(std::vector<std::string>& errors, const std::string& what, const Status& s) {
  if (errors.size() < kErrorsKept) errors.push_back(fmt::format("{}: {}", what, s.to_string()));
}

// The values of `keys` as node `id` serves them, by MGET in batches.
Result<std::vector<std::optional<std::string>>> read_all(const client::DbClientOptions& options,
                                                         const std::vector<std::string>& keys) {
  DbClient client(options);
  std::vector<std::optional<std::string>> values;
  for (std::size_t start = 0; start < keys.size(); start += kVerifyBatchKeys) {
    client::Command mget = {"MGET"};
    std::size_t end = std::min(keys.size(), start + kVerifyBatchKeys);
    mget.insert(mget.end(), keys.begin() + static_cast<std::ptrdiff_t>(start),
                keys.begin() + static_cast<std::ptrdiff_t>(end));
    auto reply = client.read(mget);
    if (!reply.is_ok()) return reply.status();
    if (reply->kind != RespValue::Kind::kArray || reply->elements.size() != end - start) {
      return internal_error("MGET: unexpected reply " + reply->to_string());
    }
    for (const RespValue& v : reply->elements) {
      if (v.kind == RespValue::Kind::kBulk) {
        values.emplace_back(v.str);
      } else {
        values.emplace_back();
      }
    }
  }
  return values;
}

class DbFailoverTest : public DbClusterTest {
 protected:
  void run_faults(LoadThreads& load) {
    auto faults = inflict_leader_faults(*cluster_, load, FaultPlan{});
    load.stop();
    ASSERT_TRUE(faults.is_ok()) << faults.status().to_string();
    for (const std::string& line : *faults) std::cout << line << "\n";
    Status converged = cluster_->wait_for_convergence(kConvergenceTimeout);
    ASSERT_TRUE(converged.is_ok()) << converged.to_string();
  }
};

// What the counter-and-keys load did: each thread fills its own ledger, merged after stop().
struct Ledger {
  std::vector<long long> incr_values;  // acknowledged INCRs' results
  std::uint64_t incr_unknown = 0;
  std::vector<std::pair<std::string, std::string>> sets_acknowledged;
  std::vector<std::pair<std::string, std::string>> sets_unknown;
  std::vector<std::string> errors;
  client::DbClientStats client;  // the thread's client, as of its last operation

  void merge(const Ledger& other) {
    incr_values.insert(incr_values.end(), other.incr_values.begin(), other.incr_values.end());
    incr_unknown += other.incr_unknown;
    sets_acknowledged.insert(sets_acknowledged.end(), other.sets_acknowledged.begin(),
                             other.sets_acknowledged.end());
    sets_unknown.insert(sets_unknown.end(), other.sets_unknown.begin(), other.sets_unknown.end());
    errors.insert(errors.end(), other.errors.begin(), other.errors.end());
    client.retries += other.client.retries;
    client.node_switches += other.client.node_switches;
  }
};

// Even operations INCR one shared counter; odd ones SET a key no other operation writes.
bool counter_and_keys_step(Ledger& ledger, std::size_t thread, std::uint64_t op, DbClient& client) {
  Outcome o = Outcome::kError;
  if (op % 2 == 0) {
    auto n = client.incr("counter");
    o = outcome_of(n.status());
    if (o == Outcome::kAcknowledged) ledger.incr_values.push_back(*n);
    if (o == Outcome::kUnknown) ++ledger.incr_unknown;
    if (o == Outcome::kError) keep_error(ledger.errors, "INCR", n.status());
  } else {
    std::string key = fmt::format("key-{}-{}", thread, op);
    std::string value = fmt::format("value-{}-{}", thread, op);
    Status s = client.set(key, value);
    o = outcome_of(s);
    if (o == Outcome::kAcknowledged) ledger.sets_acknowledged.emplace_back(key, value);
    if (o == Outcome::kUnknown) ledger.sets_unknown.emplace_back(key, value);
    if (o == Outcome::kError) keep_error(ledger.errors, "SET " + key, s);
  }
  ledger.client = client.stats();
  return o == Outcome::kAcknowledged;
}

// Raft thesis §6.3: each INCR applied at most once, and every acknowledged one applied.
void expect_incrs_applied_once(std::vector<long long> incrs, std::uint64_t unknown,
                               long long final_count) {
  std::sort(incrs.begin(), incrs.end());
  auto twice = std::adjacent_find(incrs.begin(), incrs.end());
  EXPECT_EQ(twice, incrs.end()) << "INCR returned " << *twice << " twice: applied twice";
  auto acknowledged = static_cast<long long>(incrs.size());
  EXPECT_GE(final_count, acknowledged) << "an acknowledged INCR was lost";
  EXPECT_LE(final_count, acknowledged + static_cast<long long>(unknown))
      << "an INCR applied more often than it was sent";
  if (!incrs.empty()) {
    EXPECT_LE(incrs.back(), final_count) << "an acknowledged INCR's value was lost";
  }
}

// Node `node` serves every acknowledged SET's value; a SET of unknown outcome either applied
// with its value or not at all.
void expect_node_serves(int node, const client::DbClientOptions& options, const Ledger& all) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : all.sets_acknowledged) keys.push_back(key);
  for (const auto& [key, value] : all.sets_unknown) keys.push_back(key);
  auto values = read_all(options, keys);
  ASSERT_TRUE(values.is_ok()) << "node " << node << ": " << values.status().to_string();
  std::size_t lost = 0;
  for (std::size_t i = 0; i < all.sets_acknowledged.size(); ++i) {
    const auto& [key, value] = all.sets_acknowledged[i];
    if ((*values)[i] != value && lost++ == 0) {
      ADD_FAILURE() << "node " << node << " lost acknowledged " << key;
    }
  }
  EXPECT_EQ(lost, 0u) << "node " << node << ": acknowledged writes lost";
  for (std::size_t i = 0; i < all.sets_unknown.size(); ++i) {
    const auto& [key, value] = all.sets_unknown[i];
    const auto& got = (*values)[all.sets_acknowledged.size() + i];
    EXPECT_TRUE(!got || *got == value) << key << " = " << *got;
  }
}

TEST_F(DbFailoverTest, AcknowledgedWritesSurviveLeaderFaultsAndRetriedIncrsApplyOnce) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  std::vector<Ledger> ledgers(kThreads);
  const int nodes = static_cast<int>(cluster_->size());
  LoadThreads load(
      kThreads,
      [&](std::size_t t) { return cluster_->client_options(static_cast<int>(t) % nodes + 1); },
      [&](std::size_t t, std::uint64_t op, DbClient& client) {
        return counter_and_keys_step(ledgers[t], t, op, client);
      },
      kMaxOpsPerThread);
  ASSERT_NO_FATAL_FAILURE(run_faults(load));

  Ledger all;
  for (const Ledger& ledger : ledgers) all.merge(ledger);
  std::cout << fmt::format(
      "INCR: {} acknowledged, {} unknown; SET: {} acknowledged, {} unknown; "
      "clients retried {} times and switched nodes {} times\n",
      all.incr_values.size(), all.incr_unknown, all.sets_acknowledged.size(),
      all.sets_unknown.size(), all.client.retries, all.client.node_switches);
  EXPECT_TRUE(all.errors.empty()) << all.errors.size()
                                  << " unexpected failures, first: " << all.errors.front();
  EXPECT_GT(all.client.node_switches, 0u) << "the faults reached the clients, which failed over";

  DbClient reader(cluster_->client_options());
  auto counter = reader.get("counter");
  ASSERT_TRUE(counter.is_ok()) << counter.status().to_string();
  expect_incrs_applied_once(all.incr_values, all.incr_unknown, std::stoll(counter->value_or("0")));
  for (int id = 1; id <= nodes; ++id) expect_node_serves(id, one_node(id), all);
}

// A bank of accounts that tellers move money between, each transfer one optimistic
// transaction (WATCH both, read, MULTI, SET both, EXEC). An auditor reads every account with
// one MGET, a single linearizable read, and must always find the same total.
class Bank {
 public:
  static constexpr int kAccounts = 5;
  static constexpr long long kInitialBalance = 100;
  static constexpr long long kTotal = kAccounts * kInitialBalance;
  static constexpr std::uint64_t kMaxTransfer = 20;

  // What one thread did. Touched only by its thread until the load stopped.
  struct Teller {
    explicit Teller(std::uint64_t seed) : random(seed) {}
    SeededRandom random;
    std::uint64_t committed = 0, skipped = 0, unknown = 0, conflicted = 0, audits = 0;
    std::vector<std::string> errors;
  };

  explicit Bank(std::size_t threads) {
    for (int i = 0; i < kAccounts; ++i) accounts_.push_back(fmt::format("account-{}", i));
    for (std::size_t t = 0; t < threads; ++t) tellers_.emplace_back(t + 1);
  }

  const std::vector<std::string>& accounts() const { return accounts_; }
  const std::vector<Teller>& tellers() const { return tellers_; }

  // Moves a random amount between two random accounts; true when acknowledged.
  bool transfer(std::size_t thread, DbClient& client) {
    Teller& teller = tellers_[thread];
    std::size_t from = teller.random.uniform(0, kAccounts - 1);
    std::size_t to = (from + teller.random.uniform(1, kAccounts - 1)) % kAccounts;
    auto amount = static_cast<long long>(teller.random.uniform(1, kMaxTransfer));
    const std::string& a = accounts_[from];
    const std::string& b = accounts_[to];
    // Built from the balances read under WATCH; pure, since a conflict runs it again.
    auto body = [&a, &b, amount](const std::vector<std::optional<std::string>>& balances) {
      long long from_balance = std::stoll(balances[0].value_or("0"));
      long long to_balance = std::stoll(balances[1].value_or("0"));
      if (from_balance < amount) return std::vector<client::Command>{};  // insufficient funds
      return std::vector<client::Command>{{"SET", a, std::to_string(from_balance - amount)},
                                          {"SET", b, std::to_string(to_balance + amount)}};
    };
    auto replies = client.transaction({a, b}, body);
    Outcome o = outcome_of(replies.status());
    if (o == Outcome::kAcknowledged) ++(replies->empty() ? teller.skipped : teller.committed);
    if (o == Outcome::kUnknown) ++teller.unknown;
    if (replies.status().code() == StatusCode::kAborted) {
      ++teller.conflicted;
    } else if (o == Outcome::kError) {
      keep_error(teller.errors, "transfer", replies.status());
    }
    return o == Outcome::kAcknowledged;
  }

  // Reads every balance at once and records a total that is not kTotal.
  void audit(std::size_t thread, DbClient& client) {
    Teller& teller = tellers_[thread];
    client::Command mget = {"MGET"};
    mget.insert(mget.end(), accounts_.begin(), accounts_.end());
    auto reply = client.read(mget);
    if (!reply.is_ok()) return;
    long long sum = 0;
    for (const RespValue& v : reply->elements) {
      sum += v.kind == RespValue::Kind::kBulk ? std::stoll(v.str) : 0;
    }
    if (sum != kTotal) {
      keep_error(teller.errors, fmt::format("audit: total {} of {}", sum, kTotal),
                 internal_error(reply->to_string()));
    }
    ++teller.audits;
  }

 private:
  std::vector<std::string> accounts_;
  std::vector<Teller> tellers_;
};

TEST_F(DbFailoverTest, BankTransfersKeepTheTotalThroughLeaderFaults) {
  ASSERT_NO_FATAL_FAILURE(start_cluster());
  Bank bank(kThreads + 1);
  const std::size_t auditor = kThreads;  // the last thread audits; the others transfer
  {
    DbClient setup(cluster_->client_options());
    for (const std::string& account : bank.accounts()) {
      ASSERT_TRUE(setup.set(account, std::to_string(Bank::kInitialBalance)).is_ok());
    }
  }
  const int nodes = static_cast<int>(cluster_->size());
  LoadThreads load(
      kThreads + 1,
      [&](std::size_t t) { return cluster_->client_options(static_cast<int>(t) % nodes + 1); },
      [&](std::size_t t, std::uint64_t, DbClient& client) {
        if (t != auditor) return bank.transfer(t, client);
        bank.audit(t, client);
        return false;  // progress is made by transfers; the auditor only watches
      },
      kMaxOpsPerThread);
  ASSERT_NO_FATAL_FAILURE(run_faults(load));

  Bank::Teller sum(0);
  for (const Bank::Teller& teller : bank.tellers()) {
    EXPECT_TRUE(teller.errors.empty()) << "first: " << teller.errors.front();
    sum.committed += teller.committed;
    sum.skipped += teller.skipped;
    sum.unknown += teller.unknown;
    sum.conflicted += teller.conflicted;
    sum.audits += teller.audits;
  }
  std::cout << fmt::format(
      "transfers: {} committed, {} skipped (funds), {} unknown, {} gave up on conflicts; "
      "{} audits\n",
      sum.committed, sum.skipped, sum.unknown, sum.conflicted, sum.audits);
  EXPECT_GT(sum.committed, 0u);
  EXPECT_GT(sum.audits, 0u);
  for (int id = 1; id <= nodes; ++id) {
    auto balances = read_all(one_node(id), bank.accounts());
    ASSERT_TRUE(balances.is_ok()) << "node " << id << ": " << balances.status().to_string();
    long long total = 0;
    for (std::size_t i = 0; i < bank.accounts().size(); ++i) {
      ASSERT_TRUE((*balances)[i].has_value()) << "node " << id << " lost " << bank.accounts()[i];
      long long balance = std::stoll(*(*balances)[i]);
      EXPECT_GE(balance, 0) << "node " << id << ": " << bank.accounts()[i];
      total += balance;
    }
    EXPECT_EQ(total, Bank::kTotal) << "node " << id;
  }
}

}  // namespace
}  // namespace spofless::db_test
