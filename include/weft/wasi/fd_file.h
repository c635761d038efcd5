// FdFile: a File backed by an open host file descriptor (a regular file, a tty, a pipe,
// a socket). Used for inherited stdio, for files HostDir opens, and by embedders who
// hand a host fd to a guest. It never resolves a path, so it is built even with
// WEFT_HOST_FS=OFF. Thread-safe: the kernel's open file description holds offset and
// flags, so concurrent users share them exactly as dup(2) does.
//
// Behaviour worth knowing (each as wasmtime answers, unless noted):
//  - filetype: from fstat at construction (or at first use, FiletypeLater); sockets
//    by SO_TYPE; FIFOs are kUnknown.
//  - Read/Write go to readv/writev on the guest's buffers directly (no copy; at most
//    IOV_MAX buffers per call, the rest is a short transfer). EINTR is retried.
//  - Seek/Tell/Pread/Pwrite on pipes, ttys and sockets: ESPIPE (from the host).
//  - SetFdflags: only APPEND and NONBLOCK change (fcntl F_SETFL, shared with every
//    dup of the fd); asking for DSYNC/RSYNC/SYNC is EINVAL. GetFdflags reports the sync
//    flags as the host has them (on Linux O_SYNC also shows DSYNC).
//  - SetTimes: futimens; *_NOW together with the explicit time is EINVAL.
//  - Allocate: ENOTSUP (wasmtime dropped fd_allocate); SetSize: ftruncate.
//  - Readiness: the fd itself is the poll source (POLLIN/POLLOUT); regular files are
//    always ready and report size minus offset; others report FIONREAD bytes and
//    POLLHUP as hangup.
#pragma once

#include <atomic>
#include <memory>

#include "weft/wasi/handle.h"

namespace weft::wasi {

class FdFile : public File {
 public:
  // Takes ownership of `fd` (closed in the destructor) when `owns_fd` is true.
  FdFile(int fd, bool owns_fd);
  // As above, with the filetype already known (saves the fstat at construction).
  FdFile(int fd, bool owns_fd, Filetype filetype)
      : fd_(fd), owns_fd_(owns_fd), filetype_(filetype) {}
  // As above, with the filetype found (fstat) the first time filetype() or Stat() is
  // called: for an fd known not to be a directory (a host file opened for writing) that
  // is often closed before anyone asks. pending_type() is kFile until then.
  struct FiletypeLater {};
  FdFile(int fd, bool owns_fd, FiletypeLater)
      : fd_(fd), owns_fd_(owns_fd), filetype_(kFiletypeNotYet) {}
  ~FdFile() override;

  int fd() const { return fd_; }

  Filetype filetype() const override;
  PendingType pending_type() const override;
  ErrnoOr<Filestat> Stat() override;
  ErrnoOr<Fdflags> GetFdflags() override;
  ErrnoOr<void> SetFdflags(Fdflags flags) override;
  ErrnoOr<void> SetTimes(Timestamp atim, Timestamp mtim, Fstflags flags) override;
  ErrnoOr<void> Sync() override;
  ErrnoOr<void> Datasync() override;
  PollSource GetPollSource(Interest interest) override;
  Readiness CheckReadiness(Interest interest) override;

  ErrnoOr<size_t> Read(std::span<const IoVec> iovs) override;
  ErrnoOr<size_t> Write(std::span<const ConstIoVec> iovs) override;
  ErrnoOr<size_t> Pread(std::span<const IoVec> iovs, Filesize offset) override;
  ErrnoOr<size_t> Pwrite(std::span<const ConstIoVec> iovs, Filesize offset) override;
  ErrnoOr<Filesize> Seek(int64_t offset, Whence whence) override;
  ErrnoOr<Filesize> Tell() override;
  ErrnoOr<void> Advise(Filesize offset, Filesize len, Advice advice) override;
  ErrnoOr<void> Allocate(Filesize offset, Filesize len) override;
  ErrnoOr<void> SetSize(Filesize size) override;

 protected:
  // Not a Filetype: filetype_ holds it until the type is found.
  static constexpr Filetype kFiletypeNotYet = static_cast<Filetype>(0xff);

  int fd_;
  bool owns_fd_;
  // Set at construction, or once by the first filetype()/Stat() (racing finders store
  // the same value).
  mutable std::atomic<Filetype> filetype_;
};

}  // namespace weft::wasi
