// Channel and Pipe: exact bytes, backpressure, EOF/EPIPE on peer drop, eventfd
// readiness through poll(2), interruption of blocked calls.
#include "weft/wasi/channel.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "file_test_util.h"

namespace weft::wasi {
namespace {

using namespace std::chrono_literals;

ErrnoOr<size_t> Write(File& f, std::string_view s) {
  ConstIoVec iov{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  return f.Write(std::span<const ConstIoVec>(&iov, 1));
}

ErrnoOr<std::string> Read(File& f, size_t n) {
  std::string buf(n, '\0');
  IoVec iov{reinterpret_cast<uint8_t*>(buf.data()), n};
  WEFT_TRY_ASSIGN(size_t got, f.Read(std::span<const IoVec>(&iov, 1)));
  buf.resize(got);
  return buf;
}

using testing::ErrOf;

// poll(2) on one fd with a timeout in ms: true when readable.
bool Readable(int fd, int timeout_ms = 0) {
  struct pollfd p = {fd, POLLIN, 0};
  int n = poll(&p, 1, timeout_ms);
  return n == 1 && (p.revents & POLLIN);
}

TEST(VirtChannel, BothDirectionsExactBytes) {
  auto [a, b] = MakeChannel(64);
  EXPECT_EQ(a->filetype(), Filetype::kSocketStream);
  EXPECT_EQ(a->Stat()->filetype, Filetype::kSocketStream);
  EXPECT_NE(a->Stat()->ino, b->Stat()->ino);
  EXPECT_EQ(*Write(*a, "ping"), 4u);
  EXPECT_EQ(*Write(*b, "pong!"), 5u);
  EXPECT_EQ(*Read(*b, 2), "pi");
  EXPECT_EQ(*Read(*b, 100), "ng");
  EXPECT_EQ(*Read(*a, 100), "pong!");
  // Scatter/gather across the ring's wrap point.
  EXPECT_EQ(*Write(*a, std::string(60, 'x')), 60u);
  EXPECT_EQ(Read(*b, 60)->size(), 60u);
  const char* p1 = "0123456789";
  const char* p2 = "abcdefghij";
  ConstIoVec out[2] = {{reinterpret_cast<const uint8_t*>(p1), 10},
                       {reinterpret_cast<const uint8_t*>(p2), 10}};
  EXPECT_EQ(*a->Write(out), 20u);
  char x[3], y[30];
  IoVec in[2] = {{reinterpret_cast<uint8_t*>(x), 3}, {reinterpret_cast<uint8_t*>(y), 30}};
  EXPECT_EQ(*b->Read(in), 20u);
  EXPECT_EQ(std::string(x, 3), "012");
  EXPECT_EQ(std::string(y, 17), "3456789abcdefghij");
  EXPECT_EQ(*Read(*b, 0), "");  // zero-length read never blocks
}

TEST(VirtChannel, NonblockEagainAndShortWrites) {
  auto [a, b] = MakeChannel(8);
  ASSERT_TRUE(a->SetFdflags(kFdflagNonblock).ok());
  ASSERT_TRUE(b->SetFdflags(kFdflagNonblock).ok());
  EXPECT_EQ(*a->GetFdflags(), kFdflagNonblock);
  EXPECT_EQ(ErrOf(Read(*b, 4)), Errno::kAgain);
  EXPECT_EQ(*Write(*a, "0123456789"), 8u);  // what fits
  EXPECT_EQ(ErrOf(Write(*a, "z")), Errno::kAgain);
  EXPECT_EQ(a->CheckReadiness(Interest::kWrite).ready, false);
  EXPECT_EQ(*Read(*b, 3), "012");
  EXPECT_EQ(*Write(*a, "abcdef"), 3u);
  EXPECT_EQ(*Read(*b, 100), "34567abc");
  EXPECT_EQ(ErrOf(a->SetFdflags(kFdflagSync)), Errno::kInval);
  EXPECT_EQ(ErrOf(a->SetFdflags(0x80)), Errno::kInval);
  ASSERT_TRUE(a->SetFdflags(0).ok());
  EXPECT_EQ(*a->GetFdflags(), 0u);
}

TEST(VirtChannel, EofAndEpipeWhenPeerDropped) {
  auto [a, b] = MakeChannel(16);
  EXPECT_EQ(*Write(*a, "last"), 4u);
  a.reset();
  Readiness r = b->CheckReadiness(Interest::kRead);
  EXPECT_TRUE(r.ready);
  EXPECT_TRUE(r.hangup);
  EXPECT_EQ(r.nbytes, 4u);
  EXPECT_EQ(*Read(*b, 100), "last");  // buffered bytes first
  EXPECT_EQ(*Read(*b, 100), "");      // then EOF, without blocking
  EXPECT_EQ(*Read(*b, 100), "");
  EXPECT_EQ(ErrOf(Write(*b, "x")), Errno::kPipe);
  Readiness w = b->CheckReadiness(Interest::kWrite);
  EXPECT_TRUE(w.ready);
  EXPECT_TRUE(w.hangup);
}

TEST(VirtChannel, SharedEndKeepsPeerAliveUntilLastHolder) {
  auto [a, b] = MakeChannel(16);
  std::shared_ptr<File> table1 = a, table2 = a;  // one end held by two tables
  a.reset();
  table1.reset();
  EXPECT_FALSE(b->CheckReadiness(Interest::kRead).hangup);
  EXPECT_EQ(*Write(*table2, "still"), 5u);
  table2.reset();
  EXPECT_EQ(*Read(*b, 10), "still");
  EXPECT_EQ(*Read(*b, 10), "");
}

TEST(VirtChannel, PipeIsOneWay) {
  auto [r, w] = MakePipe(32);
  EXPECT_EQ(r->filetype(), Filetype::kUnknown);
  EXPECT_TRUE(r->can_read());
  EXPECT_FALSE(r->can_write());
  EXPECT_EQ(ErrOf(Write(*r, "x")), Errno::kBadf);
  EXPECT_EQ(ErrOf(Read(*w, 1)), Errno::kBadf);
  EXPECT_EQ(*Write(*w, "data"), 4u);
  EXPECT_EQ(*Read(*r, 10), "data");
  EXPECT_LT(r->GetPollSource(Interest::kWrite).fd, 0);
  EXPECT_EQ(r->CheckReadiness(Interest::kWrite).error, Errno::kBadf);
  EXPECT_LT(w->GetPollSource(Interest::kRead).fd, 0);
  char buf[4];
  IoVec iov{reinterpret_cast<uint8_t*>(buf), 4};
  EXPECT_EQ(ErrOf(r->SockRecv(std::span<const IoVec>(&iov, 1), 0)), Errno::kNotsock);
  EXPECT_EQ(ErrOf(w->SockShutdown(kSdWr)), Errno::kNotsock);
  r.reset();
  EXPECT_EQ(ErrOf(Write(*w, "x")), Errno::kPipe);
}

TEST(VirtChannel, PipeEofWhenWriterDropped) {
  auto [r, w] = MakePipe(32);
  EXPECT_EQ(*Write(*w, "bye"), 3u);
  w.reset();
  EXPECT_EQ(*Read(*r, 10), "bye");
  EXPECT_EQ(*Read(*r, 10), "");
}

TEST(VirtChannel, SockRecvPeekWaitallAndShutdown) {
  auto [a, b] = MakeChannel(64);
  EXPECT_EQ(*Write(*a, "hello"), 5u);
  char buf[16];
  IoVec iov{reinterpret_cast<uint8_t*>(buf), 3};
  auto peek = b->SockRecv(std::span<const IoVec>(&iov, 1), kRiRecvPeek);
  ASSERT_TRUE(peek.ok());
  EXPECT_EQ(peek->size, 3u);
  EXPECT_EQ(std::string(buf, 3), "hel");
  EXPECT_EQ(*Read(*b, 10), "hello");  // peek left the bytes
  EXPECT_EQ(ErrOf(b->SockRecv(std::span<const IoVec>(&iov, 1), 0x4)), Errno::kInval);
  // WAITALL gathers bytes from several writes.
  std::thread writer([&a = a] {
    std::this_thread::sleep_for(20ms);
    (void)Write(*a, "ab");
    std::this_thread::sleep_for(20ms);
    (void)Write(*a, "cdef");
  });
  IoVec six{reinterpret_cast<uint8_t*>(buf), 6};
  auto all = b->SockRecv(std::span<const IoVec>(&six, 1), kRiRecvWaitall);
  writer.join();
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size, 6u);
  EXPECT_EQ(std::string(buf, 6), "abcdef");
  // SD_WR: the peer reads EOF after what was sent; our writes fail.
  ConstIoVec out{reinterpret_cast<const uint8_t*>("end"), 3};
  EXPECT_EQ(*a->SockSend(std::span<const ConstIoVec>(&out, 1), 0), 3u);
  ASSERT_TRUE(a->SockShutdown(kSdWr).ok());
  EXPECT_EQ(ErrOf(Write(*a, "x")), Errno::kPipe);
  EXPECT_EQ(*Read(*b, 10), "end");
  EXPECT_EQ(*Read(*b, 10), "");
  // The other direction still works until SD_RD.
  EXPECT_EQ(*Write(*b, "back"), 4u);
  EXPECT_EQ(*Read(*a, 10), "back");
  ASSERT_TRUE(a->SockShutdown(kSdRd).ok());
  EXPECT_EQ(ErrOf(Write(*b, "x")), Errno::kPipe);
  EXPECT_EQ(*Read(*a, 10), "");
  EXPECT_EQ(ErrOf(a->SockShutdown(0)), Errno::kInval);
  EXPECT_EQ(ErrOf(a->SockSend(std::span<const ConstIoVec>(&out, 1), 1)), Errno::kInval);
}

TEST(VirtChannel, PollReadinessThroughEventfd) {
  auto [a, b] = MakeChannel(4);
  PollSource rs = b->GetPollSource(Interest::kRead);
  PollSource ws = a->GetPollSource(Interest::kWrite);
  ASSERT_GE(rs.fd, 0);
  ASSERT_GE(ws.fd, 0);
  EXPECT_EQ(rs.events, POLLIN);
  // Blocking-mode fds: schedulers skip O_NONBLOCK fds as "would not block".
  EXPECT_EQ(fcntl(rs.fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_EQ(b->GetPollSource(Interest::kRead).fd, rs.fd);  // one fd per interest
  EXPECT_FALSE(Readable(rs.fd));  // nothing to read
  EXPECT_TRUE(Readable(ws.fd));   // room to write
  EXPECT_FALSE(b->CheckReadiness(Interest::kRead).ready);
  EXPECT_EQ(a->CheckReadiness(Interest::kWrite).nbytes, 4u);

  EXPECT_EQ(*Write(*a, "abcd"), 4u);  // full
  EXPECT_TRUE(Readable(rs.fd));
  EXPECT_FALSE(Readable(ws.fd));
  Readiness r = b->CheckReadiness(Interest::kRead);
  EXPECT_TRUE(r.ready);
  EXPECT_EQ(r.nbytes, 4u);
  EXPECT_FALSE(r.hangup);
  EXPECT_EQ(a->CheckReadiness(Interest::kWrite).nbytes, 0u);

  EXPECT_EQ(*Read(*b, 1), "a");
  EXPECT_TRUE(Readable(rs.fd));  // still 3 bytes
  EXPECT_TRUE(Readable(ws.fd));  // room for 1
  EXPECT_EQ(*Read(*b, 10), "bcd");
  EXPECT_FALSE(Readable(rs.fd));
  // Polling never consumes readiness: it stays until the state changes.
  EXPECT_TRUE(Readable(ws.fd));
  EXPECT_TRUE(Readable(ws.fd));

  // Peer gone: the reader's fd becomes readable (EOF) and stays so.
  PollSource a_read = a->GetPollSource(Interest::kRead);
  EXPECT_FALSE(Readable(a_read.fd));
  b.reset();
  EXPECT_TRUE(Readable(a_read.fd));
  EXPECT_TRUE(Readable(ws.fd));  // write is "ready": it fails at once with EPIPE
  EXPECT_TRUE(a->CheckReadiness(Interest::kWrite).hangup);
}

TEST(VirtChannel, ThreadPollWakesWhenPeerWrites) {
  auto [a, b] = MakeChannel(16);
  int fd = b->GetPollSource(Interest::kRead).fd;
  std::atomic<bool> woke{false};
  std::thread waiter([&] {
    woke = Readable(fd, 5000);
  });
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(woke.load());
  EXPECT_EQ(*Write(*a, "x"), 1u);
  waiter.join();
  EXPECT_TRUE(woke.load());
}

// Producer faster than consumer: the writer blocks, the buffer never exceeds its
// capacity, and every byte arrives in order.
TEST(VirtChannel, ThreadBackpressureHoldsCapacityBound) {
  constexpr size_t kCap = 37;
  constexpr size_t kTotal = 200000;
  auto [a, b] = MakeChannel(kCap);
  std::atomic<bool> over_capacity{false};
  std::thread producer([&a = a] {
    std::string chunk;
    size_t sent = 0;
    uint32_t seed = 1;
    while (sent < kTotal) {
      seed = seed * 1103515245 + 12345;
      size_t n = std::min<size_t>(1 + (seed >> 16) % 500, kTotal - sent);
      chunk.resize(n);
      for (size_t i = 0; i < n; ++i) chunk[i] = static_cast<char>((sent + i) % 251);
      auto w = Write(*a, chunk);  // blocking: all or error
      ASSERT_TRUE(w.ok());
      ASSERT_EQ(*w, n);
      sent += n;
    }
    a.reset();  // EOF for the consumer
  });
  size_t received = 0;
  bool in_order = true;
  uint32_t seed = 7;
  for (;;) {
    Readiness r = b->CheckReadiness(Interest::kRead);
    if (r.nbytes > kCap) over_capacity = true;
    seed = seed * 1103515245 + 12345;
    auto got = Read(*b, 1 + (seed >> 16) % 29);
    ASSERT_TRUE(got.ok());
    if (got->empty()) break;
    for (char c : *got) {
      if (c != static_cast<char>(received % 251)) in_order = false;
      ++received;
    }
    if ((seed >> 8) % 64 == 0) std::this_thread::sleep_for(100us);  // a slow consumer
  }
  producer.join();
  EXPECT_EQ(received, kTotal);
  EXPECT_TRUE(in_order);
  EXPECT_FALSE(over_capacity.load());
}

TEST(VirtChannel, ThreadInterruptWakesBlockedRead) {
  auto [a, b] = MakeChannel(16);
  std::atomic<int> result{-1};
  std::thread reader([&b = b, &result] {
    auto r = Read(*b, 10);
    result = r.ok() ? 1000 + static_cast<int>(r->size()) : static_cast<int>(r.error());
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(result.load(), -1);  // still blocked
  b->Interrupt();
  reader.join();
  EXPECT_EQ(result.load(), static_cast<int>(Errno::kIntr));
  // The interrupt is not sticky: the next read waits for data as usual.
  std::thread writer([&a = a] {
    std::this_thread::sleep_for(20ms);
    (void)Write(*a, "ok");
  });
  EXPECT_EQ(*Read(*b, 10), "ok");
  writer.join();
}

TEST(VirtChannel, ThreadInterruptWakesBlockedWriteWithShortCount) {
  auto [a, b] = MakeChannel(4);
  std::atomic<int> result{-1};
  std::thread writer([&a = a, &result] {
    auto r = Write(*a, "0123456789");  // 4 fit, then it blocks
    result = r.ok() ? 1000 + static_cast<int>(*r) : static_cast<int>(r.error());
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(result.load(), -1);
  a->Interrupt();
  writer.join();
  EXPECT_EQ(result.load(), 1004);  // the bytes that went count; no EINTR
  EXPECT_EQ(*Read(*b, 10), "0123");
  // Blocked with nothing written: EINTR.
  EXPECT_EQ(*Write(*a, "abcd"), 4u);
  std::thread writer2([&a = a, &result] {
    auto r = Write(*a, "x");
    result = r.ok() ? 1000 + static_cast<int>(*r) : static_cast<int>(r.error());
  });
  std::this_thread::sleep_for(50ms);
  a->Interrupt();
  writer2.join();
  EXPECT_EQ(result.load(), static_cast<int>(Errno::kIntr));
}

TEST(VirtChannel, ThreadPeerDropWakesBlockedReaderAndWriter) {
  auto [a, b] = MakeChannel(2);
  std::atomic<int> read_result{-1};
  std::thread reader([&b = b, &read_result] {
    auto r = Read(*b, 10);
    read_result = r.ok() ? static_cast<int>(r->size()) : 100 + static_cast<int>(r.error());
  });
  std::this_thread::sleep_for(30ms);
  a.reset();
  reader.join();
  EXPECT_EQ(read_result.load(), 0);  // EOF

  auto [c, d] = MakeChannel(2);
  std::atomic<int> write_result{-1};
  std::thread writer([&c = c, &write_result] {
    auto r = Write(*c, "abcdef");  // 2 fit, then blocks until the reader goes
    write_result = r.ok() ? static_cast<int>(*r) : 100 + static_cast<int>(r.error());
  });
  std::this_thread::sleep_for(30ms);
  d.reset();
  writer.join();
  EXPECT_EQ(write_result.load(), 2);  // short count: the bytes that went before EPIPE
  EXPECT_EQ(ErrOf(Write(*c, "x")), Errno::kPipe);
}

}  // namespace
}  // namespace weft::wasi
