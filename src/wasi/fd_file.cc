// FdFile: a File over an open host fd. See include/weft/wasi/fd_file.h.
#include "weft/wasi/fd_file.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "wasi/host/host_util.h"

namespace weft::wasi {
namespace {

using host::LastErr;
using host::RetryEintr;

using host::AsIovecs;

constexpr Filesize kMaxOffset = static_cast<Filesize>(INT64_MAX);

}  // namespace

FdFile::FdFile(int fd, bool owns_fd) : fd_(fd), owns_fd_(owns_fd), filetype_(Filetype::kUnknown) {
  struct stat st;
  if (fd_ >= 0 && fstat(fd_, &st) == 0) filetype_ = host::FiletypeFromMode(st.st_mode, fd_);
}

FdFile::~FdFile() {
  // close(2) must not be retried on EINTR on Linux: the fd is released either way.
  if (owns_fd_ && fd_ >= 0) close(fd_);
}

Filetype FdFile::filetype() const {
  Filetype t = filetype_.load(std::memory_order_relaxed);
  if (t != kFiletypeNotYet) [[likely]] return t;
  struct stat st;
  t = host::FstatFd(fd_, &st) == 0 ? host::FiletypeFromMode(st.st_mode, fd_) : Filetype::kUnknown;
  filetype_.store(t, std::memory_order_relaxed);
  return t;
}

Handle::PendingType FdFile::pending_type() const {
  return filetype_.load(std::memory_order_relaxed) == kFiletypeNotYet ? PendingType::kFile
                                                                       : PendingType::kNone;
}

ErrnoOr<Filestat> FdFile::Stat() {
  struct stat st;
  if (host::FstatFd(fd_, &st) != 0) return LastErr();
  Filestat out = host::FilestatFromStat(st, fd_);
  if (filetype_.load(std::memory_order_relaxed) == kFiletypeNotYet) {
    filetype_.store(out.filetype, std::memory_order_relaxed);  // found for free
  }
  return out;
}

ErrnoOr<Fdflags> FdFile::GetFdflags() {
  int fl = fcntl(fd_, F_GETFL);
  if (fl < 0) return LastErr();
  return host::FdflagsFromHostFlags(fl);
}

ErrnoOr<void> FdFile::SetFdflags(Fdflags flags) {
  // As wasmtime: only APPEND and NONBLOCK can change after open; asking for a sync
  // flag is EINVAL.
  if (flags & (kFdflagDsync | kFdflagRsync | kFdflagSync)) return Err(Errno::kInval);
  if (flags & ~(kFdflagAppend | kFdflagNonblock)) return Err(Errno::kInval);
  int fl = fcntl(fd_, F_GETFL);
  if (fl < 0) return LastErr();
  int want = fl & ~(O_APPEND | O_NONBLOCK);
  if (flags & kFdflagAppend) want |= O_APPEND;
  if (flags & kFdflagNonblock) want |= O_NONBLOCK;
  if (want != fl && fcntl(fd_, F_SETFL, want) != 0) return LastErr();
  return {};
}

ErrnoOr<void> FdFile::SetTimes(Timestamp atim, Timestamp mtim, Fstflags flags) {
  struct timespec ts[2];
  WEFT_TRY(host::TimespecsFromFstflags(atim, mtim, flags, ts));
  if (futimens(fd_, ts) != 0) return LastErr();
  return {};
}

ErrnoOr<void> FdFile::Sync() {
  if (RetryEintr([&] { return fsync(fd_); }) != 0) return LastErr();
  return {};
}

ErrnoOr<void> FdFile::Datasync() {
  if (RetryEintr([&] { return fdatasync(fd_); }) != 0) return LastErr();
  return {};
}

namespace {
// False when the fd's access mode rules the direction out (a pipe's write end is never
// readable): poll(2) would wait forever, while a read or write fails at once (EBADF).
bool OpenFor(int fd, Interest interest) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return true;  // let the operation itself report the error
  int mode = fl & O_ACCMODE;
  return interest == Interest::kRead ? mode != O_WRONLY : mode != O_RDONLY;
}
}  // namespace

PollSource FdFile::GetPollSource(Interest interest) {
  // Nothing to wait on when the fd cannot move in that direction; CheckReadiness then
  // reports it ready with EBADF.
  if (fd_ < 0 || !OpenFor(fd_, interest)) return PollSource{};
  return PollSource{fd_, host::PollEventsFor(interest)};
}

Readiness FdFile::CheckReadiness(Interest interest) {
  Readiness r;
  if (fd_ < 0 || !OpenFor(fd_, interest)) {  // poll(2) silently skips negative fds
    r.error = Errno::kBadf;
    return r;
  }
  if (filetype() == Filetype::kRegularFile) {
    // Regular files are always ready; a read reports what is left past the offset.
    if (interest == Interest::kRead) {
      struct stat st;
      off_t pos = lseek(fd_, 0, SEEK_CUR);
      if (fstat(fd_, &st) != 0 || pos < 0) {
        r.error = ErrnoFromHost(errno);
        return r;
      }
      r.nbytes = st.st_size > pos ? static_cast<uint64_t>(st.st_size - pos) : 0;
    }
    return r;
  }
  const short events = host::PollEventsFor(interest);
  auto revents = host::PollNow(fd_, events);
  if (!revents.ok()) {
    r.error = revents.error();
    return r;
  }
  r.hangup = (*revents & POLLHUP) != 0;
  r.ready = (*revents & (events | POLLHUP | POLLERR)) != 0;
  if (r.ready && interest == Interest::kRead) r.nbytes = host::BytesReadable(fd_);
  return r;
}

