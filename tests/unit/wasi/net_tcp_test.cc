// TcpListener / TcpStream on loopback: bind/accept/connect, exact bytes both ways,
// peek, waitall, shutdown as the peer sees it, EPIPE instead of SIGPIPE, nonblocking
// accept, poll readiness, ENOTSOCK on non-sockets, FromFd adoption. Every socket gets
// 5-second send/receive timeouts, so a broken test fails instead of hanging.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "file_test_util.h"
#include "weft/wasi/fd_file.h"
#include "weft/wasi/net.h"

namespace weft::wasi {
namespace {

void SetTimeouts(int fd) {
  struct timeval tv = {5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

ErrnoOr<size_t> Send(File& f, std::string_view s) {
  ConstIoVec v{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  return f.SockSend(std::span<const ConstIoVec>(&v, 1), 0);
}

using testing::WriteStr;

// Receives up to `max` bytes with `flags`; the error, or the bytes as a string.
ErrnoOr<std::string> Recv(File& f, size_t max, Riflags flags = 0) {
  std::string buf(max, '\0');
  IoVec v{reinterpret_cast<uint8_t*>(buf.data()), buf.size()};
  WEFT_TRY_ASSIGN(File::RecvResult r, f.SockRecv(std::span<const IoVec>(&v, 1), flags));
  EXPECT_EQ(r.flags, 0);
  buf.resize(r.size);
  return buf;
}

ErrnoOr<std::string> ReadStr(File& f, size_t max) {
  std::string buf(max, '\0');
  IoVec v{reinterpret_cast<uint8_t*>(buf.data()), buf.size()};
  WEFT_TRY_ASSIGN(size_t n, f.Read(std::span<const IoVec>(&v, 1)));
  buf.resize(n);
  return buf;
}

// Waits (bounded) until `source` polls ready.
bool PollReady(const PollSource& source, int timeout_ms = 5000) {
  if (source.fd < 0) return false;
  struct pollfd p = {source.fd, source.events, 0};
  return poll(&p, 1, timeout_ms) == 1;
}

struct Pair {
  std::shared_ptr<TcpListener> listener;
  std::shared_ptr<TcpStream> client;  // connected by the host
  std::shared_ptr<TcpStream> server;  // accepted
};

Pair MakePair(const char* bind_addr = "127.0.0.1:0") {
  Pair p;
  auto l = TcpListener::Bind(bind_addr);
  EXPECT_TRUE(l.ok()) << (l.ok() ? "" : ErrnoName(l.error()));
  if (!l.ok()) return p;
  p.listener = *l;
  auto c = TcpStream::Connect(p.listener->local_address());
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : ErrnoName(c.error()));
  if (!c.ok()) return p;
  p.client = *c;
  auto s = p.listener->Accept(0);
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : ErrnoName(s.error()));
  if (!s.ok()) return p;
  p.server = *s;
  SetTimeouts(p.client->fd());
  SetTimeouts(p.server->fd());
  return p;
}

bool FdIsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

class NetTcpTest : public ::testing::Test {
 protected:
  // A write that raised SIGPIPE must kill the test binary, so make sure nothing in
  // the process ignores it.
  void SetUp() override { old_ = signal(SIGPIPE, SIG_DFL); }
  void TearDown() override { signal(SIGPIPE, old_); }
  void (*old_)(int) = SIG_DFL;
};

TEST_F(NetTcpTest, BindEphemeralReportsPortAndSocketType) {
  auto l = TcpListener::Bind("127.0.0.1:0");
  ASSERT_TRUE(l.ok());
  EXPECT_NE((*l)->local_port(), 0);
  EXPECT_EQ((*l)->local_address(), "127.0.0.1:" + std::to_string((*l)->local_port()));
  EXPECT_EQ((*l)->filetype(), Filetype::kSocketStream);
  auto st = (*l)->Stat();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->filetype, Filetype::kSocketStream);
  auto fl = (*l)->GetFdflags();
  ASSERT_TRUE(fl.ok());
  EXPECT_EQ(*fl, 0);
  EXPECT_EQ(fcntl((*l)->fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST_F(NetTcpTest, BindLocalhostUsesIpv4Loopback) {
  auto l = TcpListener::Bind("localhost:0");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)->local_address(), "127.0.0.1:" + std::to_string((*l)->local_port()));
}

TEST_F(NetTcpTest, BindIpv6LoopbackAndTalk) {
  auto l = TcpListener::Bind("[::1]:0");
  if (!l.ok() && (l.error() == Errno::kAddrnotavail || l.error() == Errno::kAfnosupport)) {
    GTEST_SKIP() << "no IPv6 loopback here";
  }
  ASSERT_TRUE(l.ok()) << ErrnoName(l.error());
  EXPECT_EQ((*l)->local_address(), "[::1]:" + std::to_string((*l)->local_port()));
  Pair p = MakePair("[::1]:0");
  ASSERT_TRUE(p.server);
  EXPECT_EQ(p.client->peer_address(), p.listener->local_address());
  ASSERT_EQ(*Send(*p.client, "v6"), 2u);
  EXPECT_EQ(*Recv(*p.server, 16), "v6");
}

TEST_F(NetTcpTest, BindSamePortTwiceIsAddrinuse) {
  auto a = TcpListener::Bind("127.0.0.1:0");
  ASSERT_TRUE(a.ok());
  auto b = TcpListener::Bind((*a)->local_address());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error(), Errno::kAddrinuse);
}

TEST_F(NetTcpTest, ConnectToClosedPortIsConnrefused) {
  std::string addr;
  {
    auto l = TcpListener::Bind("127.0.0.1:0");
    ASSERT_TRUE(l.ok());
    addr = (*l)->local_address();
  }
  auto c = TcpStream::Connect(addr);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error(), Errno::kConnrefused);
}

TEST_F(NetTcpTest, ExactBytesBothWaysThroughSockAndFdCalls) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  EXPECT_EQ(p.server->filetype(), Filetype::kSocketStream);
  EXPECT_EQ(p.client->peer_address(), p.listener->local_address());
  EXPECT_EQ(p.server->peer_address(), p.client->local_address());

