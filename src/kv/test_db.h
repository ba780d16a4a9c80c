#pragma once

// Test harness: a StateMachine driven by argv the way the db server drives it. Writes are
// classified, stamped, encoded and applied at the next log index; reads are served locally.

#include <string>
#include <variant>
#include <vector>

#include <gtest/gtest.h>

#include "kv/classify.h"
#include "kv/state_machine.h"

namespace spofless::kv::testing {

using Argv = std::vector<std::string>;

class TestDb {
 public:
  explicit TestDb(Options options = {}) : machine_(options) {}

  // The reply the server would send for `argv`, at leader time `now_ms`. A command classify()
  // does not know gives unknown_command().
  Reply run(const Argv& argv, std::uint64_t now_ms = 0, std::uint64_t session_ttl_ms = 0) {
    auto classified = classify(argv);
    if (!classified) return unknown_command(argv);
    if (auto* reply = std::get_if<Reply>(&*classified)) return *reply;
    auto& c = std::get<Classified>(*classified);
    if (c.access == Access::kRead) return machine_.read(c.read);
    c.command.now_ms = now_ms;
    c.command.session_ttl_ms = session_ttl_ms;
    return apply(c.command);
  }

  // EXEC of `queued` (each must classify) with `watched` keys.
  Reply exec(const std::vector<Argv>& queued, std::vector<WatchedKey> watched = {},
             std::uint64_t now_ms = 0) {
    std::vector<Classified> classified;
    for (const Argv& argv : queued) {
      auto c = classify(argv);
      EXPECT_TRUE(c && std::holds_alternative<Classified>(*c)) << argv[0];
      if (c && std::holds_alternative<Classified>(*c)) {
        classified.push_back(std::get<Classified>(*c));
      }
    }
    Command command = make_exec(classified, std::move(watched));
    command.now_ms = now_ms;
    return apply(command);
  }

  // WATCH as the server records it.
  WatchedKey watch(std::string key) const { return {std::move(key), machine_.watch_index()}; }

  Reply apply(const Command& command) { return machine_.apply(++index_, encode(command)); }
  Reply apply_raw(std::string_view entry) { return machine_.apply(++index_, entry); }

  StateMachine& machine() { return machine_; }
  std::uint64_t last_index() const { return index_; }

 private:
  StateMachine machine_;
  std::uint64_t index_ = 0;
};

inline Reply bulks(const std::vector<std::string>& values) {
  std::vector<Reply> out;
  for (const auto& v : values) out.push_back(Reply::bulk(v));
  return Reply::array(std::move(out));
}

}  // namespace spofless::kv::testing
