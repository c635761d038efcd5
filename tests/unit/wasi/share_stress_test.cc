// Concurrency stress of the sharing model: handles of every kind (FdFiles on host temp
// files, Channel ends, MemFiles) in tables shared by several contexts, inserted,
// removed, renumbered and moved between tables by host threads while guest instances
// on their own threads call fd_write/fd_read on them in loops. Bounded in time.
// Afterwards nothing leaked: every host fd opened during the test is closed and each
// handle's shared_ptr count is back to 1 (the test's own reference).
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "guest_build_util.h"
#include "weft/wasi/binding.h"
#include "weft/wasi/channel.h"
#include "weft/wasi/ctx.h"
#include "weft/wasi/fd_file.h"
#include "weft/wasi/memfile.h"
#include "weft/wasi/table.h"
#include "weft/wasm/module.h"
#include "weft/wasm/runtime.h"

namespace weft::wasi {
namespace {

using namespace std::chrono_literals;
using testing::CompileWat;

// wloop(fd, n) / rloop(fd, n): n fd_write (8 bytes) / fd_read (up to 8 bytes) calls on
// fd; returns how many answered ESUCCESS.
const char kLoopWat[] = R"WAT(
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "stress!\n")
  (func $setup
    (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 8))
    (i32.store (i32.const 32) (i32.const 64)) (i32.store (i32.const 36) (i32.const 8)))
  (func (export "wloop") (param $fd i32) (param $n i32) (result i32) (local $ok i32)
    (call $setup)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (if (i32.eqz (call $w (local.get $fd) (i32.const 0) (i32.const 1) (i32.const 8)))
        (then (local.set $ok (i32.add (local.get $ok) (i32.const 1)))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $ok))
  (func (export "rloop") (param $fd i32) (param $n i32) (result i32) (local $ok i32)
    (call $setup)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get $n)))
      (if (i32.eqz (call $r (local.get $fd) (i32.const 32) (i32.const 1) (i32.const 8)))
        (then (local.set $ok (i32.add (local.get $ok) (i32.const 1)))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $l)))
    (local.get $ok)))
)WAT";

std::set<std::string> OpenFds() {
  std::set<std::string> fds;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return fds;
  int self = dirfd(d);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.' || std::to_string(self) == e->d_name) continue;
    fds.insert(e->d_name);
  }
  closedir(d);
  return fds;
}

// One guest instance: its own store, its own context over a (shared) table.
struct Guest {
  wasm::Store store;
  wasm::Instance* instance = nullptr;
  bool Start(std::shared_ptr<const wasm::Module> module, std::shared_ptr<Ctx> ctx) {
    wasm::Linker linker;
    AddToLinker(linker, store, std::move(ctx));
    auto inst = linker.Instantiate(store, std::move(module));
    if (!inst.ok()) return false;
    instance = *inst;
    return true;
  }
  uint32_t Loop(const char* name, uint32_t fd, uint32_t n) {
    wasm::Value args[] = {wasm::Value::I32(fd), wasm::Value::I32(n)};
    auto r = wasm::Invoke(store, instance->GetFunc(name), args);
    return r.ok() ? (*r)[0].i32() : 0;
  }
};

