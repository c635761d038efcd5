// PreopenTcpListeners: the library half of `weft run --tcplisten`. See net.h.
#include <string>
#include <vector>

#include "weft/wasi/net.h"
#include "weft/wasi/table.h"

namespace weft::wasi {

weft::Result<std::vector<Fd>, std::string> PreopenTcpListeners(
    Table& table, std::span<const std::string> addrs, std::optional<Fd> first_fd) {
  // Bind everything first, so a failure leaves the table untouched.
  std::vector<std::shared_ptr<TcpListener>> listeners;
  for (const std::string& addr : addrs) {
    auto l = TcpListener::Bind(addr);
    if (!l.ok()) {
      return Err("failed to bind to address '" + addr + "': " + ErrnoMessage(l.error()));
    }
    auto nb = (*l)->SetFdflags(kFdflagNonblock);
    if (!nb.ok()) {
      return Err("cannot make the listener on '" + addr + "' nonblocking: " +
                 ErrnoMessage(nb.error()));
    }
    listeners.push_back(std::move(l).value());
  }
  if (first_fd) {
    for (size_t i = 0; i < listeners.size(); ++i) {
      Fd fd = *first_fd + static_cast<Fd>(i);
      if (table.Get(fd).ok()) {
        return Err("cannot preopen a socket at fd " + std::to_string(fd) + ": it is in use");
      }
    }
  }
  std::vector<Fd> fds;
  for (size_t i = 0; i < listeners.size(); ++i) {
    Entry entry = Entry::For(listeners[i]);
    if (first_fd) {
      Fd fd = *first_fd + static_cast<Fd>(i);
      auto r = table.InsertAt(fd, std::move(entry));
      if (!r.ok()) {
        for (Fd done : fds) (void)table.Remove(done);
        return Err("cannot preopen a socket at fd " + std::to_string(fd) + ": " +
                   ErrnoMessage(r.error()));
      }
      fds.push_back(fd);
    } else {
      auto r = table.Push(std::move(entry));
      if (!r.ok()) {
        for (Fd done : fds) (void)table.Remove(done);
        return Err(std::string("cannot preopen a socket: ") + ErrnoMessage(r.error()));
      }
      fds.push_back(*r);
    }
  }
  return fds;
}

}  // namespace weft::wasi
