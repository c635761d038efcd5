// HostDir: a Dir over a host directory fd, with every path resolved beneath it
// (resolve.h). Built only with WEFT_HOST_FS=ON; obtained through OpenHostDir().
//
// Read-only preopens: every modifying operation (create, open for writing, truncate,
// unlink, rename, link, symlink, mkdir, rmdir, set_times, set_size) fails with EPERM,
// which is what wasmtime answers when a preopen lacks DirPerms::MUTATE / FilePerms::WRITE
// (ErrorCode::NotPermitted); files open read-only, and directories opened beneath a
// read-only HostDir are read-only too.
//
// Thread-safety: the fd is immutable after construction and every method works on
// fresh fds of its own (Readdir reopens the directory), or on the held subdirectory and
// leaf fds (stat's caches, below), which are shared by shared_ptr under a mutex;
// concurrent calls are safe.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wasi/host/dir_watch.h"
#include "wasi/host/host_util.h"
#include "wasi/host/resolve.h"
#include "weft/wasi/fd_file.h"
#include "weft/wasi/handle.h"

namespace weft::wasi::host {

class HostDir final : public Dir {
 public:
  // Takes ownership of `fd`, an O_RDONLY|O_DIRECTORY fd.
  HostDir(int fd, bool read_only);
  ~HostDir() override;

  int fd() const { return fd_; }
  bool read_only() const { return read_only_; }
  // For tests: how many identity checks of a held subdirectory stat has made.
  uint64_t SubdirChecksForTesting() const { return subdir_checks_.load(); }
  // For tests: how many stats a held leaf answered (fstat of its fd).
  uint64_t LeafHitsForTesting() const { return leaf_hits_.load(); }
  // For tests: the DirWatch id of the root (negative while not watched).
  int WatchIdForTesting() const { return watch_id_.load(); }

  ErrnoOr<Filestat> Stat() override;
  ErrnoOr<void> SetTimes(Timestamp atim, Timestamp mtim, Fstflags flags) override;
  ErrnoOr<void> Sync() override;
  ErrnoOr<void> Datasync() override;

  ErrnoOr<std::shared_ptr<Handle>> OpenAt(std::string_view path, const OpenOptions& opts) override;
  ErrnoOr<void> CreateDir(std::string_view path) override;
  ErrnoOr<void> RemoveDir(std::string_view path) override;
  ErrnoOr<void> UnlinkFile(std::string_view path) override;
  ErrnoOr<void> Rename(std::string_view old_path, Dir& new_dir, std::string_view new_path) override;
  ErrnoOr<void> Link(Lookupflags lookup, std::string_view old_path, Dir& new_dir,
                     std::string_view new_path) override;
  ErrnoOr<void> Symlink(std::string_view target, std::string_view link_path) override;
  ErrnoOr<std::string> Readlink(std::string_view path) override;
  ErrnoOr<Filestat> StatAt(Lookupflags lookup, std::string_view path) override;
  ErrnoOr<void> SetTimesAt(Lookupflags lookup, std::string_view path, Timestamp atim,
                           Timestamp mtim, Fstflags flags) override;
  ErrnoOr<void> Readdir(Dircookie cookie,
                        const std::function<bool(const DirEntry&)>& sink) override;

