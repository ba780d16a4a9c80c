#pragma once

// A synchronous client of a `spofless db` cluster that rides through failover.
//
// Any node serves any request: a follower forwards writes to the leader itself and serves
// linearizable reads, so the client never follows redirects; after a failure it moves to the
// next node in DbClientOptions::nodes. A call is retried until it succeeds, fails for good,
// or DbClientOptions::retry_for has passed:
//   connect refused / reset / timed out  -> next node (backoff once every node failed in a row)
//   -TRYAGAIN, -BUSY, -LOADING           -> backoff, next node
//   any other reply, -ERR included       -> returned
// Backoff is 25 ms * 2^n with full jitter, capped at 500 ms (backoff.h).
//
// Exactly-once writes (Raft thesis §6.3): on its first write the client registers a session
// (SPOFLESS.REGISTER, answered with an integer client id) and sends every write as
// SPOFLESS.SEQ <client-id> <seq> <command...>. seq grows by one per NEW command and is reused
// by every retry of the same command, so the cluster applies a write retried after a timeout
// or a failover once and answers the retry with the first answer. A -SESSIONEXPIRED answer
// means the cluster forgot the session, so a retry could apply the write twice: the client
// reports the write's outcome as unknown and registers a new session for the next write.
//
// What a failed write's Status means:
//   deadline_exceeded  outcome unknown: the write reached a node and may have been applied
//   unavailable        not applied: no node was reached before retry_for passed
//   invalid_argument   the cluster refused the command (-ERR, -WRONGTYPE ...); not applied
//   aborted            (transaction) watched keys changed on every try until retry_for passed
//
// Thread model: one instance per thread; not safe to share. Calls block the calling thread
// (retries sleep in it).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/backoff.h"
#include "client/host_port.h"
#include "client/resp_connection.h"
#include "core/random.h"
#include "core/result.h"
#include "proto/resp.h"

namespace spofless::client {

struct DbClientOptions {
  std::vector<HostPort> nodes;                 // tried in order from the first
  std::chrono::milliseconds timeout{2000};     // one request on one node, connect included
  std::chrono::milliseconds retry_for{10000};  // a call gives up after this
  // false: writes are sent as they are, without a session; one whose reply was lost is
  // reported as outcome unknown instead of being retried (at most once).
  bool exactly_once = true;
  std::string password;  // sent as AUTH on every new connection when not empty
  BackoffPolicy backoff;
  std::uint64_t seed = 0;  // backoff jitter; 0: drawn from std::random_device
  // How a retry waits; unset: the calling thread sleeps. Tests record the waits instead.
  std::function<void(std::chrono::milliseconds)> sleep_for;
};

// One command as its words: {"SET", "k", "v"}.
using Command = std::vector<std::string>;

// Builds a transaction's commands from the watched keys' values (nullopt: no such key), in
// the order the keys were given. An empty result means "nothing to do": nothing is sent.
// May be called several times (once per try); must not have side effects that matter.
using TransactionBody =
    std::function<std::vector<Command>(const std::vector<std::optional<std::string>>& values)>;

struct DbClientStats {
  std::uint64_t retries = 0;        // tries after the first, over every call
  std::uint64_t node_switches = 0;  // moves to the next node
  std::uint64_t sessions = 0;       // sessions registered
};

class DbClient {
 public:
  // REQUIRES: options.nodes is not empty, options.timeout >= 1 ms.
  explicit DbClient(DbClientOptions options);
  ~DbClient();
  DbClient(const DbClient&) = delete;
  DbClient& operator=(const DbClient&) = delete;

  // Sends `argv` to the current node once, without a session or retry, and returns its reply
  // as it came, error replies included. Fails only when the transport does.
  Result<proto::RespValue> call(const std::vector<std::string>& argv);

  // Session writes (plain writes when !exactly_once), retried as above.
  Result<long long> incr(std::string_view key);
  Status set(std::string_view key, std::string_view value);
  // Any write command; returns its reply. An error reply comes back as invalid_argument.
  Result<proto::RespValue> write(const Command& command);

