// DbClient::transaction: WATCH, read, build, MULTI, queue, EXEC through the session, retried.
// All steps of one try run on one connection, since WATCH and MULTI belong to it; a try that
// fails midway drops the connection, which discards the server's WATCH and MULTI state.

#include <fmt/format.h>

#include "client/db_client.h"
#include "client/replies.h"
#include "core/limits.h"

namespace spofless::client {
namespace {

using proto::RespValue;

bool is_simple(const RespValue& reply, std::string_view text) {
  return reply.kind == RespValue::Kind::kSimple && reply.str == text;
}

}  // namespace

Result<std::vector<RespValue>> DbClient::transaction(const std::vector<std::string>& keys,
                                                     const TransactionBody& body) {
  SPOFLESS_CHECK(!keys.empty() && keys.size() <= limits::kDbClientMaxTransactionKeys,
                 "a transaction watches 1..kDbClientMaxTransactionKeys keys");
  Clock::time_point deadline = Clock::now() + options_.retry_for;
  if (options_.exactly_once) {
    if (Status s = ensure_session(deadline); !s.is_ok()) return s;
  }
  TxnState state;
  state.seq = next_seq_++;
  // A seq that never left the client is free for the next command.
  auto release_unsent_seq = [&] {
    if (!state.exec_sent && next_seq_ == state.seq + 1) next_seq_ = state.seq;
  };
  Status last = unavailable("no node was tried");
  std::uint32_t backoffs = 0;
  for (std::size_t attempt = 0; attempt < limits::kDbClientMaxAttemptsPerCall; ++attempt) {
    if (attempt > 0) {
      if (Clock::now() >= deadline) break;
      ++stats_.retries;
    }
    TxnOutcome out = transaction_try(keys, body, state, deadline);
    if (out.next == TxnOutcome::Next::kDone) {
      release_unsent_seq();
      if (!out.why.is_ok()) return out.why;
      return std::move(out.replies);
    }
    last = out.why;
    if (out.next == TxnOutcome::Next::kConflict) {
      // A new try is a new command: the old seq is spent (its answer was nil).
      state = TxnState{};
      state.seq = next_seq_++;
    } else {
      next_node();
    }
    back_off(backoffs, deadline);
  }
  if (state.exec_sent) return give_up(/*sent=*/true, last);
  release_unsent_seq();
  if (last.code() == StatusCode::kAborted) return last;
  return give_up(/*sent=*/false, last);
}

DbClient::TxnOutcome DbClient::transaction_try(const std::vector<std::string>& keys,
                                               const TransactionBody& body, TxnState& state,
                                               Clock::time_point deadline) {
  Result<RespConnection*> conn = connection(deadline);
  if (!conn.is_ok()) {
    bool final = !conn.status().retryable();
    return {final ? TxnOutcome::Next::kDone : TxnOutcome::Next::kRetry, conn.status(), {}};
  }
  RespConnection& c = **conn;
  std::vector<std::optional<std::string>> values;
  if (auto failed = read_watched(c, keys, deadline, values)) return *failed;

  if (state.exec_sent) {
    // The last EXEC's reply was lost. Re-sending the same commands under the same seq is
    // safe while they still fit the values: the cluster then applies them once, or answers
    // with the first EXEC's replies if it applied them already.
    if (values == state.values) return queue_and_exec(c, state.commands, state, deadline);
    return claim_lost_exec(c, state, deadline);
  }
  std::vector<Command> commands = body(values);
  std::string bad;
  if (commands.size() > limits::kDbClientMaxTransactionCommands) {
    bad = fmt::format("{} commands, at most {}", commands.size(),
                      limits::kDbClientMaxTransactionCommands);
  }
  for (std::size_t i = 0; i < commands.size() && bad.empty(); ++i) {
    if (commands[i].empty()) bad = fmt::format("command {} is empty", i);
  }
  if (!bad.empty()) {
    drop_connection();  // it holds a WATCH
    return {TxnOutcome::Next::kDone, invalid_argument("transaction: " + bad), {}};
  }
  if (commands.empty()) {
    if (auto failed = step(c, {"UNWATCH"}, "OK", deadline)) return *failed;
    return {TxnOutcome::Next::kDone, Status::ok(), {}};
  }
  state.values = std::move(values);
  return queue_and_exec(c, commands, state, deadline);
}

// WATCH `keys`, then GET each into `values`. nullopt when all were read; else how the try
// ended.
std::optional<DbClient::TxnOutcome> DbClient::read_watched(
    RespConnection& conn, const std::vector<std::string>& keys, Clock::time_point deadline,
    std::vector<std::optional<std::string>>& values) {
  Command watch = {"WATCH"};
  watch.insert(watch.end(), keys.begin(), keys.end());
  if (auto failed = step(conn, watch, "OK", deadline)) return failed;
  for (const std::string& key : keys) {
    Result<RespValue> reply = conn.call({"GET", key}, try_timeout(deadline));
    if (reply.is_ok() && reply->kind == RespValue::Kind::kNull) {
      values.emplace_back();
    } else if (reply.is_ok() && reply->kind == RespValue::Kind::kBulk) {
      values.emplace_back(std::move(reply->str));
    } else {
      return step_failed(reply, "GET");
    }
  }
  return std::nullopt;
}

DbClient::TxnOutcome DbClient::queue_and_exec(RespConnection& conn,
                                              const std::vector<Command>& commands, TxnState& state,
                                              Clock::time_point deadline) {
  if (auto failed = step(conn, {"MULTI"}, "OK", deadline)) return *failed;
  for (const Command& command : commands) {
    if (auto failed = step(conn, command, "QUEUED", deadline)) return *failed;
  }
  Command exec = {"EXEC"};
  if (options_.exactly_once) {
    exec = {"SPOFLESS.SEQ", std::to_string(*session_id_), std::to_string(state.seq), "EXEC"};
  }
  if (&commands != &state.commands) state.commands = commands;
  state.exec_sent = true;
  return exec_reply(conn.call(exec, try_timeout(deadline)), commands.size());
}

// The watched keys changed since the EXEC whose reply was lost, so its commands may no longer
// fit them and are never sent again. An empty transaction under the same seq settles whether
// it applied. The cluster applies a session's seq once, in log order (kv/state_machine.cc):
//   the lost EXEC applied first  -> this one is answered with its replies: done;
//   it had aborted (nil)         -> answered nil: it never applied; run a new transaction;
//   this one applied first       -> an empty array: it took the seq, so the lost EXEC can no
//                                   longer apply (it would be answered from the session);
//                                   run a new transaction.
DbClient::TxnOutcome DbClient::claim_lost_exec(RespConnection& conn, TxnState& state,
                                               Clock::time_point deadline) {
  SPOFLESS_CHECK(options_.exactly_once && !state.commands.empty(),
                 "only a session's non-empty EXEC is ever sent twice");
  if (auto failed = step(conn, {"UNWATCH"}, "OK", deadline)) return *failed;
  if (auto failed = step(conn, {"MULTI"}, "OK", deadline)) return *failed;
  Command exec = {"SPOFLESS.SEQ", std::to_string(*session_id_), std::to_string(state.seq), "EXEC"};
  Result<RespValue> reply = conn.call(exec, try_timeout(deadline));
  if (!reply.is_ok() || classify(*reply) == ReplyClass::kRetry) return step_failed(reply, "EXEC");
  if (reply->kind == RespValue::Kind::kArray && reply->elements.size() == state.commands.size()) {
    return {TxnOutcome::Next::kDone, Status::ok(), std::move(reply->elements)};
  }
  if (reply->kind == RespValue::Kind::kNullArray ||
      (reply->kind == RespValue::Kind::kArray && reply->elements.empty())) {
    return {TxnOutcome::Next::kConflict,
            Status(StatusCode::kAborted, "transaction: the lost EXEC never applied"),
            {}};
  }
  if (classify(*reply) == ReplyClass::kSessionExpired) session_id_.reset();
  return {TxnOutcome::Next::kDone,
          give_up(/*sent=*/true,
                  unavailable(fmt::format("EXEC's reply was lost and the watched keys changed "
                                          "since; asking about it got {}",
                                          reply->to_string()))),
          {}};
}

DbClient::TxnOutcome DbClient::exec_reply(Result<RespValue> reply, std::size_t expected) {
  bool lost = !reply.is_ok() || classify(*reply) == ReplyClass::kRetry;
  if (lost && !options_.exactly_once) {
    // Without a session the cluster cannot tell a second EXEC from a new one.
    TxnOutcome out = step_failed(reply, "EXEC");
    return {TxnOutcome::Next::kDone, give_up(/*sent=*/true, out.why), {}};
  }
  if (lost) return step_failed(reply, "EXEC");
  RespValue& r = *reply;
  if (r.kind == RespValue::Kind::kArray && r.elements.size() == expected) {
    return {TxnOutcome::Next::kDone, Status::ok(), std::move(r.elements)};
  }
  if (r.kind == RespValue::Kind::kNullArray) {
    return {TxnOutcome::Next::kConflict,
            Status(StatusCode::kAborted, "transaction: a watched key changed on every try"),
            {}};
  }
  if (classify(r) == ReplyClass::kSessionExpired) {
    long long expired = *session_id_;
    session_id_.reset();
    return {TxnOutcome::Next::kDone,
            give_up(/*sent=*/true, unavailable(fmt::format("the cluster forgot session {} (-{})",
                                                           expired, r.str))),
            {}};
  }
  if (r.kind == RespValue::Kind::kError) {
    return {TxnOutcome::Next::kDone, refused(current_node(), "EXEC", r), {}};
  }
  return {TxnOutcome::Next::kDone, unexpected_reply("EXEC", r), {}};
}

std::optional<DbClient::TxnOutcome> DbClient::step(RespConnection& conn, const Command& argv,
                                                   std::string_view expected,
                                                   Clock::time_point deadline) {
  Result<RespValue> reply = conn.call(argv, try_timeout(deadline));
  if (reply.is_ok() && is_simple(*reply, expected)) return std::nullopt;
  return step_failed(reply, argv[0]);
}

// A step's reply that is not the one expected: a lost connection, -TRYAGAIN or -BUSY makes
// the try retried; anything else ends the transaction. Either way the connection is dropped,
// since it may hold a WATCH or a half-queued MULTI.
DbClient::TxnOutcome DbClient::step_failed(const Result<RespValue>& reply,
                                           std::string_view command) {
  drop_connection();
  if (!reply.is_ok()) {
    bool retry = reply.status().retryable();
    return {retry ? TxnOutcome::Next::kRetry : TxnOutcome::Next::kDone, reply.status(), {}};
  }
  if (classify(*reply) == ReplyClass::kRetry) {
    return {TxnOutcome::Next::kRetry,
            unavailable(fmt::format("{} answered {} with -{}", current_node().to_string(), command,
                                    reply->str)),
            {}};
  }
  if (reply->kind == RespValue::Kind::kError) {
    return {TxnOutcome::Next::kDone, refused(current_node(), command, *reply), {}};
  }
  return {TxnOutcome::Next::kDone, unexpected_reply(command, *reply), {}};
}

}  // namespace spofless::client