  ASSERT_EQ(*Send(*p.client, "ping\n"), 5u);
  EXPECT_EQ(*Recv(*p.server, 64), "ping\n");
  ASSERT_EQ(*WriteStr(*p.server, "pong!"), 5u);
  EXPECT_EQ(*ReadStr(*p.client, 64), "pong!");

  // Scatter/gather: three buffers out, two buffers in.
  const char a[] = "abc", b[] = "", c[] = "defgh";
  ConstIoVec out[3] = {{reinterpret_cast<const uint8_t*>(a), 3},
                       {reinterpret_cast<const uint8_t*>(b), 0},
                       {reinterpret_cast<const uint8_t*>(c), 5}};
  auto n = p.client->SockSend(out, 0);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(*n, 8u);
  char in1[2], in2[6];
  IoVec in[2] = {{reinterpret_cast<uint8_t*>(in1), 2}, {reinterpret_cast<uint8_t*>(in2), 6}};
  auto r = p.server->SockRecv(in, kRiRecvWaitall);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size, 8u);
  EXPECT_EQ(r->flags, 0);
  EXPECT_EQ(std::string(in1, 2) + std::string(in2, 6), "abcdefgh");
}

TEST_F(NetTcpTest, PeekLeavesDataAndFillsEveryBuffer) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  ASSERT_EQ(*Send(*p.client, "hello"), 5u);
  // Wait until all five bytes are in the receive queue.
  for (int i = 0; i < 500 && p.server->CheckReadiness(Interest::kRead).nbytes < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  char x[3], y[8];
  IoVec v[2] = {{reinterpret_cast<uint8_t*>(x), 3}, {reinterpret_cast<uint8_t*>(y), 8}};
  auto r = p.server->SockRecv(v, kRiRecvPeek);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size, 5u);
  EXPECT_EQ(std::string(x, 3) + std::string(y, 2), "hello");
  EXPECT_EQ(*Recv(*p.server, 2, kRiRecvPeek), "he");
  EXPECT_EQ(*Recv(*p.server, 64), "hello");
}

