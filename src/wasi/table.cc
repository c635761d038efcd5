#include "weft/wasi/table.h"

#include <algorithm>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <thread>

namespace weft::wasi {

Rights DefaultBaseRights(const Handle& handle) {
  switch (handle.filetype()) {
    case Filetype::kDirectory:
      return rights::kDirBase;
    case Filetype::kCharacterDevice:
      return rights::kFileBase & ~(rights::kFdSeek | rights::kFdTell);
    default:
      return rights::kFileBase;
  }
}

Rights DefaultInheritingRights(const Handle& handle) {
  return handle.filetype() == Filetype::kDirectory ? rights::kAll : 0;
}

Entry Entry::For(std::shared_ptr<Handle> handle, std::optional<std::string> preopen) {
  if (std::shared_ptr<Handle> settled = handle->Settle()) handle = std::move(settled);
  Entry e;
  e.base = DefaultBaseRights(*handle);
  e.inheriting = DefaultInheritingRights(*handle);
  e.handle = std::move(handle);
  e.preopen = std::move(preopen);
  return e;
}

namespace {

struct NarrowedRights {
  Rights base;
  Rights inheriting;
  Rights unsettled;
};

NarrowedRights Narrow(const Handle& handle, Rights base, Rights inheriting) {
  switch (handle.pending_type()) {
    case Handle::PendingType::kNone:
      break;
    case Handle::PendingType::kFile: {
      // Some non-directory: kFileBase, less FD_SEEK/FD_TELL should it be a character
      // device (DefaultBaseRights); no inheriting rights either way.
      Rights b = base & rights::kFileBase;
      return {b, 0, b & (rights::kFdSeek | rights::kFdTell)};
    }
    case Handle::PendingType::kFileOrDir:
      // A file keeps few of these rights, a directory others.
      return {base & (rights::kFileBase | rights::kDirBase), inheriting, rights::kAll};
  }
  return {base & DefaultBaseRights(handle), inheriting & DefaultInheritingRights(handle), 0};
}

}  // namespace

Entry Entry::Narrowed(std::shared_ptr<Handle> handle, Rights base, Rights inheriting) {
  NarrowedRights r = Narrow(*handle, base, inheriting);
  Entry e;
  e.base = r.base;
  e.inheriting = r.inheriting;
  e.unsettled = r.unsettled;
  e.handle = std::move(handle);
  return e;
}

Table::Table(size_t max_capacity) : max_capacity_(max_capacity) {}

void Table::RwSpinLock::Pause(int spins) {
  if (spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    std::this_thread::yield();  // the holder may have been preempted
  }
}

void Table::SettleEntry(Fd fd, const std::shared_ptr<Handle>& seen) const {
  // The system call (fstat) happens here, with no lock held.
  std::shared_ptr<Handle> settled = seen->Settle();
  const Handle& now = settled ? *settled : *seen;
  Rights base_mask = DefaultBaseRights(now);
  Rights inheriting_mask = DefaultInheritingRights(now);
  std::shared_ptr<Handle> old;  // released after the lock
  std::unique_lock lock(mu_);
  if (fd >= slots_.size() || !slots_[fd]) return;
  Entry& e = *slots_[fd];
  // Another thread may have settled it, closed the fd or put something else there.
  if (e.handle != seen || e.unsettled == 0) return;
  if (settled) {
    old = std::move(e.handle);
    e.handle = std::move(settled);
  }
  e.base &= base_mask;
  e.inheriting &= inheriting_mask;
  e.unsettled = 0;
}

ErrnoOr<std::pair<std::shared_ptr<Handle>, Rights>> Table::Lookup(Fd fd, Rights need) const {
  for (;;) {
    std::shared_ptr<Handle> seen;
    {
      std::shared_lock lock(mu_);
      if (fd >= slots_.size() || !slots_[fd]) return Err(Errno::kBadf);
      const Entry& e = *slots_[fd];
      if ((e.unsettled & need) == 0) [[likely]] return std::make_pair(e.handle, e.base);
      seen = e.handle;
    }
    SettleEntry(fd, seen);
  }
}

bool Table::PopFree(Fd* fd) {
  while (!free_.empty()) {
    std::pop_heap(free_.begin(), free_.end(), std::greater<Fd>());
    Fd candidate = free_.back();
    free_.pop_back();
    if (!slots_[candidate]) {
      *fd = candidate;
      return true;
    }
  }
  return false;
}

void Table::PushFree(Fd fd) {
  // Stale entries are bounded: past twice the slot count, rebuild from the slots.
  if (free_.size() > 2 * slots_.size() + 16) {
    free_.clear();
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (!slots_[i]) free_.push_back(static_cast<Fd>(i));
    }
    std::make_heap(free_.begin(), free_.end(), std::greater<Fd>());
    return;  // fd's slot is empty, so the rebuild included it
  }
  free_.push_back(fd);
  std::push_heap(free_.begin(), free_.end(), std::greater<Fd>());
}

