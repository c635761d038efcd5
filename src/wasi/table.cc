#include "weft/wasi/table.h"

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

ErrnoOr<Fd> Table::Push(Entry entry) {
  std::unique_lock lock(mu_);
  if (used_ >= max_capacity_) return Err(Errno::kMfile);
  Fd fd;
  if (!free_.empty()) {
    fd = *free_.begin();
    free_.erase(free_.begin());
  } else {
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
      free_.insert(static_cast<Fd>(slots_.size()));
      slots_.emplace_back();
    }
    if (slots_[fd]) {
      old = std::move(slots_[fd]);
    } else {
      free_.erase(fd);
      ++used_;
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

ErrnoOr<Entry> Table::Remove(Fd fd) {
  std::unique_lock lock(mu_);
  if (fd >= slots_.size() || !slots_[fd]) return Err(Errno::kBadf);
  Entry e = std::move(*slots_[fd]);
  slots_[fd].reset();
  free_.insert(fd);
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
    free_.insert(from);
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
