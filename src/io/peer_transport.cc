#include "io/peer_transport.h"

#include <algorithm>
#include <charconv>
#include <exception>
#include <iterator>
#include <list>
#include <random>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "core/check.h"
#include "io/address.h"
#include "io/listen.h"
#include "obs/log.h"
#include "proto/frame.h"
#include "proto/raft_codec.h"

namespace spofless::io {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using raft::NodeId;
using std::chrono::milliseconds;

constexpr auto kAwaitTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kHelloPrefix = "spofless-raft/1 ";
constexpr std::size_t kShownBytes = 32;  // of a bad hello, in its error
constexpr std::uint32_t kMaxBackoffDoublings = 63;

constexpr const char* kSentHelp = "Raft messages written to a peer's connection.";
constexpr const char* kDroppedHelp =
    "Raft messages dropped: queue_full, too_large, connection_lost (in flight when the "
    "connection failed), peer_removed, unknown_peer; received: wrong_sender, wrong_recipient.";
constexpr const char* kReceivedHelp = "Raft messages received from a peer and delivered.";
constexpr const char* kConnectedHelp = "1 while the outbound connection to a peer is up.";
constexpr const char* kReconnectsHelp = "Outbound connections made to a peer after the first.";
constexpr const char* kDialFailuresHelp = "Failed dials to a peer.";

enum class DropReason {
  kQueueFull,
  kTooLarge,
  kConnectionLost,
  kPeerRemoved,
  kUnknownPeer,
  kWrongSender,
  kWrongRecipient,
};

// The `reason` label of each DropReason, in enum order.
constexpr std::string_view kDropReasonLabels[] = {
    "queue_full",   "too_large",    "connection_lost", "peer_removed",
    "unknown_peer", "wrong_sender", "wrong_recipient",
};
static_assert(std::size(kDropReasonLabels) ==
                  static_cast<std::size_t>(DropReason::kWrongRecipient) + 1,
              "every drop reason has a label");

std::string reason_label(DropReason reason) {
  return std::string(kDropReasonLabels[static_cast<std::size_t>(reason)]);
}

std::uint64_t raw(NodeId id) { return static_cast<std::uint64_t>(id); }
std::string id_string(NodeId id) { return std::to_string(raw(id)); }

// At most kShownBytes of untrusted bytes, non-printable ones as '?', for error messages.
std::string shown(std::string_view bytes) {
  std::string out(bytes.substr(0, kShownBytes));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  if (bytes.size() > kShownBytes) out += "...";
  return out;
}

// Completion of a detached coroutine: an exception there is a bug, so it leaves io.run().
void rethrow(std::exception_ptr error) {
  if (error) std::rethrow_exception(error);
}

// One dialed connection, shared by the coroutine that dials and writes and the one that
// watches for the peer closing it. Once closed it stays closed; `reason` says why.
struct Connection {
  explicit Connection(asio::io_context& io) : socket(io) {}

  void close(std::string why) {
    if (closed) return;
    closed = true;
    reason = std::move(why);
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
  }

  tcp::socket socket;
  bool connect_done = false;
  bool closed = false;
  std::string reason;
};

// The outbound side of one peer: its queue and the connection that drains it. Once `closed`
// (removed, or the transport stopped) nothing touches its metrics again.
struct Peer {
  Peer(asio::io_context& io, obs::Registry& registry, NodeId peer_id, tcp::endpoint to)
      : id(peer_id),
        address(to),
        label(id_string(peer_id)),
        timer(io),
        sent_total(
            registry.counter("spofless_peer_messages_sent_total", kSentHelp, {{"peer", label}})),
        connected_gauge(
            registry.gauge("spofless_peer_connected", kConnectedHelp, {{"peer", label}})),
        reconnects_total(
            registry.counter("spofless_peer_reconnects_total", kReconnectsHelp, {{"peer", label}})),
        dial_failures_total(registry.counter("spofless_peer_dial_failures_total", kDialFailuresHelp,
                                             {{"peer", label}})) {}

  std::size_t queued() const { return pending_count + inflight_count; }
  std::size_t queued_bytes() const { return pending.size() + inflight_bytes; }

