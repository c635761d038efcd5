// Sandboxed path resolution. See resolve.h for the contract.
#include "wasi/host/resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <vector>

#include "wasi/host/host_util.h"

namespace weft::wasi::host {
namespace {

std::atomic<ResolverMode> g_mode{ResolverMode::kAuto};

// RESOLVE_BENEATH answers EAGAIN when a rename raced with a ".." step; the kernel
// asks the caller to retry. After this many tries the walk takes over.
constexpr int kAgainRetries = 16;

long Openat2(int dirfd, const char* path, int flags, mode_t mode) {
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(flags);
  // O_TMPFILE includes the O_DIRECTORY bit: test it whole.
  bool takes_mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
  how.mode = takes_mode ? mode : 0;  // openat2 rejects a mode it would not use
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

bool ProbeOpenat2() {
  int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return false;
  long fd = Openat2(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  close(root);
  if (fd < 0) return false;
  close(static_cast<int>(fd));
  return true;
}

// openat2 beneath `root`. Returns -1 with errno set; EXDEV (an escape) becomes EPERM
// in the caller. Sets *again when EAGAIN persisted (the caller falls back to the walk).
long Openat2Retrying(int root, const char* path, int flags, mode_t mode, bool* again) {
  *again = false;
  for (int i = 0; i < kAgainRetries; ++i) {
    long fd = Openat2(root, path, flags, mode);
    if (fd >= 0) return fd;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return -1;
  }
  *again = true;
  return -1;
}

// Pushes the components of `path` onto `pending` so that back() is the first one.
void PushComponents(std::string_view path, std::vector<std::string>* pending) {
  size_t end = path.size();
  while (end > 0) {
    size_t slash = path.rfind('/', end - 1);
    size_t begin = slash == std::string_view::npos ? 0 : slash + 1;
    if (end > begin) pending->emplace_back(path.substr(begin, end - begin));
    if (slash == std::string_view::npos) break;
    end = slash;
  }
}

// The walk: resolves `path` (every component a directory, symlinks followed inside the
// sandbox) to an O_PATH directory fd beneath `root`.
ErrnoOr<UniqueFd> WalkDir(int root, std::string_view path, int* hops) {
  std::vector<UniqueFd> stack;  // the directories entered below root, in order
  std::vector<std::string> pending;
  PushComponents(path, &pending);
  while (!pending.empty()) {
    std::string name = std::move(pending.back());
    pending.pop_back();
    if (name == ".") continue;
    if (name == "..") {
      // ".." is our own parent on the stack: the kernel's ".." is never consulted,
      // so a directory moved concurrently cannot lead us out.
      if (stack.empty()) return Err(Errno::kPerm);
      stack.pop_back();
      continue;
    }
    int cur = stack.empty() ? root : stack.back().get();
    UniqueFd fd(
        RetryEintr([&] { return openat(cur, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC); }));
    if (fd.get() < 0) return LastErr();
    struct stat st;
    if (fstat(fd.get(), &st) != 0) return LastErr();
    if (S_ISLNK(st.st_mode)) {
      if (++*hops > kMaxSymlinkHops) return Err(Errno::kLoop);
      // Read the link through the O_PATH fd we hold, not by name, so a swap between
      // the open and the read cannot change what we follow.
      WEFT_TRY_ASSIGN(std::string target, ReadLinkAt(fd.get(), ""));
      if (target.empty()) return Err(Errno::kNoent);
      if (target[0] == '/') return Err(Errno::kPerm);
      PushComponents(target, &pending);
      continue;
    }
    if (!S_ISDIR(st.st_mode)) return Err(Errno::kNotdir);
    stack.push_back(std::move(fd));
  }
  if (!stack.empty()) return std::move(stack.back());
  UniqueFd self(openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (self.get() < 0) return LastErr();
  return self;
}

// An O_PATH fd of the directory `dir_part` (all components followed) beneath root.
ErrnoOr<UniqueFd> OpenDirBeneath(int root, const std::string& dir_part, int* hops) {
  if (UsingOpenat2()) {
    bool again;
    const char* p = dir_part.empty() ? "." : dir_part.c_str();
    long fd = Openat2Retrying(root, p, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, &again);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (!again) return Err(errno == EXDEV ? Errno::kPerm : ErrnoFromHost(errno));
  }
  return WalkDir(root, dir_part, hops);
}

struct Split {
  std::string dir_part;  // "" for the root itself
  std::string name;
  bool trailing;
};

Split SplitLast(std::string_view path) {
  Split s;
  size_t end = path.size();
  while (end > 0 && path[end - 1] == '/') --end;
  s.trailing = end < path.size();
  std::string_view stripped = path.substr(0, end);
  size_t slash = stripped.rfind('/');
  if (slash == std::string_view::npos) {
    s.name = std::string(stripped);
  } else {
    s.dir_part = std::string(stripped.substr(0, slash));
    s.name = std::string(stripped.substr(slash + 1));
  }
  if (s.name == "." || s.name == "..") {
    // The path names a directory through "." or "..": resolve all of it and act on
    // "." inside it, so that no operation is ever handed ".." (which would reach the
    // parent of the directory fd, possibly outside the sandbox).
    s.dir_part.assign(stripped.begin(), stripped.end());
    s.name.assign(1, '.');  // (not = ".": a gcc 12 -Wrestrict false positive)
  }
  return s;
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) close(fd_);
    fd_ = o.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) close(fd_);
}

void SetResolverMode(ResolverMode mode) { g_mode.store(mode, std::memory_order_relaxed); }
ResolverMode GetResolverMode() { return g_mode.load(std::memory_order_relaxed); }

bool Openat2Supported() {
  static const bool supported = ProbeOpenat2();  // thread-safe one-time probe
  return supported;
}

bool UsingOpenat2() { return GetResolverMode() == ResolverMode::kAuto && Openat2Supported(); }

ErrnoOr<void> CheckGuestPath(std::string_view path) {
  if (path.empty()) return Err(Errno::kNoent);
  if (path.find('\0') != std::string_view::npos) return Err(Errno::kInval);
  if (path[0] == '/') return Err(Errno::kPerm);  // wasmtime: absolute paths are NotPermitted
  return {};
}

ErrnoOr<std::string> ReadLinkAt(int dirfd, const char* name) {
  std::string buf(256, '\0');
  for (;;) {
    ssize_t n = readlinkat(dirfd, name, buf.data(), buf.size());
    if (n < 0) return LastErr();
    if (static_cast<size_t>(n) < buf.size()) {
      buf.resize(static_cast<size_t>(n));
      return buf;
    }
    if (buf.size() >= (1u << 20)) return Err(Errno::kNametoolong);
    buf.resize(buf.size() * 2);
  }
}

CPath::CPath(std::string_view path) {
  size_t n = path.size();
  if (n < kInline) {
    // Short (every path the hot paths see): copy and classify eight bytes at a time,
    // cheaper than a memcpy and two memchr calls for names of a few dozen bytes.
    // ZeroByte(w) is nonzero exactly when some byte of w is zero.
    constexpr uint64_t kOnes = 0x0101010101010101ull;
    constexpr uint64_t kHighs = 0x8080808080808080ull;
    auto zero_byte = [](uint64_t w) { return (w - kOnes) & ~w & kHighs; };
    const char* src = path.data();
    uint64_t nul = 0, slash = 0;
    if (n >= 8) {
      // Whole words, then the last eight bytes (overlapping the previous word).
      for (size_t i = 0;; i += 8) {
        if (i + 8 > n) i = n - 8;
        uint64_t w;
        std::memcpy(&w, src + i, 8);
        std::memcpy(inline_ + i, &w, 8);
        nul |= zero_byte(w);
        slash |= zero_byte(w ^ (kOnes * '/'));
        if (i + 8 == n) break;
      }
    } else {
      for (size_t i = 0; i < n; ++i) {
        char c = src[i];
        inline_[i] = c;
        nul |= c == '\0';
        slash |= c == '/';
      }
    }
    inline_[n] = '\0';
    has_nul_ = nul != 0;
    has_slash_ = slash != 0;
  } else {
    heap_.assign(path);
    has_nul_ = path.find('\0') != std::string_view::npos;
    has_slash_ = path.find('/') != std::string_view::npos;
  }
}

long Openat2Beneath(int root, const char* path, int flags, mode_t mode, bool* again) {
  return Openat2Retrying(root, path, flags | O_CLOEXEC, mode, again);
}

ErrnoOr<ResolvedParent> ResolveParent(int root, std::string_view path, bool follow_final) {
  WEFT_TRY(CheckGuestPath(path));
  // One plain name, not followed (unlink, rmdir, mkdir, rename of "name"): what the
  // loop below answers at once (the root holds it), without its copies of the path.
  if (!follow_final && path.find('/') == std::string_view::npos && path != "." &&
      path != "..") {
    return ResolvedParent{DirFd::Borrowed(root), std::string(path), false};
  }
  std::string current(path);
  int hops = 0;
  for (;;) {
    Split s = SplitLast(current);
    // A single component lives in the root itself: no directory to open.
    DirFd dir = DirFd::Borrowed(root);
    if (!s.dir_part.empty()) {
      WEFT_TRY_ASSIGN(UniqueFd opened, OpenDirBeneath(root, s.dir_part, &hops));
      dir = DirFd::Owned(std::move(opened));
    }
    if (follow_final && s.name != ".") {
      struct stat st;
      if (fstatat(dir.get(), s.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          S_ISLNK(st.st_mode)) {
        if (++hops > kMaxSymlinkHops) return Err(Errno::kLoop);
        WEFT_TRY_ASSIGN(std::string target, ReadLinkAt(dir.get(), s.name.c_str()));
        if (target.empty()) return Err(Errno::kNoent);
        if (target[0] == '/') return Err(Errno::kPerm);
        // Re-resolve from the root: "<dir>/<target>" is checked component by
        // component like any guest path, so a target with ".." cannot climb out.
        current = s.dir_part.empty() ? target : s.dir_part + "/" + target;
        if (s.trailing) current += '/';
        continue;
      }
    }
    return ResolvedParent{std::move(dir), std::move(s.name), s.trailing};
  }
}

ErrnoOr<UniqueFd> OpenBeneath(int root, std::string_view path, int flags, mode_t mode,
                              bool follow_final) {
  // CheckGuestPath's rules in its order (empty, NUL, absolute), from the one scan of p.
  if (path.empty()) return Err(Errno::kNoent);
  CPath p(path);
  if (p.has_nul()) return Err(Errno::kInval);
  if (path[0] == '/') return Err(Errno::kPerm);
  flags |= O_CLOEXEC | O_NOCTTY;
  if (!p.has_slash() && path != "." && path != "..") {
    // One plain name lives in root itself: openat(2) with O_NOFOLLOW has nothing to walk
    // and refuses a symlink (ELOOP) instead of following it, so it cannot leave root;
    // it costs less than openat2 (~170 ns of ~1.5 us measured with close). A symlink
    // that should be followed takes the general path below.
    int fd = RetryEintr([&] { return openat(root, p.c_str(), flags | O_NOFOLLOW, mode); });
    if (fd >= 0) return UniqueFd(fd);
    // A symlink not followed is ELOOP, or ENOTDIR with O_DIRECTORY.
    if (!follow_final || (errno != ELOOP && errno != ENOTDIR)) return LastErr();
  }
  if (UsingOpenat2()) {
    bool again;
    long fd =
        Openat2Retrying(root, p.c_str(), flags | (follow_final ? 0 : O_NOFOLLOW), mode, &again);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (!again) return Err(errno == EXDEV ? Errno::kPerm : ErrnoFromHost(errno));
  }
  // A trailing slash asks for a directory and follows a final symlink (POSIX), as the
  // kernel does on the openat2 path.
  bool trailing = path.back() == '/';
  // O_CREAT|O_EXCL never follows a final symlink (POSIX: EEXIST whatever it points
  // to), as the kernel answers on the openat2 path.
  if ((flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) follow_final = false;
  WEFT_TRY_ASSIGN(ResolvedParent rp, ResolveParent(root, path, follow_final || trailing));
  if (rp.trailing_slash) {
    if (flags & O_CREAT) return Err(Errno::kIsdir);
    flags |= O_DIRECTORY;
  }
  // O_NOFOLLOW: the name was checked not to be a symlink (or we were told not to
  // follow it); if one was swapped in since, this fails with ELOOP instead of
  // following it.
  UniqueFd fd(
      RetryEintr([&] { return openat(rp.dir.get(), rp.name.c_str(), flags | O_NOFOLLOW, mode); }));
  if (fd.get() < 0) return LastErr();
  return fd;
}

}  // namespace weft::wasi::host
