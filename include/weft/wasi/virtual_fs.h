// The virtual filesystem: an in-memory directory tree a guest sees as a preopen.
//
// MakeVirtualFs() creates an empty tree and returns a handle on its root. Every Dir
// operation behaves as on a Linux filesystem as wasmtime reports it (errno values
// included), so C programs using wasi-libc (fopen, opendir, mkdir, rename, unlink,
// stat, symlink) work unchanged; this is what a guest sees when weft is built with
// WEFT_HOST_FS=OFF. Regular files open as MemFile handles sharing the inode's bytes.
//
// Sandbox: as with host directories, each VirtualDir handle is a root. Absolute paths,
// ".." above the handle's directory and symlinks that would leave it (absolute
// targets included) fail with EPERM, the errno wasmtime reports for an escape.
//
// Thread safety: all handles of one tree share one tree mutex; every method may be
// called from any thread. Readdir calls `sink` without holding any lock.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "weft/wasi/handle.h"

namespace weft::wasi {

namespace virt {
struct Node;
struct Tree;
}  // namespace virt

class VirtualDir : public Dir {
 public:
  VirtualDir(std::shared_ptr<virt::Tree> tree, std::shared_ptr<virt::Node> node,
             bool read_only = false);
  ~VirtualDir() override;

  // A handle on the same directory through which the guest cannot modify anything:
  // every modifying call (create, truncate, write-open, remove, rename, link, symlink,
  // set times, and SetSize/Allocate/SetTimes on files opened from it) answers EPERM,
  // as a read-only host preopen does. The host helpers below still work on it.
  std::shared_ptr<VirtualDir> ReadOnlyView() const;
  bool read_only() const { return read_only_; }

  // Host-side setup and inspection (paths are resolved like a guest's, following
  // symlinks, beneath this directory).
  // Creates or replaces the regular file `path` with `contents`, creating missing
  // parent directories.
  ErrnoOr<void> AddFile(std::string_view path, std::string_view contents);
  // Creates `path` and any missing parents (mkdir -p); an existing directory is fine.
  ErrnoOr<void> AddDir(std::string_view path);
  // Creates the symlink `path` -> `target` (parents must exist).
  ErrnoOr<void> AddSymlink(std::string_view path, std::string_view target);
  // The contents of the regular file `path`.
  ErrnoOr<std::string> ReadFile(std::string_view path);

  ErrnoOr<Filestat> Stat() override;
  ErrnoOr<void> SetTimes(Timestamp atim, Timestamp mtim, Fstflags flags) override;
  ErrnoOr<void> Sync() override { return {}; }
  ErrnoOr<void> Datasync() override { return {}; }

  ErrnoOr<std::shared_ptr<Handle>> OpenAt(std::string_view path, const OpenOptions& opts) override;
  ErrnoOr<void> CreateDir(std::string_view path) override;
  ErrnoOr<void> RemoveDir(std::string_view path) override;
  ErrnoOr<void> UnlinkFile(std::string_view path) override;
  // EXDEV unless `new_dir` is a VirtualDir of the same tree.
  ErrnoOr<void> Rename(std::string_view old_path, Dir& new_dir, std::string_view new_path) override;
  // SYMLINK_FOLLOW is EINVAL (as in wasmtime); EXDEV as for Rename.
  ErrnoOr<void> Link(Lookupflags lookup, std::string_view old_path, Dir& new_dir,
                     std::string_view new_path) override;
  ErrnoOr<void> Symlink(std::string_view target, std::string_view link_path) override;
  ErrnoOr<std::string> Readlink(std::string_view path) override;
  ErrnoOr<Filestat> StatAt(Lookupflags lookup, std::string_view path) override;
  ErrnoOr<void> SetTimesAt(Lookupflags lookup, std::string_view path, Timestamp atim,
                           Timestamp mtim, Fstflags flags) override;
  // Cookies: 0 ".", 1 "..", then one per entry in creation order; an entry keeps its
  // cookie until it is removed or renamed, so a listing resumed with a cookie never
  // repeats or skips an entry that stayed.
  ErrnoOr<void> Readdir(Dircookie cookie,
                        const std::function<bool(const DirEntry&)>& sink) override;

 private:
  const std::shared_ptr<virt::Tree> tree_;
  const std::shared_ptr<virt::Node> node_;
  const bool read_only_;
};

// A new, empty in-memory filesystem; the handle is its root directory.
std::shared_ptr<VirtualDir> MakeVirtualFs();

}  // namespace weft::wasi
