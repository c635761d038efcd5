// Small POSIX <-> WASI conversions shared by FdFile, HostDir and the socket handles. Header-only so that
// FdFile (built even with WEFT_HOST_FS=OFF) can use it without linking src/wasi/host/.
// Nothing here resolves a path. Stateless and thread-safe.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>

#include "weft/wasi/handle.h"
#include "weft/wasi/types.h"

namespace weft::wasi::host {

// IoVec/ConstIoVec have struct iovec's layout, so guest buffers go to readv/writev and
// sendmsg/recvmsg without a copy.
static_assert(sizeof(IoVec) == sizeof(struct iovec));
static_assert(offsetof(IoVec, data) == offsetof(struct iovec, iov_base));
static_assert(offsetof(IoVec, len) == offsetof(struct iovec, iov_len));
static_assert(sizeof(ConstIoVec) == sizeof(struct iovec));
static_assert(offsetof(ConstIoVec, data) == offsetof(struct iovec, iov_base));
static_assert(offsetof(ConstIoVec, len) == offsetof(struct iovec, iov_len));

// The buffers as struct iovecs. The kernel refuses more than IOV_MAX; a short transfer
// over the first IOV_MAX is what a POSIX caller must handle anyway.
template <class V>
const struct iovec* AsIovecs(std::span<V> iovs, int* count) {
  *count = iovs.size() > IOV_MAX ? IOV_MAX : static_cast<int>(iovs.size());
  return reinterpret_cast<const struct iovec*>(iovs.data());
}

// Retries `fn` while it fails with EINTR (a signal must not surface as a guest errno).
template <class F>
auto RetryEintr(F&& fn) {
  decltype(fn()) r;
  do {
    r = fn();
  } while (r == -1 && errno == EINTR);
  return r;
}

// fstat(2) as the plain system call. glibc's fstat is fstatat(fd, "", AT_EMPTY_PATH),
// which makes the kernel fetch an empty path from user memory first; the direct call
// measured ~100 ns (of ~600) cheaper on the reference VM. x86-64 only, where the
// kernel's struct stat is glibc's.
inline int FstatFd(int fd, struct stat* st) {
#if defined(__x86_64__) && defined(SYS_fstat)
  return static_cast<int>(syscall(SYS_fstat, fd, st));
#else
  return fstat(fd, st);
#endif
}

// The WASI fdflags of host open-file flags (F_GETFL, or the flags given to open).
// Reported as the host has them: on Linux O_SYNC includes the O_DSYNC bit and O_RSYNC
// is O_SYNC, so an O_SYNC file reports DSYNC|SYNC (and RSYNC only where the host has a
// distinct O_RSYNC).
inline Fdflags FdflagsFromHostFlags(int fl) {
  Fdflags out = 0;
  if (fl & O_APPEND) out |= kFdflagAppend;
  if (fl & O_NONBLOCK) out |= kFdflagNonblock;
  if (fl & O_DSYNC) out |= kFdflagDsync;
  if ((fl & O_SYNC) == O_SYNC) out |= kFdflagSync;
#if defined(O_RSYNC)
  if (O_RSYNC != O_SYNC && (fl & O_RSYNC) == O_RSYNC) out |= kFdflagRsync;
#endif
  return out;
}

// The WASI filetype of a host st_mode. `fd` (>= 0) lets sockets be told apart by
// SO_TYPE; FIFOs are reported as kUnknown, as wasmtime does (WASI has no pipe type).
inline Filetype FiletypeFromMode(mode_t mode, int fd = -1) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return Filetype::kRegularFile;
    case S_IFDIR:
      return Filetype::kDirectory;
    case S_IFCHR:
      return Filetype::kCharacterDevice;
    case S_IFBLK:
      return Filetype::kBlockDevice;
    case S_IFLNK:
      return Filetype::kSymbolicLink;
    case S_IFSOCK: {
      if (fd < 0) return Filetype::kSocketStream;
      int type = 0;
      socklen_t len = sizeof(type);
      if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM) {
        return Filetype::kSocketDgram;
      }
      return Filetype::kSocketStream;
    }
    default:
      return Filetype::kUnknown;
  }
}

inline Timestamp TimestampFromTimespec(const struct timespec& ts) {
  if (ts.tv_sec < 0) return 0;  // WASI timestamps are unsigned; clamp pre-1970 times
  return static_cast<Timestamp>(ts.tv_sec) * 1000000000ull + static_cast<Timestamp>(ts.tv_nsec);
}

inline Filestat FilestatFromStat(const struct stat& st, int fd = -1) {
  Filestat out;
  out.dev = static_cast<Device>(st.st_dev);
  out.ino = static_cast<Inode>(st.st_ino);
  out.filetype = FiletypeFromMode(st.st_mode, fd);
  out.nlink = static_cast<uint64_t>(st.st_nlink);
  out.size = st.st_size < 0 ? 0 : static_cast<Filesize>(st.st_size);
  out.atim = TimestampFromTimespec(st.st_atim);
  out.mtim = TimestampFromTimespec(st.st_mtim);
  out.ctim = TimestampFromTimespec(st.st_ctim);
  return out;
}

