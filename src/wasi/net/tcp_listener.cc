// TcpListener: a listening stream socket as a guest handle. See include/weft/wasi/net.h.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wasi/host/host_util.h"
#include "wasi/net/address.h"
#include "wasi/net/socket_util.h"
#include "weft/wasi/net.h"

namespace weft::wasi {

using host::LastErr;
using host::RetryEintr;

ErrnoOr<std::shared_ptr<TcpListener>> TcpListener::Bind(std::string_view host_port, int backlog) {
  auto bind_and_listen = [backlog](int fd, const net::SockAddr& a) -> ErrnoOr<void> {
    // As Rust's std (and so wasmtime's --tcplisten): a restarted server can rebind a
    // port that still has connections in TIME_WAIT.
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, a.get(), a.len) != 0 || listen(fd, backlog) != 0) {
      return LastErr();
    }
    return {};
  };
  WEFT_TRY_ASSIGN(int fd, net::OpenStreamSocket(host_port, bind_and_listen));
  return std::make_shared<TcpListener>(PrivateTag{}, fd, /*owns_fd=*/true);
}

ErrnoOr<std::shared_ptr<TcpListener>> TcpListener::FromFd(int fd, bool owns_fd) {
  WEFT_TRY_ASSIGN(net::SocketKind kind, net::ClassifySocket(fd));
  if (kind != net::SocketKind::kStreamListening) return Err(Errno::kInval);
  return std::make_shared<TcpListener>(PrivateTag{}, fd, owns_fd);
}

TcpListener::TcpListener(PrivateTag, int fd, bool owns_fd) : fd_(fd), owns_fd_(owns_fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(fd_, reinterpret_cast<struct sockaddr*>(&ss), &len) == 0) {
    const auto* sa = reinterpret_cast<const struct sockaddr*>(&ss);
    local_port_ = net::SockAddrPort(sa, len);
    local_address_ = net::FormatSockAddr(sa, len);
  }
}

TcpListener::~TcpListener() {
  // close(2) is not retried on EINTR on Linux: the fd is released either way.
  if (owns_fd_ && fd_ >= 0) close(fd_);
}

ErrnoOr<std::shared_ptr<TcpStream>> TcpListener::Accept(Fdflags flags) {
  if (flags & ~kFdflagNonblock) return Err(Errno::kInval);
  int type = SOCK_CLOEXEC | ((flags & kFdflagNonblock) ? SOCK_NONBLOCK : 0);
  int conn = RetryEintr([&] { return accept4(fd_, nullptr, nullptr, type); });
  if (conn < 0) {
    // EWOULDBLOCK is EAGAIN on Linux; ErrnoFromHost maps both.
    return LastErr();
  }
  return std::make_shared<TcpStream>(TcpStream::PrivateTag{}, conn, /*owns_fd=*/true);
}

ErrnoOr<std::shared_ptr<File>> TcpListener::SockAccept(Fdflags flags) {
  WEFT_TRY_ASSIGN(std::shared_ptr<TcpStream> s, Accept(flags));
  return std::shared_ptr<File>(std::move(s));
}

ErrnoOr<Filestat> TcpListener::Stat() {
  struct stat st;
  if (fstat(fd_, &st) != 0) return LastErr();
  Filestat out = host::FilestatFromStat(st, fd_);
  out.filetype = Filetype::kSocketStream;
  return out;
}

ErrnoOr<Fdflags> TcpListener::GetFdflags() { return net::GetSocketFdflags(fd_); }

ErrnoOr<void> TcpListener::SetFdflags(Fdflags flags) { return net::SetSocketFdflags(fd_, flags); }

PollSource TcpListener::GetPollSource(Interest interest) {
  return PollSource{fd_, host::PollEventsFor(interest)};
}

Readiness TcpListener::CheckReadiness(Interest interest) {
  Readiness r;
  const short events = host::PollEventsFor(interest);
  auto revents = host::PollNow(fd_, events);
  if (!revents.ok()) {
    r.error = revents.error();
    return r;
  }
  r.ready = (*revents & (events | POLLERR | POLLHUP)) != 0;
  r.hangup = (*revents & POLLHUP) != 0;
  // A pending error (POLLERR) is left for accept to report: reading SO_ERROR here
  // would consume it. wasmtime's listener reports one "byte" ready: a connection.
  if (r.ready && interest == Interest::kRead) r.nbytes = 1;
  return r;
}

}  // namespace weft::wasi