ErrnoOr<Fd> Table::TakeFd() {
  if (used_ >= max_capacity_) return Err(Errno::kMfile);
  Fd fd;
  if (!PopFree(&fd)) {
    if (slots_.size() >= max_capacity_) return Err(Errno::kMfile);
    fd = static_cast<Fd>(slots_.size());
    slots_.emplace_back();
  }
  ++used_;
  return fd;
}

ErrnoOr<Fd> Table::Push(Entry entry) {
  std::unique_lock lock(mu_);
  WEFT_TRY_ASSIGN(Fd fd, TakeFd());
  slots_[fd] = std::move(entry);
  return fd;
}

ErrnoOr<Fd> Table::PushNarrowed(std::shared_ptr<Handle> handle, Rights base,
                                Rights inheriting) {
  NarrowedRights r = Narrow(*handle, base, inheriting);  // (a virtual call: not under mu_)
  std::unique_lock lock(mu_);
  WEFT_TRY_ASSIGN(Fd fd, TakeFd());
  Entry& e = slots_[fd].emplace();
  e.handle = std::move(handle);
  e.base = r.base;
  e.inheriting = r.inheriting;
  e.unsettled = r.unsettled;
  return fd;
}

ErrnoOr<void> Table::InsertAt(Fd fd, Entry entry) {
  std::optional<Entry> old;  // dropped after the lock is released
  {
    std::unique_lock lock(mu_);
    if (fd >= max_capacity_) return Err(Errno::kMfile);
    while (slots_.size() <= fd) {
      Fd index = static_cast<Fd>(slots_.size());
      slots_.emplace_back();
      if (index != fd) PushFree(index);
    }
    if (slots_[fd]) {
      old = std::move(slots_[fd]);
    } else {
      ++used_;  // fd may still be in free_: PopFree skips it while it is in use
    }
    slots_[fd] = std::move(entry);
  }
  return {};
}

// The lookups below that report rights settle an unsettled entry first (need = every
// right); those that check `required` settle only when it could change the answer.
constexpr Rights kReported = ~Rights{0};

ErrnoOr<Entry> Table::Get(Fd fd) const {
  for (;;) {
    std::shared_ptr<Handle> seen;
    {
      std::shared_lock lock(mu_);
      if (fd >= slots_.size() || !slots_[fd]) return Err(Errno::kBadf);
      if (slots_[fd]->unsettled == 0) return *slots_[fd];
      seen = slots_[fd]->handle;
    }
    SettleEntry(fd, seen);
  }
}

ErrnoOr<std::shared_ptr<Handle>> Table::GetHandle(Fd fd, Rights required) const {
  WEFT_TRY_ASSIGN(auto hr, Lookup(fd, required));
  if ((hr.second & required) != required) return Err(Errno::kNotcapable);
  return std::move(hr.first);
}

