// The handle model: every capability a guest can hold behind an fd is a Handle.
//
// A handle type overrides only what it supports; every default answers the errno a
// POSIX program expects for an object that cannot do that (EBADF for "wrong kind of
// fd", ENOTDIR for path operations on non-directories, ESPIPE for seeking a stream,
// ENOTSOCK for socket calls on non-sockets). Embedders derive from File or Dir
// outside the library to hand their own streams to a guest.
//
// Thread safety: handles are held by shared_ptr and may be used by several guests and
// threads at once (two tables holding one handle share one open description: offset
// and flags, like dup(2)). Every implementation must be safe under concurrent calls.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "weft/wasi/types.h"

namespace weft::wasi {

class File;
class Dir;

// What poll_oneoff waits for on a handle.
enum class Interest : uint8_t { kRead, kWrite };

// A host fd that poll(2) can wait on for this handle's readiness. In-process handles
// (pipes, channels) expose an eventfd they keep readable exactly while they are ready.
struct PollSource {
  int fd = -1;      // < 0: nothing to wait on; CheckReadiness alone decides
  short events = 0; // POLLIN / POLLOUT
};

struct Readiness {
  bool ready = true;
  uint64_t nbytes = 0;   // bytes readable / writable, where known
  bool hangup = false;   // peer closed: fd_read would return 0 / fd_write EPIPE
  Errno error = Errno::kSuccess;
};

// A handle whose calls can block inside the handle (not in a host syscall that poll(2)
// covers) implements this too, so that another thread can wake them: Ctx::Interrupt()
// calls Interrupt() on every handle of its table that implements it. Custom handle types
// that block derive from it as Channel ends do.
class Interruptible {
 public:
  virtual ~Interruptible() = default;
  // Wakes every call currently blocked in this handle; they return EINTR (a write that
  // already moved bytes returns its short count). Later calls are not affected.
  virtual void Interrupt() = 0;
};

class Handle : public std::enable_shared_from_this<Handle> {
 public:
  virtual ~Handle() = default;

  virtual Filetype filetype() const = 0;
  virtual File* AsFile() { return nullptr; }
  virtual Dir* AsDir() { return nullptr; }

  // fd_filestat_get. Default: only the filetype is known.
  virtual ErrnoOr<Filestat> Stat() { Filestat st; st.filetype = filetype(); return st; }
  // fd_fdstat_get / fd_fdstat_set_flags.
  virtual ErrnoOr<Fdflags> GetFdflags() { return Fdflags{0}; }
  virtual ErrnoOr<void> SetFdflags(Fdflags) { return Err(Errno::kNotsup); }
  // fd_filestat_set_times (times already resolved by the caller only for *_NOW flags).
  virtual ErrnoOr<void> SetTimes(Timestamp atim, Timestamp mtim, Fstflags flags) {
    return Err(Errno::kBadf);
  }
  virtual ErrnoOr<void> Sync() { return Err(Errno::kInval); }
  virtual ErrnoOr<void> Datasync() { return Err(Errno::kInval); }

  // poll_oneoff support (see PollSource). Default: always ready, nothing to wait on.
  virtual PollSource GetPollSource(Interest) { return {}; }
  virtual Readiness CheckReadiness(Interest) { return {}; }

  // Lazily typed handles. A host open may skip the fstat(2) that finds what it opened
  // (the path_open + fd_close pattern never needs it): a file opened for writing is a
  // non-directory whose exact type is found when first asked (kFile); a read-only open
  // without O_DIRECTORY may also be a directory (kFileOrDir, only when the caller set
  // OpenOptions::defer_type). Such a handle still answers every call correctly, finding
  // its type (once) when a call needs it. The table narrows an entry's rights to the
  // type only then (Entry::unsettled).
  enum class PendingType : uint8_t { kNone, kFile, kFileOrDir };
  // What this handle may still turn out to be; kNone once its type is known (default).
  virtual PendingType pending_type() const { return PendingType::kNone; }
  // Finds the type (once; thread-safe) and returns the handle to use in this one's place
  // from now on, or nullptr to keep this one. Every call returns the same handle, so
  // tables that share this one end up sharing the replacement too.
  virtual std::shared_ptr<Handle> Settle() { return nullptr; }
};

// Streams and regular files (and sockets, which also answer the Sock* calls).
class File : public Handle {
 public:
  File* AsFile() override { return this; }

