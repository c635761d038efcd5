// "host:port" parsing and resolution for the TCP handles, and socket-address
// formatting. Internal to weft_wasi (src/wasi/net). Stateless and thread-safe.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>
#include <vector>

#include "weft/wasi/types.h"

namespace weft::wasi::net {

struct SockAddr {
  struct sockaddr_storage storage;
  socklen_t len = 0;
  const struct sockaddr* get() const { return reinterpret_cast<const struct sockaddr*>(&storage); }
};

// Resolves "host:port" into the addresses to try, in order.
//   "1.2.3.4:80"      numeric IPv4 (strict dotted quad)
//   "[::1]:80"        numeric IPv6 in brackets (a "%zone" suffix is allowed)
//   "localhost:80"    127.0.0.1 then ::1, without asking any resolver (RFC 6761)
//   "example.org:80"  a DNS name, through getaddrinfo
// The port is 0..65535 in decimal. Anything else (missing or empty host or port, an
// unbracketed IPv6 address, a bad character, a digits-and-dots host that is not an IPv4
// address) is EINVAL and never reaches a resolver. A name that does not resolve is
// ENOENT (WASI has no resolver errnos), a temporary resolver failure EAGAIN.
ErrnoOr<std::vector<SockAddr>> ResolveHostPort(std::string_view host_port);

// "127.0.0.1:80" / "[::1]:80"; "" for a non-IP family.
std::string FormatSockAddr(const struct sockaddr* addr, socklen_t len);
// The port of an IPv4/IPv6 address, 0 otherwise.
uint16_t SockAddrPort(const struct sockaddr* addr, socklen_t len);

}  // namespace weft::wasi::net
