// Table: the capability table mapping guest fds to handles and their rights.
//
// Ownership: the table holds a shared_ptr to every handle it contains; a handle lives
// as long as any table (or embedder) holds it. Tables themselves are held by
// shared_ptr so that several contexts (several instances, one "process") can share one.
//
// Thread safety: every method is safe to call from any thread at any time. Lookups
// return shared_ptr copies and no lock is held after a method returns, so a handle
// obtained from Get() stays usable even if another thread closes the fd meanwhile.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/wasi/handle.h"
#include "weft/wasi/types.h"

#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define WEFT_HAVE_LIBC_SINGLE_THREADED 1
#else
#define WEFT_HAVE_LIBC_SINGLE_THREADED 0
#endif

namespace weft::wasi {

namespace rights {
// Rights that make sense on a regular file / stream.
inline constexpr Rights kFileBase =
    kFdDatasync | kFdRead | kFdSeek | kFdFdstatSetFlags | kFdSync | kFdTell | kFdWrite |
    kFdAdvise | kFdAllocate | kFdFilestatGet | kFdFilestatSetSize | kFdFilestatSetTimes |
    kPollFdReadwrite | kSockShutdown | kSockAccept;
// Rights that make sense on a directory.
inline constexpr Rights kDirBase =
    kFdDatasync | kFdFdstatSetFlags | kFdSync | kPathCreateDirectory | kPathCreateFile |
    kPathLinkSource | kPathLinkTarget | kPathOpen | kFdReaddir | kPathReadlink |
    kPathRenameSource | kPathRenameTarget | kPathFilestatGet | kPathFilestatSetSize |
    kPathFilestatSetTimes | kFdFilestatGet | kFdFilestatSetTimes | kPathSymlink |
    kPathRemoveDirectory | kPathUnlinkFile | kPollFdReadwrite;
}  // namespace rights

// Default rights for a handle: directories get kDirBase (inheriting everything), files
// kFileBase; a character device (tty) loses FD_SEEK/FD_TELL, which is how wasi-libc's
// isatty() recognises a terminal.
Rights DefaultBaseRights(const Handle& handle);
Rights DefaultInheritingRights(const Handle& handle);

struct Entry {
  std::shared_ptr<Handle> handle;
  Rights base = rights::kAll;
  Rights inheriting = rights::kAll;
  std::optional<std::string> preopen;  // guest path of a preopened directory
  // Nonzero while `handle`'s type is not known (Handle::pending_type()): the rights of
  // base/inheriting that settling may still drop. Table settles the entry (swaps in
  // Handle::Settle()'s handle and narrows the rights to DefaultBaseRights /
  // DefaultInheritingRights) on the first lookup that reports the rights or checks one
  // of these, so a guest that only writes to or closes the fd never pays for the type.
  Rights unsettled = 0;

  // An entry with the default rights for `handle` (settled first if it is lazily typed).
  static Entry For(std::shared_ptr<Handle> handle,
                   std::optional<std::string> preopen = std::nullopt);
  // An entry with `base`/`inheriting` narrowed to what makes sense for `handle` (the
  // Default*Rights), without finding a lazily typed handle's type: then the rights are
  // narrowed to every type it may still be, and `unsettled` says which may drop later.
  static Entry Narrowed(std::shared_ptr<Handle> handle, Rights base, Rights inheriting);
};

class Table {
 public:
  static constexpr size_t kDefaultMaxCapacity = 1u << 20;