TEST_F(NetTcpTest, WaitallWaitsForTheWholeBuffer) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  std::thread writer([&] {
    EXPECT_EQ(*Send(*p.client, "abc"), 3u);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(*Send(*p.client, "def"), 3u);
  });
  auto got = Recv(*p.server, 6, kRiRecvWaitall);
  writer.join();
  ASSERT_TRUE(got.ok()) << ErrnoName(got.error());
  EXPECT_EQ(*got, "abcdef");
}

TEST_F(NetTcpTest, WaitallStopsShortAtEof) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  ASSERT_EQ(*Send(*p.client, "ab"), 2u);
  ASSERT_TRUE(p.client->SockShutdown(kSdWr).ok());
  EXPECT_EQ(*Recv(*p.server, 10, kRiRecvWaitall), "ab");
  EXPECT_EQ(*Recv(*p.server, 10, kRiRecvWaitall), "");
}

TEST_F(NetTcpTest, ShutdownWriteGivesPeerEofButKeepsOtherDirection) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  ASSERT_EQ(*Send(*p.client, "last"), 4u);
  ASSERT_TRUE(p.client->SockShutdown(kSdWr).ok());
  EXPECT_EQ(*ReadStr(*p.server, 64), "last");
  EXPECT_EQ(*ReadStr(*p.server, 64), "");  // EOF
  EXPECT_EQ(*Recv(*p.server, 64), "");     // still EOF
  // The other direction is still open.
  ASSERT_EQ(*WriteStr(*p.server, "reply"), 5u);
  EXPECT_EQ(*Recv(*p.client, 64), "reply");
  // Writing after our own SHUT_WR: EPIPE, and no SIGPIPE.
  auto w = WriteStr(*p.client, "x");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error(), Errno::kPipe);
  auto s = Send(*p.client, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), Errno::kPipe);
}

TEST_F(NetTcpTest, ShutdownBothEndsBothDirections) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  ASSERT_TRUE(p.server->SockShutdown(kSdRd | kSdWr).ok());
  EXPECT_EQ(*Recv(*p.client, 64), "");  // the peer sees EOF
  EXPECT_EQ(*Recv(*p.server, 64), "");  // our read side is shut
  auto w = Send(*p.server, "x");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error(), Errno::kPipe);
}

TEST_F(NetTcpTest, ShutdownReadOnly) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  ASSERT_TRUE(p.server->SockShutdown(kSdRd).ok());
  EXPECT_EQ(*Recv(*p.server, 64), "");
  ASSERT_EQ(*Send(*p.server, "still"), 5u);
  EXPECT_EQ(*Recv(*p.client, 64), "still");
}

TEST_F(NetTcpTest, ShutdownInvalidFlagsAreEinval) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  for (Sdflags how : {Sdflags{0}, Sdflags{4}, Sdflags{kSdRd | 4}, Sdflags{0xff}}) {
    auto r = p.server->SockShutdown(how);
    ASSERT_FALSE(r.ok()) << int(how);
    EXPECT_EQ(r.error(), Errno::kInval) << int(how);
  }
  // Nothing was shut down by the refused calls.
  ASSERT_EQ(*Send(*p.server, "ok"), 2u);
  EXPECT_EQ(*Recv(*p.client, 8), "ok");
}

TEST_F(NetTcpTest, WriteToClosedPeerIsEpipeNotSigpipe) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  p.server.reset();  // closes the accepted socket: the peer is gone
  Errno last = Errno::kSuccess;
  for (int i = 0; i < 500 && last == Errno::kSuccess; ++i) {
    auto w = WriteStr(*p.client, "data");
    if (!w.ok()) last = w.error();
    else std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  // The first write after the close draws an RST; the next answers ECONNRESET or EPIPE.
  EXPECT_TRUE(last == Errno::kPipe || last == Errno::kConnreset) << ErrnoName(last);
  // Once reset, writes keep failing with EPIPE, through both write paths.
  auto w = WriteStr(*p.client, "x");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error(), Errno::kPipe);
  auto s = Send(*p.client, "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), Errno::kPipe);
}