TEST(ShareStress, ConcurrentTablesHandlesAndGuests) {
  auto module = CompileWat(kLoopWat);
  if (!module) GTEST_SKIP() << "wat2wasm not available";
  const std::set<std::string> fds_before = OpenFds();

  constexpr uint32_t kFirst = 3, kSlots = 12;
  std::vector<std::shared_ptr<Handle>> all;  // every handle made, to check counts later
  std::vector<std::shared_ptr<ChannelEnd>> peers;  // the far ends of channels in tables
  std::mutex all_mu;
  char dir[] = "/tmp/weft_share_files_XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::atomic<int> file_seq{0};
  // `all` keeps every handle to the end, so every file and every channel's eventfds (made
  // when a guest polls it) stay open: past this many of each, memory files are made
  // instead. Unbounded, the fds grew with the machine's speed (8656 eventfds after 1.3 s
  // here); near the fd limit UBSan's own probe (a pipe) failed, and it reported an
  // "invalid vptr" for sound objects (every time with `ulimit -n 3000`).
  constexpr int kMaxOfEachFdKind = 256;
  std::atomic<int> channel_count{0};
  auto make_handle = [&](int kind) -> std::shared_ptr<Handle> {
    std::shared_ptr<Handle> h;
    if (kind == 0 && file_seq.load() >= kMaxOfEachFdKind) kind = 2;
    if (kind == 1 && channel_count++ >= kMaxOfEachFdKind) kind = 2;
    if (kind == 0) {
      std::string path = std::string(dir) + "/f" + std::to_string(file_seq++);
      int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0) return nullptr;
      unlink(path.c_str());
      h = std::make_shared<FdFile>(fd, /*owns_fd=*/true);
    } else if (kind == 1) {
      auto [a, b] = MakeChannel(256);
      // Non-blocking so a guest never waits forever on an end nobody serves.
      (void)a->SetFdflags(kFdflagNonblock);
      (void)b->SetFdflags(kFdflagNonblock);
      std::lock_guard<std::mutex> lock(all_mu);
      all.push_back(b);
      peers.push_back(b);
      h = a;
    } else {
      h = MakeMemFile("initial");
    }
    std::lock_guard<std::mutex> lock(all_mu);
    all.push_back(h);
    return h;
  };

  auto shared = std::make_shared<Table>();  // shared by three contexts
  auto other = std::make_shared<Table>();   // a fourth context's own table
  for (uint32_t k = 0; k < kSlots; ++k) {
    auto h = make_handle(k % 3);
    ASSERT_NE(h, nullptr);
    ASSERT_TRUE(shared->InsertAt(kFirst + k, Entry::For(h)).ok());
    // Channel ends' peers go into the other table so both ends see traffic.
    if (k % 3 == 1) {
      std::lock_guard<std::mutex> lock(all_mu);
      ASSERT_TRUE(other->InsertAt(kFirst + k, Entry::For(all[all.size() - 2])).ok());
    } else {
      ASSERT_TRUE(other->InsertAt(kFirst + k, Entry::For(h)).ok());
    }
  }

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> guest_ok{0}, host_ops{0};
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<Ctx>> ctxs;
  std::vector<std::shared_ptr<Table>> guest_tables = {shared, shared, shared, other};
  for (size_t g = 0; g < guest_tables.size(); ++g) {
    CtxBuilder builder;
    builder.Table(guest_tables[g]);
    auto ctx = builder.Build();
    ASSERT_TRUE(ctx.ok());
    ctxs.push_back(*ctx);
    threads.emplace_back([&, g, ctx = *ctx] {
      Guest guest;
      if (!guest.Start(module, ctx)) return;
      uint32_t fd = kFirst + static_cast<uint32_t>(g);
      while (!stop.load()) {
        guest_ok += guest.Loop("wloop", fd, 16);
        guest_ok += guest.Loop("rloop", fd, 16);
        fd = kFirst + (fd - kFirst + 1) % (kSlots + 2);  // includes fds that may be empty
      }
    });
  }
  // Host threads: renumber, remove/re-insert, move between tables, push, use directly.
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      auto fd_of = [&] { return kFirst + static_cast<Fd>(rng() % kSlots); };
      while (!stop.load()) {
        switch (rng() % 5) {
          case 0:
            (void)shared->Renumber(fd_of(), fd_of());
            break;
          case 1: {
            Fd fd = fd_of();
            (void)shared->Remove(fd);
            if (auto h = make_handle(static_cast<int>(rng() % 3))) {
              (void)shared->InsertAt(fd, Entry::For(h));
            }
            break;
          }
          case 2: {  // move a handle from one table to the other
            Fd fd = fd_of();
            if (auto e = shared->Remove(fd); e.ok()) (void)other->InsertAt(fd, std::move(*e));
            if (auto e = other->Get(fd_of()); e.ok()) (void)shared->InsertAt(fd, std::move(*e));
            break;
          }
          case 3: {  // push at the lowest free fd, then take it out again
            if (auto h = make_handle(2)) {
              if (auto fd = shared->Push(Entry::For(h)); fd.ok()) (void)shared->Remove(*fd);
            }
            break;
          }
          default: {  // the host writes through a handle a guest may be using
            std::shared_ptr<ChannelEnd> peer;
            {
              std::lock_guard<std::mutex> lock(all_mu);
              peer = peers[rng() % peers.size()];
            }
            const uint8_t feed[] = "fed\n";
            ConstIoVec feed_iov{feed, 4};
            (void)peer->Write({&feed_iov, 1});  // so that guests reading the channel wake
            if (auto f = shared->GetAs<File>(fd_of()); f.ok()) {
              const uint8_t data[] = "host\n";
              ConstIoVec iov{data, 5};
              (void)(*f)->Write({&iov, 1});
            }
            break;
          }
        }
        ++host_ops;
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  stop = true;
  // A guest may be blocked reading an empty channel (fd_read waits even on a NONBLOCK
  // channel end, see the report): interrupting its context wakes it with a trap.
  for (auto& ctx : ctxs) ctx->Interrupt();
  for (auto& t : threads) t.join();
  ctxs.clear();
  threads.clear();
  EXPECT_GT(guest_ok.load(), 0u);
  EXPECT_GT(host_ops.load(), 0u);

  // Tear down: empty the tables, drop them; only `all` holds the handles now.
  for (Fd fd : shared->Fds()) (void)shared->Remove(fd);
  for (Fd fd : other->Fds()) (void)other->Remove(fd);
  shared.reset();
  other.reset();
  guest_tables.clear();
  for (size_t k = 0; k < all.size(); ++k) {
    long expected = 1;
    for (const auto& p : peers) expected += p == all[k];
    EXPECT_EQ(all[k].use_count(), expected) << "handle " << k << " still referenced";
  }
  peers.clear();
  all.clear();
  rmdir(dir);
  EXPECT_EQ(OpenFds(), fds_before) << "a host fd opened during the test is still open";
}

}  // namespace
}  // namespace weft::wasi
