#include "io/peer_transport.h"

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "proto/frame.h"
#include "proto/raft_codec.h"

namespace spofless::io {
namespace {

namespace asio = boost::asio;
using raft::NodeId;
using tcp = asio::ip::tcp;
using ::testing::HasSubstr;

constexpr std::chrono::seconds kDeadline{10};
constexpr std::size_t kMessagesPerPeer = 100;

NodeId id(std::uint64_t n) { return NodeId{n}; }

// A heartbeat whose round numbers it, so that order can be checked.
raft::Message heartbeat(std::uint64_t from, std::uint64_t to, std::uint64_t round) {
  raft::Message m;
  m.type = raft::MessageType::kHeartbeat;
  m.from = id(from);
  m.to = id(to);
  m.term = raft::Term{3};
  m.round = round;
  return m;
}

std::vector<std::uint64_t> rounds_from(const std::vector<raft::Message>& messages,
                                       std::uint64_t from) {
  std::vector<std::uint64_t> rounds;
  for (const raft::Message& m : messages) {
    if (m.from == id(from)) rounds.push_back(m.round);
  }
  return rounds;
}

std::vector<std::uint64_t> one_to(std::uint64_t n) {
  std::vector<std::uint64_t> rounds;
  for (std::uint64_t i = 1; i <= n; ++i) rounds.push_back(i);
  return rounds;
}

std::string frame(std::string_view payload) { return proto::encode_frame(payload); }

// One server's transport, with its own registry (peer labels repeat across servers) and the
// messages its handler received.
struct Node {
  std::uint64_t id = 0;
  obs::Registry registry;
  std::vector<raft::Message> received;
  std::unique_ptr<PeerTransport> transport;
  tcp::endpoint endpoint;

