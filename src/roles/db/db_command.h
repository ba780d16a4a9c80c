#pragma once

// `spofless db`: the Raft-replicated, Redis-protocol key-value server, and its operator
// subcommands (transfer-leader, add-learner, promote, remove, status). See docs/db.md.

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "roles/common/cli.h"

namespace spofless::roles {

class DbCommand {
 public:
  explicit DbCommand(CLI::App& app);

  bool selected() const { return command_->parsed(); }
  int run();

  struct ServerFlags {
    std::uint64_t id = 0;
    std::string data;
    std::string listen;
    std::string peer_listen;
    std::string peers;
    std::string admin;
    bool learner = false;
    std::uint32_t tick_ms = 40;
    std::uint32_t election_ticks = 10;
    std::uint32_t heartbeat_ticks = 2;
    std::string read_mode = "readindex";
    std::uint64_t snapshot_entries = 10'000;
    bool no_fsync = false;
    bool auto_promote = false;
    std::string requirepass;
    std::uint32_t max_stale_ms = 1'000;
    std::uint32_t request_timeout_ms = 5'000;
    std::uint32_t session_ttl_s = 3'600;
  };
  struct AdminFlags {
    std::string server = "127.0.0.1:6379";
    std::string password;
    std::uint64_t node = 0;
  };

 private:
  int run_server();
  int run_admin(const std::string& command);

  CLI::App* command_;
  CLI::App* transfer_;
  CLI::App* add_learner_;
  CLI::App* promote_;
  CLI::App* remove_;
  CLI::App* status_;
  ServerFlags flags_;
  AdminFlags admin_;
  LogOptions log_;
};

}  // namespace spofless::roles