  const NodeId id;
  const tcp::endpoint address;
  const std::string label;
  std::string pending;  // frames not yet handed to a write, back to back
  std::size_t pending_count = 0;
  std::size_t inflight_count = 0;  // messages in the write under way
  std::size_t inflight_bytes = 0;
  std::shared_ptr<Connection> conn;  // the one being dialed or written, if any
  // The writer waits on it for messages (while `idle`), and run() for the next dial.
  asio::steady_timer timer;
  bool idle = false;
  bool closed = false;
  bool connected = false;
  bool ever_connected = false;
  bool dial_failure_logged = false;  // one info line per outage; the retries go to debug
  std::uint64_t sent = 0;            // since this Peer was added, for status()
  std::uint64_t dropped = 0;
  std::uint64_t reconnects = 0;
  obs::Counter& sent_total;
  obs::Gauge& connected_gauge;
  obs::Counter& reconnects_total;
  obs::Counter& dial_failures_total;
};

// One accepted connection. Once closed it stays closed; `reason` says why.
struct Inbound {
  explicit Inbound(tcp::socket socket) : stream(std::move(socket)) {
    boost::system::error_code ec;
    tcp::endpoint remote = stream.socket().remote_endpoint(ec);
    address = ec ? "unknown" : to_string(remote);
  }

  void close(std::string why) {
    if (closed) return;
    closed = true;
    reason = std::move(why);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
  }

  beast::tcp_stream stream;
  std::string address;
  NodeId from = NodeId::kNone;             // named by the hello; kNone until it arrives
  std::string label;                       // `from` as a metric label
  obs::Counter* received_total = nullptr;  // set with `from`
  bool warned = false;                     // one warning per connection for rejected messages
  bool closed = false;
  std::string reason;
};

// Registers an accepted connection in the transport's list for as long as it is served.
// Keeps the list's owner alive, so that it can always erase its entry.
class InboundSlot {
 public:
  using List = std::list<std::shared_ptr<Inbound>>;
  InboundSlot(std::shared_ptr<void> owner, List& list, std::shared_ptr<Inbound> in)
      : owner_(std::move(owner)), list_(list), it_(list.insert(list.end(), std::move(in))) {}
  ~InboundSlot() { list_.erase(it_); }
  InboundSlot(const InboundSlot&) = delete;
  InboundSlot& operator=(const InboundSlot&) = delete;

  const std::shared_ptr<Inbound>& inbound() const { return *it_; }

 private:
  std::shared_ptr<void> owner_;
  List& list_;
  List::iterator it_;
};

// Connects `conn` to `address` within `timeout`. Returns "" or why not.
asio::awaitable<std::string> dial(std::shared_ptr<Connection> conn, tcp::endpoint address,
                                  milliseconds timeout) {
  asio::steady_timer deadline(conn->socket.get_executor());
  deadline.expires_after(timeout);
  deadline.async_wait([conn, timeout](const boost::system::error_code& ec) {
    if (!ec && !conn->connect_done) {
      conn->close(fmt::format("connect timed out after {} ms", timeout.count()));
    }
  });
  auto [ec] = co_await conn->socket.async_connect(address, kAwaitTuple);
  conn->connect_done = true;
  deadline.cancel();
  if (conn->closed) co_return conn->reason;
  if (ec) co_return ec.message();
  conn->socket.set_option(tcp::no_delay(true), ec);
  if (ec) co_return fmt::format("TCP_NODELAY: {}", ec.message());
  // Without it a peer that vanished (no FIN, no RST) is noticed only after TCP's retries,
  // about 15 minutes; its messages meanwhile fill the queue.
  unsigned int user_timeout_ms = limits::kPeerUserTimeoutMs;
  if (::setsockopt(conn->socket.native_handle(), IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms,
                   sizeof user_timeout_ms) != 0) {
    obs::debug("peer.sockopt_failed", {{"option", "TCP_USER_TIMEOUT"}});
  }
  co_return "";
}

// The outbound connection is send-only: a read completes only when the peer closes it or it
// fails, which closes `conn` and wakes the writer if it waits for messages.
asio::awaitable<void> watch(std::shared_ptr<Peer> peer, std::shared_ptr<Connection> conn) {
  char byte = 0;
  auto [ec, n] = co_await conn->socket.async_read_some(asio::buffer(&byte, 1), kAwaitTuple);
  if (conn->closed) co_return;
  if (ec == asio::error::eof) {
    conn->close("closed by the peer");
  } else if (ec) {
    conn->close(ec.message());
  } else {
    conn->close("the peer sent bytes on a send-only connection");
  }
  if (peer->idle) peer->timer.cancel();
}

}  // namespace

