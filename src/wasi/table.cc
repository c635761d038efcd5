#include "weft/wasi/table.h"

#include <algorithm>
#include <functional>
#include <mutex>

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
  Entry e;
  e.base = DefaultBaseRights(*handle);
  e.inheriting = DefaultInheritingRights(*handle);
  e.handle = std::move(handle);
  e.preopen = std::move(preopen);
  return e;
}

Table::Table(size_t max_capacity) : max_capacity_(max_capacity) {}

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

ErrnoOr<Fd> Table::Push(Entry entry) {
  std::unique_lock lock(mu_);
  if (used_ >= max_capacity_) return Err(Errno::kMfile);
  Fd fd;
  if (!PopFree(&fd)) {
    if (slots_.size() >= max_capacity_) return Err(Errno::kMfile);
    fd = static_cast<Fd>(slots_.size());
    slots_.emplace_back();
  }
  slots_[fd] = std::move(entry);
  ++used_;
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

ErrnoOr<Entry> Table::Get(Fd fd) const {
  std::shared_lock lock(mu_);
  if (fd >= slots_.size() || !slots_[fd]) return Err(Errno::kBadf);
  return *slots_[fd];
}

ErrnoOr<std::shared_ptr<Handle>> Table::GetHandle(Fd fd, Rights required) const {
  std::shared_lock lock(mu_);
  if (fd >= slots_.size() || !slots_[fd]) return Err(Errno::kBadf);
  const Entry& e = *slots_[fd];
  if ((e.base & required) != required) return Err(Errno::kNotcapable);
  return e.handle;
}

ErrnoOr<std::pair<std::shared_ptr<Handle>, Rights>> Table::GetHandleAndRights(Fd fd) const {
  std::shared_lock lock(mu_);
  if (fd >= slots_.size() || !slots_[fd]) return Err(Errno::kBadf);
  return std::make_pair(slots_[fd]->handle, slots_[fd]->base);
}

ErrnoOr<Table::HandleRights> Table::GetHandleRights(Fd fd) const {
  std::shared_lock lock(mu_);
  if (fd >= slots_.size() || !slots_[fd]) return Err(Errno::kBadf);
  const Entry& e = *slots_[fd];
  return HandleRights{e.handle, e.base, e.inheriting};
}

ErrnoOr<Entry> Table::Remove(Fd fd) {
  std::unique_lock lock(mu_);
  if (fd >= slots_.size() || !slots_[fd]) return Err(Errno::kBadf);
  Entry e = std::move(*slots_[fd]);
  slots_[fd].reset();
  PushFree(fd);
  --used_;
  return e;
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
  std::unique_lock lock(mu_);
  if (fd >= slots_.size() || !slots_[fd]) return Err(Errno::kBadf);
  Entry& e = *slots_[fd];
  if ((e.base | base) != e.base || (e.inheriting | inheriting) != e.inheriting) {
    return Err(Errno::kNotcapable);
  }
  e.base = base;
  e.inheriting = inheriting;
  return {};
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
