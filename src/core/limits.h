#pragma once

// Every bound of the system, named once. A limit that is not here does not exist.
// Related limits are tied together with static_asserts so that changing one cannot
// silently break another.

#include <cstddef>
#include <cstdint>

namespace spofless::limits {

// --- Topology files (spofless analyze / up / drill) ---
inline constexpr std::size_t kTopologyFileMaxBytes = 1 << 20;
inline constexpr std::size_t kTopologyMaxHosts = 1024;
inline constexpr std::size_t kTopologyMaxComponents = 256;
inline constexpr std::uint32_t kComponentMaxReplicas = 1024;
inline constexpr std::size_t kNameMaxBytes = 63;  // a DNS label: names become host names.
inline constexpr std::size_t kKubernetesMaxDocuments = 1024;

// --- Admin HTTP server (/health /ready /metrics /status) ---
inline constexpr std::size_t kAdminMaxConnections = 64;
inline constexpr std::size_t kAdminRequestMaxBytes = std::size_t{8} * 1024;
inline constexpr std::uint32_t kAdminIdleTimeoutMs = 10'000;
inline constexpr std::uint32_t kDrainTimeoutMs = 10'000;

// --- Logging ---
inline constexpr std::size_t kLogFieldMaxBytes = std::size_t{4} * 1024;

static_assert(kAdminRequestMaxBytes >= 1024, "an admin request line and headers must fit");
static_assert(kDrainTimeoutMs >= kAdminIdleTimeoutMs / 10, "drain must outlast a scrape");

// --- Admin HTTP server, continued ---
// After a failed accept (e.g. EMFILE) the admin acceptor waits this long before trying again,
// so that a persistent error cannot spin the io_context thread.
inline constexpr std::uint32_t kAdminAcceptRetryMs = 100;
static_assert(kAdminAcceptRetryMs < kAdminIdleTimeoutMs, "accept retries must be quick");

// --- Raft ---
inline constexpr std::uint32_t kRaftElectionTimeoutTicks = 10;
inline constexpr std::uint32_t kRaftHeartbeatTicks = 2;
inline constexpr std::size_t kRaftMaxInflightAppends = 8;       // per follower
inline constexpr std::size_t kRaftMaxEntriesPerAppend = 64;
inline constexpr std::size_t kRaftMaxUncommittedEntries = 4096;  // proposals beyond: shed
inline constexpr std::size_t kRaftMaxVoters = 9;
inline constexpr std::size_t kRaftMaxPendingReads = 4096;  // read_index() beyond: shed
// Lease reads assume no two servers' clocks run more than this far apart in rate.
inline constexpr std::uint32_t kRaftMaxClockDriftPercent = 10;
// The split-brain guard's endorsements (vrrp/quorum.h) count a lease this much shorter on the
// asker's clock than the voter keeps it on its own.
inline constexpr std::uint32_t kVrrpMaxClockDriftPercent = 10;
// A follower must hear several heartbeats per election timeout, or a single lost one
// starts an election (Raft §5.2: broadcastTime << electionTimeout).
static_assert(kRaftHeartbeatTicks < kRaftElectionTimeoutTicks / 2,
              "heartbeat < election timeout / 2");

// --- Linearizability checker (src/check) ---
// Operations on one key that one search accepts. Every memoized search state holds one bit per
// operation of its key, so this bounds the size of a state.
inline constexpr std::size_t kLinearizabilityMaxOperationsPerKey = 4096;
// Operations in one history, over all keys.
inline constexpr std::size_t kLinearizabilityMaxOperations = std::size_t{1} << 20;
// Default search budget per key, in steps: one event visited, or one 64-bit word of a state
// hashed and stored. It bounds time and the memo alike (under about 30 bytes per step).
inline constexpr std::uint64_t kLinearizabilityDefaultSearchSteps = std::uint64_t{1} << 21;
// Bytes of a value shown in an explanation before it is cut short with "...".
inline constexpr std::size_t kLinearizabilityValueShownMaxBytes = 40;
static_assert(kLinearizabilityMaxOperationsPerKey <= kLinearizabilityMaxOperations,
              "a key's history is part of the history");
static_assert(kLinearizabilityDefaultSearchSteps >=
                  4 * kLinearizabilityMaxOperationsPerKey *
                      (kLinearizabilityMaxOperationsPerKey / 64 + 2),
              "the default budget walks the largest key's history in order several times over");

// --- Peer transport: Raft messages between servers (src/proto) ---
// Payload bytes of one peer frame. A snapshot travels as one message, so this also bounds the
// state machine's serialized snapshot (a little less: the message's other fields share it).
inline constexpr std::size_t kPeerMaxFrameBytes = std::size_t{64} << 20;
// Entries in one decoded append. The leader sends at most max_entries_per_append (default
// kRaftMaxEntriesPerAppend); this leaves room for a configured larger batch.
inline constexpr std::size_t kPeerMaxEntriesPerMessage = 4096;
// Ids (voters and learners) in one decoded membership.
inline constexpr std::size_t kPeerMaxMembers = 1024;
static_assert(kRaftMaxEntriesPerAppend <= kPeerMaxEntriesPerMessage,
              "a default append must pass the peer decoder");
static_assert(kRaftMaxVoters <= kPeerMaxMembers, "every allowed voter set must pass the decoder");
static_assert(kPeerMaxFrameBytes < std::size_t{1} << 31,
              "a frame length fits the u32 prefix and protobuf's 2 GiB message limit");

// --- spofless db: the server's queues (load shedding answers -BUSY beyond them) ---
inline constexpr std::size_t kDbMaxPendingWrites = 16'384;  // proposed, not yet applied
inline constexpr std::size_t kDbMaxPendingReads = 16'384;   // waiting for a read index
inline constexpr std::size_t kDbMaxForwardQueue = 16'384;   // a follower's writes in flight to the leader
inline constexpr std::size_t kDbMaxClients = 10'000;        // Redis's maxclients default
inline constexpr std::size_t kDbMaxQueuedInMulti = 4'096;   // commands queued between MULTI and EXEC
inline constexpr std::size_t kDbMaxWatchedKeys = 1'024;     // per connection
inline constexpr std::size_t kDbMaxReplyBacklogBytes = 64u << 20;  // unsent replies per client
static_assert(kDbMaxPendingWrites >= kRaftMaxUncommittedEntries,
              "the raft core sheds first, with a clearer reason");

// --- Peer transport: connections, queues and retries (src/io/peer_transport) ---
// Messages queued for one peer, in flight included. Beyond it new messages are dropped: Raft
// tolerates loss, and a slow or dead peer must not grow memory.
inline constexpr std::size_t kPeerMaxQueueMessages = 4096;
// Bytes queued for one peer, in flight included: the largest message in flight and another
// queued behind it must fit.
inline constexpr std::size_t kPeerMaxQueueBytes = std::size_t{160} << 20;
// Accepted connections at a time; more are closed at once. A newer connection whose hello
// names the same server replaces the older one, so each peer holds at most one.
inline constexpr std::size_t kPeerMaxInboundConnections = 64;
// Bytes read from an inbound connection per read call.
inline constexpr std::size_t kPeerReadChunkBytes = std::size_t{64} * 1024;
// Dial retries: exponential backoff with full jitter between these, reset by a connect.
inline constexpr std::uint32_t kPeerBackoffMinMs = 50;
inline constexpr std::uint32_t kPeerBackoffMaxMs = 2'000;
inline constexpr std::uint32_t kPeerConnectTimeoutMs = 1'000;
// An inbound connection must send its hello within this long.
inline constexpr std::uint32_t kPeerHelloTimeoutMs = 5'000;
// TCP_USER_TIMEOUT of an outbound connection: data unacknowledged this long aborts it, so a
// peer that vanished without a FIN or RST is noticed and redialed.
inline constexpr std::uint32_t kPeerUserTimeoutMs = 10'000;
// After a failed accept (e.g. EMFILE), wait this long before trying again.
inline constexpr std::uint32_t kPeerAcceptRetryMs = 100;
// A send buffer that a large message (a snapshot) grew beyond this is freed once written, so
// that one snapshot does not pin its size in memory for the life of the connection.
inline constexpr std::size_t kPeerKeptBufferBytes = std::size_t{1} << 20;
static_assert(kPeerMaxQueueBytes > 2 * kPeerMaxFrameBytes, "two largest messages fit a queue");
static_assert(kPeerMaxInboundConnections >= 2 * kRaftMaxVoters,
              "every voter can connect while its previous connection lingers");
static_assert(kPeerBackoffMinMs > 0 && kPeerBackoffMinMs <= kPeerBackoffMaxMs,
              "backoff bounds are ordered");

// --- RESP2 codec (src/proto/resp): requests from Redis clients, replies to them ---
// Arguments of one request, and values of one reply over all nesting levels (Redis's
// multibulk bound before 7.0).
inline constexpr std::size_t kRespMaxArgs = std::size_t{1024} * 1024;
// Bytes of one bulk string. Redis allows 512 MiB (proto-max-bulk-len); spofless keeps whole
// requests in Raft entries and in memory on every replica, and its keys and values are small,
// so a bulk this large is a mistake or an attack rather than data.
inline constexpr std::size_t kRespMaxBulkBytes = std::size_t{16} << 20;
// Bytes of an inline command line, and of any header line (*N, $N, +..., -...), CRLF
// excluded (Redis's PROTO_INLINE_MAX_SIZE).
inline constexpr std::size_t kRespMaxInlineBytes = std::size_t{64} * 1024;
// Bytes on the wire of one request or one reply, so that kRespMaxArgs bulks of
// kRespMaxBulkBytes each cannot add up (Redis bounds it by client-query-buffer-limit, 1 GiB).
inline constexpr std::size_t kRespMaxMessageBytes = std::size_t{64} << 20;
// Arrays nested in one reply. The reply parser keeps its own stack of this depth; nothing
// recurses on input.
inline constexpr std::size_t kRespMaxNesting = 32;
static_assert(kRespMaxMessageBytes >= 2 * kRespMaxBulkBytes, "a SET of the largest value fits");
static_assert(kRespMaxInlineBytes >= 64, "a length line (at most 21 bytes) fits a header line");
static_assert(kRespMaxInlineBytes <= kRespMaxBulkBytes && kRespMaxInlineBytes / 2 < kRespMaxArgs,
              "an inline request stays within the bounds of a multibulk one");

// --- Storage: write-ahead log, snapshot and vote files (src/storage) ---
// A new WAL segment is started once the current one has grown past this.
inline constexpr std::size_t kWalSegmentBytes = std::size_t{64} << 20;
// Payload bytes of one WAL record (an entry, a hard state, a log-start marker). A longer
// length field is corruption, never an allocation.
inline constexpr std::size_t kWalMaxRecordBytes = std::size_t{64} << 20;
// A segment is at most a full one plus the record that crossed the line (and its header);
// open() reports a bigger file as corruption instead of reading it into memory.
inline constexpr std::size_t kWalMaxSegmentFileBytes =
    kWalSegmentBytes + kWalMaxRecordBytes + std::size_t{4096};
// Segment files in one data directory (4 TiB of 64 MiB segments); compaction keeps far fewer.
inline constexpr std::size_t kWalMaxSegments = std::size_t{1} << 16;
// Names listed in a data directory on open(); more is not a directory this server wrote.
inline constexpr std::size_t kStorageMaxDirEntries = kWalMaxSegments + 1024;
// Payload bytes of one snapshot file; open() reads the whole snapshot into memory.
inline constexpr std::size_t kSnapshotMaxBytes = std::size_t{1} << 30;
// Snapshot files kept: the newest, and one to fall back on if the newest is found corrupt.
inline constexpr std::size_t kSnapshotFilesKept = 2;
static_assert(kPeerMaxFrameBytes <= kWalMaxRecordBytes,
              "every entry a leader can send fits one WAL record");
static_assert(kPeerMaxFrameBytes <= kSnapshotMaxBytes,
              "every snapshot a leader can send fits a snapshot file");
static_assert(kWalMaxRecordBytes < std::size_t{1} << 32, "a record length fits its u32 field");
static_assert(kSnapshotMaxBytes < std::size_t{1} << 31, "protobuf parses at most 2 GiB");
static_assert(kSnapshotFilesKept >= 2, "a corrupt newest snapshot needs an older one");

// --- Key-value state machine (src/kv) ---
// Live keys in the database; a write that would add one more is refused with an OOM error,
// the same way on every replica.
inline constexpr std::size_t kKvMaxKeys = std::size_t{1} << 24;
// Deleted keys whose deletion index is remembered so that WATCH sees delete-and-recreate.
// Evicting the oldest raises the horizon below which an absent key counts as modified.
inline constexpr std::size_t kKvMaxTombstones = std::size_t{1} << 16;
// Live exactly-once client sessions (Raft thesis 6.3); registering one more evicts the
// least recently active.
inline constexpr std::size_t kKvMaxSessions = std::size_t{1} << 16;
// A session with no command for this long (by the leader-stamped time) expires.
inline constexpr std::uint64_t kKvDefaultSessionTtlMs = std::uint64_t{60} * 60 * 1000;
// Keys one SCAN call examines at most (a larger COUNT is cut to this), and its default COUNT.
inline constexpr std::size_t kKvMaxScanCount = 1000;
inline constexpr std::size_t kKvScanDefaultCount = 10;
// Arguments of one command: Redis's own bound on a multibulk request's length.
inline constexpr std::size_t kKvMaxCommandArgs = std::size_t{1} << 20;
// Commands queued in one MULTI ... EXEC, and keys it WATCHes.
inline constexpr std::size_t kKvMaxTransactionOps = 4096;
inline constexpr std::size_t kKvMaxWatchedKeys = 4096;
static_assert(kKvScanDefaultCount >= 1 && kKvScanDefaultCount <= kKvMaxScanCount,
              "the default COUNT is a valid COUNT");
static_assert(kKvMaxTransactionOps <= kKvMaxCommandArgs && kKvMaxWatchedKeys <= kKvMaxCommandArgs,
              "a transaction is bounded like the commands it queues");
static_assert(kDbMaxQueuedInMulti <= kKvMaxTransactionOps && kDbMaxWatchedKeys <= kKvMaxWatchedKeys,
              "every EXEC the db server builds is one the state machine decodes");

// --- Db client library (src/client) ---
// Tries of one client call (connects, requests, backoffs) before it gives up, whatever its
// retry_for deadline says: a fake clock or a server that answers at once cannot spin forever.
inline constexpr std::size_t kDbClientMaxAttemptsPerCall = 1000;
// Backoff before a retry: uniform in [0, min(cap, base * 2^retry)] (full jitter).
inline constexpr std::uint32_t kDbClientBackoffBaseMs = 25;
inline constexpr std::uint32_t kDbClientBackoffCapMs = 500;
// Resolved addresses of one node's host that a connect tries.
inline constexpr std::size_t kDbClientMaxAddressesPerHost = 8;
// Bytes of one reply the client reads before it calls the reply garbled.
inline constexpr std::size_t kDbClientReplyMaxBytes = kRespMaxMessageBytes;
// Watched keys and queued commands of one transaction.
inline constexpr std::size_t kDbClientMaxTransactionKeys = 64;
inline constexpr std::size_t kDbClientMaxTransactionCommands = 1024;
static_assert(kDbClientBackoffBaseMs > 0 && kDbClientBackoffBaseMs <= kDbClientBackoffCapMs,
              "backoff grows from base up to cap");
static_assert(kDbClientMaxAttemptsPerCall >= 2 * (kDbClientBackoffCapMs / kDbClientBackoffBaseMs),
              "enough tries to reach the backoff cap and stay there a while");
static_assert(kDbClientMaxTransactionKeys <= kKvMaxWatchedKeys &&
                  kDbClientMaxTransactionCommands <= kKvMaxTransactionOps,
              "every transaction the client builds is one the server accepts");

}  // namespace spofless::limits
