// Guest pointers that are out of bounds or misaligned make the WASI call trap (the
// witx rule wasmtime follows: never an errno, never a host crash): weft prints a trap
// naming the function and exits 134, and nothing is written. Output written before a
// trap is not lost. argv[1] picks the case. (ERR-MATCH \bNAME\b: the trap message
// names the WASI function; the guest's own frame `__wasi_NAME` in the backtrace, where
// the name is not a whole word, does not count.)
//
// CASE: wild_iovec_array
// RUN: {wasm} wild_iovec_array
// EXIT: 134
// OUT: before
// ERR-MATCH: \bfd_write\b
//
// CASE: wild_iovec_buffer
// RUN: {wasm} wild_iovec_buffer
// EXIT: 134
// OUT: before
// ERR-MATCH: \bfd_write\b
//
// CASE: iovec_len_overflow
// RUN: {wasm} iovec_len_overflow
// EXIT: 134
// OUT: before
// ERR-MATCH: \bfd_write\b
//
// CASE: misaligned_iovec_array
// RUN: {wasm} misaligned_iovec_array
// EXIT: 134
// OUT: before
// ERR-MATCH: \bfd_write\b
//
// CASE: wild_result_pointer
// RUN: {wasm} wild_result_pointer
// EXIT: 134
// OUT: before
// ERR-MATCH: \bclock_time_get\b
//
// CASE: wild_path
// SETUP: mkdir sb
// RUN: --dir {tmp}/sb::/sb {wasm} wild_path
// EXIT: 134
// OUT: before
// ERR-MATCH: \bpath_open\b
// ABSENT: sb/x
//
// CASE: wild_read_buffer
// STDIN: some input
// RUN: {wasm} wild_read_buffer
// EXIT: 134
// OUT: before
// ERR-MATCH: \bfd_read\b
//
// CASE: wild_random_buffer
// RUN: {wasm} wild_random_buffer
// EXIT: 134
// OUT: before
// ERR-MATCH: \brandom_get\b
//
// CASE: write_then_unreachable
// RUN: {wasm} unreachable
// EXIT: 134
// OUT: written before the trap
// OUT-HAS: no newline yet
// ERR-HAS: unreachable
//
// CASE: invalid_utf8_path
// SETUP: mkdir sb
// RUN: --dir {tmp}/sb::/sb {wasm} bad_utf8
// OUT: before
// OUT: ok path_create_directory invalid UTF-8 EILSEQ
#include "wasi_test.h"

// Raw import with pointer and length, so a path can be any bytes.
int32_t raw_path_create_directory(int32_t fd, int32_t path, int32_t path_len)
    __attribute__((__import_module__("wasi_snapshot_preview1"),
                   __import_name__("path_create_directory")));

int32_t raw_path_open(int32_t fd, int32_t dirflags, int32_t path, int32_t path_len,
                      int32_t oflags, int64_t rights_base, int64_t rights_inheriting,
                      int32_t fdflags, int32_t fd_out)
    __attribute__((__import_module__("wasi_snapshot_preview1"), __import_name__("path_open")));

static __wasi_size_t MemoryEnd(void) { return __builtin_wasm_memory_size(0) * 65536; }

int main(int argc, char** argv) {
  const char* what = argc > 1 ? argv[1] : "";
  // Unbuffered raw write so "before" is on the host before the trap.
  if (WriteAll(1, "before\n")) return 2;
  __wasi_size_t n = 0;
  __wasi_size_t end = MemoryEnd();
  if (strcmp(what, "wild_iovec_array") == 0) {
    // The iovec array itself lies past the end of memory.
    (void)!__wasi_fd_write(1, (const __wasi_ciovec_t*)(uintptr_t)(end - 4), 1, &n);
  } else if (strcmp(what, "wild_iovec_buffer") == 0) {
    // The array is fine, the buffer it points at is not.
    __wasi_ciovec_t iov = {(const uint8_t*)(uintptr_t)(end - 8), 64};
    (void)!__wasi_fd_write(1, &iov, 1, &n);
  } else if (strcmp(what, "iovec_len_overflow") == 0) {
    // ptr + len wraps around 2^32. (One iovec only: wasmtime looks at the first
    // non-empty iovec alone, so a bad second one would go unnoticed there.)
    __wasi_ciovec_t iov = {(const uint8_t*)"y", 0xFFFFFFF0u};
    (void)!__wasi_fd_write(1, &iov, 1, &n);
  } else if (strcmp(what, "misaligned_iovec_array") == 0) {
    // The iovec array must be 4-byte aligned (witx: misaligned pointers trap).
    static _Alignas(8) uint8_t raw[32];
    __wasi_ciovec_t iov = {(const uint8_t*)"misaligned\n", 11};
    memcpy(raw + 1, &iov, sizeof iov);
    (void)!__wasi_fd_write(1, (const __wasi_ciovec_t*)(raw + 1), 1, &n);
  } else if (strcmp(what, "wild_result_pointer") == 0) {
    (void)!__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1,
                                 (__wasi_timestamp_t*)(uintptr_t)(end - 4));
  } else if (strcmp(what, "wild_path") == 0) {
    __wasi_fd_t sb = PreopenFd("/sb"), fd;
    // A path pointer past the end of memory (through the raw import: the libc wrapper
    // would run strlen on it first).
    (void)!raw_path_open(sb, 0, (int32_t)(end - 4), 16, __WASI_OFLAGS_CREAT, RIGHTS_ALL,
                         RIGHTS_ALL, 0, (int32_t)(uintptr_t)&fd);
  } else if (strcmp(what, "wild_read_buffer") == 0) {
    __wasi_iovec_t iov = {(uint8_t*)(uintptr_t)(end - 2), 100};
    (void)!__wasi_fd_read(0, &iov, 1, &n);
  } else if (strcmp(what, "wild_random_buffer") == 0) {
    (void)!__wasi_random_get((uint8_t*)(uintptr_t)(end - 10), 100);
  } else if (strcmp(what, "unreachable") == 0) {
    if (WriteAll(1, "written before the trap\nno newline yet")) return 2;
    __builtin_trap();
  } else if (strcmp(what, "bad_utf8") == 0) {
    __wasi_fd_t sb = PreopenFd("/sb");
    static const char bad[] = "bad\xff\xfename";
    EXPECT_ERRNO(raw_path_create_directory(sb, (int32_t)(uintptr_t)bad, sizeof bad - 1),
                 __WASI_ERRNO_ILSEQ, "path_create_directory invalid UTF-8 EILSEQ");
    return 0;
  } else {
    printf("unknown case %s\n", what);
    return 2;
  }
  printf("not reached: the call returned\n");
  return 1;
}