std::string peer_hello(const PeerHello& hello) {
  std::string out = fmt::format("{}{}", kHelloPrefix, raw(hello.id));
  if (hello.peer) out += fmt::format(" peer={}", to_string(*hello.peer));
  if (hello.client) out += fmt::format(" client={}", to_string(*hello.client));
  return out;
}

namespace {

// The " peer=IP:PORT client=IP:PORT" part of a hello, starting at byte `at` of `payload`.
Status parse_hello_addresses(std::string_view payload, std::size_t at, PeerHello& hello) {
  while (at < payload.size()) {
    if (payload[at] != ' ') {
      return invalid_argument(fmt::format("hello: byte {}: found \"{}\", expected a space", at,
                                          shown(payload.substr(at))));
    }
    std::size_t start = at + 1;
    std::size_t end = std::min(payload.find(' ', start), payload.size());
    std::string_view item = payload.substr(start, end - start);
    std::optional<tcp::endpoint>* slot = nullptr;
    std::string_view value;
    if (item.starts_with("peer=")) {
      slot = &hello.peer;
      value = item.substr(5);
    } else if (item.starts_with("client=")) {
      slot = &hello.client;
      value = item.substr(7);
    }
    if (slot == nullptr) {
      return invalid_argument(fmt::format(
          "hello: byte {}: found \"{}\", expected peer=IP:PORT or client=IP:PORT", start,
          shown(item)));
    }
    auto endpoint = parse_listen_address(value, "hello address");
    if (!endpoint.is_ok()) {
      return invalid_argument(fmt::format("hello: byte {}: {}", start, endpoint.status().message()));
    }
    *slot = *endpoint;
    at = end;
  }
  return Status::ok();
}

}  // namespace

Result<PeerHello> parse_peer_hello(std::string_view payload) {
  if (!payload.starts_with(kHelloPrefix)) {
    std::size_t at = 0;
    while (at < payload.size() && at < kHelloPrefix.size() && payload[at] == kHelloPrefix[at]) {
      ++at;
    }
    return invalid_argument(fmt::format("hello: byte {}: found \"{}\", expected \"{}<node id>\"",
                                        at, shown(payload), kHelloPrefix));
  }
  std::string_view digits = payload.substr(kHelloPrefix.size());
  std::uint64_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  std::size_t at = kHelloPrefix.size() + static_cast<std::size_t>(end - digits.data());
  if (ec == std::errc::result_out_of_range) {
    return invalid_argument(
        fmt::format("hello: byte {}: node id \"{}\" is out of range, "
                    "expected at most {}",
                    kHelloPrefix.size(), shown(digits), UINT64_MAX));
  }
  if (ec != std::errc{}) {
    return invalid_argument(
        fmt::format("hello: byte {}: found \"{}\", expected a decimal node id", at, shown(digits)));
  }
  if (id == 0) {
    return invalid_argument(
        fmt::format("hello: byte {}: node id 0 is reserved for none, "
                    "expected a server's id",
                    kHelloPrefix.size()));
  }
  PeerHello hello{NodeId{id}, {}, {}};
  if (at != payload.size() && payload[at] != ' ') {
    return invalid_argument(
        fmt::format("hello: byte {}: found \"{}\" after the node id, "
                    "expected the end or addresses",
                    at, shown(payload.substr(at))));
  }
  if (Status s = parse_hello_addresses(payload, at, hello); !s.is_ok()) return s;
  return hello;
}

milliseconds peer_backoff_delay(std::uint32_t failures, milliseconds min, milliseconds max,
                                Random& random) {
  SPOFLESS_CHECK(min.count() > 0 && min <= max, "backoff bounds are 0 < min <= max");
  const auto lo = static_cast<std::uint64_t>(min.count());
  const auto cap = static_cast<std::uint64_t>(max.count());
  std::uint64_t hi = lo;
  for (std::uint32_t i = 0; i < failures && i < kMaxBackoffDoublings && hi < cap; ++i) hi *= 2;
  hi = std::min(hi, cap);
  return milliseconds(static_cast<milliseconds::rep>(random.uniform(lo, hi)));
}