 private:
  // A subdirectory of the root, held open (O_PATH) so that stat of "sub/name" costs
  // two system calls instead of three (open, fstat, close). Every use first checks
  // with fstatat(root, sub, AT_SYMLINK_NOFOLLOW) that `sub` still names this very
  // directory (same dev and inode; the open fd keeps the inode number from being
  // reused), so a rename, a removal or a symlink swapped in is seen; the name's object
  // is then stat'ed through the held fd, never through a path that could be swapped.
  //
  // Why not one call (as native stat): only openat2 resolves beneath a root, and it
  // returns an fd (open + fstat + close); fstatat/statx of "sub/name" from the root
  // follow a symlink swapped in for "sub" (an escape); the held fd alone answers for a
  // directory that may since have been renamed, replaced or moved out of the preopen
  // (stale), and nothing tells us so without a system call (inotify is asynchronous
  // and needs a read; the held directory's ctime/nlink via fstat misses a mount over
  // "sub" and relies on the filesystem updating ctime on rename at a fine enough
  // granularity). The check needs the identity (dev, inode), which a cheaper lookup
  // (readlinkat, faccessat2: ~480 ns against ~710 ns) does not give.
  //
  // The check is skipped while DirWatch (dir_watch.h) proves that no subdirectory entry
  // changed in the root since the last check: two loads from the thread's io_uring
  // doorbell, or one epoll_wait(2) where there is none, instead of the fstatat (~700 ns).
  // Where the root cannot be watched (remote filesystems, no inotify) every use checks.
  //
  // Deeper directories ("a/b" for a stat of "a/b/name", up to kMaxHeldDepth components)
  // are held too, from the second stat through them, when every directory on the way
  // can be watched: the root and each one between it and the held directory ("a").
  // Held, a deep directory answers while the subdirectory epoch stays the same: no
  // directory entry of a watched directory moved, and no watched directory's own
  // metadata (its search permission) changed. When it moved, the directory is walked
  // and watched again, one component at a time, before it answers. (Why not a cheaper
  // check, as above: openat2 of "a/b" could reach the same directory through another
  // "a" that is not watched, after the directory itself was moved.) A symlink on the
  // way leaves the stat to the general path, which follows it inside the root. Where
  // something on the way cannot be watched, deep paths are not held at all: walking
  // every time would cost more than the general path's three calls.
  static constexpr int kWatchNotTried = -2;
  static constexpr size_t kMaxHeldDepth = 8;
  struct CachedSubdir {
    ~CachedSubdir();
    std::string name;
    UniqueFd fd;
    dev_t dev;
    ino_t ino;
    // Tells the leaves (below) held in this directory from those of an earlier one.
    uint64_t serial = 0;
    // DirWatch's subdirectory epoch read just before the last identity check that found
    // `name` still naming this directory (kNoEpoch: none that can be trusted).
    mutable std::atomic<uint64_t> checked_at_epoch;
    // The DirWatch id of `fd` itself, watched once a leaf in it is held: kWatchNotTried,
    // then the id or -1. Set under subdir_mu_.
    mutable std::atomic<int> watch_id{kWatchNotTried};
    // A deep directory's: the DirWatch ids of the directories between the root and it,
    // outermost first ("a" for "a/b"). Empty for a child of the root.
    std::vector<int> chain_watches;
    // chain_watches, then watch_id when it is one: what DirWatch::Read() must look at
    // for this directory's entry epoch. Returns how many were stored.
    size_t WatchIds(int (&ids)[kMaxHeldDepth]) const;
  };
  // A leaf: "name" in a held subdirectory, remembered once stat'ed (dev and inode) and,
  // when a later stat finds the same object there, held open (O_PATH | O_NOFOLLOW). A stat
  // of "sub/name" is then one fstat(2) of the held fd, ~400 ns here against ~700 ns for
  // the walk of fstatat, while DirWatch's entry epoch (both the root and the subdirectory
  // watched) proves that nothing was removed, renamed or renamed over in either, and that
  // neither's metadata (the search permission) changed, since the check that found "name"
  // naming this object. The object's own attributes come live from its inode. Never a
  // symlink (a stat that follows it must resolve it), so following or not answers alike.
  //
  // The price: a held fd keeps its inode, and a removed file's blocks, until the leaf is
  // revalidated or replaced (kHeldLeaves slots, round robin), the guest removes or
  // renames something through this HostDir (ForgetLeaves), or the preopen closes. Like a
  // held subdirectory, a mount placed over "name" is not seen.
  struct HeldLeaf {
    uint64_t subdir_serial = 0;  // 0: empty
    std::string name;
    dev_t dev = 0;
    ino_t ino = 0;
    // The entry epoch read just before the check that found `name` naming (dev, ino)
    // through `fd`; kNoEpoch while not held.
    uint64_t checked_at_epoch = DirWatch::kNoEpoch;
    std::shared_ptr<const UniqueFd> fd;  // null: seen once, not held
  };
  // Answers stat of "sub/name" ("sub" one or more plain components, "name" one) through
  // the cache: kStat with *st filled, kError with *error set, or kGeneral when the
  // general path must answer (a symlink to follow, a race, ...). (Out parameters: the
  // hot path copies no result structs.)
  enum class SubdirAnswer { kStat, kError, kGeneral };
  SubdirAnswer StatInSubdir(std::string_view sub, std::string_view name, bool follow,
                            struct stat* st, Errno* error);
  // Where `sub` is cached, or kCachedSubdirs. subdir_mu_ held.
  size_t SubdirSlotLocked(std::string_view sub) const;
  // Opens `sub` (which the caller just found to be the directory `seen`), checks that the
  // fd is that directory, and caches it as checked at `epoch`. nullptr if `sub` changed
  // in between.
  std::shared_ptr<const CachedSubdir> HoldSubdir(std::string_view sub, const CPath& sub_path,
                                                 const struct stat& seen, uint64_t epoch);
  // Whether to hold the deep directory `sub` now: when it was looked up recently
  // (among the last kCachedSubdirs deep directories not held), unless holding it
  // failed at this same subdirectory epoch (a symlink on the way, ...: trying on every
  // stat would cost a walk each; once something moved, it may work). Otherwise
  // remembers it.
  bool ShouldHoldDeepSubdir(std::string_view sub, uint64_t subdirs_epoch);
  // After holding `sub` failed at `subdirs_epoch`: drops what is cached for it.
  void NoteDeepSubdirNotHeld(std::string_view sub, uint64_t subdirs_epoch);
  // Opens the deep directory `sub` one component at a time (none followed), watching
  // each directory before looking up the next component in it, and caches it when
  // nothing moved meanwhile. nullptr when something on the way is missing, not a
  // directory, a symlink, cannot be watched, or changed meanwhile: the general path
  // answers then (and HoldDeepSubdir notes the failure at `subdirs_epoch`).
  std::shared_ptr<const CachedSubdir> HoldDeepSubdir(std::string_view sub,
                                                     uint64_t subdirs_epoch);
  std::shared_ptr<const CachedSubdir> TryHoldDeepSubdir(std::string_view sub);
  // Watches the root, once: from the first subdirectory held on, since only then does a
  // check pay. subdir_mu_ held.
  void WatchRootLocked();
  // Puts `fresh` in a slot (the one that holds `sub` already, or the next); returns it.
  std::shared_ptr<const CachedSubdir> CacheSubdir(std::shared_ptr<CachedSubdir> fresh);
  // Closes every held leaf: after an unlink, rmdir or rename made here, so that what it
  // removed is not kept.
  void ForgetLeaves();
  // The leaf `name` of `dir`, or nullptr. subdir_mu_ held.
  HeldLeaf* LeafLocked(uint64_t subdir_serial, std::string_view name);
  // After a stat through `dir` found `name` to be *st (not a symlink), with the entry
  // epoch `entries` read before it: revalidates the leaf, remembers it, or holds it when
  // it is seen for the second time.
  void NoteLeaf(const CachedSubdir& dir, std::string_view name, const CPath& name_path,
                const struct stat& st, uint64_t entries);

