#include "wasi/host/dir_watch.h"

#include <errno.h>
#include <linux/io_uring.h>
#include <linux/magic.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>

namespace weft::wasi::host {
namespace {

std::atomic<bool> enabled{true};
std::atomic<DirWatch::RingUse> ring_use{DirWatch::RingUse::kAfterSomeReads};
std::atomic<uint64_t> queue_looks{0};  // system calls made to look at the queue
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

// A thread's own io_uring holding a multishot poll of the inotify fd: the "doorbell" of
// dir_watch.h. Set up with DEFER_TASKRUN (completions are produced only inside this
// thread's io_uring_enter, so no other thread ever sees a half-updated ring, and the
// kernel never interrupts the thread's other system calls for it), SINGLE_ISSUER (which
// DEFER_TASKRUN requires: hence one ring per thread) and TASKRUN_FLAG (IORING_SQ_TASKRUN
// is set in the shared ring memory as soon as a completion is pending, from inside the
// system call that queued the inotify event).
class InotifyRing {
 public:
  // The ring, its poll armed; nullptr when io_uring or a feature it needs (Linux 6.1)
  // is unavailable, disabled (sysctl kernel.io_uring_disabled) or refused (seccomp).
  static std::unique_ptr<InotifyRing> Create(int inotify_fd) {
    // Each ring costs an fd: a process with many threads keeps most of its fds.
    if (live_rings.fetch_add(1) >= kMaxRings) {
      live_rings.fetch_sub(1);
      return nullptr;
    }
    struct io_uring_params params;
    memset(&params, 0, sizeof(params));
    params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
                   IORING_SETUP_TASKRUN_FLAG;
    // (io_uring fds are always close-on-exec.)
    int fd = static_cast<int>(syscall(__NR_io_uring_setup, 2, &params));
    if (fd < 0) {
      live_rings.fetch_sub(1);
      return nullptr;
    }
    std::unique_ptr<InotifyRing> ring(new InotifyRing(fd, inotify_fd));
    if (!ring->Map(params) || !ring->Arm()) return nullptr;
    return ring;
  }

  static int LiveRings() { return live_rings.load(); }

  ~InotifyRing() {
    if (rings_ != MAP_FAILED) munmap(rings_, rings_size_);
    if (sqes_ != MAP_FAILED) munmap(sqes_, sqes_size_);
    close(fd_);  // cancels the poll
    live_rings.fetch_sub(1);
  }

  // True when nothing was queued on the inotify fd since the last Reap(). No system
  // call: two loads from the shared ring.
  bool Quiet() const {
    uint32_t flags = __atomic_load_n(sq_flags_, __ATOMIC_ACQUIRE);
    if (flags & (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW)) return false;
    return __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE) == *cq_head_;
  }

  // Produces the pending completions, consumes them, and re-arms the poll if the kernel
  // ended it. Call before reading the inotify queue, so that an event queued after the
  // read rings again. False when the ring failed: drop it.
  bool Reap() {
    bool armed = true;
    for (int round = 0; round < 4; ++round) {
      if (syscall(__NR_io_uring_enter, fd_, 0, 0, IORING_ENTER_GETEVENTS, nullptr, 0) < 0 &&
          errno != EINTR) {
        return false;
      }
      uint32_t head = *cq_head_;
      uint32_t tail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
      for (; head != tail; ++head) {
        if (!(cqes_[head & cq_mask_].flags & IORING_CQE_F_MORE)) armed = false;
      }
      __atomic_store_n(cq_head_, head, __ATOMIC_RELEASE);
      // More than the CQ holds waits in the overflow list (or, after EINTR, the work
      // did not run): go again. Left over after a few rounds, Quiet() stays false.
      if (!(__atomic_load_n(sq_flags_, __ATOMIC_ACQUIRE) &
            (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW))) {
        break;
      }
    }
    return armed || Arm();
  }

 private:
  static constexpr int kMaxRings = 64;
  static inline std::atomic<int> live_rings{0};

  InotifyRing(int fd, int inotify_fd) : fd_(fd), inotify_fd_(inotify_fd) {}

  template <typename T>
  T* At(uint32_t offset) const {
    return reinterpret_cast<T*>(static_cast<char*>(rings_) + offset);
  }

  bool Map(const struct io_uring_params& params) {
    if (!(params.features & IORING_FEAT_SINGLE_MMAP)) return false;
    rings_size_ = std::max(params.sq_off.array + params.sq_entries * sizeof(uint32_t),
                           params.cq_off.cqes + params.cq_entries * sizeof(struct io_uring_cqe));
    rings_ = mmap(nullptr, rings_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_,
                  IORING_OFF_SQ_RING);
    sqes_size_ = params.sq_entries * sizeof(struct io_uring_sqe);
    sqes_ = mmap(nullptr, sqes_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_,
                 IORING_OFF_SQES);
    if (rings_ == MAP_FAILED || sqes_ == MAP_FAILED) return false;
    sq_flags_ = At<uint32_t>(params.sq_off.flags);
    sq_tail_ = At<uint32_t>(params.sq_off.tail);
    sq_array_ = At<uint32_t>(params.sq_off.array);
    sq_mask_ = *At<uint32_t>(params.sq_off.ring_mask);
    cq_head_ = At<uint32_t>(params.cq_off.head);
    cq_tail_ = At<uint32_t>(params.cq_off.tail);
    cq_mask_ = *At<uint32_t>(params.cq_off.ring_mask);
    cqes_ = At<struct io_uring_cqe>(params.cq_off.cqes);
    return true;
  }