// Everything the coroutines touch. Lives as long as the longest of the PeerTransport and its
// pending coroutines; only the io_context thread uses it. After stop() the coroutines touch
// neither the registry nor the handler.
class PeerTransport::State {
 public:
  State(asio::io_context& io, obs::Registry& registry, PeerTransportOptions options,
        Handler on_message);

  void add_peer(const std::shared_ptr<State>& self, NodeId id, tcp::endpoint address);
  void close_peer(Peer& peer, const std::string& why);
  void set_peers(const std::shared_ptr<State>& self, PeerAddresses peers);
  void send(raft::Message m);
  nlohmann::json status() const;
  void stop();

  static asio::awaitable<void> run_peer(std::shared_ptr<State> self, std::shared_ptr<Peer> peer);
  static asio::awaitable<void> accept_loop(std::shared_ptr<State> self);
  static asio::awaitable<void> serve(std::shared_ptr<State> self,
                                     std::unique_ptr<InboundSlot> slot);

  asio::io_context& io_;
  obs::Registry& registry_;
  const PeerTransportOptions options_;  // `peers` as given at construction
  Handler on_message_;
  tcp::acceptor acceptor_;
  tcp::endpoint bound_;  // set by listen()
  bool stopped_ = false;
  std::map<NodeId, std::shared_ptr<Peer>> peers_;
  std::list<std::shared_ptr<Inbound>> inbound_;  // open accepted connections
  SeededRandom random_;                          // backoff jitter
  obs::Counter& bad_frames_;
  obs::Counter& rejected_;

 private:
  static asio::awaitable<std::string> write_until_broken(std::shared_ptr<State> self,
                                                         std::shared_ptr<Peer> peer,
                                                         std::shared_ptr<Connection> conn);
  static asio::awaitable<std::string> receive(std::shared_ptr<State> self,
                                              std::shared_ptr<Inbound> in);
  void on_connected(Peer& peer);
  void on_disconnected(Peer& peer, const std::string& why);
  void on_dial_failed(Peer& peer, const std::string& error);
  Status on_frame(Inbound& in, std::string_view frame);
  Status accept_hello(Inbound& in, std::string_view frame);
  void reject(Inbound& in, DropReason reason, const raft::Message& m);

 public:
  // Records the addresses a hello gave; tells the on_hello handler when they are new.
  void remember(const PeerHello& hello);
  std::map<NodeId, PeerHello> advertised_;  // from hellos, at most kPeerMaxMembers
  std::function<void(NodeId)> on_hello_;
  void count_drop(const std::string& label, DropReason reason, std::uint64_t n = 1);
  std::string label_of(NodeId id) const;
};

PeerTransport::State::State(asio::io_context& io, obs::Registry& registry,
                            PeerTransportOptions options, Handler on_message)
    : io_(io),
      registry_(registry),
      options_(std::move(options)),
      on_message_(std::move(on_message)),
      acceptor_(io),
      random_((std::uint64_t{std::random_device{}()} << 32) | std::random_device{}()),
      bad_frames_(registry.counter("spofless_peer_bad_frames_total",
                                   "Inbound peer connections closed for a bad frame, hello or "
                                   "message.")),
      rejected_(registry.counter("spofless_peer_connections_rejected_total",
                                 "Inbound peer connections closed at once: the limit was "
                                 "reached.")) {}

void PeerTransport::State::add_peer(const std::shared_ptr<State>& self, NodeId id,
                                    tcp::endpoint address) {
  auto peer = std::make_shared<Peer>(io_, registry_, id, address);
  for (DropReason reason : {DropReason::kQueueFull, DropReason::kTooLarge,
                            DropReason::kConnectionLost, DropReason::kPeerRemoved}) {
    count_drop(peer->label, reason, 0);  // declared up front, so that alerts see a 0
  }
  peers_[id] = peer;
  asio::co_spawn(io_, run_peer(self, peer), rethrow);
}

void PeerTransport::State::close_peer(Peer& peer, const std::string& why) {
  peer.closed = true;
  if (peer.connected) on_disconnected(peer, why);
  if (peer.conn) peer.conn->close(why);
  peer.timer.cancel();
  peer.pending.clear();
  peer.pending_count = 0;
}