TEST_F(NetTcpTest, NonblockingListenerAcceptIsEagainUntilAConnectionArrives) {
  auto l = TcpListener::Bind("127.0.0.1:0");
  ASSERT_TRUE(l.ok());
  ASSERT_TRUE((*l)->SetFdflags(kFdflagNonblock).ok());
  EXPECT_EQ(*(*l)->GetFdflags(), kFdflagNonblock);
  auto none = (*l)->SockAccept(0);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error(), Errno::kAgain);

  auto c = TcpStream::Connect((*l)->local_address());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(PollReady((*l)->GetPollSource(Interest::kRead)));
  // NONBLOCK in sock_accept's flags is for the new stream.
  auto s = (*l)->SockAccept(kFdflagNonblock);
  ASSERT_TRUE(s.ok()) << ErrnoName(s.error());
  EXPECT_EQ((*s)->filetype(), Filetype::kSocketStream);
  EXPECT_EQ(*(*s)->GetFdflags(), kFdflagNonblock);
  auto r = Recv(**s, 8);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Errno::kAgain);
  // And back to blocking.
  ASSERT_TRUE((*l)->SetFdflags(0).ok());
  EXPECT_EQ(*(*l)->GetFdflags(), 0);
}

TEST_F(NetTcpTest, AcceptedStreamIsBlockingWithoutTheFlag) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  EXPECT_EQ(*p.server->GetFdflags(), 0);
  EXPECT_EQ(fcntl(p.server->fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
}

TEST_F(NetTcpTest, AcceptRejectsFlagsOtherThanNonblock) {
  auto l = TcpListener::Bind("127.0.0.1:0");
  ASSERT_TRUE(l.ok());
  for (Fdflags f : {kFdflagAppend, kFdflagSync, Fdflags(kFdflagNonblock | kFdflagDsync)}) {
    auto r = (*l)->SockAccept(f);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), Errno::kInval);
  }
}

TEST_F(NetTcpTest, StreamFdflagsOnlyNonblock) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  auto bad = p.server->SetFdflags(kFdflagAppend);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), Errno::kInval);
  ASSERT_TRUE(p.server->SetFdflags(kFdflagNonblock).ok());
  EXPECT_EQ(*p.server->GetFdflags(), kFdflagNonblock);
  auto r = ReadStr(*p.server, 4);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Errno::kAgain);
  ASSERT_TRUE(p.server->SetFdflags(0).ok());
  EXPECT_EQ(*p.server->GetFdflags(), 0);
  auto lbad = p.listener->SetFdflags(kFdflagAppend);
  ASSERT_FALSE(lbad.ok());
  EXPECT_EQ(lbad.error(), Errno::kInval);
}

TEST_F(NetTcpTest, ListenerStreamCallsAreEbadf) {
  auto l = TcpListener::Bind("127.0.0.1:0");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(ReadStr(**l, 4).error(), Errno::kBadf);
  EXPECT_EQ(WriteStr(**l, "x").error(), Errno::kBadf);
  EXPECT_EQ(Recv(**l, 4).error(), Errno::kBadf);
  EXPECT_EQ(Send(**l, "x").error(), Errno::kBadf);
  EXPECT_EQ((*l)->SockShutdown(kSdWr).error(), Errno::kBadf);
  EXPECT_EQ((*l)->Seek(0, Whence::kSet).error(), Errno::kSpipe);
}

TEST_F(NetTcpTest, RecvAndSendFlagValidation) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  auto r = Recv(*p.server, 4, Riflags{4});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Errno::kInval);
  ConstIoVec v{reinterpret_cast<const uint8_t*>("x"), 1};
  auto s = p.client->SockSend(std::span<const ConstIoVec>(&v, 1), Siflags{1});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), Errno::kInval);
}

