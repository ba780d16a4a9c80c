#pragma once

// Helpers for the storage tests: a temporary directory, entries, and open() in one call.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <stdlib.h>

#include "storage/disk_storage.h"

namespace spofless::raft {

// How gtest shows an entry in a failure.
inline void PrintTo(const Entry& e, std::ostream* os) {
  *os << "{index " << e.index.value << " term " << e.term.value << " data \"" << e.data << "\"}";
}

}  // namespace spofless::raft

namespace spofless::storage::testing {

// A fresh directory under /tmp, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/spofless-storage-XXXXXX";
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline raft::Entry entry(std::uint64_t index, std::uint64_t term, std::string data = "") {
  if (data.empty()) data = "value-" + std::to_string(index) + "-" + std::to_string(term);
  return raft::Entry{raft::Term{term}, raft::LogIndex{index}, raft::EntryType::kNormal,
                     std::move(data)};
}

// Entries first..last, all in `term`.
inline std::vector<raft::Entry> entries(std::uint64_t first, std::uint64_t last,
                                        std::uint64_t term) {
  std::vector<raft::Entry> out;
  for (std::uint64_t i = first; i <= last; ++i) out.push_back(entry(i, term));
  return out;
}

inline raft::Snapshot snapshot(std::uint64_t index, std::uint64_t term, std::string data) {
  return raft::Snapshot{raft::LogIndex{index}, raft::Term{term},
                        raft::Membership{{raft::NodeId{1}, raft::NodeId{2}, raft::NodeId{3}}, {}},
                        std::move(data)};
}

inline raft::Ready ready_with(std::vector<raft::Entry> es,
                              std::optional<raft::HardState> hs = std::nullopt) {
  raft::Ready rd;
  rd.entries = std::move(es);
  rd.hard_state = hs;
  return rd;
}

inline raft::HardState hard_state(std::uint64_t term, std::uint64_t vote, std::uint64_t commit) {
  return raft::HardState{raft::Term{term}, raft::NodeId{vote}, raft::LogIndex{commit}};
}

// What open() returned, for tests to look at.
struct Opened {
  std::unique_ptr<DiskStorage> storage;
  raft::PersistentState state;
  RecoveryReport report;
  Status status;
};

inline StorageOptions fast_options(std::size_t segment_bytes = limits::kWalSegmentBytes) {
  return StorageOptions{segment_bytes, false};
}

inline Opened open_dir(const std::filesystem::path& dir, StorageOptions options = fast_options()) {
  Opened out;
  Result<std::unique_ptr<DiskStorage>> storage =
      DiskStorage::open(dir, options, out.state, out.report);
  out.status = storage.status();
  if (storage) out.storage = std::move(storage).value();
  return out;
}

inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The files in `dir` whose names end with `suffix`, sorted.
inline std::vector<std::string> files_ending(const std::filesystem::path& dir,
                                             const std::string& suffix) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace spofless::storage::testing