asio::awaitable<void> PeerTransport::State::run_peer(std::shared_ptr<State> self,
                                                     std::shared_ptr<Peer> peer) {
  std::uint32_t failures = 0;  // dials failed in a row
  while (!peer->closed) {
    auto conn = std::make_shared<Connection>(self->io_);
    peer->conn = conn;
    std::string dial_error = co_await dial(conn, peer->address, self->options_.connect_timeout);
    if (peer->closed) co_return;
    if (dial_error.empty()) {
      failures = 0;
      self->on_connected(*peer);
      asio::co_spawn(self->io_, watch(peer, conn), rethrow);
      std::string why = co_await write_until_broken(self, peer, conn);
      if (peer->closed) co_return;
      conn->close(why);
      self->on_disconnected(*peer, why);
    } else {
      conn->close(dial_error);
      self->on_dial_failed(*peer, dial_error);
    }
    peer->timer.expires_after(peer_backoff_delay(failures, self->options_.backoff_min,
                                                 self->options_.backoff_max, self->random_));
    failures = std::min(failures + 1, kMaxBackoffDoublings);
    co_await peer->timer.async_wait(kAwaitTuple);
  }
}

// Writes the hello, then everything queued, one batch per write, until the connection
// breaks (returns why) or the peer is closed (returns "").
asio::awaitable<std::string> PeerTransport::State::write_until_broken(
    std::shared_ptr<State> self, std::shared_ptr<Peer> peer, std::shared_ptr<Connection> conn) {
  std::string batch;
  proto::append_frame(batch, peer_hello(PeerHello{self->options_.self, self->options_.advertise_peer,
                                                   self->options_.advertise_client}));
  for (;;) {
    if (peer->pending_count > 0) {
      if (batch.empty()) {
        batch.swap(peer->pending);  // hands `pending` the old batch's buffer
      } else {
        batch.append(peer->pending);
      }
      peer->inflight_count += peer->pending_count;
      peer->inflight_bytes = batch.size();
      peer->pending.clear();
      peer->pending_count = 0;
    }
    if (batch.empty()) {
      peer->idle = true;
      peer->timer.expires_at(asio::steady_timer::time_point::max());
      co_await peer->timer.async_wait(kAwaitTuple);  // send() and the watcher cancel it
      peer->idle = false;
      if (peer->closed) co_return "";
      if (conn->closed) co_return conn->reason;
      continue;
    }
    auto [ec, written] = co_await asio::async_write(conn->socket, asio::buffer(batch), kAwaitTuple);
    if (peer->closed) co_return "";
    std::size_t messages = std::exchange(peer->inflight_count, 0);
    peer->inflight_bytes = 0;
    if (ec || conn->closed) {
      // Some may have arrived; Raft tolerates both loss and duplicates.
      peer->dropped += messages;
      self->count_drop(peer->label, DropReason::kConnectionLost, messages);
      co_return conn->closed ? conn->reason : ec.message();
    }
    peer->sent += messages;
    peer->sent_total.inc(messages);
    batch.clear();
    if (batch.capacity() > limits::kPeerKeptBufferBytes) batch.shrink_to_fit();
  }
}

void PeerTransport::State::on_connected(Peer& peer) {
  peer.connected = true;
  peer.connected_gauge.set(1);
  if (peer.ever_connected) {
    ++peer.reconnects;
    peer.reconnects_total.inc();
  }
  peer.ever_connected = true;
  peer.dial_failure_logged = false;
  obs::info("peer.connected",
            {{"peer", raw(peer.id)}, {"addr", to_string(peer.address)}, {"direction", "outbound"}});
}

void PeerTransport::State::on_disconnected(Peer& peer, const std::string& why) {
  peer.connected = false;
  peer.connected_gauge.set(0);
  obs::info("peer.disconnected", {{"peer", raw(peer.id)},
                                  {"addr", to_string(peer.address)},
                                  {"direction", "outbound"},
                                  {"reason", why}});
}

void PeerTransport::State::on_dial_failed(Peer& peer, const std::string& error) {
  peer.dial_failures_total.inc();
  obs::LogLevel level = peer.dial_failure_logged ? obs::LogLevel::kDebug : obs::LogLevel::kInfo;
  peer.dial_failure_logged = true;
  obs::log(level, "peer.dial_failed",
           {{"peer", raw(peer.id)}, {"addr", to_string(peer.address)}, {"error", error}});
}

