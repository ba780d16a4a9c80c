#include "roles/db/commands.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <unistd.h>

#include <fmt/format.h>

#include "core/limits.h"
#include "io/address.h"
#include "kv/glob.h"
#include "kv/integer.h"
#include "proto/resp.h"
#include "roles/common/cli.h"
#include "roles/db/node.h"
#include "roles/db/replies.h"

namespace spofless::db {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

// `name` in lower case, as Redis names the command in this error.
std::string wrong_arity(std::string_view name) {
  return error_reply(fmt::format("ERR wrong number of arguments for '{}' command", name));
}

std::string unknown_command(const std::vector<std::string>& argv) {
  return encode_reply(kv::unknown_command(argv));
}

std::string array_of(const std::vector<std::string>& items) {
  std::string out;
  proto::RespWriter w(out);
  w.array(items.size());
  for (const std::string& s : items) w.bulk(s);
  return out;
}

std::string bulk(std::string_view s) {
  std::string out;
  proto::RespWriter(out).bulk(s);
  return out;
}

std::string integer(long long v) {
  std::string out;
  proto::RespWriter(out).integer(v);
  return out;
}

// The configuration CONFIG GET shows: what Redis tools ask for (redis-benchmark reads `save`
// and `appendonly`), answered truthfully for spofless.
const std::vector<std::pair<std::string, std::string>>& config_values() {
  static const std::vector<std::pair<std::string, std::string>> values = {
      {"save", ""},  // snapshots follow the log, not a timer
      {"appendonly", "yes"},  // every write is in the fsynced log before it is acknowledged
      {"appendfsync", "always"},
      {"databases", "1"},
      {"maxclients", std::to_string(limits::kDbMaxClients)},
      {"cluster-enabled", "no"},
  };
  return values;
}

constexpr const char* kWrongPass = "WRONGPASS invalid username-password pair or user is disabled.";

// HELLO [protover [AUTH username password] [SETNAME clientname]], as Redis 7 answers it for
// RESP2 (protocol 3 is refused with NOPROTO). AUTH authenticates as the AUTH command does; a
// client still unauthenticated afterwards is refused with NOAUTH, as Redis refuses it, so that
// nothing about the server is told before AUTH. Updates `authenticated` and `client_name` only
// when the whole command is accepted.
std::string hello(const std::vector<std::string>& argv, const std::string& requirepass,
                  bool& authenticated, std::string& client_name, bool is_leader) {
  if (argv.size() >= 2 && argv[1] != "2") {
    return error_reply("NOPROTO sorry, this protocol version is not supported");
  }
  bool auth_ok = authenticated;
  std::optional<std::string> name;
  for (std::size_t i = 2; i < argv.size(); ++i) {
    std::string option = upper(argv[i]);
    if (option == "AUTH" && i + 2 < argv.size()) {
      // With no password configured the default user takes any password, as in Redis.
      if (!requirepass.empty() && (argv[i + 1] != "default" || argv[i + 2] != requirepass)) {
        return error_reply(kWrongPass);
      }
      auth_ok = true;
      i += 2;
    } else if (option == "SETNAME" && i + 1 < argv.size()) {
      name = argv[++i];
    } else {
      return error_reply(fmt::format("ERR Syntax error in HELLO option '{}'", argv[i]));
    }
  }
  if (!auth_ok) {
    return error_reply(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
        "select the RESP protocol version at the same time");
  }
  authenticated = true;
  if (name) client_name = *name;
  return array_of({"server", "spofless", "version", std::string(roles::version()), "proto", "2",
                   "mode", "standalone", "role", is_leader ? "master" : "replica"});
}

}  // namespace

ClientSession::ClientSession(Node& node, const ClientServerOptions& options)
    : node_(node), options_(options), authenticated_(options.requirepass.empty()) {}

