#include "proto/frame.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/check.h"

namespace spofless::proto {

static_assert(limits::kPeerMaxFrameBytes <= UINT32_MAX, "a frame length fits the u32 prefix");

void append_frame(std::string& out, std::string_view payload) {
  SPOFLESS_CHECK(!payload.empty() && payload.size() <= limits::kPeerMaxFrameBytes,
                 "a frame payload has 1 to kPeerMaxFrameBytes bytes");
  auto length = static_cast<std::uint32_t>(payload.size());
  out.reserve(out.size() + kFrameHeaderBytes + payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((length >> shift) & 0xff));
  }
  out.append(payload);
}

std::string encode_frame(std::string_view payload) {
  std::string out;
  append_frame(out, payload);
  return out;
}

FrameDecoder::FrameDecoder(std::size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {
  SPOFLESS_CHECK(max_frame_bytes >= 1 && max_frame_bytes <= limits::kPeerMaxFrameBytes,
                 "a decoder's frame bound is within 1..kPeerMaxFrameBytes");
}

Status FrameDecoder::take_header(std::string_view& bytes) {
  std::size_t n = std::min(kFrameHeaderBytes - header_size_, bytes.size());
  std::copy_n(bytes.begin(), n, header_ + header_size_);
  header_size_ += n;
  bytes.remove_prefix(n);
  if (header_size_ < kFrameHeaderBytes) return Status::ok();
  std::uint32_t length = 0;
  for (unsigned char byte : header_) length = (length << 8) | byte;
  if (length == 0 || length > max_frame_bytes_) {
    error_ = invalid_argument(
        fmt::format("peer frame at stream byte {}: payload length {}, expected 1 to {}",
                    frame_offset_, length, max_frame_bytes_));
    return error_;
  }
  length_ = length;
  return Status::ok();
}

Status FrameDecoder::feed(std::string_view bytes, std::vector<std::string>& out) {
  if (!error_.is_ok()) return error_;
  // Each pass consumes at least one byte of `bytes`, so the loop ends within bytes.size()
  // passes; the caller's read buffer bounds that.
  while (!bytes.empty()) {
    if (header_size_ < kFrameHeaderBytes) {
      if (Status s = take_header(bytes); !s.is_ok()) return s;
      continue;
    }
    std::size_t n = std::min(length_ - payload_.size(), bytes.size());
    payload_.append(bytes.substr(0, n));
    bytes.remove_prefix(n);
    if (payload_.size() == length_) {
      out.push_back(std::move(payload_));
      payload_.clear();
      frame_offset_ += kFrameHeaderBytes + length_;
      header_size_ = 0;
      length_ = 0;
    }
  }
  return Status::ok();
}

}  // namespace spofless::proto