void PeerTransport::State::send(raft::Message m) {
  if (stopped_) return;
  SPOFLESS_CHECK(m.from == options_.self, "a transport sends its own server's messages");
  auto it = peers_.find(m.to);
  if (it == peers_.end()) {
    count_drop(id_string(m.to), DropReason::kUnknownPeer);
    return;
  }
  Peer& peer = *it->second;
  if (peer.queued() >= options_.max_queue_messages) {
    ++peer.dropped;
    count_drop(peer.label, DropReason::kQueueFull);
    return;
  }
  std::string payload = proto::encode_message(m);
  if (payload.size() > limits::kPeerMaxFrameBytes) {
    ++peer.dropped;
    count_drop(peer.label, DropReason::kTooLarge);
    obs::warn("peer.message_too_large", {{"peer", raw(peer.id)},
                                         {"type", raft::to_string(m.type)},
                                         {"bytes", payload.size()},
                                         {"max_bytes", limits::kPeerMaxFrameBytes}});
    return;
  }
  if (peer.queued_bytes() + proto::kFrameHeaderBytes + payload.size() >
      limits::kPeerMaxQueueBytes) {
    ++peer.dropped;
    count_drop(peer.label, DropReason::kQueueFull);
    return;
  }
  proto::append_frame(peer.pending, payload);
  ++peer.pending_count;
  if (peer.idle) peer.timer.cancel();
}

void PeerTransport::State::count_drop(const std::string& label, DropReason reason,
                                      std::uint64_t n) {
  registry_
      .counter("spofless_peer_messages_dropped_total", kDroppedHelp,
               {{"peer", label}, {"reason", reason_label(reason)}})
      .inc(n);
}

std::string PeerTransport::State::label_of(NodeId id) const {
  return peers_.count(id) > 0 ? id_string(id) : "other";
}