void ClientSession::execute(std::vector<std::string> argv, Reply reply) {
  if (argv.empty()) return reply(error_reply("ERR empty command"));
  std::string name = upper(argv[0]);
  if (!authenticated_ && name != "AUTH" && name != "HELLO" && name != "QUIT") {
    return reply(error_reply("NOAUTH Authentication required."));
  }
  // An EXEC in a session, `SPOFLESS.SEQ <client> <seq> EXEC`, ends the transaction like EXEC.
  bool sequenced_exec = name == "SPOFLESS.SEQ" && argv.size() >= 4 && upper(argv[3]) == "EXEC";
  if (in_multi_ && name != "EXEC" && name != "DISCARD" && name != "MULTI" && name != "WATCH" &&
      name != "QUIT" && name != "RESET" && !sequenced_exec) {
    return queue_in_multi(std::move(argv), std::move(reply));
  }
  if (sequenced_exec) {
    auto client = kv::parse_uint64(argv[1]);
    auto seq = kv::parse_uint64(argv[2]);
    if (!client || !seq) return reply(error_reply("ERR client id and seq must be integers"));
    return exec(kv::Session{*client, *seq}, std::move(reply));
  }
  auto classified = kv::classify(argv);
  if (!classified) return execute_connection_command(name, argv, reply);
  if (auto* error = std::get_if<kv::Reply>(&*classified)) return reply(encode_reply(*error));
  kv::Classified& c = std::get<kv::Classified>(*classified);
  if (c.access == kv::Access::kWrite) return node_.write(std::move(c.command), std::move(reply));
  if (readonly_) return node_.read_stale(c.read, options_.max_stale, std::move(reply));
  node_.read(std::move(c.read), std::move(reply));
}

void ClientSession::queue_in_multi(std::vector<std::string> argv, Reply reply) {
  auto classified = kv::classify(argv);
  if (!classified || !kv::is_queueable(argv)) {
    multi_failed_ = true;
    return reply(classified ? error_reply(fmt::format("ERR {} cannot be queued in MULTI", argv[0]))
                            : unknown_command(argv));
  }
  if (auto* error = std::get_if<kv::Reply>(&*classified)) {
    multi_failed_ = true;
    return reply(encode_reply(*error));
  }
  if (queued_.size() >= limits::kDbMaxQueuedInMulti) {
    multi_failed_ = true;
    return reply(error_reply(fmt::format("ERR at most {} commands fit in one transaction",
                                         limits::kDbMaxQueuedInMulti)));
  }
  queued_.push_back(std::move(std::get<kv::Classified>(*classified)));
  reply(status_reply("QUEUED"));
}

void ClientSession::exec(std::optional<kv::Session> session, Reply reply) {
  if (!in_multi_) return reply(error_reply("ERR EXEC without MULTI"));
  if (multi_failed_) {
    reset_transaction();
    return reply(error_reply("EXECABORT Transaction discarded because of previous errors."));
  }
  std::vector<kv::WatchedKey> watched;
  for (const auto& [key, index] : watched_) watched.push_back({key, index});
  kv::Command command = kv::make_exec(queued_, std::move(watched));
  command.session = session;
  reset_transaction();
  node_.write(std::move(command), std::move(reply));
}

void ClientSession::watch(const std::vector<std::string>& argv, Reply reply) {
  if (in_multi_) return reply(error_reply("ERR WATCH inside MULTI is not allowed"));
  if (argv.size() < 2) return reply(wrong_arity("watch"));
  if (watched_.size() + argv.size() - 1 > limits::kDbMaxWatchedKeys) {
    return reply(error_reply(
        fmt::format("ERR at most {} keys can be watched", limits::kDbMaxWatchedKeys)));
  }
  // The index this replica has applied: a change after it aborts the EXEC. A stale replica only
  // makes the watch stricter (an older index), never looser.
  std::uint64_t index = node_.watch_index();
  for (std::size_t i = 1; i < argv.size(); ++i) watched_.try_emplace(argv[i], index);
  reply(status_reply("OK"));
}

