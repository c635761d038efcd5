// Small socket helpers shared by TcpListener, TcpStream and FileFromHostFd. Internal;
// stateless and thread-safe.
#pragma once

#include <functional>
#include <string_view>

#include "wasi/net/address.h"
#include "weft/wasi/types.h"

namespace weft::wasi::net {

enum class SocketKind { kStreamListening, kStream, kDatagram, kOther };

// ENOTSOCK (or the fstat/getsockopt error) when `fd` is not a socket.
ErrnoOr<SocketKind> ClassifySocket(int fd);

// Sockets carry only NONBLOCK as a WASI fdflag (wasmtime reports and accepts nothing
// else: setting another bit is EINVAL).
ErrnoOr<Fdflags> GetSocketFdflags(int fd);
ErrnoOr<void> SetSocketFdflags(int fd, Fdflags flags);

// SO_ERROR mapped to WASI (kSuccess when none; kIo if it cannot be read). Reading it
// clears it, so only a caller that owns the outcome (a connect in progress) may ask.
Errno PendingSocketError(int fd);

// Resolves "host:port" (ResolveHostPort) and tries each address in turn: a close-on-exec
// stream socket of its family, then `setup` on it (bind and listen, or connect). Returns
// the first socket that `setup` accepts; one that fails is closed. The error is the last
// attempt's (EADDRNOTAVAIL when there was no address to try).
ErrnoOr<int> OpenStreamSocket(std::string_view host_port,
                              const std::function<ErrnoOr<void>(int fd, const SockAddr& addr)>& setup);

}  // namespace weft::wasi::net