TEST_F(NetTcpTest, SeekOnStreamIsEspipe) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  EXPECT_EQ(p.server->Seek(0, Whence::kCur).error(), Errno::kSpipe);
}

TEST_F(NetTcpTest, ListenerReadinessFollowsPendingConnections) {
  auto l = TcpListener::Bind("127.0.0.1:0");
  ASSERT_TRUE(l.ok());
  PollSource src = (*l)->GetPollSource(Interest::kRead);
  EXPECT_EQ(src.fd, (*l)->fd());
  EXPECT_EQ(src.events, POLLIN);
  EXPECT_FALSE((*l)->CheckReadiness(Interest::kRead).ready);
  EXPECT_FALSE(PollReady(src, 0));

  auto c = TcpStream::Connect((*l)->local_address());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(PollReady(src));
  Readiness r = (*l)->CheckReadiness(Interest::kRead);
  EXPECT_TRUE(r.ready);
  EXPECT_EQ(r.nbytes, 1u);
  EXPECT_FALSE(r.hangup);
  EXPECT_EQ(r.error, Errno::kSuccess);
  ASSERT_TRUE((*l)->Accept(0).ok());
  EXPECT_FALSE((*l)->CheckReadiness(Interest::kRead).ready);
}

TEST_F(NetTcpTest, StreamReadinessNbytesAndHangup) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  PollSource rs = p.server->GetPollSource(Interest::kRead);
  EXPECT_EQ(rs.fd, p.server->fd());
  EXPECT_EQ(rs.events, POLLIN);
  EXPECT_FALSE(p.server->CheckReadiness(Interest::kRead).ready);

  PollSource ws = p.server->GetPollSource(Interest::kWrite);
  EXPECT_EQ(ws.events, POLLOUT);
  ASSERT_TRUE(PollReady(ws));
  Readiness w = p.server->CheckReadiness(Interest::kWrite);
  EXPECT_TRUE(w.ready);
  EXPECT_GT(w.nbytes, 0u);
  EXPECT_FALSE(w.hangup);

  ASSERT_EQ(*Send(*p.client, "1234567"), 7u);
  ASSERT_TRUE(PollReady(rs));
  Readiness r;
  for (int i = 0; i < 500; ++i) {
    r = p.server->CheckReadiness(Interest::kRead);
    if (r.nbytes == 7) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(r.ready);
  EXPECT_EQ(r.nbytes, 7u);
  EXPECT_FALSE(r.hangup);

  // The peer shuts down its side: still 7 bytes to read, and hangup.
  ASSERT_TRUE(p.client->SockShutdown(kSdWr).ok());
  for (int i = 0; i < 500 && !r.hangup; ++i) {
    r = p.server->CheckReadiness(Interest::kRead);
    if (!r.hangup) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(r.ready);
  EXPECT_TRUE(r.hangup);
  EXPECT_EQ(r.nbytes, 7u);
  EXPECT_EQ(*Recv(*p.server, 64), "1234567");
  r = p.server->CheckReadiness(Interest::kRead);
  EXPECT_TRUE(r.ready);
  EXPECT_TRUE(r.hangup);
  EXPECT_EQ(r.nbytes, 0u);
}

TEST_F(NetTcpTest, SockCallsOnANonSocketFdFileAreEnotsock) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  FdFile f(fds[0], /*owns_fd=*/true);
  close(fds[1]);
  EXPECT_EQ(Recv(f, 4).error(), Errno::kNotsock);
  EXPECT_EQ(Send(f, "x").error(), Errno::kNotsock);
  EXPECT_EQ(f.SockShutdown(kSdRd).error(), Errno::kNotsock);
  EXPECT_EQ(f.SockAccept(0).error(), Errno::kNotsock);
}

