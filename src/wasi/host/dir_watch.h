// DirWatch: tells, mostly without a system call, whether a directory entry (one that
// names a subdirectory, or any entry at all) may have changed in any watched directory
// since a given moment. HostDir uses it to skip re-checking the identity of a held
// subdirectory fd (one fstatat, ~700 ns here) on each stat of "sub/name", and to answer a
// repeated stat of "sub/name" with fstat(2) of a held fd of "name" itself.
//
// How it looks at the inotify queue, cheapest first:
//  - A thread that reads often gets its own io_uring, a "doorbell": a multishot poll of
//    the inotify fd. The kernel marks the ring (IORING_SQ_TASKRUN, in memory shared with
//    us) from inside the very system call that queues an event, so two loads tell that
//    nothing was queued since the thread last read the queue (io_uring_setup(2): the flag
//    "is set whenever completions are pending", which liburing's peek relies on too).
//    At most 64 threads have one at a time (each costs an fd).
//    WEFT_IO_URING=0 in the environment turns the doorbells off.
//  - Otherwise (the thread's first reads, io_uring unavailable, disabled or refused), an
//    epoll_wait(2) with no timeout on an epoll instance that holds the inotify fd (~140 ns
//    on a plain kernel, a whole system call under PTI).
// The queue itself is read only when one of them says it may hold something.
//
// Why inotify is exact enough here: the kernel queues an event inside the very system
// call that renames, removes or replaces an entry (fsnotify runs before the call
// returns), and wakes the queue's waiters there too, which marks the doorbells and puts
// the fd on the epoll ready list; so a quiet doorbell, an epoll_wait that finds nothing
// ready, or a read that finds the queue empty proves that no such change completed
// before it. Every way for "sub" to stop naming the directory it named (rmdir, rename
// away, a directory renamed over it, RENAME_EXCHANGE with anything) queues an event that
// carries IN_ISDIR, since the directory itself is moved or removed; events without it
// (files created, removed, renamed) leave that epoch alone. The entry epoch counts every
// event: any entry removed, renamed or renamed over, and any change of metadata
// (IN_ATTRIB) of a watched directory itself (its search permission) or of what it holds.
// A lost event (queue overflow) or a watch that went away counts as a change of both.
//
// What it cannot see, and so where it is never used: changes made by another machine
// (NFS, CIFS, FUSE and other remote or userspace filesystems report only local changes),
// hence the allow-list of local filesystem types in Watch(); and a mount placed over
// "sub", which moves no entry (the held fd keeps answering for the directory underneath,
// which is still inside the root: stale, never an escape; mounting needs privilege).
//
// One inotify instance serves the whole process (instances are limited, 128 per user by
// default). Thread-safe: every member locks `mu_`; the doorbells are thread_local.
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <unordered_map>

namespace weft::wasi::host {

class DirWatch {
 public:
  // What Read() answers for a watch that cannot be trusted: never equal to a real
  // epoch, so every use re-checks.
  static constexpr uint64_t kNoEpoch = ~uint64_t{0};

  // A thread gets its doorbell on its kReadsBeforeRing-th Read: one that reads only a
  // few times does not pay for it (~50 us to set up, and an fd).
  static constexpr int kReadsBeforeRing = 16;

  // The process's instance, created on first use.
  static DirWatch& Process();

  // Starts watching the directory open as `dirfd` (any fd, O_PATH included). Returns a
  // watch id for Unwatch(), or -1 when it cannot be watched (inotify unavailable, no
  // /proc, a filesystem not on the allow-list, limits reached): the caller then checks
  // every time. Watching the same directory twice shares one kernel watch.
  int Watch(int dirfd);
  void Unwatch(int id);

  // Two numbers, read with one look at the queue:
  //  - `subdirs` grows whenever a watched directory may have lost or gained a
  //    subdirectory entry, or its own metadata (its search permission) changed;
  //  - `entries` grows whenever any entry of a watched directory may have been removed,
  //    renamed or replaced, or the metadata of a watched directory or of anything in it
  //    may have changed: it grows at least whenever `subdirs` does.
  // To trust something checked at some moment, read them just BEFORE checking it, and
  // trust it later while the number still is the same. A number is kNoEpoch once a watch
  // it depends on is gone (its directory removed, its filesystem unmounted, or the watch
  // removed from a forked child, which shares the inotify instance): no event for it
  // would arrive any more. `subdirs` depends on `root_id`; `entries` on `root_id` and
  // `dir_id`, and is kNoEpoch for dir_id -1 (not watched).
  struct Epochs {
    uint64_t subdirs = kNoEpoch;
    uint64_t entries = kNoEpoch;
  };
  Epochs Read(int root_id, int dir_id);
  // The same over several directories: `entries` depends on `root_id` and every one of
  // `dir_ids`, and is kNoEpoch when there are none.
  Epochs Read(int root_id, std::span<const int> dir_ids);

  // For tests: with false, Watch() refuses everything, as on a remote filesystem.
  static void SetEnabledForTesting(bool enabled);
  // For tests: when a thread gets its io_uring doorbell (see above). kNever also drops
  // the calling thread's at its next Read.
  enum class RingUse { kAfterSomeReads, kFromTheFirstRead, kNever };
  static void SetRingUseForTesting(RingUse use);
  static bool ThisThreadHasRingForTesting();
  // For tests: how many threads hold a doorbell now.
  static int LiveRingsForTesting();
  // For tests: how many times this process looked at the queue with a system call.
  static uint64_t QueueLooksForTesting();

 private:
  DirWatch();
  ~DirWatch() = delete;  // lives as long as the process (used from static destructors)
  void DrainLocked();
  // True only when this thread's doorbell proves that nothing was queued since this
  // thread last read the queue; sets the doorbell up, or reaps it, as needed.
  bool RingSaysQuiet();
  // False only when the queue is surely empty (see above).
  bool QueueMayHoldEventsLocked();

  std::mutex mu_;
  int inotify_fd_ = -1;
  int ready_fd_ = -1;  // epoll instance watching inotify_fd_; -1: read every time
  uint64_t subdir_epoch_ = 0;               // guarded by mu_
  uint64_t entry_epoch_ = 0;                // guarded by mu_
  std::unordered_map<int, int> refcount_;   // watch descriptor -> users; guarded by mu_
};

}  // namespace weft::wasi::host