void ClientSession::reset_transaction() {
  in_multi_ = false;
  multi_failed_ = false;
  queued_.clear();
  watched_.clear();
}

void ClientSession::execute_connection_command(const std::string& name,
                                               std::vector<std::string>& argv, Reply& reply) {
  std::size_t argc = argv.size();
  if (name == "PING") {
    if (argc > 2) return reply(wrong_arity("ping"));
    return reply(argc == 2 ? bulk(argv[1]) : status_reply("PONG"));
  }
  if (name == "ECHO") return reply(argc == 2 ? bulk(argv[1]) : wrong_arity("echo"));
  if (name == "AUTH") {
    if (argc < 2 || argc > 3) return reply(wrong_arity("auth"));
    if (options_.requirepass.empty()) {
      return reply(error_reply(
          "ERR AUTH <password> called without any password configured for the default user. "
          "Are you sure your configuration is correct?"));
    }
    if (argv.back() != options_.requirepass || (argc == 3 && argv[1] != "default")) {
      return reply(error_reply(kWrongPass));
    }
    authenticated_ = true;
    return reply(status_reply("OK"));
  }
  if (name == "QUIT") {
    quit_ = true;
    return reply(status_reply("OK"));
  }
  if (name == "SELECT") {
    if (argc != 2) return reply(wrong_arity("select"));
    return reply(argv[1] == "0" ? status_reply("OK") : error_reply("ERR DB index is out of range"));
  }
  if (name == "READONLY" || name == "READWRITE") {
    readonly_ = name == "READONLY";
    return reply(status_reply("OK"));
  }
  if (name == "MULTI") {
    if (in_multi_) return reply(error_reply("ERR MULTI calls can not be nested"));
    in_multi_ = true;
    return reply(status_reply("OK"));
  }
  if (name == "EXEC") return exec(std::nullopt, std::move(reply));
  if (name == "DISCARD") {
    if (!in_multi_) return reply(error_reply("ERR DISCARD without MULTI"));
    reset_transaction();
    return reply(status_reply("OK"));
  }
  if (name == "WATCH") return watch(argv, std::move(reply));
  if (name == "UNWATCH") {
    watched_.clear();
    return reply(status_reply("OK"));
  }
  if (name == "RESET") {
    reset_transaction();
    readonly_ = false;
    authenticated_ = options_.requirepass.empty();
    return reply(status_reply("RESET"));
  }
  if (name == "INFO") return reply(bulk(info(argv)));
  if (name == "COMMAND") {
    if (argc >= 2 && upper(argv[1]) == "COUNT") return reply(integer(0));
    return reply(array_of({}));  // no command table: clients fall back to their own
  }
  if (name == "CONFIG") {
    if (argc >= 3 && upper(argv[1]) == "GET") {
      std::vector<std::string> out;
      for (std::size_t i = 2; i < argc; ++i) {
        // Names are matched without regard to case, as Redis does.
        std::string pattern = argv[i];
        std::transform(pattern.begin(), pattern.end(), pattern.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        kv::GlobPattern glob(pattern);
        for (const auto& [key, value] : config_values()) {
          if (glob.matches(key)) {
            out.push_back(key);
            out.push_back(value);
          }
        }
      }
      return reply(array_of(out));
    }
    return reply(error_reply("ERR spofless db answers CONFIG GET only; set options by flag"));
  }
  if (name == "CLIENT") {
    std::string sub = argc >= 2 ? upper(argv[1]) : "";
    if (sub == "SETNAME" && argc == 3) {
      name_ = argv[2];
      return reply(status_reply("OK"));
    }
    if (sub == "GETNAME") return reply(name_.empty() ? encode_reply(kv::Reply::nil()) : bulk(name_));
    if (sub == "SETINFO") return reply(status_reply("OK"));
    return reply(error_reply(fmt::format("ERR unknown subcommand '{}'. Try CLIENT HELP.",
                                         argc >= 2 ? argv[1] : "")));
  }
  if (name == "HELLO") {
    return reply(hello(argv, options_.requirepass, authenticated_, name_, node_.is_leader()));
  }
  if (name.starts_with("SPOFLESS.")) return admin(name, argv, std::move(reply));
  reply(unknown_command(argv));
}

void ClientSession::admin(const std::string& name, const std::vector<std::string>& argv,
                          Reply reply) {
  if (name == "SPOFLESS.PROPOSE") {
    // A follower forwarding a client's write: the leader stamps and proposes it.
    if (argv.size() != 2) return reply(wrong_arity("spofless.propose"));
    auto command = kv::decode(argv[1]);
    if (!command.is_ok()) {
      return reply(error_reply(fmt::format("ERR undecodable forwarded write: {}",
                                           command.status().message())));
    }
    if (!node_.is_leader()) {
      return reply(error_reply("TRYAGAIN this node is no longer the leader; retry"));
    }
    return node_.write(std::move(*command), std::move(reply));
  }
  auto node_arg = [&]() -> std::optional<raft::NodeId> {
    if (argv.size() != 2) return std::nullopt;
    auto id = kv::parse_uint64(argv[1]);
    if (!id || *id == 0) return std::nullopt;
    return raft::NodeId{*id};
  };
  auto not_leader = [&] {
    auto at = node_.leader_client_address();
    return error_reply(fmt::format("TRYAGAIN not the leader; the leader is node {}{}",
                                   static_cast<std::uint64_t>(node_.leader()),
                                   at ? fmt::format(" at {}", io::to_string(*at)) : std::string()));
  };
  if (name == "SPOFLESS.STATUS") return reply(bulk(node_.status().dump()));
  auto id = node_arg();
  if (!id) return reply(error_reply(fmt::format("ERR usage: {} NODE-ID", name)));
  if (!node_.is_leader()) return reply(not_leader());
  if (name == "SPOFLESS.TRANSFER") {
    Status s = node_.transfer_leadership(*id);
    return reply(s.is_ok() ? status_reply("OK") : error_reply(fmt::format("ERR {}", s.message())));
  }
  using Kind = raft::ConfChange::Kind;
  std::optional<Kind> kind;
  if (name == "SPOFLESS.ADD-LEARNER") kind = Kind::kAddLearner;
  if (name == "SPOFLESS.PROMOTE") kind = Kind::kAddVoter;
  if (name == "SPOFLESS.REMOVE") kind = Kind::kRemove;
  if (!kind) return reply(unknown_command(argv));
  node_.change_membership({*kind, *id}, std::move(reply));
}

std::string ClientSession::info(const std::vector<std::string>& argv) const {
  std::vector<std::string> sections;
  for (std::size_t i = 1; i < argv.size(); ++i) sections.push_back(upper(argv[i]));
  auto wanted = [&](std::string_view s) {
    return sections.empty() ||
           std::any_of(sections.begin(), sections.end(), [&](const std::string& x) {
             return x == s || x == "ALL" || x == "EVERYTHING" || x == "DEFAULT";
           });
  };
  std::string out;
  if (wanted("SERVER")) {
    out += fmt::format(
        "# Server\r\nredis_version:7.0.0\r\nspofless_version:{}\r\nredis_mode:standalone\r\n"
        "process_id:{}\r\n{}\r\n",
        roles::version(), ::getpid(), node_.info_server_extra());
  }
  if (wanted("CLIENTS")) out += "# Clients\r\n\r\n";
  if (wanted("REPLICATION")) out += node_.info_replication() + "\r\n";
  if (wanted("KEYSPACE")) {
    out += "# Keyspace\r\n";
    if (node_.dbsize() > 0) out += fmt::format("db0:keys={},expires=0,avg_ttl=0\r\n", node_.dbsize());
  }
  return out;
}

}  // namespace spofless::db