// Builds the utimensat/futimens argument from fd_filestat_set_times arguments.
// A time given both explicitly and as *_NOW is EINVAL (as in wasmtime); a time given
// neither way is left alone (UTIME_OMIT).
inline ErrnoOr<void> TimespecsFromFstflags(Timestamp atim, Timestamp mtim, Fstflags flags,
                                           struct timespec out[2]) {
  if (flags & ~(kFstAtim | kFstAtimNow | kFstMtim | kFstMtimNow)) return Err(Errno::kInval);
  if ((flags & kFstAtim) && (flags & kFstAtimNow)) return Err(Errno::kInval);
  if ((flags & kFstMtim) && (flags & kFstMtimNow)) return Err(Errno::kInval);
  auto one = [](bool set, bool now, Timestamp t, struct timespec* ts) {
    if (now) {
      ts->tv_sec = 0;
      ts->tv_nsec = UTIME_NOW;
    } else if (set) {
      ts->tv_sec = static_cast<time_t>(t / 1000000000ull);
      ts->tv_nsec = static_cast<long>(t % 1000000000ull);
    } else {
      ts->tv_sec = 0;
      ts->tv_nsec = UTIME_OMIT;
    }
  };
  one(flags & kFstAtim, flags & kFstAtimNow, atim, &out[0]);
  one(flags & kFstMtim, flags & kFstMtimNow, mtim, &out[1]);
  return {};
}

// A per-thread cache of freed blocks of one size and alignment, for the handles that
// path_open makes and fd_close drops once per call: popping and pushing a free list
// costs less than malloc + free. At most kMax blocks per thread; the rest go back to
// operator delete, as do a thread's cached blocks when it exits. Under a sanitizer
// nothing is cached, so that a use after free is still caught.
template <size_t kSize, size_t kAlign>
class BlockCache {
 public:
  static void* Pop() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return nullptr;
#else
    List& l = list_;
    Node* n = l.head;
    if (n == nullptr) return nullptr;
    l.head = n->next;
    --l.count;
    return n;
#endif
  }
  // False when the cache is full (the caller frees the block).
  static bool Push(void* p) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return false;
#else
    List& l = list_;
    if (l.count >= kMax) [[unlikely]] return false;
    if (!l.armed) [[unlikely]] Arm();
    l.head = ::new (p) Node{l.head};
    ++l.count;
    return true;
#endif
  }

 private:
  static constexpr uint32_t kMax = 8;
  struct Node {
    Node* next;
  };
  static_assert(kSize >= sizeof(Node));
  // Blocks come from std::allocator<T> and the Reaper returns them with the plain
  // ::operator delete: right only for blocks of the default new alignment.
  static_assert(kAlign <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
  // Trivially destructible and constant-initialised, so that reaching it costs a TLS
  // load and no call to the thread-local initialiser; Reaper frees it at thread exit.
  struct List {
    Node* head;
    uint32_t count;
    bool armed;
  };
  struct Reaper {
    ~Reaper() {
      List& l = list_;
      while (l.head != nullptr) {
        Node* next = l.head->next;
        ::operator delete(static_cast<void*>(l.head));
        l.head = next;
      }
      l.count = kMax;  // a block freed later in this thread's exit is deleted, not cached
    }
    void Touch() {}
  };
  // The first Push of a thread registers the Reaper (a thread_local with a destructor
  // is set up on its first use).
  [[gnu::noinline]] static void Arm() {
    reaper_.Touch();
    list_.armed = true;
  }
  static inline thread_local constinit List list_{nullptr, 0, false};
  static inline thread_local Reaper reaper_;
};

// A std::allocator whose single-object blocks go through BlockCache: for allocate_shared
// of the handles made per path_open (one block holds the control block and the handle).
template <class T>
struct RecyclingAllocator {
  using value_type = T;
  RecyclingAllocator() noexcept = default;
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U>&) noexcept {}  // NOLINT: rebinding
  T* allocate(size_t n) {
    if (n == 1) {
      if (void* p = BlockCache<sizeof(T), alignof(T)>::Pop()) return static_cast<T*>(p);
    }
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, size_t n) noexcept {
    if (n == 1 && BlockCache<sizeof(T), alignof(T)>::Push(p)) return;
    std::allocator<T>().deallocate(p, n);
  }
  template <class U>
  bool operator==(const RecyclingAllocator<U>&) const noexcept { return true; }
};

// The errno of the last failed host call, mapped to WASI.
inline Unexpected<Errno> LastErr() { return Err(ErrnoFromHost(errno)); }

// The poll(2) event for a poll_oneoff interest.
inline short PollEventsFor(Interest interest) {
  return static_cast<short>(interest == Interest::kRead ? POLLIN : POLLOUT);
}

// Polls `fd` once without waiting: the revents for `events`, or the error (the host's;
// EBADF when the fd is not open, POLLNVAL). The CheckReadiness of every fd-backed handle.
inline ErrnoOr<short> PollNow(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  if (RetryEintr([&] { return poll(&p, 1, 0); }) < 0) return LastErr();
  if (p.revents & POLLNVAL) return Err(Errno::kBadf);
  return p.revents;
}

// The bytes FIONREAD says `fd` has ready to read; 0 when it cannot tell.
inline uint64_t BytesReadable(int fd) {
  int avail = 0;
  return ioctl(fd, FIONREAD, &avail) == 0 && avail > 0 ? static_cast<uint64_t>(avail) : 0;
}

}  // namespace weft::wasi::host
