#include "kv/keyspace.h"

#include <algorithm>
#include <iterator>

#include "core/check.h"

namespace spofless::kv {

std::uint64_t scan_hash(std::string_view key) {
  // FNV-1a, 64-bit.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : key) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 0x100000001b3ULL;
  }
  // A finalizer (xor-shift-multiply rounds): FNV-1a's high bits depend weakly on the last
  // bytes, and keys often differ only there ("user:1", "user:2").
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

const std::string* Keyspace::find(std::string_view key) const {
  auto it = live_.find(PositionView{scan_hash(key), key});
  return it == live_.end() ? nullptr : &it->second.value;
}

void Keyspace::put(std::string_view key, std::string value, std::uint64_t index) {
  const PositionView at{scan_hash(key), key};
  auto it = live_.find(at);
  if (it == live_.end()) {
    forget_tombstone(key);
    live_.emplace(Position{at.hash, std::string(key)}, Slot{std::move(value), index});
    return;
  }
  SPOFLESS_CHECK(it->second.version <= index, "versions never go backwards");
  it->second = Slot{std::move(value), index};
}

bool Keyspace::erase(std::string_view key, std::uint64_t index) {
  auto it = live_.find(PositionView{scan_hash(key), key});
  if (it == live_.end()) return false;
  SPOFLESS_CHECK(it->second.version <= index, "versions never go backwards");
  auto node = live_.extract(it);
  bury(std::move(node.key().key), index);
  return true;
}

void Keyspace::bury(std::string key, std::uint64_t index) {
  tombstone_age_.emplace(index, key);
  tombstones_.emplace(std::move(key), index);
  // One insertion evicts at most one tombstone.
  if (tombstones_.size() > max_tombstones_) {
    auto oldest = tombstone_age_.begin();
    horizon_ = std::max(horizon_, oldest->first);
    tombstones_.erase(oldest->second);
    tombstone_age_.erase(oldest);
  }
}

void Keyspace::forget_tombstone(std::string_view key) {
  auto it = tombstones_.find(key);
  if (it == tombstones_.end()) return;
  tombstone_age_.erase({it->second, it->first});
  tombstones_.erase(it);
}

bool Keyspace::modified_after(std::string_view key, std::uint64_t index) const {
  if (auto it = live_.find(PositionView{scan_hash(key), key}); it != live_.end()) {
    return it->second.version > index;
  }
  if (auto it = tombstones_.find(key); it != tombstones_.end()) return it->second > index;
  return horizon_ > index;
}

Keyspace::Page Keyspace::scan(std::uint64_t cursor, std::size_t count,
                              const std::function<bool(const std::string&)>& keep) const {
  Page page;
  count = std::max<std::size_t>(count, 1);  // so that a page ends after a key it examined
  auto it = live_.lower_bound(PositionView{cursor, std::string_view()});
  // Bounded by `count`, then by the size of one hash group.
  for (std::size_t examined = 0; it != live_.end(); ++it, ++examined) {
    if (examined >= count && it->first.hash != std::prev(it)->first.hash) break;
    if (keep(it->first.key)) page.keys.push_back(it->first.key);
  }
  page.cursor = it == live_.end() ? 0 : it->first.hash;
  return page;
}

void Keyspace::for_each_live(
    const std::function<void(const std::string&, const std::string&, std::uint64_t)>& f) const {
  for (const auto& [position, slot] : live_) f(position.key, slot.value, slot.version);
}

void Keyspace::for_each_tombstone(
    const std::function<void(const std::string&, std::uint64_t)>& f) const {
  for (const auto& [key, version] : tombstones_) f(key, version);
}

void Keyspace::restore_live(std::string key, std::string value, std::uint64_t version) {
  const std::uint64_t hash = scan_hash(key);
  bool inserted =
      live_.emplace(Position{hash, std::move(key)}, Slot{std::move(value), version}).second;
  SPOFLESS_CHECK(inserted, "a restored key is restored once");
}

void Keyspace::restore_tombstone(std::string key, std::uint64_t version) {
  SPOFLESS_CHECK(tombstones_.size() < max_tombstones_, "restore checks the tombstone count");
  tombstone_age_.emplace(version, key);
  bool inserted = tombstones_.emplace(std::move(key), version).second;
  SPOFLESS_CHECK(inserted, "a restored tombstone is restored once");
}

bool Keyspace::has_tombstone(std::string_view key) const {
  return tombstones_.find(key) != tombstones_.end();
}

}  // namespace spofless::kv
