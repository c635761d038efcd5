// "host:port" parsing and resolution. See address.h.
#include "wasi/net/address.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

namespace weft::wasi::net {
namespace {

bool ParsePort(std::string_view s, uint16_t* out) {
  if (s.empty() || s.size() > 5) return false;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return false;
  *out = static_cast<uint16_t>(v);
  return true;
}

bool IsAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// A DNS name as a host may type it: labels of letters, digits, '-' and '_', separated
// by single dots (a trailing dot allowed), at most 253 characters.
bool IsPlausibleHostName(std::string_view h) {
  if (h.empty() || h.size() > 253 || h.front() == '.') return false;
  char prev = 0;
  for (char c : h) {
    if (!(IsAsciiAlnum(c) || c == '-' || c == '_' || c == '.')) return false;
    if (c == '.' && prev == '.') return false;
    prev = c;
  }
  return true;
}

bool IsDigitsAndDots(std::string_view h) {
  for (char c : h) {
    if (!((c >= '0' && c <= '9') || c == '.')) return false;
  }
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

SockAddr V4(const struct in_addr& a, uint16_t port) {
  SockAddr out;
  std::memset(&out.storage, 0, sizeof(out.storage));
  auto* sin = reinterpret_cast<struct sockaddr_in*>(&out.storage);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  sin->sin_addr = a;
  out.len = sizeof(*sin);
  return out;
}

SockAddr V6(const struct in6_addr& a, uint16_t port) {
  SockAddr out;
  std::memset(&out.storage, 0, sizeof(out.storage));
  auto* sin6 = reinterpret_cast<struct sockaddr_in6*>(&out.storage);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  sin6->sin6_addr = a;
  out.len = sizeof(*sin6);
  return out;
}

Errno ErrnoFromGai(int rc) {
  switch (rc) {
    case EAI_AGAIN: return Errno::kAgain;
    case EAI_MEMORY: return Errno::kNomem;
    case EAI_SYSTEM: return ErrnoFromHost(errno);
    case EAI_FAMILY: return Errno::kAfnosupport;
    case EAI_BADFLAGS:
    case EAI_SERVICE:
    case EAI_SOCKTYPE: return Errno::kInval;
    default: return Errno::kNoent;  // EAI_NONAME, EAI_NODATA, EAI_FAIL, ...
  }
}

// getaddrinfo for one host; `numeric` forbids any resolver traffic.
ErrnoOr<std::vector<SockAddr>> GetAddrInfo(const std::string& host, uint16_t port, bool numeric) {
  struct addrinfo hints;
  std::memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  hints.ai_flags = AI_NUMERICSERV | (numeric ? AI_NUMERICHOST : 0);
  std::string service = std::to_string(port);
  struct addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) return Err(numeric && rc == EAI_NONAME ? Errno::kInval : ErrnoFromGai(rc));
  std::vector<SockAddr> out;
  for (struct addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    if (ai->ai_addrlen > sizeof(struct sockaddr_storage)) continue;
    SockAddr a;
    std::memset(&a.storage, 0, sizeof(a.storage));
    std::memcpy(&a.storage, ai->ai_addr, ai->ai_addrlen);
    a.len = ai->ai_addrlen;
    out.push_back(a);
  }
  freeaddrinfo(res);
  if (out.empty()) return Err(Errno::kNoent);
  return out;
}

}  // namespace

ErrnoOr<std::vector<SockAddr>> ResolveHostPort(std::string_view host_port) {
  std::string_view host, port_text;
  if (!host_port.empty() && host_port.front() == '[') {
    size_t close = host_port.find(']');
    if (close == std::string_view::npos) return Err(Errno::kInval);
    host = host_port.substr(1, close - 1);
    std::string_view rest = host_port.substr(close + 1);
    if (rest.size() < 2 || rest.front() != ':') return Err(Errno::kInval);
    port_text = rest.substr(1);
    if (host.empty() || host.find(':') == std::string_view::npos) return Err(Errno::kInval);
    for (char c : host) {
      if (c == '\0' || c == ']' || c == '[' || c == ' ') return Err(Errno::kInval);
    }
    uint16_t port;
    if (!ParsePort(port_text, &port)) return Err(Errno::kInval);
    struct in6_addr a6;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &a6) == 1) {
      return std::vector<SockAddr>{V6(a6, port)};
    }
    // A zone ("fe80::1%eth0") needs getaddrinfo, still without any resolver traffic.
    return GetAddrInfo(std::string(host), port, /*numeric=*/true);
  }

  size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos) return Err(Errno::kInval);
  host = host_port.substr(0, colon);
  port_text = host_port.substr(colon + 1);
  uint16_t port;
  if (host.empty() || !ParsePort(port_text, &port)) return Err(Errno::kInval);
  // An IPv6 address must be bracketed, or its last group would read as the port.
  if (host.find(':') != std::string_view::npos) return Err(Errno::kInval);

  if (IsDigitsAndDots(host)) {
    // inet_pton(AF_INET) takes only the strict dotted quad (no "127.1", no octal).
    struct in_addr a4;
    if (inet_pton(AF_INET, std::string(host).c_str(), &a4) != 1) return Err(Errno::kInval);
    return std::vector<SockAddr>{V4(a4, port)};
  }
  if (EqualsIgnoreCase(host, "localhost") || EqualsIgnoreCase(host, "localhost.")) {
    struct in_addr lo4;
    lo4.s_addr = htonl(INADDR_LOOPBACK);
    return std::vector<SockAddr>{V4(lo4, port), V6(in6addr_loopback, port)};
  }
  if (!IsPlausibleHostName(host)) return Err(Errno::kInval);
  return GetAddrInfo(std::string(host), port, /*numeric=*/false);
}

std::string FormatSockAddr(const struct sockaddr* addr, socklen_t len) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(struct sockaddr_in))) {
    const auto* sin = reinterpret_cast<const struct sockaddr_in*>(addr);
    if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)) == nullptr) return "";
    return std::string(buf) + ":" + std::to_string(ntohs(sin->sin_port));
  }
  if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(struct sockaddr_in6))) {
    const auto* sin6 = reinterpret_cast<const struct sockaddr_in6*>(addr);
    if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf)) == nullptr) return "";
    return "[" + std::string(buf) + "]:" + std::to_string(ntohs(sin6->sin6_port));
  }
  return "";
}

uint16_t SockAddrPort(const struct sockaddr* addr, socklen_t len) {
  if (addr->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(struct sockaddr_in))) {
    return ntohs(reinterpret_cast<const struct sockaddr_in*>(addr)->sin_port);
  }
  if (addr->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(struct sockaddr_in6))) {
    return ntohs(reinterpret_cast<const struct sockaddr_in6*>(addr)->sin6_port);
  }
  return 0;
}

}  // namespace weft::wasi::net
