// Sandboxed path resolution beneath a preopened directory fd (DESIGN.md "Sandboxing").
//
// Every guest path is relative to a directory fd ("the root") and must stay beneath
// it: absolute paths, ".." above the root and symlinks whose target leaves the root
// (at any depth, followed or not, or swapped in concurrently) are refused with EPERM,
// the answer wasmtime (cap-std) gives to an escape attempt.
//
// Two resolvers implement the same contract:
//  - openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, where the kernel has it
//    (probed once, cached): the kernel enforces containment atomically;
//  - a component-by-component walk with O_PATH | O_NOFOLLOW that follows in-sandbox
//    symlinks itself (ELOOP after kMaxSymlinkHops) and handles ".." by popping its own
//    stack of directory fds, never by asking the kernel for "..".
// Operations on a final component get (parent fd, name) from ResolveParent and act
// with *_NOFOLLOW, so a symlink swapped in after resolution is never followed.
//
// Thread-safety: all functions are safe to call concurrently; the only shared state
// is the cached probe and the test switch (atomics).
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <utility>

#include "weft/wasi/types.h"

namespace weft::wasi::host {

inline constexpr int kMaxSymlinkHops = 40;

// An owned fd, closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

enum class ResolverMode {
  kAuto,      // openat2 when the kernel has it, else the walk
  kWalkOnly,  // always the component walk (tests force this to cover the fallback)
};
// Process-wide; meant for tests.
void SetResolverMode(ResolverMode mode);
ResolverMode GetResolverMode();
// True when openat2 with RESOLVE_BENEATH works on this kernel (probed once).
bool Openat2Supported();
// True when the current mode will use openat2.
bool UsingOpenat2();

// Checks the lexical rules every guest path obeys: empty -> ENOENT, absolute -> EPERM,
// embedded NUL -> EINVAL.
ErrnoOr<void> CheckGuestPath(std::string_view path);

// Opens `path` beneath `root` like openat(root, path, flags, mode). O_CLOEXEC and
// O_NOCTTY are added; the final component is followed only if `follow_final`
// (otherwise a final symlink is ELOOP, as O_NOFOLLOW). Returns the new fd.
ErrnoOr<UniqueFd> OpenBeneath(int root, std::string_view path, int flags, mode_t mode,
                              bool follow_final);

// A directory fd that is either owned (closed on destruction) or borrowed (the root,
// which the caller keeps open).
class DirFd {
 public:
  static DirFd Borrowed(int fd) {
    DirFd d;
    d.fd_ = fd;
    return d;
  }
  static DirFd Owned(UniqueFd fd) {
    DirFd d;
    d.fd_ = fd.get();
    d.owned_ = std::move(fd);
    return d;
  }
  int get() const { return fd_; }

 private:
  UniqueFd owned_;
  int fd_ = -1;
};

// The directory holding the final component of a path, and that component.
struct ResolvedParent {
  DirFd dir;            // the root itself when the path has one component (no syscall),
                        // else an O_PATH directory fd beneath the root
  std::string name;     // never empty, never contains '/'; "." when the path names a
                        // directory through "." or ".." (so no op can act on "..")
  bool trailing_slash;  // the path ended in '/': the final must be a directory
};

// Resolves every component but the last (following in-sandbox symlinks). When
// `follow_final`, a final symlink is followed too (repeatedly, within the hop budget)
// so that `name` was, when checked, not a symlink; callers still act on it with
// AT_SYMLINK_NOFOLLOW so a racing swap is harmless. A missing final is not an error.
ErrnoOr<ResolvedParent> ResolveParent(int root, std::string_view path, bool follow_final);

// A NUL-terminated copy of a guest path for the system calls, on the stack when short
// (the path_open / path_filestat_get hot paths then do not allocate).
// The copy also notes whether the path holds a NUL or a '/', so that OpenBeneath makes
// one pass over it instead of three (copy, CheckGuestPath's NUL search, '/' search).
class CPath {
 public:
  explicit CPath(std::string_view path);
  const char* c_str() const { return heap_.empty() ? inline_ : heap_.c_str(); }
  bool has_nul() const { return has_nul_; }
  bool has_slash() const { return has_slash_; }

 private:
  static constexpr size_t kInline = 256;
  char inline_[kInline];
  std::string heap_;
  bool has_nul_ = false;
  bool has_slash_ = false;
};

// openat2(root, path, flags | O_CLOEXEC, mode) with RESOLVE_BENEATH (the kernel keeps
// the walk, symlinks included, beneath root), retried on EINTR/EAGAIN. Only when
// UsingOpenat2(). Returns the fd, or -1 with errno set (EXDEV: an escape); -1 with
// *again set when EAGAIN persisted (the caller takes the walk instead).
long Openat2Beneath(int root, const char* path, int flags, mode_t mode, bool* again);

// readlinkat(dirfd, name) into a string.
ErrnoOr<std::string> ReadLinkAt(int dirfd, const char* name);

}  // namespace weft::wasi::host
