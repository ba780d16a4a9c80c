// Peer frames: [u32 big-endian length][payload], split however TCP delivers them.

#include "proto/frame.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace spofless::proto {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(Frame, TheHeaderIsTheBigEndianPayloadLength) {
  EXPECT_EQ(encode_frame("abc"), std::string("\0\0\0\3abc", 7));
  std::string payload(0x010203, 'x');
  std::string frame = encode_frame(payload);
  EXPECT_EQ(frame.substr(0, 4), std::string("\0\x01\x02\x03", 4));
  EXPECT_EQ(frame.substr(4), payload);
}

TEST(Frame, AppendFrameAddsToWhatIsThere) {
  std::string out = "previous";
  append_frame(out, "p");
  EXPECT_EQ(out, std::string("previous\0\0\0\1p", 13));
}

TEST(Frame, EncodeRefusesAnEmptyOrOversizedPayload) {
  EXPECT_DEATH(encode_frame(""), "1 to kPeerMaxFrameBytes");
  EXPECT_DEATH(encode_frame(std::string(limits::kPeerMaxFrameBytes + 1, 'x')),
               "1 to kPeerMaxFrameBytes");
}

// Three frames, one with a payload longer than 255 bytes so that two header bytes are nonzero.
std::vector<std::string> sample_payloads() {
  std::string long_one(300, 'a');
  for (std::size_t i = 0; i < long_one.size(); ++i) long_one[i] = static_cast<char>(i);
  return {"x", long_one, std::string("\0\0\0\0\0", 5)};
}

std::string sample_stream() {
  std::string stream;
  for (const std::string& p : sample_payloads()) append_frame(stream, p);
  return stream;
}

TEST(FrameDecoder, DecodesWholeFramesFedAtOnce) {
  FrameDecoder decoder;
  std::vector<std::string> out;
  ASSERT_TRUE(decoder.feed(sample_stream(), out).is_ok());
  EXPECT_EQ(out, sample_payloads());
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameDecoder, DecodesTheSameWhereverTheStreamIsSplit) {
  const std::string stream = sample_stream();
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    FrameDecoder decoder;
    std::vector<std::string> out;
    ASSERT_TRUE(decoder.feed(std::string_view(stream).substr(0, split), out).is_ok());
    ASSERT_TRUE(decoder.feed(std::string_view(stream).substr(split), out).is_ok());
    EXPECT_EQ(out, sample_payloads()) << "split at " << split;
    EXPECT_EQ(decoder.buffered_bytes(), 0u);
  }
}

TEST(FrameDecoder, DecodesTheSameFedOneByteAtATime) {
  const std::string stream = sample_stream();
  FrameDecoder decoder;
  std::vector<std::string> out;
  std::size_t frame_start = 0;  // stream offset of the frame being received
  for (std::size_t i = 0; i < stream.size(); ++i) {
    std::size_t frames_before = out.size();
    ASSERT_TRUE(decoder.feed(std::string_view(stream).substr(i, 1), out).is_ok());
    if (out.size() > frames_before) frame_start = i + 1;
    EXPECT_EQ(decoder.buffered_bytes(), i + 1 - frame_start) << "after byte " << i;
  }
  EXPECT_EQ(out, sample_payloads());
}

TEST(FrameDecoder, HoldsAnUnfinishedFrameUntilItsLastByte) {
  FrameDecoder decoder;
  std::vector<std::string> out;
  std::string frame = encode_frame("hello");
  ASSERT_TRUE(decoder.feed(frame.substr(0, 2), out).is_ok());
  EXPECT_EQ(decoder.buffered_bytes(), 2u);
  ASSERT_TRUE(decoder.feed(frame.substr(2, 6), out).is_ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(decoder.buffered_bytes(), 8u);
  ASSERT_TRUE(decoder.feed(frame.substr(8), out).is_ok());
  EXPECT_THAT(out, ElementsAre("hello"));
  ASSERT_TRUE(decoder.feed("", out).is_ok());
  EXPECT_EQ(out.size(), 1u);
}

TEST(FrameDecoder, RefusesAZeroLengthNamingWhereItWas) {
  FrameDecoder decoder;
  std::vector<std::string> out;
  std::string stream = encode_frame("abc") + std::string(4, '\0') + encode_frame("late");
  Status s = decoder.feed(stream, out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("at stream byte 7: payload length 0, expected 1 to"));
  EXPECT_THAT(out, ElementsAre("abc"));  // the frame before the bad header is delivered
}

TEST(FrameDecoder, RefusesALengthOverItsBound) {
  FrameDecoder decoder(10);
  std::vector<std::string> out;
  ASSERT_TRUE(decoder.feed(encode_frame(std::string(10, 'x')), out).is_ok());
  Status s = decoder.feed(std::string("\0\0\0\x0b", 4), out);
  EXPECT_THAT(s.message(), HasSubstr("at stream byte 14: payload length 11, expected 1 to 10"));
  EXPECT_EQ(out.size(), 1u);
}

TEST(FrameDecoder, RefusesALengthOverThePeerLimitFromItsHeaderAlone) {
  FrameDecoder decoder;
  std::vector<std::string> out;
  auto too_long = static_cast<std::uint32_t>(limits::kPeerMaxFrameBytes + 1);
  std::string header = {static_cast<char>(too_long >> 24), static_cast<char>(too_long >> 16),
                        static_cast<char>(too_long >> 8), static_cast<char>(too_long)};
  Status s = decoder.feed(header, out);
  EXPECT_THAT(s.message(), HasSubstr(fmt::format("payload length {}", too_long)));
  std::string all_ones(4, '\xff');
  FrameDecoder other;
  EXPECT_THAT(other.feed(all_ones, out).message(), HasSubstr("payload length 4294967295"));
}

TEST(FrameDecoder, AcceptsAFrameOfExactlyThePeerLimit) {
  FrameDecoder decoder;
  std::vector<std::string> out;
  ASSERT_TRUE(
      decoder.feed(encode_frame(std::string(limits::kPeerMaxFrameBytes, 'x')), out).is_ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].size(), limits::kPeerMaxFrameBytes);
}

TEST(FrameDecoder, RefusesEverythingAfterAnError) {
  FrameDecoder decoder;
  std::vector<std::string> out;
  Status first = decoder.feed(std::string(4, '\0'), out);
  ASSERT_FALSE(first.is_ok());
  Status again = decoder.feed(encode_frame("fine"), out);
  EXPECT_EQ(again.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(again.message(), first.message());
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace spofless::proto