ErrnoOr<std::pair<std::shared_ptr<Handle>, Rights>> Table::GetHandleAndRights(Fd fd) const {
  return Lookup(fd, kReported);
}

ErrnoOr<Table::HandleRights> Table::GetHandleRights(Fd fd) const {
  for (;;) {
    std::shared_ptr<Handle> seen;
    {
      std::shared_lock lock(mu_);
      if (fd >= slots_.size() || !slots_[fd]) return Err(Errno::kBadf);
      const Entry& e = *slots_[fd];
      if (e.unsettled == 0) [[likely]] return HandleRights{e.handle, e.base, e.inheriting};
      seen = e.handle;
    }
    SettleEntry(fd, seen);
  }
}

ErrnoOr<Entry> Table::Remove(Fd fd) {
  for (;;) {
    std::shared_ptr<Handle> seen;
    {
      std::unique_lock lock(mu_);
      if (fd >= slots_.size() || !slots_[fd]) return Err(Errno::kBadf);
      if (slots_[fd]->unsettled == 0) {
        Entry e = std::move(*slots_[fd]);
        slots_[fd].reset();
        PushFree(fd);
        --used_;
        return e;
      }
      seen = slots_[fd]->handle;
    }
    SettleEntry(fd, seen);
  }
}

ErrnoOr<void> Table::Close(Fd fd) {
  // Dropped (maybe closing a host fd) after the lock. Only the parts that own something
  // are moved out: cheaper than moving the whole Entry on every fd_close.
  std::shared_ptr<Handle> handle;
  std::optional<std::string> preopen;
  {
    std::unique_lock lock(mu_);
    if (fd >= slots_.size() || !slots_[fd]) return Err(Errno::kBadf);
    Entry& e = *slots_[fd];
    handle = std::move(e.handle);
    if (e.preopen) [[unlikely]] preopen = std::move(e.preopen);
    slots_[fd].reset();
    if (free_.empty()) {
      free_.push_back(fd);  // a heap of one
    } else {
      PushFree(fd);
    }
    --used_;
  }
  return {};
}

ErrnoOr<void> Table::Renumber(Fd from, Fd to) {
  std::optional<Entry> old;  // the closed target, dropped outside the lock
  {
    std::unique_lock lock(mu_);
    if (from >= slots_.size() || !slots_[from]) return Err(Errno::kBadf);
    if (to >= slots_.size() || !slots_[to]) return Err(Errno::kBadf);
    if (from == to) return {};
    old = std::move(slots_[to]);
    slots_[to] = std::move(slots_[from]);
    slots_[from].reset();
    PushFree(from);
    --used_;
  }
  return {};
}

ErrnoOr<void> Table::SetRights(Fd fd, Rights base, Rights inheriting) {
  for (;;) {
    std::shared_ptr<Handle> seen;
    {
      std::unique_lock lock(mu_);
      if (fd >= slots_.size() || !slots_[fd]) return Err(Errno::kBadf);
      Entry& e = *slots_[fd];
      if (e.unsettled == 0) {  // compare with the rights the type really leaves
        if ((e.base | base) != e.base || (e.inheriting | inheriting) != e.inheriting) {
          return Err(Errno::kNotcapable);
        }
        e.base = base;
        e.inheriting = inheriting;
        return {};
      }
      seen = e.handle;
    }
    SettleEntry(fd, seen);
  }
}

size_t Table::size() const {
  std::shared_lock lock(mu_);
  return used_;
}

std::vector<Fd> Table::Fds() const {
  std::shared_lock lock(mu_);
  std::vector<Fd> out;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i]) out.push_back(static_cast<Fd>(i));
  }
  return out;
}

std::vector<std::shared_ptr<Handle>> Table::Handles() const {
  std::shared_lock lock(mu_);
  std::vector<std::shared_ptr<Handle>> out;
  out.reserve(used_);
  for (const auto& slot : slots_) {
    if (slot) out.push_back(slot->handle);
  }
  return out;
}

}  // namespace weft::wasi
