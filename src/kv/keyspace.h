#pragma once

// The keys, their values and versions, and the tombstones of deleted keys.
//
// A key's version is the log index of its last modification. A deleted key leaves a tombstone
// with the deletion's index, so that WATCH sees a delete-and-recreate. At most
// `max_tombstones` are kept: evicting the oldest raises the horizon, the largest evicted index.
// Invariant: every modification of an absent, tombstone-less key happened at or below the
// horizon, so modified_after(key, i) is exact for present keys and for tombstones and
// conservative (true when i < horizon) for the rest.
//
// Live keys are ordered by (scan_hash(key), key): SCAN walks that order and its cursor is the
// next hash to visit, so keys added or deleted during a SCAN cannot move the others.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spofless::kv {

// A fixed 64-bit hash of a key (FNV-1a, then a 64-bit finalizer to spread the bits): the same
// on every replica and in every release, since SCAN cursors cross replicas and restarts.
std::uint64_t scan_hash(std::string_view key);

// Thread: owned by its StateMachine; single-threaded.
class Keyspace {
 public:
  struct Page {
    std::uint64_t cursor = 0;  // where the next call starts; 0 when the walk is over
    std::vector<std::string> keys;
  };

  explicit Keyspace(std::size_t max_tombstones) : max_tombstones_(max_tombstones) {}

  // The value of `key`, or null. Valid until the next modification.
  const std::string* find(std::string_view key) const;
  std::size_t size() const { return live_.size(); }

  // Sets `key` to `value`, modified at `index`. REQUIRES: index >= every version so far.
  void put(std::string_view key, std::string value, std::uint64_t index);
  // Deletes `key` at `index`; false (and no change) when it is absent.
  bool erase(std::string_view key, std::uint64_t index);

  // True when `key` was (or may have been) modified at an index above `index`.
  bool modified_after(std::string_view key, std::uint64_t index) const;
  std::uint64_t horizon() const { return horizon_; }

  // Examines live keys in scan order from `cursor`: at least `count` of them unless the walk
  // ends, plus the rest of the last key's hash group, so that the next cursor starts a new
  // hash. Returns those `keep` accepts. A key present from the first call to the last is
  // returned exactly once; one added or deleted meanwhile at most once.
  Page scan(std::uint64_t cursor, std::size_t count,
            const std::function<bool(const std::string&)>& keep) const;

  // Everything, in a fixed order (for snapshots), and its inverse. The restore_* functions
  // REQUIRE a fresh Keyspace and keys not already restored.
  void for_each_live(
      const std::function<void(const std::string&, const std::string&, std::uint64_t)>& f) const;
  void for_each_tombstone(const std::function<void(const std::string&, std::uint64_t)>& f) const;
  void restore_live(std::string key, std::string value, std::uint64_t version);
  void restore_tombstone(std::string key, std::uint64_t version);
  void restore_horizon(std::uint64_t horizon) { horizon_ = horizon; }
  std::size_t tombstone_count() const { return tombstones_.size(); }
  bool has_tombstone(std::string_view key) const;

 private:
  struct Slot {
    std::string value;
    std::uint64_t version = 0;
  };
  // A live key's position in scan order; transparent so that a lookup does not copy the key.
  struct Position {
    std::uint64_t hash = 0;
    std::string key;
  };
  struct PositionView {
    std::uint64_t hash = 0;
    std::string_view key;
  };
  struct ScanOrder {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return a.hash != b.hash ? a.hash < b.hash : std::string_view(a.key) < std::string_view(b.key);
    }
  };

  void bury(std::string key, std::uint64_t index);
  void forget_tombstone(std::string_view key);

  std::size_t max_tombstones_;
  std::map<Position, Slot, ScanOrder> live_;
  std::map<std::string, std::uint64_t, std::less<>> tombstones_;   // key -> deletion index
  std::set<std::pair<std::uint64_t, std::string>> tombstone_age_;  // oldest first
  std::uint64_t horizon_ = 0;
};

}  // namespace spofless::kv