  explicit Table(size_t max_capacity = kDefaultMaxCapacity);
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // Inserts at the lowest free fd. EMFILE when the table holds max_capacity entries.
  ErrnoOr<Fd> Push(Entry entry);
  // Push(Entry::Narrowed(handle, base, inheriting)), building the entry in its slot
  // (path_open's hot path: no Entry temporary to move and destroy).
  ErrnoOr<Fd> PushNarrowed(std::shared_ptr<Handle> handle, Rights base, Rights inheriting);
  // Inserts at `fd`, replacing (and dropping) any entry there. EMFILE if fd >= capacity.
  ErrnoOr<void> InsertAt(Fd fd, Entry entry);
  // A copy of the entry. EBADF if `fd` is not in use.
  ErrnoOr<Entry> Get(Fd fd) const;
  // The handle, after checking that the entry has every right in `required`.
  // EBADF if `fd` is not in use, ENOTCAPABLE if a right is missing.
  ErrnoOr<std::shared_ptr<Handle>> GetHandle(Fd fd, Rights required = 0) const;
  // The handle and its base rights, unchecked. EBADF if `fd` is not in use.
  ErrnoOr<std::pair<std::shared_ptr<Handle>, Rights>> GetHandleAndRights(Fd fd) const;
  // The handle and both rights, unchecked: Get() without copying the preopen name (the
  // fd_fdstat_get and path_* hot paths). EBADF if `fd` is not in use.
  struct HandleRights {
    std::shared_ptr<Handle> handle;
    Rights base = 0;
    Rights inheriting = 0;
  };
  ErrnoOr<HandleRights> GetHandleRights(Fd fd) const;
  // As GetHandle, but the handle must be a T (File, Dir, or a user type). The type is
  // checked first: EBADF if it is not a T, then ENOTCAPABLE if a right is missing.
  template <class T>
  ErrnoOr<std::shared_ptr<T>> GetAs(Fd fd, Rights required = 0) const {
    WEFT_TRY_ASSIGN(auto hr, Lookup(fd, required));
    std::shared_ptr<T> t;
    if constexpr (std::is_same_v<T, File>) {  // the hot path: no dynamic_cast
      if (File* f = hr.first->AsFile()) t = std::shared_ptr<File>(std::move(hr.first), f);
    } else if constexpr (std::is_same_v<T, Dir>) {
      if (Dir* d = hr.first->AsDir()) t = std::shared_ptr<Dir>(std::move(hr.first), d);
    } else {
      t = std::dynamic_pointer_cast<T>(std::move(hr.first));
    }
    if (!t) return Err(Errno::kBadf);
    if ((hr.second & required) != required) return Err(Errno::kNotcapable);
    return t;
  }
  // Removes and returns the entry (settled). EBADF if `fd` is not in use.
  ErrnoOr<Entry> Remove(Fd fd);
  // Removes and drops the entry, without settling it (fd_close). EBADF if not in use.
  ErrnoOr<void> Close(Fd fd);
  // Moves the entry at `from` to `to`, dropping what `to` held (wasmtime's fd_renumber:
  // both fds must be open, else EBADF; from == to is a no-op).
  ErrnoOr<void> Renumber(Fd from, Fd to);
  // Narrows the rights of `fd`; adding a right is ENOTCAPABLE.
  ErrnoOr<void> SetRights(Fd fd, Rights base, Rights inheriting);

  size_t size() const;
  size_t max_capacity() const { return max_capacity_; }
  // The fds in use, ascending.
  std::vector<Fd> Fds() const;
  // The handles in use (a snapshot; no lock held afterwards). Unsettled entries give
  // their lazily typed handle as it is (it forwards every call; see Entry::unsettled).
  std::vector<std::shared_ptr<Handle>> Handles() const;

 private:
  // The handle and base rights of `fd`, settled first when the entry is unsettled in
  // `need` (see Entry::unsettled). EBADF if `fd` is not in use.
  ErrnoOr<std::pair<std::shared_ptr<Handle>, Rights>> Lookup(Fd fd, Rights need) const;
  // Settles the entry at `fd` if it still holds `seen` unsettled. Takes mu_ itself.
  void SettleEntry(Fd fd, const std::shared_ptr<Handle>& seen) const;

