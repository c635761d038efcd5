// TcpStream: a connected stream socket as a guest handle. See include/weft/wasi/net.h.
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstddef>

#include "wasi/host/host_util.h"
#include "wasi/net/address.h"
#include "wasi/net/socket_util.h"
#include "weft/wasi/net.h"

namespace weft::wasi {
namespace {

using host::LastErr;
using host::RetryEintr;

// A msghdr over the caller's buffers; more than IOV_MAX gives a short transfer, which a
// socket caller must handle anyway.
template <class V>
struct msghdr MsgOver(std::span<V> iovs) {
  struct msghdr msg = {};
  // msg_iov is not const-qualified; sendmsg only reads through it.
  int count = 0;
  msg.msg_iov = const_cast<struct iovec*>(host::AsIovecs(iovs, &count));
  msg.msg_iovlen = static_cast<size_t>(count);
  return msg;
}

ErrnoOr<size_t> SendNoSignal(int fd, std::span<const ConstIoVec> iovs) {
  struct msghdr msg = MsgOver(iovs);
  ssize_t n = RetryEintr([&] { return sendmsg(fd, &msg, MSG_NOSIGNAL); });
  if (n < 0) return LastErr();
  return static_cast<size_t>(n);
}

// Waits for a connect that EINTR interrupted: the kernel goes on connecting, and the
// outcome is in SO_ERROR once the socket is writable.
ErrnoOr<void> FinishInterruptedConnect(int fd) {
  struct pollfd p = {fd, POLLOUT, 0};
  if (RetryEintr([&] { return poll(&p, 1, -1); }) < 0) return LastErr();
  Errno e = net::PendingSocketError(fd);
  if (e != Errno::kSuccess) return Err(e);
  return {};
}

std::string AddressOf(int fd, bool peer) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  auto* sa = reinterpret_cast<struct sockaddr*>(&ss);
  int rc = peer ? getpeername(fd, sa, &len) : getsockname(fd, sa, &len);
  if (rc != 0) return "";
  return net::FormatSockAddr(sa, len);
}

}  // namespace

ErrnoOr<std::shared_ptr<TcpStream>> TcpStream::Connect(std::string_view host_port) {
  auto connect_to = [](int fd, const net::SockAddr& a) -> ErrnoOr<void> {
    if (connect(fd, a.get(), a.len) == 0) return {};
    return errno == EINTR ? FinishInterruptedConnect(fd) : LastErr();
  };
  WEFT_TRY_ASSIGN(int fd, net::OpenStreamSocket(host_port, connect_to));
  return std::make_shared<TcpStream>(PrivateTag{}, fd, /*owns_fd=*/true);
}

ErrnoOr<std::shared_ptr<TcpStream>> TcpStream::FromFd(int fd, bool owns_fd) {
  WEFT_TRY_ASSIGN(net::SocketKind kind, net::ClassifySocket(fd));
  switch (kind) {
    case net::SocketKind::kStream: break;
    case net::SocketKind::kStreamListening: return Err(Errno::kInval);
    default: return Err(Errno::kPrototype);
  }
  return std::make_shared<TcpStream>(PrivateTag{}, fd, owns_fd);
}

TcpStream::TcpStream(PrivateTag, int fd, bool owns_fd) : FdFile(fd, owns_fd) {}

std::string TcpStream::local_address() const { return AddressOf(fd_, /*peer=*/false); }
std::string TcpStream::peer_address() const { return AddressOf(fd_, /*peer=*/true); }

ErrnoOr<Fdflags> TcpStream::GetFdflags() { return net::GetSocketFdflags(fd_); }

ErrnoOr<void> TcpStream::SetFdflags(Fdflags flags) { return net::SetSocketFdflags(fd_, flags); }

Readiness TcpStream::CheckReadiness(Interest interest) {
  Readiness r;
  const bool read = interest == Interest::kRead;
  const short events = static_cast<short>(read ? (POLLIN | POLLRDHUP) : POLLOUT);
  auto revents = host::PollNow(fd_, events);
  if (!revents.ok()) {
    r.error = revents.error();
    return r;
  }
  // POLLERR makes the fd ready; the error itself is left for the next read/write to
  // report (reading SO_ERROR here would consume it).
  r.ready = (*revents & (events | POLLERR | POLLHUP)) != 0;
  r.hangup = (*revents & (POLLHUP | (read ? POLLRDHUP : 0))) != 0;
  if (!r.ready) return r;
  if (read) {
    r.nbytes = host::BytesReadable(fd_);
  } else {
    int sndbuf = 0, queued = 0;
    socklen_t len = sizeof(sndbuf);
    if (getsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, &len) == 0 &&
        ioctl(fd_, SIOCOUTQ, &queued) == 0 && sndbuf > queued) {
      r.nbytes = static_cast<uint64_t>(sndbuf - queued);
    }
  }
  return r;
}

ErrnoOr<size_t> TcpStream::Write(std::span<const ConstIoVec> iovs) {
  return SendNoSignal(fd_, iovs);
}

ErrnoOr<File::RecvResult> TcpStream::SockRecv(std::span<const IoVec> iovs, Riflags flags) {
  if (flags & ~(kRiRecvPeek | kRiRecvWaitall)) return Err(Errno::kInval);
  int host_flags = 0;
  if (flags & kRiRecvPeek) host_flags |= MSG_PEEK;
  if (flags & kRiRecvWaitall) host_flags |= MSG_WAITALL;
  struct msghdr msg = MsgOver(iovs);
  ssize_t n = RetryEintr([&] { return recvmsg(fd_, &msg, host_flags); });
  if (n < 0) return LastErr();
  RecvResult out{static_cast<size_t>(n), 0};
  if (msg.msg_flags & MSG_TRUNC) out.flags |= kRoRecvDataTruncated;
  return out;
}

ErrnoOr<size_t> TcpStream::SockSend(std::span<const ConstIoVec> iovs, Siflags flags) {
  if (flags != 0) return Err(Errno::kInval);
  return SendNoSignal(fd_, iovs);
}

ErrnoOr<void> TcpStream::SockShutdown(Sdflags how) {
  int host_how;
  if (how == (kSdRd | kSdWr)) {
    host_how = SHUT_RDWR;
  } else if (how == kSdRd) {
    host_how = SHUT_RD;
  } else if (how == kSdWr) {
    host_how = SHUT_WR;
  } else {
    return Err(Errno::kInval);
  }
  if (shutdown(fd_, host_how) != 0) return LastErr();
  return {};
}

std::shared_ptr<File> FileFromHostFd(int fd, bool owns_fd) {
  if (auto listener = TcpListener::FromFd(fd, owns_fd); listener.ok()) return *listener;
  if (auto stream = TcpStream::FromFd(fd, owns_fd); stream.ok()) return *stream;
  return std::make_shared<FdFile>(fd, owns_fd);
}

}  // namespace weft::wasi
