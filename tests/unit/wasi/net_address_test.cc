// "host:port" parsing for the TCP handles: accepted forms, and EINVAL for malformed
// strings through the public Bind/Connect entry points. No test here touches a resolver.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include "wasi/net/address.h"
#include "weft/wasi/net.h"

namespace weft::wasi {
namespace {

std::string Format(const net::SockAddr& a) { return net::FormatSockAddr(a.get(), a.len); }

TEST(NetAddressTest, NumericIpv4) {
  auto r = net::ResolveHostPort("127.0.0.1:8080");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(Format((*r)[0]), "127.0.0.1:8080");
  EXPECT_EQ(net::SockAddrPort((*r)[0].get(), (*r)[0].len), 8080);
}

TEST(NetAddressTest, NumericIpv6InBrackets) {
  auto r = net::ResolveHostPort("[::1]:0");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].storage.ss_family, AF_INET6);
  EXPECT_EQ(Format((*r)[0]), "[::1]:0");
  auto full = net::ResolveHostPort("[2001:db8::5]:65535");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(Format((*full)[0]), "[2001:db8::5]:65535");
}

TEST(NetAddressTest, LocalhostIsLoopbackV4ThenV6WithoutResolver) {
  for (const char* s : {"localhost:0", "LocalHost:7"}) {
    auto r = net::ResolveHostPort(s);
    ASSERT_TRUE(r.ok()) << s;
    ASSERT_EQ(r->size(), 2u) << s;
    EXPECT_EQ((*r)[0].storage.ss_family, AF_INET);
    EXPECT_EQ((*r)[1].storage.ss_family, AF_INET6);
  }
  auto r = net::ResolveHostPort("localhost:7");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Format((*r)[0]), "127.0.0.1:7");
  EXPECT_EQ(Format((*r)[1]), "[::1]:7");
}

TEST(NetAddressTest, MalformedStringsAreEinval) {
  const char* bad[] = {
      "",               "127.0.0.1",      "127.0.0.1:",     ":80",
      "127.0.0.1:65536", "127.0.0.1:-1",  "127.0.0.1:80x",  "127.0.0.1:123456",
      "::1:80",         "[::1]",          "[::1]80",        "[::1:80",
      "[]:80",          "[127.0.0.1]:80", "256.1.1.1:80",   "1.2.3:80",
      "127.1:80",       "bad host:80",    "a..b:80",        ".a:80",
      "host/x:80",      "[::1]:",         "[::1]:8 0",      "127.0.0.1: 80",
  };
  for (const char* s : bad) {
    auto r = net::ResolveHostPort(s);
    ASSERT_FALSE(r.ok()) << s;
    EXPECT_EQ(r.error(), Errno::kInval) << s;
    auto l = TcpListener::Bind(s);
    ASSERT_FALSE(l.ok()) << s;
    EXPECT_EQ(l.error(), Errno::kInval) << s;
    auto c = TcpStream::Connect(s);
    ASSERT_FALSE(c.ok()) << s;
    EXPECT_EQ(c.error(), Errno::kInval) << s;
  }
}

TEST(NetAddressTest, EmbeddedNulIsEinval) {
  std::string s("127.0.0.1\0:80", 13);
  auto r = net::ResolveHostPort(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Errno::kInval);
  std::string v6("[::1\0]:80", 9);
  auto r6 = net::ResolveHostPort(v6);
  ASSERT_FALSE(r6.ok());
  EXPECT_EQ(r6.error(), Errno::kInval);
}

}  // namespace
}  // namespace weft::wasi
