#include "wasi/host/dir_watch.h"

#include <errno.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>

namespace weft::wasi::host {
namespace {

std::atomic<bool> enabled{true};
// Set in a forked child: the inotify fd is shared with the parent there, and a read in
// the child would take events the parent needs.
std::atomic<bool> in_forked_child{false};

// Filesystems whose every change goes through this kernel's VFS, and so reaches inotify.
bool IsLocalFilesystem(int dirfd) {
  struct statfs fs;
  if (fstatfs(dirfd, &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case EXT4_SUPER_MAGIC:  // also ext2 and ext3
    case XFS_SUPER_MAGIC:
    case BTRFS_SUPER_MAGIC:
    case TMPFS_MAGIC:
    case RAMFS_MAGIC:
    case F2FS_SUPER_MAGIC:
    case OVERLAYFS_SUPER_MAGIC:  // changes made through the overlay
      return true;
    default:
      return false;
  }
}

}  // namespace

DirWatch::DirWatch() {
  inotify_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ >= 0) {
    ready_fd_ = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event interest = {};
    interest.events = EPOLLIN;
    if (ready_fd_ >= 0 && epoll_ctl(ready_fd_, EPOLL_CTL_ADD, inotify_fd_, &interest) != 0) {
      close(ready_fd_);
      ready_fd_ = -1;
    }
  }
  pthread_atfork(nullptr, nullptr, [] { in_forked_child.store(true); });
}

DirWatch& DirWatch::Process() {
  static DirWatch* const instance = new DirWatch();
  return *instance;
}

void DirWatch::SetEnabledForTesting(bool on) { enabled.store(on); }

int DirWatch::Watch(int dirfd) {
  if (!enabled.load() || in_forked_child.load() || !IsLocalFilesystem(dirfd)) return -1;
  std::lock_guard lock(mu_);
  if (inotify_fd_ < 0) return -1;
  char proc_path[40];
  snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", dirfd);
  // The events by which an entry can change (see the header), and metadata changes;
  // IN_ONLYDIR because only a directory's entries are of interest.
  int wd = inotify_add_watch(inotify_fd_, proc_path,
                             IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_ONLYDIR);
  if (wd < 0) return -1;
  ++refcount_[wd];
  return wd;
}

void DirWatch::Unwatch(int id) {
  // A forked child shares the instance: removing the watch there would remove the
  // parent's.
  if (id < 0 || in_forked_child.load()) return;
  std::lock_guard lock(mu_);
  auto it = refcount_.find(id);
  if (it == refcount_.end()) return;  // the kernel dropped it already (IN_IGNORED)
  if (--it->second == 0) {
    refcount_.erase(it);
    inotify_rm_watch(inotify_fd_, id);
  }
}

DirWatch::Epochs DirWatch::Read(int root_id, int dir_id) {
  Epochs now;
  if (in_forked_child.load(std::memory_order_relaxed)) return now;
  std::lock_guard lock(mu_);
  if (QueueMayHoldEventsLocked()) DrainLocked();
  if (!refcount_.contains(root_id)) return now;
  now.subdirs = subdir_epoch_;
  if (dir_id >= 0 && refcount_.contains(dir_id)) now.entries = entry_epoch_;
  return now;
}

bool DirWatch::QueueMayHoldEventsLocked() {
  if (ready_fd_ < 0) return true;
  struct epoll_event ready;
  // 0: nothing queued. Ready, or an error (EINTR): the read will tell.
  return epoll_wait(ready_fd_, &ready, 1, 0) != 0;
}

void DirWatch::DrainLocked() {
  alignas(struct inotify_event) char buf[4096];
  for (;;) {
    ssize_t n = read(inotify_fd_, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN) {  // cannot tell: count it as a change
        ++subdir_epoch_;
        ++entry_epoch_;
      }
      return;
    }
    for (ssize_t pos = 0; pos < n;) {
      const auto* event = reinterpret_cast<const struct inotify_event*>(buf + pos);
      // A subdirectory's metadata (IN_ATTRIB | IN_ISDIR) moves no entry: the held fd's
      // stat checks the search permission itself.
      bool moved_dir = (event->mask & IN_ISDIR) && (event->mask & ~(IN_ISDIR | IN_ATTRIB));
      if (moved_dir || (event->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_UNMOUNT))) ++subdir_epoch_;
      ++entry_epoch_;
      if (event->mask & IN_IGNORED) refcount_.erase(event->wd);
      pos += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
    }
  }
}

}  // namespace weft::wasi::host
