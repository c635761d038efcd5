// Helpers shared by the guest programs in tests/wasi (compiled for wasm32-wasi).
// Each check prints one line "ok <label>" and the program exits 1 at the first
// failure after printing "FAIL <label>: ..." so that the driver's stdout comparison
// shows exactly which check broke.
#ifndef WEFT_TESTS_WASI_WASI_TEST_H_
#define WEFT_TESTS_WASI_WASI_TEST_H_

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

// proc_raise is gone from recent <wasi/api.h>; import it directly.
int32_t weft_raw_proc_raise(int32_t sig)
    __attribute__((__import_module__("wasi_snapshot_preview1"), __import_name__("proc_raise")));

// Line-buffered stdout: every "ok" line reaches the host at once, so a trap or an
// exit in the middle still shows how far the program got.
__attribute__((constructor)) static void weft_test_init(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline const char* ErrName(int e) {
  switch (e) {
#define E(n) \
  case __WASI_ERRNO_##n: return #n;
    E(SUCCESS) E(2BIG) E(ACCES) E(ADDRINUSE) E(ADDRNOTAVAIL) E(AFNOSUPPORT) E(AGAIN)
    E(ALREADY) E(BADF) E(BADMSG) E(BUSY) E(CANCELED) E(CHILD) E(CONNABORTED)
    E(CONNREFUSED) E(CONNRESET) E(DEADLK) E(DESTADDRREQ) E(DOM) E(DQUOT) E(EXIST)
    E(FAULT) E(FBIG) E(HOSTUNREACH) E(IDRM) E(ILSEQ) E(INPROGRESS) E(INTR) E(INVAL)
    E(IO) E(ISCONN) E(ISDIR) E(LOOP) E(MFILE) E(MLINK) E(MSGSIZE) E(MULTIHOP)
    E(NAMETOOLONG) E(NETDOWN) E(NETRESET) E(NETUNREACH) E(NFILE) E(NOBUFS) E(NODEV)
    E(NOENT) E(NOEXEC) E(NOLCK) E(NOLINK) E(NOMEM) E(NOMSG) E(NOPROTOOPT) E(NOSPC)
    E(NOSYS) E(NOTCONN) E(NOTDIR) E(NOTEMPTY) E(NOTRECOVERABLE) E(NOTSOCK) E(NOTSUP)
    E(NOTTY) E(NXIO) E(OVERFLOW) E(OWNERDEAD) E(PERM) E(PIPE) E(PROTO)
    E(PROTONOSUPPORT) E(PROTOTYPE) E(RANGE) E(ROFS) E(SPIPE) E(SRCH) E(STALE)
    E(TIMEDOUT) E(TXTBSY) E(XDEV) E(NOTCAPABLE)
#undef E
    default: return "?";
  }
}

#define FAIL(label, ...)                                     \
  do {                                                       \
    printf("FAIL %s (line %d): ", (label), __LINE__);        \
    printf(__VA_ARGS__);                                     \
    printf("\n");                                            \
    fflush(stdout);                                          \
    exit(1);                                                 \
  } while (0)

#define OK(label) printf("ok %s\n", (label))

// CHECK(cond, label): cond must hold.
#define CHECK(cond, label)                           \
  do {                                               \
    if (!(cond)) FAIL((label), "%s is false", #cond); \
    OK(label);                                       \
  } while (0)

// EXPECT_ERRNO(call, errno, label): a raw __wasi_* call returns exactly that errno.
#define EXPECT_ERRNO(call, want, label)                                          \
  do {                                                                           \
    int e_ = (call);                                                             \
    if (e_ != (want)) FAIL((label), "got %s, want %s", ErrName(e_), ErrName(want)); \
    OK(label);                                                                   \
  } while (0)

#define EXPECT_OK(call, label) EXPECT_ERRNO((call), __WASI_ERRNO_SUCCESS, (label))

// EXPECT_ERRNO2: either of two errnos (used only where the spec and wasmtime allow
// both and the comment at the call site says why).
#define EXPECT_ERRNO2(call, want1, want2, label)                                  \
  do {                                                                            \
    int e_ = (call);                                                              \
    if (e_ != (want1) && e_ != (want2))                                           \
      FAIL((label), "got %s, want %s or %s", ErrName(e_), ErrName(want1), ErrName(want2)); \
    OK(label);                                                                    \
  } while (0)

// Escapes from a preopen: wasmtime answers EPERM (cap-std's "a path led outside of
// the filesystem" maps to NotPermitted); uvwasi and older runtimes answer ENOTCAPABLE.
// Both are accepted; nothing else is.
#define EXPECT_ESCAPE(call, label) \
  EXPECT_ERRNO2((call), __WASI_ERRNO_PERM, __WASI_ERRNO_NOTCAPABLE, (label))

// Finds the preopen fd whose guest name is `name` (exit 1 if there is none).
static inline __wasi_fd_t PreopenFd(const char* name) {
  for (__wasi_fd_t fd = 3; fd < 64; fd++) {
    __wasi_prestat_t ps;
    if (__wasi_fd_prestat_get(fd, &ps) != 0) continue;
    char buf[256];
    if (ps.u.dir.pr_name_len >= sizeof buf) continue;
    if (__wasi_fd_prestat_dir_name(fd, (uint8_t*)buf, ps.u.dir.pr_name_len) != 0) continue;
    buf[ps.u.dir.pr_name_len] = 0;
    if (strcmp(buf, name) == 0) return fd;
  }
  FAIL("preopen", "no preopen named %s", name);
  return (__wasi_fd_t)-1;
}

#define RIGHTS_ALL ((__wasi_rights_t)0x3fffffffull)
#define RIGHTS_READ_ONLY                                                                  \
  (RIGHTS_ALL & ~(__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_ALLOCATE |                  \
                  __WASI_RIGHTS_FD_FILESTAT_SET_SIZE | __WASI_RIGHTS_FD_DATASYNC |      \
                  __WASI_RIGHTS_FD_SYNC))

// Opens `path` under `dirfd` with raw path_open, asking for `rights` as far as the
// directory's inheriting rights allow (what wasi-libc's open() does); returns the
// errno, the fd in *out.
static inline __wasi_errno_t OpenAtFlags(__wasi_fd_t dirfd, __wasi_lookupflags_t lookup,
                                         const char* path, __wasi_oflags_t oflags,
                                         __wasi_rights_t rights, __wasi_fdflags_t fdflags,
                                         __wasi_fd_t* out) {
  __wasi_fdstat_t st;
  __wasi_errno_t e = __wasi_fd_fdstat_get(dirfd, &st);
  if (e == 0) rights &= st.fs_rights_inheriting;
  return __wasi_path_open(dirfd, lookup, path, oflags, rights, rights, fdflags, out);
}

// OpenAtFlags without following a final symlink (lookupflags 0).
static inline __wasi_errno_t OpenAt(__wasi_fd_t dirfd, const char* path, __wasi_oflags_t oflags,
                                    __wasi_rights_t rights, __wasi_fdflags_t fdflags,
                                    __wasi_fd_t* out) {
  return OpenAtFlags(dirfd, 0, path, oflags, rights, fdflags, out);
}

#define FOLLOW __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW

static inline __wasi_errno_t WriteAll(__wasi_fd_t fd, const char* s) {
  size_t len = strlen(s);
  while (len > 0) {
    __wasi_ciovec_t iov = {(const uint8_t*)s, len};
    __wasi_size_t n = 0;
    __wasi_errno_t e = __wasi_fd_write(fd, &iov, 1, &n);
    if (e) return e;
    s += n;
    len -= n;
  }
  return 0;
}

// Reads everything from the current offset into buf (NUL-terminated).
static inline __wasi_errno_t ReadAll(__wasi_fd_t fd, char* buf, size_t cap, size_t* got) {
  size_t total = 0;
  for (;;) {
    __wasi_iovec_t iov = {(uint8_t*)buf + total, cap - 1 - total};
    __wasi_size_t n = 0;
    __wasi_errno_t e = __wasi_fd_read(fd, &iov, 1, &n);
    if (e) return e;
    if (n == 0 || total + n >= cap - 1) {
      total += n;
      break;
    }
    total += n;
  }
  buf[total] = 0;
  if (got) *got = total;
  return 0;
}

// Whether the file at `path` (opened with libc, so a relative path goes through the
// preopens) holds exactly `want`; only its first 63 bytes are compared.
static inline int FileIs(const char* path, const char* want) {
  FILE* f = fopen(path, "r");
  char buf[64] = {0};
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return strcmp(buf, want) == 0;
}

#endif  // WEFT_TESTS_WASI_WASI_TEST_H_