  std::uint64_t counter(const std::string& name, const obs::Labels& labels = {}) {
    return registry.counter(name, "", labels).value();
  }
  std::uint64_t dropped(const std::string& peer, const std::string& reason) {
    return counter("spofless_peer_messages_dropped_total", {{"peer", peer}, {"reason", reason}});
  }
};

// Every transport and raw socket runs on one io_context on the test's thread, driven by
// run_until().
class PeerTransportTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto& node : nodes_) node->transport->stop();
    io_.restart();
    io_.poll();  // lets the stopped coroutines finish
  }

  PeerTransportOptions options(std::uint64_t self, PeerAddresses peers = {}) {
    PeerTransportOptions o;
    o.self = id(self);
    o.peers = std::move(peers);
    o.backoff_min = std::chrono::milliseconds(5);
    o.backoff_max = std::chrono::milliseconds(20);
    return o;
  }

  // A transport listening on 127.0.0.1:`port` (0: the kernel's choice).
  Node& start(PeerTransportOptions o, std::uint16_t port = 0) {
    auto node = std::make_unique<Node>();
    Node& n = *node;
    n.id = static_cast<std::uint64_t>(o.self);
    n.transport = std::make_unique<PeerTransport>(
        io_, n.registry, std::move(o), [&n](raft::Message m) { n.received.push_back(m); });
    Status listening = n.transport->listen(tcp::endpoint(asio::ip::address_v4::loopback(), port));
    EXPECT_TRUE(listening.is_ok()) << listening.to_string();
    n.endpoint = n.transport->local_endpoint();
    nodes_.push_back(std::move(node));
    return n;
  }

  // Every node dials every other.
  void connect_all() {
    for (auto& node : nodes_) {
      PeerAddresses peers;
      for (auto& other : nodes_) {
        if (other != node) peers[id(other->id)] = other->endpoint;
      }
      node->transport->set_peers(peers);
    }
  }

  // Runs the io_context until `done` holds; false when the deadline passed first.
  bool run_until(const std::function<bool()>& done) {
    auto deadline = std::chrono::steady_clock::now() + kDeadline;
    while (!done()) {  // bounded by the deadline
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (io_.stopped()) io_.restart();
      io_.run_one_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  // A loopback port that is bound but not listening: dials to it are refused.
  tcp::acceptor reserve_port() {
    tcp::acceptor reserved(io_);
    reserved.open(tcp::v4());
    reserved.bind(tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    return reserved;
  }

  // A raw client, for bytes a real peer would not send. `closed` turns true once the other
  // end closes it.
  struct RawPeer {
    explicit RawPeer(asio::io_context& io) : socket(io) {}
    tcp::socket socket;
    bool closed = false;
  };

  std::shared_ptr<RawPeer> raw_connect(const tcp::endpoint& to, std::string_view bytes) {
    auto raw = std::make_shared<RawPeer>(io_);
    raw->socket.connect(to);
    asio::write(raw->socket, asio::buffer(bytes));
    asio::co_spawn(io_, read_until_closed(raw), asio::detached);
    return raw;
  }

  static asio::awaitable<void> read_until_closed(std::shared_ptr<RawPeer> raw) {
    std::array<char, 256> buffer{};
    for (;;) {  // until the transport closes the connection
      auto [ec, n] = co_await raw->socket.async_read_some(asio::buffer(buffer),
                                                          asio::as_tuple(asio::use_awaitable));
      if (ec) break;
    }
    raw->closed = true;
  }

  asio::io_context io_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

TEST(PeerHelloTest, NamesTheSenderAndRefusesAnythingElseWithTheOffset) {
  EXPECT_EQ(peer_hello(id(7)), "spofless-raft/1 7");
  Result<PeerHello> parsed = parse_peer_hello(peer_hello(id(18446744073709551615u)));
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->id, id(18446744073709551615u));
  EXPECT_FALSE(parsed->peer || parsed->client);

  // The addresses a server advertises: where peers dial it and where clients reach it.
  PeerHello full{id(3), tcp::endpoint(asio::ip::make_address("127.0.0.1"), 7103),
                 tcp::endpoint(asio::ip::make_address("127.0.0.2"), 6383)};
  EXPECT_EQ(peer_hello(full), "spofless-raft/1 3 peer=127.0.0.1:7103 client=127.0.0.2:6383");
  Result<PeerHello> back = parse_peer_hello(peer_hello(full));
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(*back, full);

  auto error = [](std::string_view payload) {
    Result<PeerHello> r = parse_peer_hello(payload);
    EXPECT_FALSE(r.is_ok()) << payload;
    return r.is_ok() ? std::string() : r.status().message();
  };
  EXPECT_THAT(error("spofless-raft/2 7"), HasSubstr("byte 14"));
  EXPECT_THAT(error("GET / HTTP/1.1\r\n"), HasSubstr("byte 0: found \"GET / HTTP/1.1??\""));
  EXPECT_THAT(error("spofless-raft/1 "), HasSubstr("byte 16: found \"\", expected a decimal"));
  EXPECT_THAT(error("spofless-raft/1 -3"), HasSubstr("byte 16"));
  EXPECT_THAT(error("spofless-raft/1 7x"), HasSubstr("byte 17: found \"x\" after the node id"));
  EXPECT_THAT(error("spofless-raft/1 7 "), HasSubstr("byte 18: found \"\", expected peer="));
  EXPECT_THAT(error("spofless-raft/1 7 peer=nowhere"), HasSubstr("byte 18: hello address"));
  EXPECT_THAT(error("spofless-raft/1 7 color=blue"), HasSubstr("expected peer=IP:PORT"));
  EXPECT_THAT(error("spofless-raft/1 0"), HasSubstr("node id 0 is reserved"));
  EXPECT_THAT(error("spofless-raft/1 18446744073709551616"), HasSubstr("out of range"));
}

TEST(PeerBackoffTest, GrowsExponentiallyWithFullJitterUpToTheCap) {
  SeededRandom random(42);
  const std::chrono::milliseconds min(50), max(2000);
  // After a lost connection (no failure yet) the wait is exactly the minimum.
  EXPECT_EQ(peer_backoff_delay(0, min, max, random), min);
  for (std::uint32_t failures = 1; failures < 10; ++failures) {
    std::chrono::milliseconds cap = std::min(max, min * (1 << failures));
    std::chrono::milliseconds lowest = cap, highest = min;
    for (int i = 0; i < 200; ++i) {
      std::chrono::milliseconds d = peer_backoff_delay(failures, min, max, random);
      ASSERT_GE(d, min) << "failures=" << failures;
      ASSERT_LE(d, cap) << "failures=" << failures;
      lowest = std::min(lowest, d);
      highest = std::max(highest, d);
    }
    // Full jitter: the draws spread over the whole window, not around its top.
    EXPECT_LT(lowest, min + (cap - min) / 4) << "failures=" << failures;
    EXPECT_GT(highest, cap - (cap - min) / 4) << "failures=" << failures;
  }
  EXPECT_LE(peer_backoff_delay(4'000'000'000u, min, max, random), max);
}

TEST_F(PeerTransportTest, TwoTransportsExchangeMessagesInOrder) {
  Node& a = start(options(1));
  Node& b = start(options(2));
  connect_all();
  for (std::uint64_t round = 1; round <= kMessagesPerPeer; ++round) {
    a.transport->send(heartbeat(1, 2, round));
    b.transport->send(heartbeat(2, 1, round));
  }
  ASSERT_TRUE(run_until([&] {
    return a.received.size() == kMessagesPerPeer && b.received.size() == kMessagesPerPeer;
  }));
  EXPECT_EQ(rounds_from(b.received, 1), one_to(kMessagesPerPeer));
  EXPECT_EQ(rounds_from(a.received, 2), one_to(kMessagesPerPeer));
  EXPECT_EQ(b.received.front().to, id(2));
  EXPECT_EQ(b.received.front().term, raft::Term{3});

  EXPECT_TRUE(a.transport->connected(id(2)));
  EXPECT_FALSE(a.transport->connected(id(3)));
  EXPECT_EQ(a.counter("spofless_peer_messages_sent_total", {{"peer", "2"}}), kMessagesPerPeer);
  EXPECT_EQ(b.counter("spofless_peer_messages_received_total", {{"peer", "1"}}), kMessagesPerPeer);
  nlohmann::json status = a.transport->status();
  EXPECT_EQ(status["self"], 1);
  EXPECT_EQ(status["peers"]["2"]["connected"], true);
  EXPECT_EQ(status["peers"]["2"]["sent"], kMessagesPerPeer);
  EXPECT_EQ(status["peers"]["2"]["queued"], 0);
  EXPECT_EQ(status["peers"]["2"]["dropped"], 0);
  EXPECT_EQ(status["inbound"].size(), 1u);
  EXPECT_EQ(status["inbound"][0]["peer"], 2);
}

TEST_F(PeerTransportTest, AnAppendArrivesWithItsEntriesIntact) {
  Node& a = start(options(1));
  Node& b = start(options(2));
  connect_all();
  raft::Message append;
  append.type = raft::MessageType::kAppend;
  append.from = id(1);
  append.to = id(2);
  append.term = raft::Term{4};
  append.index = raft::LogIndex{9};
  append.log_term = raft::Term{3};
  append.commit = raft::LogIndex{8};
  append.entries = {{raft::Term{4}, raft::LogIndex{10}, raft::EntryType::kNormal, "set k v"},
                    {raft::Term{4}, raft::LogIndex{11}, raft::EntryType::kNormal, "del k"}};
  a.transport->send(append);
  ASSERT_TRUE(run_until([&] { return b.received.size() == 1; }));
  EXPECT_EQ(b.received[0].entries, append.entries);
  EXPECT_EQ(b.received[0].index, append.index);
  EXPECT_EQ(b.received[0].commit, append.commit);
}

TEST_F(PeerTransportTest, ThreeTransportsDeliverEachMessageToItsAddresseeInOrder) {
  Node& a = start(options(1));
  Node& b = start(options(2));
  Node& c = start(options(3));
  connect_all();
  std::vector<Node*> all = {&a, &b, &c};
  for (std::uint64_t round = 1; round <= kMessagesPerPeer; ++round) {
    for (Node* from : all) {
      for (Node* to : all) {
        if (from != to) from->transport->send(heartbeat(from->id, to->id, round));
      }
    }
  }
  ASSERT_TRUE(run_until([&] {
    return a.received.size() == 2 * kMessagesPerPeer && b.received.size() == 2 * kMessagesPerPeer &&
           c.received.size() == 2 * kMessagesPerPeer;
  }));
  for (Node* to : all) {
    for (Node* from : all) {
      if (from == to) continue;
      EXPECT_EQ(rounds_from(to->received, from->id), one_to(kMessagesPerPeer))
          << from->id << " -> " << to->id;
    }
    for (const raft::Message& m : to->received) EXPECT_EQ(m.to, id(to->id));
  }
}

TEST_F(PeerTransportTest, MessagesQueueWhileAPeerIsDownAndArriveOnceItListens) {
  tcp::acceptor reserved = reserve_port();
  tcp::endpoint b_address = reserved.local_endpoint();
  Node& a = start(options(1, {{id(2), b_address}}));
  for (std::uint64_t round = 1; round <= 5; ++round) a.transport->send(heartbeat(1, 2, round));
  // Refused dials are retried with backoff; the messages wait.
  ASSERT_TRUE(run_until([&] {
    return a.counter("spofless_peer_dial_failures_total", {{"peer", "2"}}) >= 3;
  }));
  EXPECT_FALSE(a.transport->connected(id(2)));
  EXPECT_EQ(a.transport->status()["peers"]["2"]["queued"], 5);

  reserved.close();
  Node& b = start(options(2), b_address.port());
  ASSERT_TRUE(run_until([&] { return b.received.size() == 5; }));
  EXPECT_EQ(rounds_from(b.received, 1), one_to(5));
  EXPECT_TRUE(a.transport->connected(id(2)));
  EXPECT_EQ(a.counter("spofless_peer_reconnects_total", {{"peer", "2"}}), 0u);

  // The peer restarts: the transport notices, redials and delivers what came meanwhile.
  b.transport->stop();
  ASSERT_TRUE(run_until([&] { return !a.transport->connected(id(2)); }));
  a.transport->send(heartbeat(1, 2, 6));
  Node& b2 = start(options(2), b_address.port());
  ASSERT_TRUE(run_until([&] { return b2.received.size() == 1; }));
  EXPECT_EQ(b2.received[0].round, 6u);
  EXPECT_EQ(a.counter("spofless_peer_reconnects_total", {{"peer", "2"}}), 1u);
  EXPECT_EQ(a.transport->status()["peers"]["2"]["reconnects"], 1);
}

TEST_F(PeerTransportTest, AFullQueueDropsNewMessagesWhileOtherPeersStillReceive) {
  tcp::acceptor reserved = reserve_port();
  Node& b = start(options(2));
  PeerTransportOptions o = options(1, {{id(2), b.endpoint}, {id(3), reserved.local_endpoint()}});
  o.max_queue_messages = 3;
  Node& a = start(o);
  for (std::uint64_t round = 1; round <= 5; ++round) {
    a.transport->send(heartbeat(1, 3, round));
    a.transport->send(heartbeat(1, 2, round));
  }
  // The dead peer keeps the first three (the oldest); the two newer ones are dropped.
  EXPECT_EQ(a.dropped("3", "queue_full"), 2u);
  EXPECT_EQ(a.transport->status()["peers"]["3"]["queued"], 3);
  EXPECT_EQ(a.transport->status()["peers"]["3"]["dropped"], 2);
  // Peer 2's queue filled too before its connection was up; what it kept arrives in order.
  ASSERT_TRUE(run_until([&] { return b.received.size() == 3; }));
  EXPECT_EQ(rounds_from(b.received, 1), one_to(3));
  EXPECT_EQ(a.dropped("2", "queue_full"), 2u);
  // Once connected, peer 2 drains as fast as it is fed while peer 3 stays full.
  for (std::uint64_t round = 6; round <= 3 + kMessagesPerPeer; ++round) {
    a.transport->send(heartbeat(1, 2, round));
    ASSERT_TRUE(run_until([&] { return b.received.size() == round - 2; }));
    a.transport->send(heartbeat(1, 3, round));
  }
  EXPECT_EQ(a.dropped("2", "queue_full"), 2u);
  EXPECT_EQ(a.dropped("3", "queue_full"), 2u + kMessagesPerPeer - 2);
  EXPECT_FALSE(a.transport->connected(id(3)));
}

TEST_F(PeerTransportTest, ASendToAServerThatIsNotAPeerIsDroppedAndCounted) {
  Node& a = start(options(1));
  a.transport->send(heartbeat(1, 9, 1));
  EXPECT_EQ(a.dropped("9", "unknown_peer"), 1u);
}

TEST_F(PeerTransportTest, AGarbageFrameClosesThatConnectionOnly) {
  Node& a = start(options(1));
  Node& b = start(options(2));
  connect_all();
  a.transport->send(heartbeat(1, 2, 1));
  ASSERT_TRUE(run_until([&] { return b.received.size() == 1; }));

  std::shared_ptr<RawPeer> raw = raw_connect(
      b.endpoint, frame(peer_hello(id(7))) + frame("\xff\xff\xff not a protobuf message"));
  ASSERT_TRUE(run_until([&] { return raw->closed; }));
  EXPECT_EQ(b.counter("spofless_peer_bad_frames_total"), 1u);

  a.transport->send(heartbeat(1, 2, 2));
  ASSERT_TRUE(run_until([&] { return b.received.size() == 2; }));
  EXPECT_EQ(rounds_from(b.received, 1), one_to(2));
  EXPECT_EQ(a.counter("spofless_peer_reconnects_total", {{"peer", "2"}}), 0u);
}

TEST_F(PeerTransportTest, AnOversizedLengthPrefixClosesThatConnectionOnly) {
  Node& a = start(options(1));
  Node& b = start(options(2));
  connect_all();
  a.transport->send(heartbeat(1, 2, 1));
  ASSERT_TRUE(run_until([&] { return b.received.size() == 1; }));

  std::shared_ptr<RawPeer> raw =
      raw_connect(b.endpoint, frame(peer_hello(id(7))) + std::string("\xff\xff\xff\xff", 4));
  // Not a hello at all: "GET " read as a length is far above the frame limit.
  std::shared_ptr<RawPeer> http = raw_connect(b.endpoint, "GET / HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(run_until([&] { return raw->closed && http->closed; }));
  EXPECT_EQ(b.counter("spofless_peer_bad_frames_total"), 2u);

  a.transport->send(heartbeat(1, 2, 2));
  ASSERT_TRUE(run_until([&] { return b.received.size() == 2; }));
  EXPECT_EQ(rounds_from(b.received, 1), one_to(2));
}

TEST_F(PeerTransportTest, AMessageWhoseSenderContradictsTheHelloIsDropped) {
  Node& b = start(options(2));
  std::shared_ptr<RawPeer> raw = raw_connect(
      b.endpoint, frame(peer_hello(id(7))) + frame(proto::encode_message(heartbeat(8, 2, 1))) +
                      frame(proto::encode_message(heartbeat(7, 5, 2))) +
                      frame(proto::encode_message(heartbeat(7, 2, 3))));
  ASSERT_TRUE(run_until([&] { return b.received.size() == 1; }));
  EXPECT_EQ(b.received[0].round, 3u);
  // 7 is not among b's peers, so its label is "other".
  EXPECT_EQ(b.dropped("other", "wrong_sender"), 1u);
  EXPECT_EQ(b.dropped("other", "wrong_recipient"), 1u);
  EXPECT_EQ(b.counter("spofless_peer_messages_received_total", {{"peer", "other"}}), 1u);
  EXPECT_FALSE(raw->closed);
}

TEST_F(PeerTransportTest, AConnectionWithoutAValidHelloIsClosed) {
  PeerTransportOptions o = options(2);
  o.hello_timeout = std::chrono::milliseconds(50);
  Node& b = start(o);
  std::shared_ptr<RawPeer> silent = raw_connect(b.endpoint, "");
  std::shared_ptr<RawPeer> itself = raw_connect(b.endpoint, frame(peer_hello(id(2))));
  std::shared_ptr<RawPeer> other_version = raw_connect(b.endpoint, frame("spofless-raft/2 7"));
  ASSERT_TRUE(run_until([&] { return silent->closed && itself->closed && other_version->closed; }));
  // A silent client is not a bad frame, only a slow or idle one.
  EXPECT_EQ(b.counter("spofless_peer_bad_frames_total"), 2u);
  EXPECT_TRUE(b.transport->status()["inbound"].empty());
}

TEST_F(PeerTransportTest, ANewerConnectionFromTheSamePeerReplacesTheOlder) {
  Node& b = start(options(2));
  std::shared_ptr<RawPeer> old = raw_connect(b.endpoint, frame(peer_hello(id(7))));
  ASSERT_TRUE(run_until([&] { return b.transport->status()["inbound"].size() == 1; }));
  std::shared_ptr<RawPeer> newer = raw_connect(b.endpoint, frame(peer_hello(id(7))));
  ASSERT_TRUE(run_until([&] { return old->closed; }));
  EXPECT_FALSE(newer->closed);
  EXPECT_EQ(b.counter("spofless_peer_bad_frames_total"), 0u);
}

TEST_F(PeerTransportTest, InboundConnectionsBeyondTheLimitAreClosedAtOnce) {
  Node& b = start(options(2));
  std::vector<std::shared_ptr<RawPeer>> raws;
  for (std::size_t i = 0; i < limits::kPeerMaxInboundConnections; ++i) {
    raws.push_back(raw_connect(b.endpoint, frame(peer_hello(id(100 + i)))));
  }
  ASSERT_TRUE(run_until([&] {
    return b.transport->status()["inbound"].size() == limits::kPeerMaxInboundConnections;
  }));
  std::shared_ptr<RawPeer> extra = raw_connect(b.endpoint, frame(peer_hello(id(99))));
  ASSERT_TRUE(run_until([&] { return extra->closed; }));
  EXPECT_EQ(b.counter("spofless_peer_connections_rejected_total"), 1u);
  for (const auto& raw : raws) EXPECT_FALSE(raw->closed);
}

TEST_F(PeerTransportTest, SetPeersClosesRemovedPeersAndDialsNewOnes) {
  Node& a = start(options(1));
  Node& b = start(options(2));
  Node& c = start(options(3));
  a.transport->set_peers({{id(2), b.endpoint}});
  a.transport->send(heartbeat(1, 2, 1));
  ASSERT_TRUE(run_until([&] { return b.received.size() == 1; }));

  a.transport->set_peers({{id(3), c.endpoint}});
  EXPECT_FALSE(a.transport->connected(id(2)));
  a.transport->send(heartbeat(1, 2, 2));
  a.transport->send(heartbeat(1, 3, 3));
  ASSERT_TRUE(run_until([&] { return c.received.size() == 1; }));
  EXPECT_EQ(c.received[0].round, 3u);
  EXPECT_EQ(a.dropped("2", "unknown_peer"), 1u);
  // b sees its inbound connection from a close.
  ASSERT_TRUE(run_until([&] { return b.transport->status()["inbound"].empty(); }));
  EXPECT_EQ(b.received.size(), 1u);
  nlohmann::json peers = a.transport->status()["peers"];
  EXPECT_EQ(peers.size(), 1u);
  EXPECT_TRUE(peers.contains("3"));
}

TEST_F(PeerTransportTest, StopClosesEverythingAndLaterSendsDoNothing) {
  Node& a = start(options(1));
  Node& b = start(options(2));
  connect_all();
  a.transport->send(heartbeat(1, 2, 1));
  ASSERT_TRUE(run_until([&] { return b.received.size() == 1 && a.received.empty(); }));
  ASSERT_TRUE(run_until([&] { return b.transport->connected(id(1)); }));
  a.transport->stop();
  EXPECT_FALSE(a.transport->connected(id(2)));
  a.transport->send(heartbeat(1, 2, 2));
  ASSERT_TRUE(run_until(
      [&] { return !b.transport->connected(id(1)) && b.transport->status()["inbound"].empty(); }));
  EXPECT_EQ(b.received.size(), 1u);
}

}  // namespace
}  // namespace spofless::io
