// The NRI multiplexer and ttrpc framing: split and merged frames, oversized frames,
// reserved and unknown connections, the envelopes.
#include <gtest/gtest.h>

#include "nri/mux.hpp"
#include "nri/session.hpp"
#include "nri/ttrpc.hpp"

namespace affine::nri {
namespace {

std::string bytes(std::initializer_list<int> b) {
    std::string s;
    for (int c : b) s.push_back(static_cast<char>(c));
    return s;
}

TEST(NriMux, EncodesTheHeaderBigEndian) {
    auto frame = encode_mux_frame(2, "abc");
    ASSERT_TRUE(frame);
    EXPECT_EQ(*frame, bytes({0, 0, 0, 2, 0, 0, 0, 3}) + "abc");
    EXPECT_FALSE(encode_mux_frame(0, "x"));
    EXPECT_FALSE(encode_mux_frame(1, std::string(mux_max_payload + 1, 'x')));
}

TEST(NriMux, SplitFramesAreJoinedByteByByte) {
    std::string stream = *encode_mux_frame(1, "hello") + *encode_mux_frame(2, "");
    MuxDecoder decoder;
    std::vector<MuxFrame> got;
    for (char c : stream) {
        auto frames = decoder.feed(std::string_view(&c, 1));
        ASSERT_TRUE(frames);
        got.insert(got.end(), frames->begin(), frames->end());
    }
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0].conn, 1u);
    EXPECT_EQ(got[0].payload, "hello");
    EXPECT_EQ(got[1].conn, 2u);
    EXPECT_EQ(got[1].payload, "");
}

TEST(NriMux, MergedFramesComeOutInOrder) {
    std::string stream = *encode_mux_frame(1, "a") + *encode_mux_frame(2, "bb") + *encode_mux_frame(7, "ccc");
    std::string partial = *encode_mux_frame(1, "tail");
    MuxDecoder decoder;
    auto frames = decoder.feed(stream + partial.substr(0, 5));
    ASSERT_TRUE(frames);
    ASSERT_EQ(frames->size(), 3u);
    EXPECT_EQ((*frames)[2].conn, 7u);  // unknown connections are the caller's to judge
    EXPECT_EQ((*frames)[2].payload, "ccc");
    frames = decoder.feed(partial.substr(5));
    ASSERT_TRUE(frames);
    ASSERT_EQ(frames->size(), 1u);
    EXPECT_EQ((*frames)[0].payload, "tail");
}

TEST(NriMux, OversizedFrameBreaksTheStreamForGood) {
    MuxDecoder decoder;
    auto frames = decoder.feed(bytes({0, 0, 0, 1, 0x01, 0, 0, 1}));  // 16 MiB + 1
    ASSERT_FALSE(frames);
    EXPECT_NE(frames.error().message.find("more than the 16777216 allowed"), std::string::npos);
    EXPECT_FALSE(decoder.feed(*encode_mux_frame(1, "ok")));
}

TEST(NriMux, ReservedConnectionIsAnError) {
    MuxDecoder decoder;
    auto frames = decoder.feed(bytes({0, 0, 0, 0, 0, 0, 0, 0}));
    ASSERT_FALSE(frames);
    EXPECT_NE(frames.error().message.find("reserved connection 0"), std::string::npos);
}

TEST(NriTtrpc, FrameHeaderAndTypes) {
    auto frame = encode_ttrpc_frame(3, TtrpcType::response, "xy", 0x4);
    ASSERT_TRUE(frame);
    EXPECT_EQ(*frame, bytes({0, 0, 0, 2, 0, 0, 0, 3, 2, 4}) + "xy");
    TtrpcDecoder decoder;
    auto frames = decoder.feed(*frame + frame->substr(0, 4));
    ASSERT_TRUE(frames);
    ASSERT_EQ(frames->size(), 1u);
    EXPECT_EQ((*frames)[0].stream, 3u);
    EXPECT_EQ((*frames)[0].type, TtrpcType::response);
    EXPECT_EQ((*frames)[0].flags, 4);
    EXPECT_EQ((*frames)[0].payload, "xy");
}

TEST(NriTtrpc, OversizedAndUnknownTypeAreErrors) {
    EXPECT_FALSE(encode_ttrpc_frame(1, TtrpcType::request, std::string(ttrpc_max_payload + 1, 'x')));
    TtrpcDecoder big;
    EXPECT_FALSE(big.feed(bytes({0, 0x40, 0, 1, 0, 0, 0, 1, 1, 0})));  // 4 MiB + 1
    TtrpcDecoder unknown;
    EXPECT_FALSE(unknown.feed(bytes({0, 0, 0, 0, 0, 0, 0, 1, 9, 0})));
}

TEST(NriTtrpc, EnvelopesRoundTrip) {
    RpcRequest request{"nri.pkg.api.v1alpha1.Plugin", "CreateContainer", std::string("\0\1\2", 3), 2000000000};
    auto decoded = decode_rpc_request(encode_rpc_request(request));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->service, request.service);
    EXPECT_EQ(decoded->method, request.method);
    EXPECT_EQ(decoded->payload, request.payload);
    EXPECT_EQ(decoded->timeout_nano, request.timeout_nano);
    auto response = decode_rpc_response(encode_rpc_response({12, "not served", ""}));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->code, 12);
    EXPECT_EQ(response->message, "not served");
    EXPECT_FALSE(decode_rpc_request(bytes({0x0a, 0x05, 'a'})));  // a string field cut short
}

// The runtime's side of a session, written by hand: a call on connection 1 split
// over two multiplexer frames, with a frame of an unknown connection in between.
TEST(NriSession, CallsRepliesAndUnknownConnections) {
    Session session;
    std::string call = *encode_ttrpc_frame(
        1, TtrpcType::request, encode_rpc_request({std::string(plugin_service_name), "Configure", "", 0}));
    std::string stream = *encode_mux_frame(plugin_service_conn, call.substr(0, 7)) + *encode_mux_frame(9, "junk") +
                         *encode_mux_frame(plugin_service_conn, call.substr(7));
    auto in = session.feed(stream);
    ASSERT_TRUE(in);
    ASSERT_EQ(in->calls.size(), 1u);
    EXPECT_EQ(in->calls[0].stream, 1u);
    EXPECT_EQ(in->calls[0].request.method, "Configure");
    ASSERT_EQ(in->ignored.size(), 1u);
    EXPECT_NE(in->ignored[0].find("unknown connection 9"), std::string::npos);

    auto out = session.call("RegisterPlugin", "x");
    ASSERT_TRUE(out);
    EXPECT_EQ(out->first, 1u);
    EXPECT_EQ(read_be32(out->second), runtime_service_conn);
    EXPECT_EQ(session.call("UpdateContainers", "")->first, 3u);  // client streams stay odd

    std::string reply = *encode_ttrpc_frame(1, TtrpcType::response, encode_rpc_response({0, "", ""}));
    in = session.feed(*encode_mux_frame(runtime_service_conn, reply));
    ASSERT_TRUE(in);
    ASSERT_EQ(in->replies.size(), 1u);
    EXPECT_EQ(in->replies[0].stream, 1u);
}

}  // namespace
}  // namespace affine::nri