  const int fd_;
  const bool read_only_;
  // A few subdirectories, so that stats alternating between them do not reopen one
  // each time (a miss costs four calls where the general path takes three). Each
  // holds an O_PATH fd while this HostDir lives.
  static constexpr size_t kCachedSubdirs = 4;
  std::mutex subdir_mu_;
  std::shared_ptr<const CachedSubdir> subdirs_[kCachedSubdirs];  // guarded by subdir_mu_
  size_t next_subdir_ = 0;                                        // guarded by subdir_mu_
  uint64_t next_serial_ = 1;                                      // guarded by subdir_mu_
  struct DeepSeen {
    std::string name;
    bool failed = false;
    uint64_t failed_at = DirWatch::kNoEpoch;  // the subdirectory epoch then
  };
  DeepSeen deep_seen_[kCachedSubdirs];                             // guarded by subdir_mu_
  size_t next_deep_seen_ = 0;                                      // guarded by subdir_mu_
  // The entry for `sub`, found, or made in place of the oldest (*made says which).
  DeepSeen& DeepSeenLocked(std::string_view sub, bool* made);
  static constexpr size_t kHeldLeaves = 4;
  HeldLeaf leaves_[kHeldLeaves];                                  // guarded by subdir_mu_
  size_t next_leaf_ = 0;                                          // guarded by subdir_mu_
  // The DirWatch id of fd_: kWatchNotTried until the first subdirectory is cached, then
  // the id, or -1 when the root cannot be watched. Set under subdir_mu_.
  std::atomic<int> watch_id_{kWatchNotTried};
  // Set when a directory on the way to a deep one could not be watched (another
  // filesystem mounted inside, or the watch limit): deep paths then take the general
  // path without trying again.
  std::atomic<bool> deep_unwatchable_{false};
  std::atomic<uint64_t> subdir_checks_{0};
  std::atomic<uint64_t> leaf_hits_{0};
};

// A file opened beneath a HostDir. Identical to FdFile except that, under a read-only
// preopen, SetTimes and SetSize are refused with EPERM like the other writes (its fd
// is O_RDONLY, so Write/Pwrite already answer EBADF), and that it keeps its fdflags:
// its open file description is weft's own (nobody else holds the fd), so they change
// only through SetFdflags, and fd_fdstat_get needs no fcntl(2).
class HostFile final : public FdFile {
 public:
  // `open_flags`: the host flags the fd was opened with.
  HostFile(int fd, bool read_only, Filetype filetype, int open_flags)
      : FdFile(fd, /*owns_fd=*/true, filetype),
        read_only_(read_only),
        fdflags_(FdflagsFromHostFlags(open_flags)) {}
  // The filetype found when first needed (see FdFile::FiletypeLater).
  HostFile(int fd, bool read_only, FiletypeLater later, int open_flags)
      : FdFile(fd, /*owns_fd=*/true, later),
        read_only_(read_only),
        fdflags_(FdflagsFromHostFlags(open_flags)) {}

