// TCP handles: a listening socket (TcpListener) and a connected stream (TcpStream) that a
// host hands to a guest as ordinary fds. A guest reaches them through fd_read/fd_write,
// sock_accept/sock_recv/sock_send/sock_shutdown and poll_oneoff.
//
// Where a host gets the socket is its business: Bind/Connect open one from a
// "host:port" string ("127.0.0.1:8080", "[::1]:0", "localhost:0"), FromFd adopts one the
// host already has (inherited, accepted elsewhere, a Unix stream socket...).
// Errno choices follow wasmtime's preview1 (wasi-common) socket files; each departure
// is said where it is made.
//
// Thread safety: every method is a syscall on one fd and keeps no other mutable state,
// so a handle may be used from several threads and shared between tables (same open
// socket, as dup(2)). SIGPIPE never reaches the host: writes use send(MSG_NOSIGNAL), so
// writing to a closed peer answers EPIPE.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "weft/wasi/fd_file.h"
#include "weft/wasi/handle.h"

namespace weft::wasi {

class TcpStream;

// A listening stream socket. Its only guest operations are sock_accept, fdstat/filestat,
// fd_fdstat_set_flags (NONBLOCK only) and poll_oneoff (readable = a connection is
// pending). fd_read/fd_write/sock_recv/sock_send/sock_shutdown answer EBADF, as
// wasmtime's listener does (POSIX would say ENOTCONN).
class TcpListener final : public File {
  struct PrivateTag {};

 public:
  static constexpr int kDefaultBacklog = 128;

  // Binds and listens on `host_port` (SO_REUSEADDR, close-on-exec, blocking). The port
  // may be 0 (ephemeral; see local_port()). A malformed string is EINVAL; a host name
  // that does not resolve is ENOENT; bind/listen errors map from the host (EADDRINUSE,
  // EACCES, EADDRNOTAVAIL...).
  static ErrnoOr<std::shared_ptr<TcpListener>> Bind(std::string_view host_port,
                                                     int backlog = kDefaultBacklog);
  // Adopts a host fd that is a listening stream socket (closed in the destructor when
  // `owns_fd`). Not a socket: ENOTSOCK; a socket that is not listening or not a stream:
  // EINVAL. On error the fd is left open and still the caller's.
  static ErrnoOr<std::shared_ptr<TcpListener>> FromFd(int fd, bool owns_fd = true);

  TcpListener(PrivateTag, int fd, bool owns_fd);
  ~TcpListener() override;
  TcpListener(const TcpListener&) = delete;
  TcpListener& operator=(const TcpListener&) = delete;

  int fd() const { return fd_; }
  // The bound port (resolved once at construction; 0 for a non-IP socket).
  uint16_t local_port() const { return local_port_; }
  // "127.0.0.1:4242" / "[::1]:4242" (or "" for a non-IP socket).
  const std::string& local_address() const { return local_address_; }

  // Accepts one connection. The new stream is blocking unless `flags` has NONBLOCK
  // (as accept4(SOCK_NONBLOCK): the flag is for the new socket). Whether accept itself
  // waits depends on the listener's own NONBLOCK flag: EAGAIN when it is set and nothing
  // is pending. Other flag bits: EINVAL (wasmtime: "cannot set anything else than
  // NONBLOCK").
  ErrnoOr<std::shared_ptr<TcpStream>> Accept(Fdflags flags);

  Filetype filetype() const override { return Filetype::kSocketStream; }
  ErrnoOr<Filestat> Stat() override;
  ErrnoOr<Fdflags> GetFdflags() override;
  // NONBLOCK or nothing; any other bit is EINVAL (as wasmtime).
  ErrnoOr<void> SetFdflags(Fdflags flags) override;
  PollSource GetPollSource(Interest interest) override;
  // kRead: ready while a connection is pending (nbytes 1, as wasmtime reports).
  // kWrite: a listener never becomes writable.
  Readiness CheckReadiness(Interest interest) override;

  ErrnoOr<std::shared_ptr<File>> SockAccept(Fdflags flags) override;
  ErrnoOr<RecvResult> SockRecv(std::span<const IoVec> iovs, Riflags flags) override {
    return Err(Errno::kBadf);
  }
  ErrnoOr<size_t> SockSend(std::span<const ConstIoVec> iovs, Siflags flags) override {
    return Err(Errno::kBadf);
  }
  ErrnoOr<void> SockShutdown(Sdflags how) override { return Err(Errno::kBadf); }

