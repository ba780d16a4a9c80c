#pragma once

// Length-prefixed frames for the peer TCP transport: [u32 big-endian payload length][payload].
// One frame carries one encoded Raft message (proto/raft_codec.h). A payload has 1 to
// max_frame_bytes bytes: an empty one is never sent (a valid message names its sender), so a
// zero length means the stream is out of step.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/limits.h"
#include "core/status.h"

namespace spofless::proto {

inline constexpr std::size_t kFrameHeaderBytes = 4;

// REQUIRES: 1 <= payload.size() <= limits::kPeerMaxFrameBytes.
std::string encode_frame(std::string_view payload);
// Appends the frame of `payload` to `out`; same REQUIRES as encode_frame.
void append_frame(std::string& out, std::string_view payload);

// Splits a byte stream into frame payloads, whatever the read sizes. Owned by the one
// coroutine (or thread) that reads the connection; not thread-safe.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_frame_bytes = limits::kPeerMaxFrameBytes);

  // Appends to `out` every payload that `bytes` completes, in stream order, and keeps the
  // remainder of an unfinished frame. A length of 0 or above max_frame_bytes is
  // invalid_argument naming the length and the stream offset of its header; payloads completed
  // before it are still appended. From then on the stream cannot be resynchronized: every
  // later feed() returns the same error and appends nothing.
  Status feed(std::string_view bytes, std::vector<std::string>& out);

  // Bytes of the unfinished frame held (header and payload so far).
  std::size_t buffered_bytes() const { return header_size_ + payload_.size(); }

 private:
  // Takes header bytes from `bytes`; once the header is whole, checks its length.
  Status take_header(std::string_view& bytes);

  std::size_t max_frame_bytes_;
  unsigned char header_[kFrameHeaderBytes] = {};
  std::size_t header_size_ = 0;  // header bytes held; the payload starts once it is full
  std::size_t length_ = 0;       // the current frame's payload length, once the header is full
  std::string payload_;
  std::uint64_t frame_offset_ = 0;  // stream offset of the current frame's header
  Status error_;                    // not ok once the stream is refused
};

}  // namespace spofless::proto