  ErrnoOr<Fdflags> GetFdflags() override { return fdflags_.load(std::memory_order_relaxed); }
  ErrnoOr<void> SetFdflags(Fdflags flags) override;
  ErrnoOr<void> SetTimes(Timestamp atim, Timestamp mtim, Fstflags flags) override;
  ErrnoOr<void> SetSize(Filesize size) override;

 private:
  const bool read_only_;
  std::mutex set_fdflags_mu_;
  std::atomic<Fdflags> fdflags_;  // written under set_fdflags_mu_
};

// What HostDir::OpenAt returns, when the caller allows it (OpenOptions::defer_type),
// for a read-only open without O_DIRECTORY: the fd may be a directory or a file, and
// finding out costs an fstat(2) that path_open + fd_close never needs. Settle() makes
// the HostDir or HostFile (once; it then owns the fd) and every other call forwards to
// it, so this handle behaves exactly as that one would, AsFile()/AsDir() included.
//
// Thread-safety: settling is serialised by a mutex; the settled handle never changes
// afterwards and is read without the lock.
class HostUnsettled final : public Handle {
 public:
  // Takes ownership of `fd`, opened with host flags `open_flags`.
  HostUnsettled(int fd, bool read_only, int open_flags)
      : fd_(fd), read_only_(read_only), open_flags_(open_flags) {}
  ~HostUnsettled() override;

  PendingType pending_type() const override {
    return settled_raw_.load(std::memory_order_acquire) ? PendingType::kNone
                                                       : PendingType::kFileOrDir;
  }
  std::shared_ptr<Handle> Settle() override;

  Filetype filetype() const override { return Now().filetype(); }
  File* AsFile() override { return Now().AsFile(); }
  Dir* AsDir() override { return Now().AsDir(); }
  ErrnoOr<Filestat> Stat() override { return Now().Stat(); }
  ErrnoOr<Fdflags> GetFdflags() override { return Now().GetFdflags(); }
  ErrnoOr<void> SetFdflags(Fdflags flags) override { return Now().SetFdflags(flags); }
  ErrnoOr<void> SetTimes(Timestamp atim, Timestamp mtim, Fstflags flags) override {
    return Now().SetTimes(atim, mtim, flags);
  }
  ErrnoOr<void> Sync() override { return Now().Sync(); }
  ErrnoOr<void> Datasync() override { return Now().Datasync(); }
  PollSource GetPollSource(Interest interest) override { return Now().GetPollSource(interest); }
  Readiness CheckReadiness(Interest interest) override { return Now().CheckReadiness(interest); }

 private:
  // The settled handle, settling first if needed. (Const callers: settling changes
  // nothing this handle answers.)
  Handle& Now() const;

  int fd_;  // owned until settled, then -1 (the settled handle owns it); under mu_
  const bool read_only_;
  const int open_flags_;
  std::mutex mu_;
  std::shared_ptr<Handle> settled_;       // written once, under mu_
  std::atomic<Handle*> settled_raw_{nullptr};  // settled_.get() once it is set
};

}  // namespace weft::wasi::host
