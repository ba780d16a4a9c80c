#pragma once

// The peer transport: Raft messages between the servers of a `spofless db` cluster, over TCP.
//
// Each server dials ONE outbound connection to every other member and only sends on it; the
// connections it accepts (inbound) it only reads. A connection carries frames,
// [u32 big-endian length][payload] (proto/frame.h). The first frame a dialer sends is the
// hello, "spofless-raft/1 <node id>" in decimal; every later frame is one raft::Message
// (proto/raft_codec.h). A receiver drops a message whose `from` is not the id of the hello, or
// whose `to` is not itself.
//
// Raft tolerates loss, so the transport never blocks and never grows without bound: each
// peer has a queue of at most max_queue_messages messages (and kPeerMaxQueueBytes bytes) that
// fills while the peer is slow or unreachable; when it is full the NEW message is dropped and
// counted. A dial that fails is retried after an exponential backoff with full jitter; a
// connect times out after connect_timeout; a connection with data unacknowledged for
// kPeerUserTimeoutMs is aborted by the kernel (TCP_USER_TIMEOUT). A bad frame, a bad hello
// or an undecodable message closes that inbound connection only, logged as `peer.bad_frame`
// with the peer's address, the error and the stream offset of the frame.
//
// Metrics: spofless_peer_messages_sent_total{peer}, spofless_peer_messages_dropped_total
// {peer,reason}, spofless_peer_messages_received_total{peer}, spofless_peer_connected{peer},
// spofless_peer_reconnects_total{peer}, spofless_peer_dial_failures_total{peer},
// spofless_peer_bad_frames_total, spofless_peer_connections_rejected_total. A `peer` label is
// a node id of the membership, or "other" for a hello naming a server that is not a peer, so
// that the label set stays bounded by the membership.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>

#include "core/limits.h"
#include "core/random.h"
#include "core/result.h"
#include "core/status.h"
#include "obs/metrics.h"
#include "raft/types.h"

namespace spofless::io {

using PeerAddresses = std::map<raft::NodeId, boost::asio::ip::tcp::endpoint>;

struct PeerTransportOptions {
  raft::NodeId self = raft::NodeId::kNone;
  PeerAddresses peers;  // every other member; never `self`
  std::size_t max_queue_messages = limits::kPeerMaxQueueMessages;  // per peer
  // Dial retries wait uniform(backoff_min, min(backoff_max, backoff_min * 2^failures)).
  std::chrono::milliseconds backoff_min{limits::kPeerBackoffMinMs};
  std::chrono::milliseconds backoff_max{limits::kPeerBackoffMaxMs};
  std::chrono::milliseconds connect_timeout{limits::kPeerConnectTimeoutMs};
  // An inbound connection that sends no hello within this long is closed.
  std::chrono::milliseconds hello_timeout{limits::kPeerHelloTimeoutMs};
  // Sent in the hello, so that peers can reach this server and its clients' port.
  std::optional<boost::asio::ip::tcp::endpoint> advertise_peer;
  std::optional<boost::asio::ip::tcp::endpoint> advertise_client;
};

// What a hello says: the sender, and where it can be reached. The addresses let a server
// learn of a peer it was not configured with (a learner that joined later) and find a
// leader's client port to forward writes to.
struct PeerHello {
  raft::NodeId id = raft::NodeId::kNone;
  std::optional<boost::asio::ip::tcp::endpoint> peer;    // its --peer-listen
  std::optional<boost::asio::ip::tcp::endpoint> client;  // its --listen
  bool operator==(const PeerHello&) const = default;
};
// The first frame of every outbound connection: "spofless-raft/1 <self>", then
// " peer=IP:PORT" and " client=IP:PORT" for the addresses given.
std::string peer_hello(const PeerHello& hello);
inline std::string peer_hello(raft::NodeId self) { return peer_hello(PeerHello{self, {}, {}}); }
// A hello. Fails with invalid_argument naming the byte offset in `payload`, what was found
// and what was expected: a wrong prefix, a missing, non-decimal or out of range id, id 0, or
// an address that is not IP:PORT.
Result<PeerHello> parse_peer_hello(std::string_view payload);

// The wait before the next dial after `failures` failed dials in a row (0 after a lost
// connection): full jitter, uniform in [min, min(max, min * 2^failures)].
// REQUIRES: 0 < min <= max.
std::chrono::milliseconds peer_backoff_delay(std::uint32_t failures, std::chrono::milliseconds min,
                                             std::chrono::milliseconds max, Random& random);

// Thread model: single-threaded. The transport belongs to the thread that runs `io`; call
// every member function on that thread, or before `io` runs. The handler runs on that thread.
// Lifetime: `io` and `registry` must outlive the transport. Coroutines still pending when it
// is stopped or destroyed hold its shared state, never the transport, touch neither the
// registry nor the handler again, and end when `io` runs them or is destroyed.
class PeerTransport {
 public:
  // Called on the io_context thread with each message received from a peer. It may call any
  // member function, stop() included; it must not block.
  using Handler = std::function<void(raft::Message)>;

  // Declares the metrics and starts dialing every peer of `options`.
  // REQUIRES: options.self is not kNone and not among options.peers; max_queue_messages > 0;
  // 0 < backoff_min <= backoff_max.
  PeerTransport(boost::asio::io_context& io, obs::Registry& registry, PeerTransportOptions options,
                Handler on_message);
  ~PeerTransport();  // stop()

  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // Binds, listens and starts accepting inbound connections, at most
  // kPeerMaxInboundConnections at a time; logs `peer.listening`. Fails with unavailable when
  // the address is taken or cannot be bound.
  // REQUIRES: called at most once, before stop().
  Status listen(const boost::asio::ip::tcp::endpoint& endpoint);

  // The bound address, with the kernel's choice for port 0. REQUIRES: listen() succeeded.
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  // Queues `m` for m.to and returns at once. Dropped and counted, never an error: m.to is not
  // a peer (unknown_peer), its queue is full (queue_full), or its encoding exceeds
  // kPeerMaxFrameBytes (too_large). Does nothing after stop().
  // REQUIRES: m.from == options.self.
  void send(raft::Message m);

  // The membership changed: dials new peers, closes the connection and drops the queue of
  // removed ones (peer_removed), and redials a peer whose address changed.
  // REQUIRES: `self` is not among `peers`.
  void set_peers(PeerAddresses peers);

  // True while the outbound connection to `peer` is up.
  bool connected(raft::NodeId peer) const;
  // Where `peer` listens for peers: the configured address, else the one its hello gave.
  std::optional<boost::asio::ip::tcp::endpoint> peer_address(raft::NodeId peer) const;
  // The client address `peer`'s hello gave, if any.
  std::optional<boost::asio::ip::tcp::endpoint> advertised_client(raft::NodeId peer) const;
  // Called on the io thread when a hello brings addresses not known before, so that the
  // owner can add a new member's peer address (set_peers). At most limits::kPeerMaxMembers
  // servers' addresses are remembered.
  void on_hello(std::function<void(raft::NodeId)> handler);

  // {"self", "listen", "inbound": [{"address", "peer"}], "peers": {"<id>": {"address",
  // "connected", "queued", "sent", "dropped", "reconnects"}}}.
  nlohmann::json status() const;

  // Closes the acceptor and every connection, dropping queued messages. Idempotent.
  void stop();

 private:
  class State;
  std::shared_ptr<State> state_;  // shared with the accept, dial and connection coroutines
};

}  // namespace spofless::io
