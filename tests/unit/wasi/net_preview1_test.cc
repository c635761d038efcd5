// The TCP handles as a guest sees them: a listener preopened as `--tcplisten` does, then
// the preview1 functions (sock_accept, sock_recv, sock_send, sock_shutdown, fd_read,
// fd_write, fd_fdstat_get, poll_oneoff) called on a fake guest memory, with the host on
// the other end of the connection.
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "weft/wasi/ctx.h"
#include "weft/wasi/net.h"
#include "weft/wasi/preview1.h"
#include "weft/wasi/table.h"

namespace weft::wasi {
namespace {

constexpr uint32_t kEventFdRead = 1;
constexpr uint16_t kEventHangup = 1;

void SetTimeouts(int fd) {
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

class NetPreview1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ctx = CtxBuilder().Build();
    ASSERT_TRUE(ctx.ok()) << ctx.error();
    ctx_ = *ctx;
    const std::string addrs[] = {"127.0.0.1:0"};
    auto fds = PreopenTcpListeners(ctx_->table(), addrs);
    ASSERT_TRUE(fds.ok()) << fds.error();
    ASSERT_EQ(*fds, std::vector<Fd>{3});
    auto l = ctx_->table().GetAs<TcpListener>(3);
    ASSERT_TRUE(l.ok());
    address_ = (*l)->local_address();
  }

  // Calls `name` with `args`; the errno it returns (a trap fails the test).
  uint32_t Invoke(const char* name, std::vector<uint64_t> args) {
    const Preview1Function* fn = FindPreview1Function(name);
    EXPECT_NE(fn, nullptr) << name;
    if (fn == nullptr) return ~0u;
    Call call(*ctx_, mem_.data(), mem_.size(), fn->name);
    auto r = InvokePreview1(*fn, call, args.data());
    EXPECT_TRUE(r.ok()) << name << " trapped";
    return r.ok() ? *r : ~0u;
  }

  uint8_t* At(uint32_t p) { return mem_.data() + p; }
  uint16_t U16(uint32_t p) { uint16_t v; std::memcpy(&v, At(p), 2); return v; }
  uint32_t U32(uint32_t p) { uint32_t v; std::memcpy(&v, At(p), 4); return v; }
  uint64_t U64(uint32_t p) { uint64_t v; std::memcpy(&v, At(p), 8); return v; }
  void Put32(uint32_t p, uint32_t v) { std::memcpy(At(p), &v, 4); }
  void Put64(uint32_t p, uint64_t v) { std::memcpy(At(p), &v, 8); }

  // One iovec at 0x100 pointing at 0x1000 (len bytes), holding `text` if given.
  void OneIovec(uint32_t len, std::string_view text = {}) {
    Put32(0x100, 0x1000);
    Put32(0x104, len);
    if (!text.empty()) std::memcpy(At(0x1000), text.data(), text.size());
  }

  // poll_oneoff on an fd_read subscription for `fd` plus a 5 s relative timeout; returns
  // the number of events written at 0x400.
  uint32_t PollRead(Fd fd) {
    std::memset(At(0x300), 0, 96);
    Put64(0x300, 11);  // userdata
    At(0x308)[0] = kEventFdRead;
    Put32(0x310, fd);
    Put64(0x330, 22);
    At(0x338)[0] = 0;              // clock
    Put32(0x340, 1);               // monotonic
    Put64(0x348, 5000000000ull);   // 5 s
    EXPECT_EQ(Invoke("poll_oneoff", {0x300, 0x400, 2, 0x500}), 0u);
    return U32(0x500);
  }