  // Submits the multishot poll of the inotify fd. A queue that already holds events
  // completes it at once, so nothing queued before is missed.
  bool Arm() {
    uint32_t tail = *sq_tail_;
    uint32_t index = tail & sq_mask_;
    struct io_uring_sqe* sqe = static_cast<struct io_uring_sqe*>(sqes_) + index;
    memset(sqe, 0, sizeof(*sqe));
    sqe->opcode = IORING_OP_POLL_ADD;
    sqe->fd = inotify_fd_;
    sqe->poll32_events = POLLIN;
    sqe->len = IORING_POLL_ADD_MULTI;
    sq_array_[index] = index;
    __atomic_store_n(sq_tail_, tail + 1, __ATOMIC_RELEASE);
    return syscall(__NR_io_uring_enter, fd_, 1, 0, 0, nullptr, 0) == 1;
  }

  const int fd_;
  const int inotify_fd_;
  void* rings_ = MAP_FAILED;
  size_t rings_size_ = 0;
  void* sqes_ = MAP_FAILED;
  size_t sqes_size_ = 0;
  uint32_t* sq_flags_ = nullptr;
  uint32_t* sq_tail_ = nullptr;
  uint32_t* sq_array_ = nullptr;
  uint32_t sq_mask_ = 0;
  uint32_t* cq_head_ = nullptr;
  uint32_t* cq_tail_ = nullptr;
  uint32_t cq_mask_ = 0;
  struct io_uring_cqe* cqes_ = nullptr;
};

// This thread's ring, set up on its kReadsBeforeRing-th Read, or never when that failed.
struct ThreadDoorbell {
  int reads = 0;
  bool unavailable = false;
  std::unique_ptr<InotifyRing> ring;
};
thread_local ThreadDoorbell this_thread_doorbell;

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

void DirWatch::SetRingUseForTesting(RingUse use) { ring_use.store(use); }

bool DirWatch::ThisThreadHasRingForTesting() { return this_thread_doorbell.ring != nullptr; }

uint64_t DirWatch::QueueLooksForTesting() { return queue_looks.load(); }

int DirWatch::LiveRingsForTesting() { return InotifyRing::LiveRings(); }

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
  return Read(root_id, std::span<const int>(&dir_id, dir_id >= 0 ? 1 : 0));
}

DirWatch::Epochs DirWatch::Read(int root_id, std::span<const int> dir_ids) {
  Epochs now;
  if (in_forked_child.load(std::memory_order_relaxed)) return now;
  bool quiet = RingSaysQuiet();
  std::lock_guard lock(mu_);
  if (!quiet && (this_thread_doorbell.ring != nullptr || QueueMayHoldEventsLocked())) {
    DrainLocked();
  }
  if (!refcount_.contains(root_id)) return now;
  now.subdirs = subdir_epoch_;
  if (dir_ids.empty()) return now;
  for (int id : dir_ids) {
    if (!refcount_.contains(id)) return now;
  }
  now.entries = entry_epoch_;
  return now;
}

bool DirWatch::RingSaysQuiet() {
  ThreadDoorbell& bell = this_thread_doorbell;
  RingUse use = ring_use.load(std::memory_order_relaxed);
  if (bell.ring == nullptr) {
    if (bell.unavailable || inotify_fd_ < 0 || use == RingUse::kNever ||
        (use == RingUse::kAfterSomeReads && ++bell.reads < kReadsBeforeRing)) {
      return false;
    }
    // The operator's switch (README): read when a thread would get its ring.
    const char* env = getenv("WEFT_IO_URING");
    if (env != nullptr && strcmp(env, "0") == 0) {
      bell.unavailable = true;
      return false;
    }
    bell.ring = InotifyRing::Create(inotify_fd_);
    bell.unavailable = bell.ring == nullptr;
    return false;  // the caller reads the queue once, which the armed ring now covers
  }
  if (use == RingUse::kNever) {
    bell.ring.reset();
    return false;
  }
  if (bell.ring->Quiet()) return true;
  queue_looks.fetch_add(1, std::memory_order_relaxed);
  if (!bell.ring->Reap()) {
    bell.ring.reset();
    bell.unavailable = true;
  }
  return false;
}

bool DirWatch::QueueMayHoldEventsLocked() {
  if (ready_fd_ < 0) return true;
  queue_looks.fetch_add(1, std::memory_order_relaxed);
  struct epoll_event ready;
  // 0: nothing queued. Ready, or an error (EINTR): the read will tell.
  return epoll_wait(ready_fd_, &ready, 1, 0) != 0;
}

void DirWatch::DrainLocked() {
  alignas(struct inotify_event) char buf[4096];
  queue_looks.fetch_add(1, std::memory_order_relaxed);
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
      // stat checks the search permission itself. The watched directory's own (no name)
      // does count: a held fd skips the search of the root that a walk would make.
      bool moved_dir = (event->mask & IN_ISDIR) && (event->mask & ~(IN_ISDIR | IN_ATTRIB));
      bool own_metadata = event->len == 0 && (event->mask & IN_ATTRIB);
      if (moved_dir || own_metadata ||
          (event->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_UNMOUNT))) {
        ++subdir_epoch_;
      }
      ++entry_epoch_;
      if (event->mask & IN_IGNORED) refcount_.erase(event->wd);
      pos += static_cast<ssize_t>(sizeof(struct inotify_event) + event->len);
    }
  }
}

}  // namespace weft::wasi::host