  virtual ErrnoOr<size_t> Read(std::span<const IoVec> iovs) { return Err(Errno::kBadf); }
  virtual ErrnoOr<size_t> Write(std::span<const ConstIoVec> iovs) { return Err(Errno::kBadf); }
  virtual ErrnoOr<size_t> Pread(std::span<const IoVec> iovs, Filesize offset) {
    return Err(Errno::kSpipe);
  }
  virtual ErrnoOr<size_t> Pwrite(std::span<const ConstIoVec> iovs, Filesize offset) {
    return Err(Errno::kSpipe);
  }
  // Returns the new offset.
  virtual ErrnoOr<Filesize> Seek(int64_t offset, Whence whence) { return Err(Errno::kSpipe); }
  virtual ErrnoOr<Filesize> Tell() { return Err(Errno::kSpipe); }
  virtual ErrnoOr<void> Advise(Filesize offset, Filesize len, Advice advice) {
    return Err(Errno::kSpipe);
  }
  virtual ErrnoOr<void> Allocate(Filesize offset, Filesize len) { return Err(Errno::kSpipe); }
  virtual ErrnoOr<void> SetSize(Filesize size) { return Err(Errno::kInval); }

  // Sockets.
  virtual ErrnoOr<std::shared_ptr<File>> SockAccept(Fdflags flags) { return Err(Errno::kNotsock); }
  struct RecvResult { size_t size; Roflags flags; };
  virtual ErrnoOr<RecvResult> SockRecv(std::span<const IoVec> iovs, Riflags flags) {
    return Err(Errno::kNotsock);
  }
  virtual ErrnoOr<size_t> SockSend(std::span<const ConstIoVec> iovs, Siflags flags) {
    return Err(Errno::kNotsock);
  }
  virtual ErrnoOr<void> SockShutdown(Sdflags how) { return Err(Errno::kNotsock); }
};

// Options of path_open after the binding has decoded them.
struct OpenOptions {
  Lookupflags lookup = 0;
  Oflags oflags = 0;
  Fdflags fdflags = 0;
  bool read = false;   // derived from rights (fd_read / fd_readdir)
  bool write = false;  // derived from rights (fd_write, fd_allocate, set_size, ...)
  // The caller accepts a handle whose kind is not known yet (pending_type() ==
  // kFileOrDir: a forwarder that settles on the first call needing the kind, AsFile()
  // and AsDir() included; Table swaps in Settle()'s handle). path_open sets this.
  // Without it, OpenAt returns a File or a Dir, as it always did.
  bool defer_type = false;
};

// Directories. Every path is relative to this directory and must stay beneath it
// (the implementation enforces the sandbox: no "..", absolute paths or symlinks that
// leave it; see DESIGN.md "Sandboxing").
class Dir : public Handle {
 public:
  Dir* AsDir() override { return this; }
  Filetype filetype() const override { return Filetype::kDirectory; }

  virtual ErrnoOr<std::shared_ptr<Handle>> OpenAt(std::string_view path, const OpenOptions& opts) {
    return Err(Errno::kNotsup);
  }
  virtual ErrnoOr<void> CreateDir(std::string_view path) { return Err(Errno::kNotsup); }
  virtual ErrnoOr<void> RemoveDir(std::string_view path) { return Err(Errno::kNotsup); }
  virtual ErrnoOr<void> UnlinkFile(std::string_view path) { return Err(Errno::kNotsup); }
  // `new_dir` is another Dir of a compatible implementation; otherwise EXDEV.
  virtual ErrnoOr<void> Rename(std::string_view old_path, Dir& new_dir, std::string_view new_path) {
    return Err(Errno::kNotsup);
  }
  virtual ErrnoOr<void> Link(Lookupflags lookup, std::string_view old_path, Dir& new_dir,
                             std::string_view new_path) {
    return Err(Errno::kNotsup);
  }
  virtual ErrnoOr<void> Symlink(std::string_view target, std::string_view link_path) {
    return Err(Errno::kNotsup);
  }
  virtual ErrnoOr<std::string> Readlink(std::string_view path) { return Err(Errno::kNotsup); }
  virtual ErrnoOr<Filestat> StatAt(Lookupflags lookup, std::string_view path) {
    return Err(Errno::kNotsup);
  }
  virtual ErrnoOr<void> SetTimesAt(Lookupflags lookup, std::string_view path, Timestamp atim,
                                   Timestamp mtim, Fstflags flags) {
    return Err(Errno::kNotsup);
  }
  // Calls `sink` for each entry starting at `cookie` (0 = start, including "." and "..")
  // until it returns false or the entries end. Cookies stay valid across calls.
  virtual ErrnoOr<void> Readdir(Dircookie cookie,
                                const std::function<bool(const DirEntry&)>& sink) {
    return Err(Errno::kNotsup);
  }
};

}  // namespace weft::wasi
