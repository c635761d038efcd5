// HostDir and OpenHostDir: the sandboxed host filesystem. See host_dir.h, resolve.h.
#include "wasi/host/host_dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <span>
#include <cstring>
#include <string>
#include <vector>

#include "wasi/host/dir_watch.h"
#include "wasi/host/host_util.h"
#include "wasi/host/resolve.h"
#include "weft/wasi/host_fs.h"

namespace weft::wasi {

ErrnoOr<std::shared_ptr<Dir>> OpenHostDir(std::string_view host_path, bool read_only) {
  if (host_path.empty()) return Err(Errno::kNoent);
  std::string p(host_path);
  if (p.find('\0') != std::string::npos) return Err(Errno::kInval);
  // The embedder's own path: resolved with ambient authority, symlinks allowed.
  int fd = host::RetryEintr([&] { return open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
  if (fd < 0) return host::LastErr();
  return std::shared_ptr<Dir>(std::make_shared<host::HostDir>(fd, read_only));
}

namespace host {
namespace {

// Every modifying operation under a read-only preopen (see host_dir.h).
constexpr Errno kReadOnlyErrno = Errno::kPerm;

// Calls f(component) for each '/'-separated component of `path`, in order, while f
// returns true; false when f stopped the walk.
template <class F>
bool ForEachComponent(std::string_view path, F&& f) {
  for (size_t begin = 0; begin <= path.size();) {
    size_t end = std::min(path.find('/', begin), path.size());
    if (!f(path.substr(begin, end - begin))) return false;
    begin = end + 1;
  }
  return true;
}

std::string WithSlash(const ResolvedParent& rp) {
  return rp.trailing_slash ? rp.name + "/" : rp.name;
}

// For lookups whose path ended in '/': the (already followed) final must be a directory.
ErrnoOr<void> RequireDir(const ResolvedParent& rp) {
  struct stat st;
  if (fstatat(rp.dir.get(), rp.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return LastErr();
  if (!S_ISDIR(st.st_mode)) return Err(Errno::kNotdir);
  return {};
}

Filetype FiletypeFromDtype(unsigned char t) {
  switch (t) {
    case DT_REG:
      return Filetype::kRegularFile;
    case DT_DIR:
      return Filetype::kDirectory;
    case DT_LNK:
      return Filetype::kSymbolicLink;
    case DT_CHR:
      return Filetype::kCharacterDevice;
    case DT_BLK:
      return Filetype::kBlockDevice;
    case DT_SOCK:
      return Filetype::kSocketStream;
    default:
      return Filetype::kUnknown;
  }
}

// The fixed head of a getdents64 record (struct linux_dirent64 without d_name).
struct Dirent64Head {
  uint64_t d_ino;
  int64_t d_off;
  uint16_t d_reclen;
  uint8_t d_type;
};
constexpr size_t kDirentNameOffset = 19;  // offsetof(linux_dirent64, d_name)

}  // namespace

HostDir::HostDir(int fd, bool read_only) : fd_(fd), read_only_(read_only) {}

HostDir::CachedSubdir::~CachedSubdir() {
  if (int id = watch_id.load(); id >= 0) DirWatch::Process().Unwatch(id);
  for (int id : chain_watches) DirWatch::Process().Unwatch(id);
}

size_t HostDir::CachedSubdir::WatchIds(int (&ids)[kMaxHeldDepth]) const {
  size_t n = 0;
  for (int id : chain_watches) ids[n++] = id;
  if (int self = watch_id.load(std::memory_order_acquire); self >= 0) ids[n++] = self;
  return n;
}

HostDir::~HostDir() {
  if (int id = watch_id_.load(); id >= 0) DirWatch::Process().Unwatch(id);
  close(fd_);
}

ErrnoOr<Filestat> HostDir::Stat() {
  struct stat st;
  if (FstatFd(fd_, &st) != 0) return LastErr();
  Filestat out = FilestatFromStat(st);
  return out;
}

ErrnoOr<void> HostDir::SetTimes(Timestamp atim, Timestamp mtim, Fstflags flags) {
  struct timespec ts[2];
  WEFT_TRY(TimespecsFromFstflags(atim, mtim, flags, ts));
  if (read_only_) return Err(kReadOnlyErrno);
  if (futimens(fd_, ts) != 0) return LastErr();
  return {};
}

ErrnoOr<void> HostDir::Sync() {
  if (RetryEintr([&] { return fsync(fd_); }) != 0) return LastErr();
  return {};
}

ErrnoOr<void> HostDir::Datasync() {
  if (RetryEintr([&] { return fdatasync(fd_); }) != 0) return LastErr();
  return {};
}

ErrnoOr<std::shared_ptr<Handle>> HostDir::OpenAt(std::string_view path, const OpenOptions& opts) {
  constexpr Oflags kAllOflags = kOflagCreat | kOflagDirectory | kOflagExcl | kOflagTrunc;
  constexpr Fdflags kAllFdflags =
      kFdflagAppend | kFdflagDsync | kFdflagNonblock | kFdflagRsync | kFdflagSync;
  if ((opts.oflags & ~kAllOflags) || (opts.fdflags & ~kAllFdflags)) return Err(Errno::kInval);
  if (read_only_ && ((opts.oflags & (kOflagCreat | kOflagTrunc)) || opts.write)) {
    return Err(kReadOnlyErrno);
  }
  // As wasmtime: a directory cannot be created, exclusively opened or truncated.
  if ((opts.oflags & kOflagDirectory) && (opts.oflags & (kOflagCreat | kOflagExcl | kOflagTrunc))) {
    return Err(Errno::kInval);
  }
  // The host flags of every oflags and every fdflags value, as tables: two loads on each
  // path_open instead of nine tests. wasmtime refuses the sync flags at open (ENOTSUP,
  // cap-std lacks them); weft passes them to the host, which has them.
  static constexpr auto kHostOflags = [] {
    std::array<int, kAllOflags + 1> t{};
    for (size_t i = 0; i < t.size(); ++i) {
      if (i & kOflagCreat) t[i] |= O_CREAT;
      if (i & kOflagExcl) t[i] |= O_EXCL;
      if (i & kOflagTrunc) t[i] |= O_TRUNC;
      if (i & kOflagDirectory) t[i] |= O_DIRECTORY;
    }
    return t;
  }();
  static constexpr auto kHostFdflags = [] {
    std::array<int, kAllFdflags + 1> t{};
    for (size_t i = 0; i < t.size(); ++i) {
      if (i & kFdflagAppend) t[i] |= O_APPEND;
      if (i & kFdflagNonblock) t[i] |= O_NONBLOCK;
      if (i & kFdflagDsync) t[i] |= O_DSYNC;
      if (i & kFdflagSync) t[i] |= O_SYNC;
      if (i & kFdflagRsync) t[i] |= O_RSYNC;
    }
    return t;
  }();
  int flags = opts.write ? (opts.read ? O_RDWR : O_WRONLY) : O_RDONLY;
  flags |= kHostOflags[opts.oflags] | kHostFdflags[opts.fdflags];  // both checked above
  bool follow = (opts.lookup & kLookupSymlinkFollow) != 0;
  WEFT_TRY_ASSIGN(UniqueFd fd, OpenBeneath(fd_, path, flags, 0666, follow));
  // What was opened, without an fstat where the flags already say: O_DIRECTORY opens
  // only a directory, and a successful O_CREAT|O_EXCL has just made a regular file
  // (it never follows a final symlink).
  if (flags & O_DIRECTORY) {
    return std::shared_ptr<Handle>(std::make_shared<HostDir>(fd.release(), read_only_));
  }
  // (The handles made per call come from a per-thread block cache: see BlockCache.)
  if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
    return std::shared_ptr<Handle>(std::allocate_shared<HostFile>(
        RecyclingAllocator<HostFile>(), fd.release(), read_only_, Filetype::kRegularFile, flags));
  }
  // Opened for writing, creating or truncating: never a directory (the kernel answers
  // EISDIR), so a file whose exact type is found when first asked.
  if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC))) {
    return std::shared_ptr<Handle>(std::allocate_shared<HostFile>(
        RecyclingAllocator<HostFile>(), fd.release(), read_only_, FdFile::FiletypeLater{}, flags));
  }
  if (opts.defer_type) {
    return std::shared_ptr<Handle>(std::allocate_shared<HostUnsettled>(
        RecyclingAllocator<HostUnsettled>(), fd.release(), read_only_, flags));
  }
  struct stat st;
  if (FstatFd(fd.get(), &st) != 0) return LastErr();
  if (S_ISDIR(st.st_mode)) {
    return std::shared_ptr<Handle>(std::make_shared<HostDir>(fd.release(), read_only_));
  }
  Filetype type = FiletypeFromMode(st.st_mode, fd.get());
  return std::shared_ptr<Handle>(
      std::make_shared<HostFile>(fd.release(), read_only_, type, flags));
}

ErrnoOr<void> HostDir::CreateDir(std::string_view path) {
  if (read_only_) return Err(kReadOnlyErrno);
  WEFT_TRY_ASSIGN(ResolvedParent rp, ResolveParent(fd_, path, /*follow_final=*/false));
  // mkdirat never follows its final component, so the trailing slash can go through.
  if (mkdirat(rp.dir.get(), WithSlash(rp).c_str(), 0777) != 0) return LastErr();
  return {};
}

ErrnoOr<void> HostDir::RemoveDir(std::string_view path) {
  if (read_only_) return Err(kReadOnlyErrno);
  WEFT_TRY_ASSIGN(ResolvedParent rp, ResolveParent(fd_, path, false));
  if (unlinkat(rp.dir.get(), WithSlash(rp).c_str(), AT_REMOVEDIR) != 0) return LastErr();
  ForgetLeaves();
  return {};
}

ErrnoOr<void> HostDir::UnlinkFile(std::string_view path) {
  if (read_only_) return Err(kReadOnlyErrno);
  WEFT_TRY_ASSIGN(ResolvedParent rp, ResolveParent(fd_, path, false));
  if (unlinkat(rp.dir.get(), WithSlash(rp).c_str(), 0) != 0) return LastErr();
  ForgetLeaves();
  return {};
}

ErrnoOr<void> HostDir::Rename(std::string_view old_path, Dir& new_dir, std::string_view new_path) {
  auto* target = dynamic_cast<HostDir*>(&new_dir);
  if (target == nullptr) return Err(Errno::kXdev);
  if (read_only_ || target->read_only_) return Err(kReadOnlyErrno);
  WEFT_TRY_ASSIGN(ResolvedParent from, ResolveParent(fd_, old_path, false));
  WEFT_TRY_ASSIGN(ResolvedParent to, ResolveParent(target->fd_, new_path, false));
  // renameat never follows either final component.
  if (renameat(from.dir.get(), WithSlash(from).c_str(), to.dir.get(), WithSlash(to).c_str()) != 0) {
    return LastErr();
  }
  target->ForgetLeaves();  // what was renamed over
  return {};
}

ErrnoOr<void> HostDir::Link(Lookupflags lookup, std::string_view old_path, Dir& new_dir,
                            std::string_view new_path) {
  auto* target = dynamic_cast<HostDir*>(&new_dir);
  if (target == nullptr) return Err(Errno::kXdev);
  if (read_only_ || target->read_only_) return Err(kReadOnlyErrno);
  // As wasmtime: linking through a followed symlink is not supported.
  if (lookup & kLookupSymlinkFollow) return Err(Errno::kInval);
  WEFT_TRY_ASSIGN(ResolvedParent from, ResolveParent(fd_, old_path, false));
  WEFT_TRY_ASSIGN(ResolvedParent to, ResolveParent(target->fd_, new_path, false));
  if (from.trailing_slash) {
    // linkat would follow "name/"; answer as Linux does without letting it: a
    // directory cannot be hard-linked, anything else is not a directory.
    struct stat st;
    if (fstatat(from.dir.get(), from.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return LastErr();
    return Err(S_ISDIR(st.st_mode) ? Errno::kPerm : Errno::kNotdir);
  }
  if (linkat(from.dir.get(), from.name.c_str(), to.dir.get(), WithSlash(to).c_str(), 0) != 0) {
    return LastErr();
  }
  return {};
}

ErrnoOr<void> HostDir::Symlink(std::string_view target, std::string_view link_path) {
  if (read_only_) return Err(kReadOnlyErrno);
  if (target.empty()) return Err(Errno::kNoent);
  if (target.find('\0') != std::string_view::npos) return Err(Errno::kInval);
  // As wasmtime (cap-std): an absolute target is an escape attempt. A relative target
  // that climbs out may be created; it is never followed outside (resolve.h).
  if (target[0] == '/') return Err(Errno::kPerm);
  WEFT_TRY_ASSIGN(ResolvedParent rp, ResolveParent(fd_, link_path, false));
  std::string t(target);
  if (symlinkat(t.c_str(), rp.dir.get(), WithSlash(rp).c_str()) != 0) return LastErr();
  return {};
}

ErrnoOr<std::string> HostDir::Readlink(std::string_view path) {
  WEFT_TRY(CheckGuestPath(path));
  bool trailing = path.back() == '/';
  WEFT_TRY_ASSIGN(ResolvedParent rp, ResolveParent(fd_, path, /*follow_final=*/trailing));
  if (trailing) {
    // "link/" names what the link points to, which is not a symlink.
    WEFT_TRY(RequireDir(rp));
    return Err(Errno::kInval);
  }
  return ReadLinkAt(rp.dir.get(), rp.name.c_str());
}

ErrnoOr<Filestat> HostDir::StatAt(Lookupflags lookup, std::string_view path) {
  WEFT_TRY(CheckGuestPath(path));
  bool trailing = path.back() == '/';
  bool follow = (lookup & kLookupSymlinkFollow) || trailing;
  struct stat st;
  size_t slash = path.find('/');
  if (slash != std::string_view::npos && UsingOpenat2() && !trailing) {
    // "sub/name" or "a/b/name": through the held directory fd when it still is "sub".
    size_t last = path.rfind('/');
    Errno error;
    switch (StatInSubdir(path.substr(0, last), path.substr(last + 1), follow, &st, &error)) {
      case SubdirAnswer::kStat:
        return FilestatFromStat(st);
      case SubdirAnswer::kError:
        return Err(error);
      case SubdirAnswer::kGeneral:
        break;
    }
  }
  if (slash == std::string_view::npos && path != "." && path != "..") {
    // One plain name: it lives in the root itself, and AT_SYMLINK_NOFOLLOW keeps the
    // kernel from following anything. One system call unless it is a symlink to follow.
    CPath name(path);
    if (fstatat(fd_, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return LastErr();
    if (!(follow && S_ISLNK(st.st_mode))) return FilestatFromStat(st);
  } else if (UsingOpenat2()) {
    // The kernel resolves the whole path beneath the root (following symlinks inside
    // it when asked); an O_PATH open plus fstat(2) of the result.
    CPath p(path);
    bool again = false;
    long fd = Openat2Beneath(fd_, p.c_str(), O_PATH | (follow ? 0 : O_NOFOLLOW), 0, &again);
    if (fd >= 0) {
      UniqueFd owned(static_cast<int>(fd));
      if (FstatFd(owned.get(), &st) != 0) return LastErr();
      if (trailing && !S_ISDIR(st.st_mode)) return Err(Errno::kNotdir);
      return FilestatFromStat(st);
    }
    if (!again) return Err(errno == EXDEV ? Errno::kPerm : ErrnoFromHost(errno));
  }
  WEFT_TRY_ASSIGN(ResolvedParent rp, ResolveParent(fd_, path, follow));
  if (fstatat(rp.dir.get(), rp.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return LastErr();
  if (rp.trailing_slash && !S_ISDIR(st.st_mode)) return Err(Errno::kNotdir);
  Filestat out = FilestatFromStat(st);
  return out;
}

HostDir::SubdirAnswer HostDir::StatInSubdir(std::string_view sub, std::string_view name,
                                            bool follow, struct stat* st, Errno* error) {
  auto plain = [](std::string_view c) { return !c.empty() && c != "." && c != ".."; };
  if (!plain(name)) return SubdirAnswer::kGeneral;
  size_t depth = 0;
  if (!ForEachComponent(sub, [&](std::string_view c) { return depth++ < kMaxHeldDepth && plain(c); })) {
    return SubdirAnswer::kGeneral;
  }
  const bool deep = depth > 1;
  std::shared_ptr<const CachedSubdir> dir;
  std::shared_ptr<const UniqueFd> leaf_fd;
  uint64_t leaf_checked_at = DirWatch::kNoEpoch;
  {
    std::lock_guard lock(subdir_mu_);
    size_t slot = SubdirSlotLocked(sub);
    if (slot != kCachedSubdirs) {
      dir = subdirs_[slot];
      if (const HeldLeaf* leaf = LeafLocked(dir->serial, name)) {
        leaf_fd = leaf->fd;
        leaf_checked_at = leaf->checked_at_epoch;
      }
    }
  }
  // Read before anything is checked (dir_watch.h): a change after this read shows up
  // as a newer epoch at the next stat.
  int watch_id = watch_id_.load(std::memory_order_acquire);
  if (deep && watch_id == -1) return SubdirAnswer::kGeneral;  // the root is not watched
  DirWatch::Epochs epochs;
  if (watch_id >= 0) {
    int ids[kMaxHeldDepth];
    size_t n = dir != nullptr ? dir->WatchIds(ids) : 0;
    epochs = DirWatch::Process().Read(watch_id, std::span<const int>(ids, n));
  }
  if (deep) {
    // A deep directory is walked again, all of it, whenever a directory entry moved
    // or a directory's search permission changed anywhere watched (see CachedSubdir).
    if (dir == nullptr || epochs.subdirs == DirWatch::kNoEpoch ||
        dir->checked_at_epoch.load(std::memory_order_acquire) != epochs.subdirs) {
      // Held from the second stat through it on (holding costs a dozen calls, more than
      // a walk of a tree that visits each directory once would gain).
      if (dir == nullptr && !ShouldHoldDeepSubdir(sub, epochs.subdirs)) {
        return SubdirAnswer::kGeneral;
      }
      subdir_checks_.fetch_add(1, std::memory_order_relaxed);
      dir = HoldDeepSubdir(sub, epochs.subdirs);
      if (dir == nullptr) return SubdirAnswer::kGeneral;
      leaf_fd.reset();
      epochs.entries = DirWatch::kNoEpoch;  // read before `dir` was watched
    }
  } else if (const uint64_t epoch = epochs.subdirs;
             dir == nullptr || epoch == DirWatch::kNoEpoch ||
             dir->checked_at_epoch.load(std::memory_order_acquire) != epoch) {
    // Check that `sub` is still the held directory (or hold the one it now names).
    subdir_checks_.fetch_add(1, std::memory_order_relaxed);
    CPath sub_path(sub);
    struct stat dst;
    if (fstatat(fd_, sub_path.c_str(), &dst, AT_SYMLINK_NOFOLLOW) != 0) {
      *error = ErrnoFromHost(errno);  // what the kernel's walk answers for "sub"
      return SubdirAnswer::kError;
    }
    if (!S_ISDIR(dst.st_mode)) {
      if (S_ISLNK(dst.st_mode)) return SubdirAnswer::kGeneral;  // followed (inside) there
      *error = Errno::kNotdir;
      return SubdirAnswer::kError;
    }
    if (dir != nullptr && dir->dev == dst.st_dev && dir->ino == dst.st_ino) {
      dir->checked_at_epoch.store(epoch, std::memory_order_release);
    } else {
      dir = HoldSubdir(sub, sub_path, dst, epoch);
      if (dir == nullptr) return SubdirAnswer::kGeneral;  // changed under us
      // A different directory: what was read about leaves was about the old one.
      leaf_fd.reset();
      epochs.entries = DirWatch::kNoEpoch;
    }
  }
  if (leaf_fd != nullptr && epochs.entries != DirWatch::kNoEpoch &&
      leaf_checked_at == epochs.entries && FstatFd(leaf_fd->get(), st) == 0) {
    leaf_hits_.fetch_add(1, std::memory_order_relaxed);
    return SubdirAnswer::kStat;
  }
  CPath name_path(name);
  if (fstatat(dir->fd.get(), name_path.c_str(), st, AT_SYMLINK_NOFOLLOW) != 0) {
    *error = ErrnoFromHost(errno);
    return SubdirAnswer::kError;
  }
  if (S_ISLNK(st->st_mode)) return follow ? SubdirAnswer::kGeneral : SubdirAnswer::kStat;
  if (watch_id >= 0) NoteLeaf(*dir, name, name_path, *st, epochs.entries);
  return SubdirAnswer::kStat;
}

void HostDir::ForgetLeaves() {
  std::shared_ptr<const UniqueFd> held[kHeldLeaves];  // closed after unlocking
  std::lock_guard lock(subdir_mu_);
  for (size_t i = 0; i < kHeldLeaves; ++i) {
    held[i] = std::move(leaves_[i].fd);
    leaves_[i] = HeldLeaf{};
  }
}

HostDir::HeldLeaf* HostDir::LeafLocked(uint64_t subdir_serial, std::string_view name) {
  for (HeldLeaf& leaf : leaves_) {
    if (leaf.subdir_serial == subdir_serial && leaf.name == name) return &leaf;
  }
  return nullptr;
}

void HostDir::NoteLeaf(const CachedSubdir& dir, std::string_view name, const CPath& name_path,
                       const struct stat& st, uint64_t entries) {
  std::shared_ptr<const UniqueFd> replaced;  // closed after unlocking
  int dir_watch = -1;
  {
    std::lock_guard lock(subdir_mu_);
    HeldLeaf* leaf = LeafLocked(dir.serial, name);
    if (leaf == nullptr || leaf->dev != st.st_dev || leaf->ino != st.st_ino) {
      // Seen for the first time (or a different object now): remembered, not held.
      if (leaf == nullptr) leaf = &leaves_[next_leaf_++ % kHeldLeaves];
      replaced = std::move(leaf->fd);
      leaf->subdir_serial = dir.serial;
      leaf->name.assign(name);
      leaf->dev = st.st_dev;
      leaf->ino = st.st_ino;
      leaf->checked_at_epoch = DirWatch::kNoEpoch;
      return;
    }
    if (leaf->fd != nullptr) {
      // Still the held object: the stat just made was the check.
      leaf->checked_at_epoch = entries;
      return;
    }
    // The same object a second time: hold it. Its directory must be watched before the
    // epoch that the check below relies on is read.
    if (dir.watch_id.load(std::memory_order_relaxed) == kWatchNotTried) {
      dir.watch_id.store(DirWatch::Process().Watch(dir.fd.get()), std::memory_order_release);
    }
    dir_watch = dir.watch_id.load(std::memory_order_relaxed);
  }
  int root_watch = watch_id_.load(std::memory_order_acquire);
  if (dir_watch < 0 || root_watch < 0) return;
  int ids[kMaxHeldDepth];
  uint64_t epoch =
      DirWatch::Process().Read(root_watch, std::span<const int>(ids, dir.WatchIds(ids))).entries;
  if (epoch == DirWatch::kNoEpoch) return;
  auto fd = std::make_shared<UniqueFd>(RetryEintr([&] {
    return openat(dir.fd.get(), name_path.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
  }));
  struct stat check;
  if (fd->get() < 0 || FstatFd(fd->get(), &check) != 0 || check.st_dev != st.st_dev ||
      check.st_ino != st.st_ino || S_ISLNK(check.st_mode)) {
    return;  // changed in between: the next stat looks again
  }
  std::lock_guard lock(subdir_mu_);
  HeldLeaf* leaf = LeafLocked(dir.serial, name);
  if (leaf == nullptr || leaf->dev != st.st_dev || leaf->ino != st.st_ino || leaf->fd != nullptr) {
    return;  // replaced or held by another thread meanwhile
  }
  leaf->fd = std::move(fd);
  leaf->checked_at_epoch = epoch;
}

size_t HostDir::SubdirSlotLocked(std::string_view sub) const {
  for (size_t i = 0; i < kCachedSubdirs; ++i) {
    if (subdirs_[i] && subdirs_[i]->name == sub) return i;
  }
  return kCachedSubdirs;
}

std::shared_ptr<const HostDir::CachedSubdir> HostDir::HoldSubdir(std::string_view sub,
                                                                 const CPath& sub_path,
                                                                 const struct stat& seen,
                                                                 uint64_t epoch) {
  UniqueFd fd(RetryEintr([&] {
    return openat(fd_, sub_path.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }));
  struct stat check;
  if (fd.get() < 0 || FstatFd(fd.get(), &check) != 0 || check.st_dev != seen.st_dev ||
      check.st_ino != seen.st_ino) {
    return nullptr;
  }
  auto fresh = std::make_shared<CachedSubdir>();
  fresh->name.assign(sub);
  fresh->fd = std::move(fd);
  fresh->dev = seen.st_dev;
  fresh->ino = seen.st_ino;
  fresh->checked_at_epoch.store(epoch, std::memory_order_relaxed);
  return CacheSubdir(std::move(fresh));
}

std::shared_ptr<const HostDir::CachedSubdir> HostDir::CacheSubdir(
    std::shared_ptr<CachedSubdir> fresh) {
  std::shared_ptr<const CachedSubdir> old;  // closed after unlocking
  std::lock_guard lock(subdir_mu_);
  fresh->serial = next_serial_++;
  // Again: another thread may have cached the same directory meanwhile.
  size_t slot = SubdirSlotLocked(fresh->name);
  if (slot == kCachedSubdirs) slot = next_subdir_++ % kCachedSubdirs;
  old = std::move(subdirs_[slot]);
  subdirs_[slot] = fresh;
  WatchRootLocked();
  return fresh;
}

void HostDir::WatchRootLocked() {
  if (watch_id_.load(std::memory_order_relaxed) == kWatchNotTried) {
    watch_id_.store(DirWatch::Process().Watch(fd_), std::memory_order_release);
  }
}

HostDir::DeepSeen& HostDir::DeepSeenLocked(std::string_view sub, bool* made) {
  for (DeepSeen& seen : deep_seen_) {
    if (seen.name == sub) {
      *made = false;
      return seen;
    }
  }
  DeepSeen& fresh = deep_seen_[next_deep_seen_++ % kCachedSubdirs];
  fresh.name.assign(sub);
  fresh.failed = false;
  *made = true;
  return fresh;
}

bool HostDir::ShouldHoldDeepSubdir(std::string_view sub, uint64_t subdirs_epoch) {
  std::lock_guard lock(subdir_mu_);
  bool made;
  const DeepSeen& seen = DeepSeenLocked(sub, &made);
  return !made && (!seen.failed || seen.failed_at != subdirs_epoch);
}

void HostDir::NoteDeepSubdirNotHeld(std::string_view sub, uint64_t subdirs_epoch) {
  std::shared_ptr<const CachedSubdir> dropped;  // closed after unlocking
  std::lock_guard lock(subdir_mu_);
  if (size_t slot = SubdirSlotLocked(sub); slot != kCachedSubdirs) {
    dropped = std::move(subdirs_[slot]);
  }
  bool made;
  DeepSeen& seen = DeepSeenLocked(sub, &made);
  seen.failed = true;
  seen.failed_at = subdirs_epoch;
}

std::shared_ptr<const HostDir::CachedSubdir> HostDir::HoldDeepSubdir(std::string_view sub,
                                                                     uint64_t subdirs_epoch) {
  std::shared_ptr<const CachedSubdir> held = TryHoldDeepSubdir(sub);
  if (held == nullptr) NoteDeepSubdirNotHeld(sub, subdirs_epoch);
  return held;
}

std::shared_ptr<const HostDir::CachedSubdir> HostDir::TryHoldDeepSubdir(std::string_view sub) {
  if (deep_unwatchable_.load(std::memory_order_relaxed)) return nullptr;
  {
    std::lock_guard lock(subdir_mu_);
    WatchRootLocked();
  }
  int root_watch = watch_id_.load(std::memory_order_acquire);
  if (root_watch < 0) return nullptr;
  // Read before the walk, and again after it: when nothing moved in between, every
  // directory on the way (each watched before the next component was looked up in
  // it) still holds what the walk found.
  const uint64_t before = DirWatch::Process().Read(root_watch, -1).subdirs;
  if (before == DirWatch::kNoEpoch) return nullptr;
  auto fresh = std::make_shared<CachedSubdir>();  // unwatches what it holds if dropped
  fresh->name.assign(sub);
  // One component at a time, each from the directory opened just before, none
  // followed: the watches go on the very directories the held fd was reached through.
  UniqueFd current;
  const bool walked = ForEachComponent(sub, [&](std::string_view name) {
    if (current.get() >= 0) {
      int id = DirWatch::Process().Watch(current.get());
      if (id < 0) {
        // Another filesystem mounted on the way, or the watch limit: deep paths are
        // left to the general path from now on, rather than walked again each time.
        deep_unwatchable_.store(true, std::memory_order_relaxed);
        return false;
      }
      fresh->chain_watches.push_back(id);
    }
    CPath component(name);
    int from = current.get() >= 0 ? current.get() : fd_;
    UniqueFd next(RetryEintr([&] {
      return openat(from, component.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }));
    if (next.get() < 0) return false;  // the general path answers with the error
    current = std::move(next);
    return true;
  });
  if (!walked) return nullptr;
  struct stat held;
  if (FstatFd(current.get(), &held) != 0) return nullptr;
  const uint64_t after = DirWatch::Process().Read(root_watch, -1).subdirs;
  if (after != before) return nullptr;  // something moved meanwhile: the general path
  fresh->fd = std::move(current);
  fresh->dev = held.st_dev;
  fresh->ino = held.st_ino;
  fresh->checked_at_epoch.store(after, std::memory_order_relaxed);
  return CacheSubdir(std::move(fresh));
}

ErrnoOr<void> HostDir::SetTimesAt(Lookupflags lookup, std::string_view path, Timestamp atim,
                                  Timestamp mtim, Fstflags flags) {
  struct timespec ts[2];
  WEFT_TRY(TimespecsFromFstflags(atim, mtim, flags, ts));
  if (read_only_) return Err(kReadOnlyErrno);
  WEFT_TRY(CheckGuestPath(path));
  bool trailing = path.back() == '/';
  bool follow = (lookup & kLookupSymlinkFollow) || trailing;
  WEFT_TRY_ASSIGN(ResolvedParent rp, ResolveParent(fd_, path, follow));
  if (rp.trailing_slash) WEFT_TRY(RequireDir(rp));
  // AT_SYMLINK_NOFOLLOW always: a followed link was resolved above, inside the sandbox.
  if (utimensat(rp.dir.get(), rp.name.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) return LastErr();
  return {};
}

ErrnoOr<void> HostDir::Readdir(Dircookie cookie, const std::function<bool(const DirEntry&)>& sink) {
  // A private open file description per call: concurrent readers never share an
  // offset, and the cookie (the kernel's d_off) is the only position we keep.
  UniqueFd d(RetryEintr([&] { return openat(fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
  if (d.get() < 0) return LastErr();
  if (cookie != 0) {
    if (cookie > static_cast<Dircookie>(INT64_MAX)) return Err(Errno::kInval);
    if (lseek(d.get(), static_cast<off_t>(cookie), SEEK_SET) < 0) return LastErr();
  }
  std::vector<char> buf(32 * 1024);
  for (;;) {
    long n = RetryEintr([&] { return syscall(SYS_getdents64, d.get(), buf.data(), buf.size()); });
    if (n < 0) return LastErr();
    if (n == 0) return {};
    size_t pos = 0;
    while (pos < static_cast<size_t>(n)) {
      Dirent64Head head;
      std::memcpy(&head.d_ino, buf.data() + pos, 8);
      std::memcpy(&head.d_off, buf.data() + pos + 8, 8);
      std::memcpy(&head.d_reclen, buf.data() + pos + 16, 2);
      std::memcpy(&head.d_type, buf.data() + pos + 18, 1);
      const char* name = buf.data() + pos + kDirentNameOffset;
      DirEntry e;
      e.next = static_cast<Dircookie>(head.d_off);
      e.ino = head.d_ino;
      e.name.assign(name, strnlen(name, head.d_reclen - kDirentNameOffset));
      e.type = FiletypeFromDtype(head.d_type);
      if (head.d_type == DT_UNKNOWN) {
        struct stat st;
        if (fstatat(d.get(), e.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
          e.type = FiletypeFromMode(st.st_mode);
        }
      }
      pos += head.d_reclen;
      if (!sink(e)) return {};
    }
  }
}

HostUnsettled::~HostUnsettled() {
  if (fd_ >= 0) close(fd_);
}

std::shared_ptr<Handle> HostUnsettled::Settle() {
  Now();
  std::lock_guard lock(mu_);
  return settled_;
}

Handle& HostUnsettled::Now() const {
  if (Handle* h = settled_raw_.load(std::memory_order_acquire)) [[likely]] return *h;
  auto* self = const_cast<HostUnsettled*>(this);
  std::lock_guard lock(self->mu_);
  if (!self->settled_) {
    struct stat st;
    bool known = FstatFd(fd_, &st) == 0;
    if (known && S_ISDIR(st.st_mode)) {
      self->settled_ = std::make_shared<HostDir>(fd_, read_only_);
    } else {
      // (An fstat of our own open fd does not fail; if it did, kUnknown is the answer.)
      Filetype type = known ? FiletypeFromMode(st.st_mode, fd_) : Filetype::kUnknown;
      self->settled_ = std::make_shared<HostFile>(fd_, read_only_, type, open_flags_);
    }
    self->fd_ = -1;
    self->settled_raw_.store(self->settled_.get(), std::memory_order_release);
  }
  return *self->settled_;
}

ErrnoOr<void> HostFile::SetTimes(Timestamp atim, Timestamp mtim, Fstflags flags) {
  struct timespec ts[2];
  WEFT_TRY(TimespecsFromFstflags(atim, mtim, flags, ts));
  if (read_only_) return Err(kReadOnlyErrno);
  return FdFile::SetTimes(atim, mtim, flags);
}

ErrnoOr<void> HostFile::SetFdflags(Fdflags flags) {
  // Serialised, so that the cache ends with what the last change left on the host.
  std::lock_guard lock(set_fdflags_mu_);
  WEFT_TRY(FdFile::SetFdflags(flags));
  WEFT_TRY_ASSIGN(Fdflags now, FdFile::GetFdflags());
  fdflags_.store(now, std::memory_order_relaxed);
  return {};
}

ErrnoOr<void> HostFile::SetSize(Filesize size) {
  if (read_only_) return Err(kReadOnlyErrno);
  return FdFile::SetSize(size);
}

}  // namespace host
}  // namespace weft::wasi