 private:
  const int fd_;
  const bool owns_fd_;
  uint16_t local_port_ = 0;
  std::string local_address_;
};

// A connected stream socket (TCP, or any SOCK_STREAM socket adopted with FromFd).
// fd_read/fd_write work as on any FdFile (fd_write goes through sendmsg(MSG_NOSIGNAL)).
class TcpStream final : public FdFile {
  struct PrivateTag {};
  friend class TcpListener;  // Accept builds streams

 public:
  // Opens a blocking connection to `host_port`, trying each resolved address in turn
  // (for hosts that connect themselves and insert the stream into a guest's table).
  // Malformed string: EINVAL; unknown host name: ENOENT; otherwise the last connect
  // error (ECONNREFUSED, ETIMEDOUT, ...). Blocks until the kernel's connect completes
  // or fails (no timeout of its own; a DNS name also waits for the resolver).
  static ErrnoOr<std::shared_ptr<TcpStream>> Connect(std::string_view host_port);
  // Adopts a host fd that is a stream socket (closed in the destructor when `owns_fd`).
  // Not a socket: ENOTSOCK; a datagram socket: EPROTOTYPE; a listening socket: EINVAL
  // (use TcpListener::FromFd). On error the fd is left open and still the caller's.
  static ErrnoOr<std::shared_ptr<TcpStream>> FromFd(int fd, bool owns_fd = true);

  TcpStream(PrivateTag, int fd, bool owns_fd);
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  // "127.0.0.1:4242"-style addresses ("" when unknown or not an IP socket).
  std::string local_address() const;
  std::string peer_address() const;

  Filetype filetype() const override { return Filetype::kSocketStream; }
  ErrnoOr<Fdflags> GetFdflags() override;
  // NONBLOCK or nothing; any other bit is EINVAL (as wasmtime).
  ErrnoOr<void> SetFdflags(Fdflags flags) override;
  // kRead: ready when data is buffered, on EOF or on error; nbytes = FIONREAD; hangup
  // when the peer shut down its side (POLLRDHUP) or the connection is gone (POLLHUP).
  // kWrite: ready when send would not block; nbytes = free send-buffer space where the
  // host tells it; hangup on POLLHUP; a pending socket error is reported as `error`.
  Readiness CheckReadiness(Interest interest) override;

  ErrnoOr<size_t> Write(std::span<const ConstIoVec> iovs) override;

  // RECV_PEEK -> MSG_PEEK (over all the buffers; wasmtime peeks the first only),
  // RECV_WAITALL -> MSG_WAITALL; other bits EINVAL (the witx flags type has only
  // these two; wasmtime's binding rejects the rest as EINVAL before the call).
  // roflags: RECV_DATA_TRUNCATED when the kernel reports MSG_TRUNC.
  ErrnoOr<RecvResult> SockRecv(std::span<const IoVec> iovs, Riflags flags) override;
  // siflags has no defined bits: nonzero is EINVAL.
  ErrnoOr<size_t> SockSend(std::span<const ConstIoVec> iovs, Siflags flags) override;
  // RD, WR or RD|WR -> shutdown(2); anything else (0, unknown bits) is EINVAL.
  ErrnoOr<void> SockShutdown(Sdflags how) override;
};

class Table;

// What `weft run --tcplisten HOST:PORT` does, as wasmtime's `--tcplisten`: binds each
// address, makes the listener nonblocking (wasmtime does, so a guest's accept answers
// EAGAIN and it waits in poll_oneoff), and inserts it with default rights into `table`
// at fds first_fd, first_fd + 1, ... (wasmtime: 3, 4, ..., before any --dir preopen),
// or at the lowest free fds when `first_fd` is nullopt. All or nothing: on error no fd
// is inserted, and the message names the address, e.g.
// "failed to bind to address '127.0.0.1:80': permission denied". An fd in the range
// that is already in use is an error too (never silently replaced).
weft::Result<std::vector<Fd>, std::string> PreopenTcpListeners(
    Table& table, std::span<const std::string> addrs, std::optional<Fd> first_fd = Fd{3});

// Wraps a host fd in the most specific handle: a TcpListener for a listening stream
// socket, a TcpStream for another stream socket, else a plain FdFile (so that an
// inherited socket still answers sock_* calls). Never fails; ownership as FdFile.
std::shared_ptr<File> FileFromHostFd(int fd, bool owns_fd);

}  // namespace weft::wasi
