// Socket helpers. See socket_util.h.
#include "wasi/net/socket_util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace weft::wasi::net {

ErrnoOr<SocketKind> ClassifySocket(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return Err(ErrnoFromHost(errno));
  if (!S_ISSOCK(st.st_mode)) return Err(Errno::kNotsock);
  int type = 0;
  socklen_t len = sizeof(type);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) return Err(ErrnoFromHost(errno));
  if (type == SOCK_DGRAM) return SocketKind::kDatagram;
  if (type != SOCK_STREAM) return SocketKind::kOther;
  int listening = 0;
  len = sizeof(listening);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0) {
    return Err(ErrnoFromHost(errno));
  }
  return listening ? SocketKind::kStreamListening : SocketKind::kStream;
}

ErrnoOr<Fdflags> GetSocketFdflags(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return Err(ErrnoFromHost(errno));
  return static_cast<Fdflags>((fl & O_NONBLOCK) ? kFdflagNonblock : 0);
}

ErrnoOr<void> SetSocketFdflags(int fd, Fdflags flags) {
  if (flags & ~kFdflagNonblock) return Err(Errno::kInval);
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return Err(ErrnoFromHost(errno));
  int want = (flags & kFdflagNonblock) ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
  if (want != fl && fcntl(fd, F_SETFL, want) != 0) return Err(ErrnoFromHost(errno));
  return {};
}

Errno PendingSocketError(int fd) {
  int err = 0;
  socklen_t len = sizeof(err);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) return Errno::kIo;
  return err == 0 ? Errno::kSuccess : ErrnoFromHost(err);
}

ErrnoOr<int> OpenStreamSocket(std::string_view host_port,
                              const std::function<ErrnoOr<void>(int fd, const SockAddr& addr)>& setup) {
  WEFT_TRY_ASSIGN(std::vector<SockAddr> addrs, ResolveHostPort(host_port));
  Errno last = Errno::kAddrnotavail;
  for (const SockAddr& a : addrs) {
    int fd = socket(a.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      last = ErrnoFromHost(errno);
      continue;
    }
    ErrnoOr<void> done = setup(fd, a);
    if (done.ok()) return fd;
    last = done.error();
    close(fd);
  }
  return Err(last);
}

}  // namespace weft::wasi::net