  // A reader-writer spin lock for the table's critical sections, which are a few loads,
  // a reference-count change or a vector push: nothing in them blocks or makes a system
  // call (handles are dropped after unlocking). One atomic operation to lock and one to
  // unlock; std::shared_mutex (glibc pthread_rwlock) measured ~22 ns per read
  // lock/unlock pair and ~35 ns per write pair on the reference VM, several per WASI
  // call. A waiting writer stops new readers, so readers cannot starve it; waiters spin
  // briefly, then yield the CPU.
  //
  // While the process has a single thread (glibc's __libc_single_threaded, as
  // libstdc++'s shared_ptr uses it) there is nobody to exclude and the atomic
  // operations are skipped: they measured ~27 ns each on the reference VM. The flag
  // changes only inside pthread_create/pthread_join called by the only thread, never
  // within a critical section here, so lock and unlock always agree.
  class RwSpinLock {
   public:
    void lock_shared() {
      if (SingleThreaded()) return;
      for (int spins = 0;; ++spins) {
        uint32_t s = state_.fetch_add(1, std::memory_order_acquire);
        if ((s & kWriterBits) == 0) [[likely]] return;
        state_.fetch_sub(1, std::memory_order_relaxed);
        Wait(spins, kWriterBits);
      }
    }
    void unlock_shared() {
      if (SingleThreaded()) return;
      state_.fetch_sub(1, std::memory_order_release);
    }
    void lock() {
      if (SingleThreaded()) return;
      for (int spins = 0;; ++spins) {
        uint32_t s = state_.load(std::memory_order_relaxed);
        // Free (perhaps with a writer waiting, maybe us): take it, clearing the flag; a
        // writer still waiting sets it again.
        if ((s & ~kWriterWaiting) == 0 &&
            state_.compare_exchange_weak(s, kWriter, std::memory_order_acquire,
                                         std::memory_order_relaxed)) {
          return;
        }
        if ((s & kWriterWaiting) == 0) state_.fetch_or(kWriterWaiting, std::memory_order_relaxed);
        Pause(spins);
      }
    }
    void unlock() {
      if (SingleThreaded()) return;
      state_.fetch_and(~kWriter, std::memory_order_release);
    }

   private:
    static bool SingleThreaded() {
#if WEFT_HAVE_LIBC_SINGLE_THREADED
      return __libc_single_threaded != 0;
#else
      return false;
#endif
    }
    static constexpr uint32_t kWriter = 1u << 31;
    static constexpr uint32_t kWriterWaiting = 1u << 30;
    static constexpr uint32_t kWriterBits = kWriter | kWriterWaiting;
    static void Pause(int spins);
    // Pauses until none of `bits` is set (or a while has passed).
    void Wait(int spins, uint32_t bits) {
      Pause(spins);
      while (state_.load(std::memory_order_relaxed) & bits) Pause(++spins);
    }
    std::atomic<uint32_t> state_{0};  // kWriter | kWriterWaiting | reader count
  };
  mutable RwSpinLock mu_;
  // Pops the lowest free index below slots_.size(), or returns false. mu_ held.
  bool PopFree(Fd* fd);
  // The lowest free fd, with an empty slot (slots_ grown if needed), counted in used_;
  // EMFILE when the table is full. mu_ held.
  ErrnoOr<Fd> TakeFd();
  void PushFree(Fd fd);

  // Guarded by mu_. Mutable: a const lookup may settle an entry (Entry::unsettled),
  // which changes no answer the table gives, only when the handle's type is found.
  mutable std::vector<std::optional<Entry>> slots_;
  // A min-heap of indices < slots_.size() that were free when pushed; guarded by mu_.
  // Entries go stale when InsertAt fills the slot (skipped when popped) and may repeat,
  // so Push/Remove never allocate in the steady state (a std::set allocated per call).
  std::vector<Fd> free_;
  size_t used_ = 0;                          // guarded by mu_
  const size_t max_capacity_;
};

}  // namespace weft::wasi
