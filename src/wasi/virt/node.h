// The inode shared by MemFile handles and the virtual filesystem tree (internal).
//
// One Node is one file, directory or symlink. Its data (bytes, times, nlink) is guarded
// by `mu`; the tree fields (children, parent, removed, target) belong to the filesystem
// that holds the node and are guarded by that filesystem's tree mutex. Lock order:
// MemFile description mutex -> filesystem tree mutex -> Node::mu (never the reverse).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "weft/wasi/types.h"

namespace weft::wasi::virt {

// Largest size a MemFile may reach (EFBIG beyond): memory, not disk, backs it.
inline constexpr Filesize kMaxFileSize = Filesize{1} << 31;

// What every modification under a read-only VirtualDir answers (as HostDir does).
inline constexpr Errno kReadOnlyErrno = Errno::kPerm;

// Realtime clock in nanoseconds since the epoch.
Timestamp NowRealtime();

// Applies fd_filestat_set_times arguments to `atim`/`mtim` (EINVAL for a time given
// both explicitly and as *_NOW, or unknown flag bits).
ErrnoOr<void> ApplyTimes(Timestamp atim, Timestamp mtim, Fstflags flags, Timestamp* out_atim,
                         Timestamp* out_mtim);

// A fresh inode number, unique in the process (all virtual filesystems and anonymous
// memfiles draw from it, so inode numbers never collide within one device).
Inode NextInode();
// A fresh device number for a new virtual filesystem.
Device NextDevice();

struct Node {
  struct Child {
    std::shared_ptr<Node> node;
    uint64_t seq;  // position in readdir order (cookies 0 and 1 are "." and "..")
  };

  Node(Filetype t, Device d) : type(t), dev(d), ino(NextInode()) {
    atim = mtim = ctim = NowRealtime();
  }

  const Filetype type;
  const Device dev;
  const Inode ino;

  std::mutex mu;
  // Guarded by mu.
  std::vector<uint8_t> bytes;  // regular files
  Timestamp atim = 0, mtim = 0, ctim = 0;
  uint64_t nlink = 1;  // regular files and symlinks (directories compute theirs)

  // Guarded by the owning filesystem's tree mutex.
  std::map<std::string, Child, std::less<>> children;  // directories
  std::map<uint64_t, std::string> order;               // seq -> name, readdir order
  uint64_t next_seq = 2;
  std::weak_ptr<Node> parent;  // directories; empty for a filesystem root
  bool removed = false;        // directory removed from the tree (no new entries)
  std::string target;          // symlinks

  // Marks a data change (size or contents): mtime and ctime become now. REQUIRES mu.
  void TouchLocked() { mtim = ctim = NowRealtime(); }
  void Touch() {
    std::lock_guard<std::mutex> lock(mu);
    TouchLocked();
  }
};

}  // namespace weft::wasi::virt