  std::shared_ptr<Ctx> ctx_;
  std::string address_;
  std::vector<uint8_t> mem_ = std::vector<uint8_t>(1 << 16);
};

TEST_F(NetPreview1Test, PreopenedListenerLooksLikeWasmtimes) {
  ASSERT_EQ(Invoke("fd_fdstat_get", {3, 0x200}), 0u);
  EXPECT_EQ(At(0x200)[0], static_cast<uint8_t>(Filetype::kSocketStream));
  EXPECT_EQ(U16(0x202), kFdflagNonblock);
  EXPECT_NE(U64(0x208) & rights::kSockAccept, 0u);
  // Not a preopened directory.
  EXPECT_EQ(Invoke("fd_prestat_get", {3, 0x200}), static_cast<uint32_t>(Errno::kBadf));
  // Nothing pending: the nonblocking listener says EAGAIN.
  EXPECT_EQ(Invoke("sock_accept", {3, 0, 0x200}), static_cast<uint32_t>(Errno::kAgain));
  // Stream calls on a listener: EBADF, as wasmtime.
  OneIovec(8);
  EXPECT_EQ(Invoke("fd_read", {3, 0x100, 1, 0x200}), static_cast<uint32_t>(Errno::kBadf));
  EXPECT_EQ(Invoke("sock_recv", {3, 0x100, 1, 0, 0x200, 0x204}),
            static_cast<uint32_t>(Errno::kBadf));
}

TEST_F(NetPreview1Test, AcceptRecvSendShutdownThroughTheGuestAbi) {
  auto host = TcpStream::Connect(address_);
  ASSERT_TRUE(host.ok());
  SetTimeouts((*host)->fd());

  // The guest waits for the connection in poll_oneoff, then accepts it.
  ASSERT_EQ(PollRead(3), 1u);
  EXPECT_EQ(U64(0x400), 11u);
  EXPECT_EQ(U16(0x408), 0u);
  EXPECT_EQ(At(0x40a)[0], kEventFdRead);
  EXPECT_EQ(U64(0x410), 1u);
  ASSERT_EQ(Invoke("sock_accept", {3, 0, 0x200}), 0u);
  const Fd conn = U32(0x200);
  EXPECT_EQ(conn, 4u);
  ASSERT_EQ(Invoke("fd_fdstat_get", {conn, 0x200}), 0u);
  EXPECT_EQ(At(0x200)[0], static_cast<uint8_t>(Filetype::kSocketStream));
  EXPECT_EQ(U16(0x202), 0u);  // blocking: sock_accept's flags were 0
  auto accepted = ctx_->table().GetAs<TcpStream>(conn);
  ASSERT_TRUE(accepted.ok());
  SetTimeouts((*accepted)->fd());

  // host -> guest through sock_recv.
  ConstIoVec hello{reinterpret_cast<const uint8_t*>("hello"), 5};
  ASSERT_EQ(*(*host)->SockSend(std::span<const ConstIoVec>(&hello, 1), 0), 5u);
  OneIovec(5);
  ASSERT_EQ(Invoke("sock_recv", {conn, 0x100, 1, kRiRecvWaitall, 0x200, 0x204}), 0u);
  EXPECT_EQ(U32(0x200), 5u);
  EXPECT_EQ(U16(0x204), 0u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(At(0x1000)), 5), "hello");

  // guest -> host through sock_send and fd_write.
  OneIovec(5, "world");
  ASSERT_EQ(Invoke("sock_send", {conn, 0x100, 1, 0, 0x200}), 0u);
  EXPECT_EQ(U32(0x200), 5u);
  OneIovec(1, "!");
  ASSERT_EQ(Invoke("fd_write", {conn, 0x100, 1, 0x200}), 0u);
  EXPECT_EQ(U32(0x200), 1u);
  char buf[16];
  IoVec in{reinterpret_cast<uint8_t*>(buf), 6};
  auto got = (*host)->SockRecv(std::span<const IoVec>(&in, 1), kRiRecvWaitall);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(std::string(buf, got->size), "world!");

  // host -> guest through fd_read.
  ConstIoVec more{reinterpret_cast<const uint8_t*>("more"), 4};
  ASSERT_EQ(*(*host)->Write(std::span<const ConstIoVec>(&more, 1)), 4u);
  ASSERT_EQ(PollRead(conn), 1u);
  EXPECT_EQ(U64(0x410), 4u);  // nbytes
  EXPECT_EQ(U16(0x418), 0u);  // no hangup yet
  OneIovec(16);
  ASSERT_EQ(Invoke("fd_read", {conn, 0x100, 1, 0x200}), 0u);
  EXPECT_EQ(U32(0x200), 4u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(At(0x1000)), 4), "more");

  // Guest shuts down its write side: the host reads EOF.
  EXPECT_EQ(Invoke("sock_shutdown", {conn, 0}), static_cast<uint32_t>(Errno::kInval));
  ASSERT_EQ(Invoke("sock_shutdown", {conn, kSdWr}), 0u);
  auto eof = (*host)->SockRecv(std::span<const IoVec>(&in, 1), 0);
  ASSERT_TRUE(eof.ok());
  EXPECT_EQ(eof->size, 0u);
  OneIovec(1, "x");
  EXPECT_EQ(Invoke("sock_send", {conn, 0x100, 1, 0, 0x200}), static_cast<uint32_t>(Errno::kPipe));

  // The host closes: the guest's read subscription reports hangup, then fd_read EOF.
  host->reset();
  ASSERT_EQ(PollRead(conn), 1u);
  EXPECT_EQ(U16(0x408), 0u);
  EXPECT_EQ(U16(0x418) & kEventHangup, kEventHangup);
  OneIovec(16);
  ASSERT_EQ(Invoke("fd_read", {conn, 0x100, 1, 0x200}), 0u);
  EXPECT_EQ(U32(0x200), 0u);

  ASSERT_EQ(Invoke("fd_close", {conn}), 0u);
}