// One buffer (what libc's read/write hand over) goes to read(2)/write(2): the kernel
// then skips copying in an iovec array.
ErrnoOr<size_t> FdFile::Read(std::span<const IoVec> iovs) {
  if (iovs.size() == 1) {
    ssize_t n = RetryEintr([&] { return read(fd_, iovs[0].data, iovs[0].len); });
    if (n < 0) return LastErr();
    return static_cast<size_t>(n);
  }
  int count;
  const struct iovec* v = AsIovecs(iovs, &count);
  ssize_t n = RetryEintr([&] { return readv(fd_, v, count); });
  if (n < 0) return LastErr();
  return static_cast<size_t>(n);
}

ErrnoOr<size_t> FdFile::Write(std::span<const ConstIoVec> iovs) {
  if (iovs.size() == 1) {
    ssize_t n = RetryEintr([&] { return write(fd_, iovs[0].data, iovs[0].len); });
    if (n < 0) return LastErr();
    return static_cast<size_t>(n);
  }
  int count;
  const struct iovec* v = AsIovecs(iovs, &count);
  ssize_t n = RetryEintr([&] { return writev(fd_, v, count); });
  if (n < 0) return LastErr();
  return static_cast<size_t>(n);
}

ErrnoOr<size_t> FdFile::Pread(std::span<const IoVec> iovs, Filesize offset) {
  if (offset > kMaxOffset) return Err(Errno::kInval);
  int count;
  const struct iovec* v = AsIovecs(iovs, &count);
  ssize_t n = RetryEintr([&] { return preadv(fd_, v, count, static_cast<off_t>(offset)); });
  if (n < 0) return LastErr();
  return static_cast<size_t>(n);
}

ErrnoOr<size_t> FdFile::Pwrite(std::span<const ConstIoVec> iovs, Filesize offset) {
  if (offset > kMaxOffset) return Err(Errno::kInval);
  int count;
  const struct iovec* v = AsIovecs(iovs, &count);
  ssize_t n = RetryEintr([&] { return pwritev(fd_, v, count, static_cast<off_t>(offset)); });
  if (n < 0) return LastErr();
  return static_cast<size_t>(n);
}

ErrnoOr<Filesize> FdFile::Seek(int64_t offset, Whence whence) {
  int w;
  switch (whence) {
    case Whence::kSet:
      w = SEEK_SET;
      break;
    case Whence::kCur:
      w = SEEK_CUR;
      break;
    case Whence::kEnd:
      w = SEEK_END;
      break;
    default:
      return Err(Errno::kInval);
  }
  off_t r = lseek(fd_, static_cast<off_t>(offset), w);
  if (r < 0) return LastErr();
  return static_cast<Filesize>(r);
}

ErrnoOr<Filesize> FdFile::Tell() {
  off_t r = lseek(fd_, 0, SEEK_CUR);
  if (r < 0) return LastErr();
  return static_cast<Filesize>(r);
}

ErrnoOr<void> FdFile::Advise(Filesize offset, Filesize len, Advice advice) {
  int a;
  switch (advice) {
    case Advice::kNormal:
      a = POSIX_FADV_NORMAL;
      break;
    case Advice::kSequential:
      a = POSIX_FADV_SEQUENTIAL;
      break;
    case Advice::kRandom:
      a = POSIX_FADV_RANDOM;
      break;
    case Advice::kWillneed:
      a = POSIX_FADV_WILLNEED;
      break;
    case Advice::kDontneed:
      a = POSIX_FADV_DONTNEED;
      break;
    case Advice::kNoreuse:
      a = POSIX_FADV_NOREUSE;
      break;
    default:
      return Err(Errno::kInval);
  }
  if (offset > kMaxOffset || len > kMaxOffset) return Err(Errno::kInval);
  // posix_fadvise returns the error number instead of setting errno.
  int rc = posix_fadvise(fd_, static_cast<off_t>(offset), static_cast<off_t>(len), a);
  if (rc != 0) return Err(ErrnoFromHost(rc));
  return {};
}

ErrnoOr<void> FdFile::Allocate(Filesize offset, Filesize len) {
  // wasmtime (preview1 over preview2, which has no allocate) answers ENOTSUP for every
  // fd_allocate once the fd is known to be a file; weft does the same so guests see
  // one behaviour. A closed/bad host fd still answers its own errno first.
  struct stat st;
  if (fstat(fd_, &st) != 0) return LastErr();
  return Err(Errno::kNotsup);
}

ErrnoOr<void> FdFile::SetSize(Filesize size) {
  if (size > kMaxOffset) return Err(Errno::kInval);
  if (RetryEintr([&] { return ftruncate(fd_, static_cast<off_t>(size)); }) != 0) return LastErr();
  return {};
}

}  // namespace weft::wasi