asio::awaitable<void> PeerTransport::State::accept_loop(std::shared_ptr<State> self) {
  asio::steady_timer retry(self->io_);
  while (self->acceptor_.is_open()) {
    auto [ec, socket] = co_await self->acceptor_.async_accept(kAwaitTuple);
    if (self->stopped_) co_return;
    if (ec) {
      obs::warn("peer.accept_failed", {{"error", ec.message()}});
      retry.expires_after(milliseconds(limits::kPeerAcceptRetryMs));
      co_await retry.async_wait(kAwaitTuple);
      continue;
    }
    if (self->inbound_.size() >= limits::kPeerMaxInboundConnections) {
      self->rejected_.inc();
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    // Registered before the coroutine first runs, so that the count above is exact.
    auto slot = std::make_unique<InboundSlot>(self, self->inbound_,
                                              std::make_shared<Inbound>(std::move(socket)));
    asio::co_spawn(self->io_, serve(self, std::move(slot)), rethrow);
  }
}

asio::awaitable<void> PeerTransport::State::serve(std::shared_ptr<State> self,
                                                  std::unique_ptr<InboundSlot> slot) {
  std::shared_ptr<Inbound> in = slot->inbound();
  std::string why = co_await receive(self, in);
  in->close(why);
  if (self->stopped_) co_return;
  obs::info("peer.disconnected", {{"peer", raw(in->from)},
                                  {"addr", in->address},
                                  {"direction", "inbound"},
                                  {"reason", in->reason}});
}

// Reads frames until the connection ends or breaks; returns why. The first frame must be a
// hello, within hello_timeout.
asio::awaitable<std::string> PeerTransport::State::receive(std::shared_ptr<State> self,
                                                           std::shared_ptr<Inbound> in) {
  proto::FrameDecoder decoder;
  std::vector<std::string> frames;
  std::vector<char> chunk(limits::kPeerReadChunkBytes);
  std::uint64_t offset = 0;  // in the stream, of the next frame
  in->stream.expires_after(self->options_.hello_timeout);
  for (;;) {
    auto [ec, n] = co_await in->stream.async_read_some(asio::buffer(chunk), kAwaitTuple);
    if (self->stopped_ || in->closed) co_return in->reason;
    if (ec == asio::error::eof) co_return "closed by the peer";
    if (ec == beast::error::timeout) {
      co_return fmt::format("no hello within {} ms", self->options_.hello_timeout.count());
    }
    if (ec) co_return ec.message();
    frames.clear();
    Status fed = decoder.feed(std::string_view(chunk.data(), n), frames);
    // Bounded: a chunk holds at most kPeerReadChunkBytes / proto::kFrameHeaderBytes frames.
    for (const std::string& frame : frames) {
      Status ok = self->on_frame(*in, frame);
      if (self->stopped_ || in->closed) co_return in->reason;
      if (!ok.is_ok()) {
        fed = ok;
        break;
      }
      offset += proto::kFrameHeaderBytes + frame.size();
    }
    if (!fed.is_ok()) {
      self->bad_frames_.inc();
      obs::warn("peer.bad_frame", {{"addr", in->address},
                                   {"peer", raw(in->from)},
                                   {"error", fed.message()},
                                   {"offset", offset}});
      co_return "bad frame";
    }
  }
}

Status PeerTransport::State::on_frame(Inbound& in, std::string_view frame) {
  if (in.from == NodeId::kNone) return accept_hello(in, frame);
  Result<raft::Message> m = proto::decode_message(frame);
  if (!m.is_ok()) return m.status();
  if (m->from != in.from) {
    reject(in, DropReason::kWrongSender, *m);
  } else if (m->to != options_.self) {
    reject(in, DropReason::kWrongRecipient, *m);
  } else {
    in.received_total->inc();
    on_message_(std::move(m).value());
  }
  return Status::ok();
}

Status PeerTransport::State::accept_hello(Inbound& in, std::string_view frame) {
  Result<PeerHello> hello = parse_peer_hello(frame);
  if (!hello.is_ok()) return hello.status();
  if (hello->id == options_.self) {
    return invalid_argument(
        fmt::format("hello: node id {} is this server's own, expected a peer's", raw(hello->id)));
  }
  in.from = hello->id;
  remember(*hello);
  in.label = label_of(in.from);
  in.received_total = &registry_.counter("spofless_peer_messages_received_total", kReceivedHelp,
                                         {{"peer", in.label}});
  in.stream.expires_never();
  // A peer dials one connection at a time, so an older one from it is dead or half-open.
  for (const std::shared_ptr<Inbound>& other : inbound_) {
    if (other.get() != &in && other->from == in.from) {
      other->close("replaced by a newer connection from the same peer");
    }
  }
  obs::info("peer.connected",
            {{"peer", raw(in.from)}, {"addr", in.address}, {"direction", "inbound"}});
  return Status::ok();
}

// A message that contradicts its connection is dropped, not fatal to it: the rest of the
// stream is still framed correctly. Warned once per connection, counted always.
void PeerTransport::State::reject(Inbound& in, DropReason reason, const raft::Message& m) {
  count_drop(in.label, reason);
  if (in.warned) return;
  in.warned = true;
  obs::warn("peer.message_rejected", {{"addr", in.address},
                                      {"peer", raw(in.from)},
                                      {"reason", reason_label(reason)},
                                      {"from", raw(m.from)},
                                      {"to", raw(m.to)},
                                      {"type", raft::to_string(m.type)}});
}

void PeerTransport::State::set_peers(const std::shared_ptr<State>& self, PeerAddresses peers) {
  if (stopped_) return;
  // Bounded by the membership, as both maps are.
  for (auto it = peers_.begin(); it != peers_.end();) {
    auto wanted = peers.find(it->first);
    if (wanted != peers.end() && wanted->second == it->second->address) {
      ++it;
      continue;
    }
    Peer& peer = *it->second;
    std::uint64_t lost = peer.queued();
    peer.dropped += lost;
    count_drop(peer.label, DropReason::kPeerRemoved, lost);
    close_peer(peer, wanted == peers.end() ? "removed" : "address changed");
    it = peers_.erase(it);
  }
  for (const auto& [id, address] : peers) {
    if (peers_.count(id) == 0) add_peer(self, id, address);
  }
}

nlohmann::json PeerTransport::State::status() const {
  nlohmann::json peers = nlohmann::json::object();
  for (const auto& [id, peer] : peers_) {
    peers[id_string(id)] = {{"address", to_string(peer->address)},
                            {"connected", peer->connected},
                            {"queued", peer->queued()},
                            {"sent", peer->sent},
                            {"dropped", peer->dropped},
                            {"reconnects", peer->reconnects}};
  }
  nlohmann::json inbound = nlohmann::json::array();
  for (const std::shared_ptr<Inbound>& in : inbound_) {
    if (!in->closed) inbound.push_back({{"address", in->address}, {"peer", raw(in->from)}});
  }
  return {{"self", raw(options_.self)},
          {"listen", bound_.port() == 0 ? "" : to_string(bound_)},
          {"inbound", inbound},
          {"peers", peers}};
}

void PeerTransport::State::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (auto& [id, peer] : peers_) close_peer(*peer, "stopped");
  peers_.clear();
  // The serve coroutines erase their own entries when io runs them.
  for (const std::shared_ptr<Inbound>& in : inbound_) in->close("stopped");
}