// Two contexts (two guests with their own tables) hold the same accepted stream: one
// closing its fd leaves the socket open for the other, as dup(2) would.
TEST_F(NetPreview1Test, StreamSharedByTwoTablesOutlivesOneClose) {
  auto host = TcpStream::Connect(address_);
  ASSERT_TRUE(host.ok());
  SetTimeouts((*host)->fd());
  ASSERT_EQ(PollRead(3), 1u);
  ASSERT_EQ(Invoke("sock_accept", {3, 0, 0x200}), 0u);
  const Fd conn = U32(0x200);
  auto entry = ctx_->table().Get(conn);
  ASSERT_TRUE(entry.ok());
  SetTimeouts(std::static_pointer_cast<TcpStream>(entry->handle)->fd());

  auto other = CtxBuilder().Build();
  ASSERT_TRUE(other.ok());
  auto other_fd = (*other)->table().Push(*entry);
  ASSERT_TRUE(other_fd.ok());

  ASSERT_EQ(Invoke("fd_close", {conn}), 0u);
  std::swap(ctx_, *other);  // from here on the guest calls go to the second context
  OneIovec(6, "shared");
  ASSERT_EQ(Invoke("sock_send", {*other_fd, 0x100, 1, 0, 0x200}), 0u);
  char buf[8];
  IoVec in{reinterpret_cast<uint8_t*>(buf), 6};
  auto got = (*host)->SockRecv(std::span<const IoVec>(&in, 1), kRiRecvWaitall);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(std::string(buf, got->size), "shared");
}

// A guest waiting in poll_oneoff for a connection (no timeout) is woken by
// Ctx::Interrupt from another thread.
TEST_F(NetPreview1Test, PollOnListenerIsInterruptible) {
  std::memset(At(0x300), 0, 48);
  At(0x308)[0] = kEventFdRead;
  Put32(0x310, 3);
  std::thread interrupter([ctx = ctx_] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ctx->Interrupt();
  });
  const Preview1Function* fn = FindPreview1Function("poll_oneoff");
  ASSERT_NE(fn, nullptr);
  Call call(*ctx_, mem_.data(), mem_.size(), fn->name);
  const uint64_t args[] = {0x300, 0x400, 1, 0x500};
  auto r = InvokePreview1(*fn, call, args);
  interrupter.join();
  ASSERT_FALSE(r.ok());
  ASSERT_TRUE(r.error().is_trap());
  EXPECT_EQ(r.error().trap().kind, wasm::TrapKind::kInterrupted);
}

TEST_F(NetPreview1Test, SockCallsOnNonSockets) {
  // fd 0 is the context's default stdin (an empty pipe handle), not a socket.
  OneIovec(4);
  EXPECT_EQ(Invoke("sock_recv", {0, 0x100, 1, 0, 0x200, 0x204}),
            static_cast<uint32_t>(Errno::kNotsock));
  EXPECT_EQ(Invoke("sock_shutdown", {0, kSdRd}), static_cast<uint32_t>(Errno::kNotsock));
  EXPECT_EQ(Invoke("sock_accept", {0, 0, 0x200}), static_cast<uint32_t>(Errno::kNotsock));
  EXPECT_EQ(Invoke("sock_accept", {9, 0, 0x200}), static_cast<uint32_t>(Errno::kBadf));
}

TEST(NetPreopenTest, AllOrNothingAndErrorNamesTheAddress) {
  auto table = std::make_shared<Table>();
  auto taken = TcpListener::Bind("127.0.0.1:0");
  ASSERT_TRUE(taken.ok());
  const std::string addrs[] = {"127.0.0.1:0", (*taken)->local_address()};
  auto r = PreopenTcpListeners(*table, addrs);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "failed to bind to address '" + (*taken)->local_address() +
                           "': " + ErrnoMessage(Errno::kAddrinuse));
  EXPECT_EQ(table->size(), 0u);

  const std::string bad[] = {"nonsense"};
  auto b = PreopenTcpListeners(*table, bad);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().find("'nonsense'"), std::string::npos);
}

TEST(NetPreopenTest, FixedFdsMustBeFreeAndLowestFreeOtherwise) {
  Table table;
  auto l = TcpListener::Bind("127.0.0.1:0");
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE(table.InsertAt(4, Entry::For(*l)).ok());
  const std::string two[] = {"127.0.0.1:0", "127.0.0.1:0"};
  auto clash = PreopenTcpListeners(table, two, Fd{3});
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error(), "cannot preopen a socket at fd 4: it is in use");
  EXPECT_EQ(table.size(), 1u);

  auto pushed = PreopenTcpListeners(table, two, std::nullopt);
  ASSERT_TRUE(pushed.ok()) << pushed.error();
  EXPECT_EQ(*pushed, (std::vector<Fd>{0, 1}));
  auto first = table.GetAs<TcpListener>(0);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*(*first)->GetFdflags(), kFdflagNonblock);
}

}  // namespace
}  // namespace weft::wasi