TEST_F(NetTcpTest, FromFdRefusesNonSocketsAndLeavesTheFdOpen) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  auto s = TcpStream::FromFd(fds[0], /*owns_fd=*/true);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), Errno::kNotsock);
  auto l = TcpListener::FromFd(fds[0], /*owns_fd=*/true);
  ASSERT_FALSE(l.ok());
  EXPECT_EQ(l.error(), Errno::kNotsock);
  EXPECT_TRUE(FdIsOpen(fds[0]));
  auto f = FileFromHostFd(fds[0], /*owns_fd=*/true);
  EXPECT_EQ(dynamic_cast<TcpStream*>(f.get()), nullptr);
  EXPECT_EQ(dynamic_cast<TcpListener*>(f.get()), nullptr);
  EXPECT_NE(dynamic_cast<FdFile*>(f.get()), nullptr);
  f.reset();
  EXPECT_FALSE(FdIsOpen(fds[0]));
  close(fds[1]);
}

TEST_F(NetTcpTest, FromFdChecksTheSocketKind) {
  int dg[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dg), 0);
  EXPECT_EQ(TcpStream::FromFd(dg[0], true).error(), Errno::kPrototype);
  EXPECT_EQ(TcpListener::FromFd(dg[0], true).error(), Errno::kInval);
  close(dg[0]);
  close(dg[1]);

  auto l = TcpListener::Bind("127.0.0.1:0");
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(TcpStream::FromFd((*l)->fd(), false).error(), Errno::kInval);
  auto again = TcpListener::FromFd((*l)->fd(), /*owns_fd=*/false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->local_port(), (*l)->local_port());
  again->reset();
  EXPECT_TRUE(FdIsOpen((*l)->fd()));  // not owned: left open

  auto c = TcpStream::Connect((*l)->local_address());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(TcpListener::FromFd((*c)->fd(), false).error(), Errno::kInval);
  auto h = FileFromHostFd((*l)->fd(), false);
  EXPECT_NE(dynamic_cast<TcpListener*>(h.get()), nullptr);
  auto hs = FileFromHostFd((*c)->fd(), false);
  EXPECT_NE(dynamic_cast<TcpStream*>(hs.get()), nullptr);
}

TEST_F(NetTcpTest, FromFdAdoptsAUnixStreamSocketpair) {
  int sp[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  SetTimeouts(sp[0]);
  SetTimeouts(sp[1]);
  auto a = TcpStream::FromFd(sp[0], true);
  auto b = TcpStream::FromFd(sp[1], true);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*a)->filetype(), Filetype::kSocketStream);
  EXPECT_EQ((*a)->peer_address(), "");
  ASSERT_EQ(*Send(**a, "unix"), 4u);
  EXPECT_EQ(*ReadStr(**b, 16), "unix");
  ASSERT_TRUE((*a)->SockShutdown(kSdWr).ok());
  EXPECT_EQ(*Recv(**b, 16), "");
  int fd = (*a)->fd();
  a->reset();
  EXPECT_FALSE(FdIsOpen(fd));  // owned: closed with the handle
}

// One handle shared by several holders (as two tables would): concurrent senders and a
// reader see every byte exactly once. Meant for TSan.
TEST_F(NetTcpTest, SharedHandleConcurrentSendAndRecv) {
  Pair p = MakePair();
  ASSERT_TRUE(p.server);
  constexpr int kThreads = 4, kPerThread = 200;
  std::shared_ptr<File> shared_client = p.client;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([holder = shared_client, t] {
      char byte = static_cast<char>('a' + t);
      for (int i = 0; i < kPerThread; ++i) {
        auto n = Send(*holder, std::string_view(&byte, 1));
        ASSERT_TRUE(n.ok());
        ASSERT_EQ(*n, 1u);
      }
    });
  }
  std::atomic<int> counts[kThreads] = {};
  std::thread reader([&, holder = std::shared_ptr<File>(p.server)] {
    int total = 0;
    while (total < kThreads * kPerThread) {
      auto got = Recv(*holder, 64);
      if (!got.ok() || got->empty()) break;
      for (char ch : *got) counts[ch - 'a'].fetch_add(1);
      total += static_cast<int>(got->size());
    }
  });
  for (auto& w : writers) w.join();
  reader.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(counts[t].load(), kPerThread) << t;
}

}  // namespace
}  // namespace weft::wasi
