#include "client/db_client.h"

#include <algorithm>
#include <random>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "client/replies.h"
#include "core/check.h"
#include "core/limits.h"

namespace spofless::client {
namespace {

using proto::RespValue;
using std::chrono::milliseconds;

std::uint64_t seed_from(std::uint64_t seed) {
  if (seed != 0) return seed;
  std::random_device device;
  return (std::uint64_t{device()} << 32) | device();
}

}  // namespace

DbClient::DbClient(DbClientOptions options)
    : options_(std::move(options)), random_(seed_from(options_.seed)) {
  SPOFLESS_CHECK(!options_.nodes.empty(), "a client needs at least one node");
  SPOFLESS_CHECK(options_.timeout.count() >= 1, "a request needs at least 1 ms");
}

DbClient::~DbClient() = default;

Result<RespValue> DbClient::call(const std::vector<std::string>& argv) {
  Clock::time_point deadline = Clock::now() + options_.timeout;
  bool sent = false;
  return try_once(argv, deadline, sent);
}

Result<long long> DbClient::incr(std::string_view key) {
  Result<RespValue> reply = write({"INCR", std::string(key)});
  if (!reply.is_ok()) return reply.status();
  if (reply->kind != RespValue::Kind::kInteger) return unexpected_reply("INCR", *reply);
  return reply->integer;
}

Status DbClient::set(std::string_view key, std::string_view value) {
  Result<RespValue> reply = write({"SET", std::string(key), std::string(value)});
  if (!reply.is_ok()) return reply.status();
  if (reply->kind != RespValue::Kind::kSimple || reply->str != "OK") {
    return unexpected_reply("SET", *reply);
  }
  return Status::ok();
}

Result<RespValue> DbClient::write(const Command& command) {
  SPOFLESS_CHECK(!command.empty(), "a command has a name");
  return options_.exactly_once ? session_write(command) : plain_write(command);
}

Result<std::optional<std::string>> DbClient::get(std::string_view key) {
  Result<RespValue> reply = read({"GET", std::string(key)});
  if (!reply.is_ok()) return reply.status();
  if (reply->kind == RespValue::Kind::kNull) return std::optional<std::string>();
  if (reply->kind != RespValue::Kind::kBulk) return unexpected_reply("GET", *reply);
  return std::optional<std::string>(std::move(reply->str));
}

Result<RespValue> DbClient::read(const Command& command) {
  SPOFLESS_CHECK(!command.empty(), "a command has a name");
  bool sent = false;
  Result<RespValue> reply = run(command, Kind::kRead, Clock::now() + options_.retry_for, sent);
  if (reply.is_ok() && reply->kind == RespValue::Kind::kError) {
    return refused(current_node(), command[0], *reply);
  }
  return reply;
}

Result<RespValue> DbClient::plain_write(const Command& command) {
  bool sent = false;
  Result<RespValue> reply =
      run(command, Kind::kPlainWrite, Clock::now() + options_.retry_for, sent);
  if (!reply.is_ok()) return give_up(sent, reply.status());
  if (reply->kind == RespValue::Kind::kError) return refused(current_node(), command[0], *reply);
  return reply;
}

Result<RespValue> DbClient::session_write(const Command& command) {
  Clock::time_point deadline = Clock::now() + options_.retry_for;
  if (Status s = ensure_session(deadline); !s.is_ok()) return s;
  long long seq = next_seq_++;
  Command full = {"SPOFLESS.SEQ", std::to_string(*session_id_), std::to_string(seq)};
  full.insert(full.end(), command.begin(), command.end());
  bool sent = false;
  Result<RespValue> reply = run(full, Kind::kSessionWrite, deadline, sent);
  if (!reply.is_ok()) {
    // A seq no node saw is free for the next command; one that a node may have seen is not.
    if (!sent) next_seq_ = seq;
    return give_up(sent, reply.status());
  }
  if (classify(*reply) == ReplyClass::kSessionExpired) {
    long long expired = *session_id_;
    session_id_.reset();  // the next write registers a new session
    return give_up(/*sent=*/true,
                   unavailable(fmt::format("the cluster forgot session {} (-{}); retrying under "
                                           "a new session could apply the write twice",
                                           expired, reply->str)));
  }
  if (reply->kind == RespValue::Kind::kError) return refused(current_node(), command[0], *reply);
  return reply;
}

Status DbClient::ensure_session(Clock::time_point deadline) {
  if (session_id_.has_value()) return Status::ok();
  bool sent = false;
  // Registering twice only leaves an unused session behind to expire, so it is retried freely.
  Result<RespValue> reply = run({"SPOFLESS.REGISTER"}, Kind::kRead, deadline, sent);
  if (!reply.is_ok()) {
    return unavailable(fmt::format("no session: {}", reply.status().message()));
  }
  if (reply->kind == RespValue::Kind::kError) {
    return refused(current_node(), "SPOFLESS.REGISTER", *reply);
  }
  if (reply->kind != RespValue::Kind::kInteger) {
    return unexpected_reply("SPOFLESS.REGISTER", *reply);
  }
  session_id_ = reply->integer;
  next_seq_ = 1;
  ++stats_.sessions;
  return Status::ok();
}

// The retry loop of every call but transactions. `sent` becomes true once any try may have
// put the command on a wire.
Result<RespValue> DbClient::run(const Command& argv, Kind kind, Clock::time_point deadline,
                                bool& sent) {
  Status last = unavailable("no node was tried");
  std::uint32_t backoffs = 0;
  std::size_t failures_in_row = 0;
  for (std::size_t attempt = 0; attempt < limits::kDbClientMaxAttemptsPerCall; ++attempt) {
    if (attempt > 0) {
      if (Clock::now() >= deadline) break;
      ++stats_.retries;
    }
    bool sent_now = false;
    Result<RespValue> reply = try_once(argv, deadline, sent_now);
    sent = sent || sent_now;
    if (reply.is_ok() && classify(*reply) != ReplyClass::kRetry) return reply;
    if (reply.is_ok()) {
      // -TRYAGAIN may follow a write the leader applied (a forward that broke), so a plain
      // write, which the cluster cannot de-duplicate, is not sent again.
      last = unavailable(fmt::format("{} answered -{}", current_node().to_string(), reply->str));
      if (kind == Kind::kPlainWrite) return last;
      next_node();
      back_off(backoffs, deadline);
      failures_in_row = 0;
      continue;
    }
    last = reply.status();
    if (!last.retryable() || (kind == Kind::kPlainWrite && sent_now)) return last;
    next_node();
    // Another node may answer at once; once every node failed in a row, the cluster may be
    // electing, so wait before going round again.
    if (++failures_in_row % options_.nodes.size() == 0) back_off(backoffs, deadline);
  }
  return last;
}

Result<RespValue> DbClient::try_once(const Command& argv, Clock::time_point deadline, bool& sent) {
  Result<RespConnection*> conn = connection(deadline);
  if (!conn.is_ok()) return conn.status();
  sent = true;
  Result<RespValue> reply = (*conn)->call(argv, try_timeout(deadline));
  if (!reply.is_ok()) drop_connection();
  return reply;
}

Result<RespConnection*> DbClient::connection(Clock::time_point deadline) {
  if (connection_ != nullptr && !connection_->broken()) return connection_.get();
  connection_.reset();
  auto conn = RespConnection::connect(current_node(), try_timeout(deadline));
  if (!conn.is_ok()) return conn.status();
  if (!options_.password.empty()) {
    Result<RespValue> auth = (*conn)->call({"AUTH", options_.password}, try_timeout(deadline));
    if (!auth.is_ok()) return auth.status();
    if (auth->kind == RespValue::Kind::kError) {
      return refused(current_node(), "AUTH", *auth);
    }
  }
  connection_ = std::move(*conn);
  return connection_.get();
}

void DbClient::drop_connection() { connection_.reset(); }

void DbClient::next_node() {
  drop_connection();
  if (options_.nodes.size() == 1) return;
  current_ = (current_ + 1) % options_.nodes.size();
  ++stats_.node_switches;
}

void DbClient::back_off(std::uint32_t& backoffs, Clock::time_point deadline) {
  milliseconds delay = backoff_delay(options_.backoff, backoffs++, random_);
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  delay = std::clamp(delay, milliseconds(0), std::max(left, milliseconds(0)));
  if (options_.sleep_for) {
    options_.sleep_for(delay);
  } else {
    std::this_thread::sleep_for(delay);
  }
}

milliseconds DbClient::try_timeout(Clock::time_point deadline) const {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  // A try that starts at the deadline still gets a moment, so that a call always tries once.
  return std::clamp(left, milliseconds(1), options_.timeout);
}

}  // namespace spofless::client