  // Linearizable reads, retried as above.
  Result<std::optional<std::string>> get(std::string_view key);
  Result<proto::RespValue> read(const Command& command);

  // An optimistic transaction: WATCH keys, read them, let `body` build the commands, then
  // MULTI, the commands, and EXEC through the session (SPOFLESS.SEQ ... EXEC). When EXEC
  // answers nil (a watched key changed) the whole transaction runs again from WATCH, as a new
  // command. Returns EXEC's replies, one per command, or an empty vector when `body` built
  // none. If EXEC's reply is lost, the retry re-reads the keys and re-sends the SAME commands
  // under the same seq while the values are still those they were built from; otherwise it
  // sends an empty EXEC under that seq, which is answered with the lost EXEC's replies if it
  // applied, or proves it never will (then the transaction runs again as a new command).
  // REQUIRES: 1..kDbClientMaxTransactionKeys keys.
  Result<std::vector<proto::RespValue>> transaction(const std::vector<std::string>& keys,
                                                    const TransactionBody& body);

  const HostPort& current_node() const { return options_.nodes[current_]; }
  std::optional<long long> session_id() const { return session_id_; }
  const DbClientStats& stats() const { return stats_; }

 private:
  using Clock = std::chrono::steady_clock;
  enum class Kind { kRead, kSessionWrite, kPlainWrite };

  // A transaction's progress across tries. Once EXEC may have reached a node, `exec_sent`
  // pins the seq, the values read and the commands built from them.
  struct TxnState {
    long long seq = 0;
    bool exec_sent = false;
    std::vector<std::optional<std::string>> values;
    std::vector<Command> commands;
  };
  // How one try of a transaction ended.
  struct TxnOutcome {
    enum class Next { kDone, kRetry, kConflict };
    Next next = Next::kRetry;
    Status why;  // kRetry, kConflict: what went wrong; kDone: the failure, or ok
    std::vector<proto::RespValue> replies;  // kDone with an ok `why`
  };

  Result<proto::RespValue> run(const Command& argv, Kind kind, Clock::time_point deadline,
                               bool& sent);
  Result<proto::RespValue> session_write(const Command& command);
  Result<proto::RespValue> plain_write(const Command& command);
  Status ensure_session(Clock::time_point deadline);
  Result<proto::RespValue> try_once(const Command& argv, Clock::time_point deadline, bool& sent);
  Result<RespConnection*> connection(Clock::time_point deadline);
  void drop_connection();
  void next_node();
  void back_off(std::uint32_t& backoffs, Clock::time_point deadline);
  std::chrono::milliseconds try_timeout(Clock::time_point deadline) const;

  // Transactions (db_transaction.cc).
  TxnOutcome transaction_try(const std::vector<std::string>& keys, const TransactionBody& body,
                             TxnState& state, Clock::time_point deadline);
  std::optional<TxnOutcome> read_watched(RespConnection& conn, const std::vector<std::string>& keys,
                                         Clock::time_point deadline,
                                         std::vector<std::optional<std::string>>& values);
  TxnOutcome queue_and_exec(RespConnection& conn, const std::vector<Command>& commands,
                            TxnState& state, Clock::time_point deadline);
  TxnOutcome claim_lost_exec(RespConnection& conn, TxnState& state, Clock::time_point deadline);
  TxnOutcome exec_reply(Result<proto::RespValue> reply, std::size_t expected);
  std::optional<TxnOutcome> step(RespConnection& conn, const Command& argv,
                                 std::string_view expected, Clock::time_point deadline);
  TxnOutcome step_failed(const Result<proto::RespValue>& reply, std::string_view command);

  DbClientOptions options_;
  std::size_t current_ = 0;  // index into options_.nodes
  std::unique_ptr<RespConnection> connection_;
  std::optional<long long> session_id_;
  long long next_seq_ = 1;  // the seq of the next NEW command in this session
  SeededRandom random_;
  DbClientStats stats_;
};

}  // namespace spofless::client