PeerTransport::PeerTransport(asio::io_context& io, obs::Registry& registry,
                             PeerTransportOptions options, Handler on_message) {
  SPOFLESS_CHECK(options.self != NodeId::kNone, "a transport has its own server's id");
  SPOFLESS_CHECK(options.peers.count(options.self) == 0, "a server is not its own peer");
  SPOFLESS_CHECK(options.max_queue_messages > 0, "a peer queue holds at least one message");
  SPOFLESS_CHECK(options.backoff_min.count() > 0 && options.backoff_min <= options.backoff_max,
                 "backoff bounds are 0 < min <= max");
  PeerAddresses peers = options.peers;
  state_ = std::make_shared<State>(io, registry, std::move(options), std::move(on_message));
  for (const auto& [id, address] : peers) state_->add_peer(state_, id, address);
}

PeerTransport::~PeerTransport() { stop(); }

Status PeerTransport::listen(const tcp::endpoint& endpoint) {
  SPOFLESS_CHECK(!state_->acceptor_.is_open() && !state_->stopped_, "listen() is called once");
  Result<tcp::endpoint> bound = listen_on(state_->acceptor_, endpoint, "peer address");
  if (!bound) return bound.status();
  state_->bound_ = *bound;
  obs::info("peer.listening", {{"addr", to_string(state_->bound_)}});
  asio::co_spawn(state_->io_, State::accept_loop(state_), rethrow);
  return Status::ok();
}

tcp::endpoint PeerTransport::local_endpoint() const {
  SPOFLESS_CHECK(state_->bound_.port() != 0, "local_endpoint() after a successful listen()");
  return state_->bound_;
}

void PeerTransport::send(raft::Message m) { state_->send(std::move(m)); }

void PeerTransport::State::remember(const PeerHello& hello) {
  auto it = advertised_.find(hello.id);
  if (it != advertised_.end() && it->second == hello) return;
  if (it == advertised_.end() && advertised_.size() >= limits::kPeerMaxMembers) return;
  advertised_[hello.id] = hello;
  if (on_hello_) on_hello_(hello.id);
}

std::optional<tcp::endpoint> PeerTransport::peer_address(NodeId peer) const {
  if (auto it = state_->peers_.find(peer); it != state_->peers_.end()) return it->second->address;
  if (auto it = state_->options_.peers.find(peer); it != state_->options_.peers.end()) {
    return it->second;
  }
  if (auto it = state_->advertised_.find(peer); it != state_->advertised_.end()) {
    return it->second.peer;
  }
  return std::nullopt;
}

std::optional<tcp::endpoint> PeerTransport::advertised_client(NodeId peer) const {
  if (auto it = state_->advertised_.find(peer); it != state_->advertised_.end()) {
    return it->second.client;
  }
  return std::nullopt;
}

void PeerTransport::on_hello(std::function<void(NodeId)> handler) {
  state_->on_hello_ = std::move(handler);
}

void PeerTransport::set_peers(PeerAddresses peers) {
  SPOFLESS_CHECK(peers.count(state_->options_.self) == 0, "a server is not its own peer");
  state_->set_peers(state_, std::move(peers));
}

bool PeerTransport::connected(NodeId peer) const {
  auto it = state_->peers_.find(peer);
  return it != state_->peers_.end() && it->second->connected;
}

nlohmann::json PeerTransport::status() const { return state_->status(); }

void PeerTransport::stop() { state_->stop(); }

}  // namespace spofless::io
