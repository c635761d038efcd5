// Real sockets through `--tcplisten HOST:PORT` (the listener is fd 3): sock_accept a
// connection made by the driver, sock_recv until the peer half-closes, sock_send the
// reply, sock_shutdown, close. (wasmtime's own p1 answers ENOTSOCK for these; weft's
// design gives guests real TCP handles, so this checks weft's behaviour.) The listener
// may be non-blocking (EAGAIN): then the guest waits with poll_oneoff on it, as real
// programs do, and the same for sock_recv.
//
// RUN: --tcplisten 127.0.0.1:{port} {wasm}
// TCP-SEND: hello over tcp
// TCP-REPLY: HELLO OVER TCP
// OUT: ok fd 3 is a listening socket
// OUT: ok fd 3 is not a preopened directory
// OUT: ok sock_accept
// OUT: ok accepted fd is a stream socket
// OUT: ok sock_recv until EOF
// OUT: ok sock_send
// OUT: ok sock_shutdown
// OUT: ok fd_close
#include "wasi_test.h"

// Waits (at most 10 s) until `fd` is readable; fails the check `label` otherwise.
static void WaitReadable(__wasi_fd_t fd, const char* label) {
  __wasi_subscription_t s[2];
  memset(s, 0, sizeof s);
  s[0].userdata = 1;
  s[0].u.tag = __WASI_EVENTTYPE_FD_READ;
  s[0].u.u.fd_read.file_descriptor = fd;
  s[1].userdata = 2;
  s[1].u.tag = __WASI_EVENTTYPE_CLOCK;
  s[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  s[1].u.u.clock.timeout = 10000000000ull;
  __wasi_event_t ev[2];
  __wasi_size_t n = 0;
  int e = __wasi_poll_oneoff(s, ev, 2, &n);
  if (e || n < 1 || ev[0].userdata != 1 || ev[0].error != 0)
    FAIL(label, "poll_oneoff on fd %u: %s n=%lu userdata=%llu", fd, ErrName(e), n,
         n ? ev[0].userdata : 0ull);
}

int main(void) {
  __wasi_fdstat_t fs;
  CHECK(__wasi_fd_fdstat_get(3, &fs) == 0 && fs.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM,
        "fd 3 is a listening socket");
  __wasi_prestat_t ps;
  EXPECT_ERRNO(__wasi_fd_prestat_get(3, &ps), __WASI_ERRNO_BADF, "fd 3 is not a preopened directory");
  __wasi_fd_t c;
  int ae = __wasi_sock_accept(3, 0, &c);
  if (ae == __WASI_ERRNO_AGAIN) {
    WaitReadable(3, "sock_accept");
    ae = __wasi_sock_accept(3, 0, &c);
  }
  EXPECT_OK(ae, "sock_accept");
  CHECK(__wasi_fd_fdstat_get(c, &fs) == 0 && fs.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM,
        "accepted fd is a stream socket");
  char buf[256];
  size_t got = 0;
  for (;;) {
    __wasi_iovec_t iov = {(uint8_t*)buf + got, sizeof buf - 1 - got};
    __wasi_size_t n = 0;
    __wasi_roflags_t ro = 0;
    int e = __wasi_sock_recv(c, &iov, 1, 0, &n, &ro);
    if (e == __WASI_ERRNO_AGAIN) {
      WaitReadable(c, "sock_recv until EOF");
      continue;
    }
    if (e) FAIL("sock_recv until EOF", "%s", ErrName(e));
    if (n == 0) break;
    got += n;
  }
  buf[got] = 0;
  CHECK(strcmp(buf, "hello over tcp") == 0, "sock_recv until EOF");
  for (size_t i = 0; i < got; i++)
    if (buf[i] >= 'a' && buf[i] <= 'z') buf[i] -= 32;
  size_t sent = 0;
  while (sent < got) {
    __wasi_ciovec_t iov = {(const uint8_t*)buf + sent, got - sent};
    __wasi_size_t n = 0;
    int e = __wasi_sock_send(c, &iov, 1, 0, &n);
    if (e || n == 0) FAIL("sock_send", "%s", ErrName(e));
    sent += n;
  }
  OK("sock_send");
  EXPECT_OK(__wasi_sock_shutdown(c, __WASI_SDFLAGS_WR), "sock_shutdown");
  EXPECT_OK(__wasi_fd_close(c), "fd_close");
  return 0;
}
