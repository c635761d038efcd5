// poll_oneoff from a guest over a mix of handle kinds in one call: a host pipe (FdFile),
// a Channel end, an embedder's own handle implementing the readiness interface
// (GetPollSource + CheckReadiness), and a clock. Checks which events fire, with their
// nbytes and hangup flag, and that a custom handle becoming ready wakes the wait.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "guest_build_util.h"
#include "weft/wasi/binding.h"
#include "weft/wasi/channel.h"
#include "weft/wasi/ctx.h"
#include "weft/wasi/fd_file.h"
#include "weft/wasi/table.h"
#include "weft/wasm/module.h"
#include "weft/wasm/runtime.h"

namespace weft::wasi {
namespace {

using namespace std::chrono_literals;
using testing::CompileWat;

const char kPollWat[] = R"WAT(
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $p (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "poll") (param i32 i32 i32 i32) (result i32)
    (call $p (local.get 0) (local.get 1) (local.get 2) (local.get 3))))
)WAT";

// An embedder's handle: readable when the host says so; an eventfd wakes pollers.
class Gate : public File {
 public:
  Gate() : efd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~Gate() override { close(efd_); }
  Filetype filetype() const override { return Filetype::kCharacterDevice; }
  void Open(uint64_t nbytes) {
    nbytes_ = nbytes;
    open_ = true;
    uint64_t one = 1;
    (void)!write(efd_, &one, sizeof one);
  }
  PollSource GetPollSource(Interest) override { return {efd_, POLLIN}; }
  Readiness CheckReadiness(Interest interest) override {
    Readiness r;
    r.ready = interest == Interest::kRead && open_.load();
    r.nbytes = nbytes_.load();
    return r;
  }

 private:
  const int efd_;
  std::atomic<bool> open_{false};
  std::atomic<uint64_t> nbytes_{0};
};

constexpr uint8_t kClock = 0, kFdRead = 1, kFdWrite = 2;
constexpr uint32_t kSubs = 1024, kEvents = 4096, kNevents = 8000;

struct Sub {
  uint64_t userdata;
  uint8_t tag;
  uint32_t fd;          // fd_read / fd_write
  uint64_t timeout_ns;  // clock (relative, monotonic)
};
struct Event {
  uint16_t error;
  uint8_t type;
  uint64_t nbytes;
  uint16_t flags;
};

class SharePollTest : public ::testing::Test {
 protected:
  void SetUp() override {
    module_ = CompileWat(kPollWat);
    if (!module_) GTEST_SKIP() << "wat2wasm not available";
    table_ = std::make_shared<Table>();
    CtxBuilder builder;
    builder.Table(table_);
    auto ctx = builder.Build();
    ASSERT_TRUE(ctx.ok());
    ctx_ = *ctx;
    AddToLinker(linker_, store_, ctx_);
    auto inst = linker_.Instantiate(store_, module_);
    ASSERT_TRUE(inst.ok());
    instance_ = *inst;
    mem_ = instance_->GetMemory("memory");
    ASSERT_NE(mem_, nullptr);
  }

  // Runs poll_oneoff from the guest; returns the errno and fills events by userdata.
  uint32_t Poll(const std::vector<Sub>& subs, std::map<uint64_t, Event>* events) {
    std::memset(mem_->data + kSubs, 0, subs.size() * 48);
    for (size_t k = 0; k < subs.size(); ++k) {
      uint8_t* s = mem_->data + kSubs + k * 48;
      std::memcpy(s, &subs[k].userdata, 8);
      s[8] = subs[k].tag;
      if (subs[k].tag == kClock) {
        uint32_t id = 1;  // monotonic
        std::memcpy(s + 16, &id, 4);
        std::memcpy(s + 24, &subs[k].timeout_ns, 8);
      } else {
        std::memcpy(s + 16, &subs[k].fd, 4);
      }
    }
    wasm::Value args[] = {wasm::Value::I32(kSubs), wasm::Value::I32(kEvents),
                          wasm::Value::I32(static_cast<uint32_t>(subs.size())),
                          wasm::Value::I32(kNevents)};
    auto r = wasm::Invoke(store_, instance_->GetFunc("poll"), args);
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return 0xffff;
    uint32_t n = 0;
    std::memcpy(&n, mem_->data + kNevents, 4);
    for (uint32_t k = 0; k < n; ++k) {
      const uint8_t* e = mem_->data + kEvents + k * 32;
      uint64_t ud;
      Event ev{};
      std::memcpy(&ud, e, 8);
      std::memcpy(&ev.error, e + 8, 2);
      ev.type = e[10];
      std::memcpy(&ev.nbytes, e + 16, 8);
      std::memcpy(&ev.flags, e + 24, 2);
      (*events)[ud] = ev;
    }
    return (*r)[0].i32();
  }

  std::shared_ptr<const wasm::Module> module_;
  std::shared_ptr<Table> table_;
  std::shared_ptr<Ctx> ctx_;
  wasm::Store store_;
  wasm::Linker linker_;
  wasm::Instance* instance_ = nullptr;
  wasm::MemInst* mem_ = nullptr;
};

TEST_F(SharePollTest, MixOfHandleKindsInOneCall) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  ASSERT_EQ(write(p[1], "abc", 3), 3);
  auto host_pipe = std::make_shared<FdFile>(p[0], /*owns_fd=*/true);
  auto [chan, peer] = MakeChannel(16);
  ASSERT_TRUE(peer->Write({std::array<ConstIoVec, 1>{ConstIoVec{reinterpret_cast<const uint8_t*>("hello"), 5}}}).ok());
  auto [hung, gone] = MakeChannel(16);
  gone.reset();  // the peer is gone: reading `hung` would return 0
  auto ready_gate = std::make_shared<Gate>();
  ready_gate->Open(42);
  auto closed_gate = std::make_shared<Gate>();

  auto fd_pipe = table_->Push(Entry::For(host_pipe));
  auto fd_chan = table_->Push(Entry::For(chan));
  auto fd_hung = table_->Push(Entry::For(hung));
  auto fd_gate = table_->Push(Entry::For(ready_gate));
  auto fd_closed = table_->Push(Entry::For(closed_gate));
  ASSERT_TRUE(fd_pipe.ok() && fd_chan.ok() && fd_hung.ok() && fd_gate.ok() && fd_closed.ok());

  std::map<uint64_t, Event> ev;
  ASSERT_EQ(Poll({{1, kFdRead, *fd_pipe, 0},
                  {2, kFdRead, *fd_chan, 0},
                  {3, kFdWrite, *fd_chan, 0},
                  {4, kFdRead, *fd_hung, 0},
                  {5, kFdRead, *fd_gate, 0},
                  {6, kFdRead, *fd_closed, 0},
                  {7, kClock, 0, 5'000'000'000ull},
                  {8, kFdRead, 999, 0}},
                 &ev),
            0u);
  // Everything ready fires; the closed gate and the 5 s clock do not.
  EXPECT_EQ(ev.size(), 6u);
  EXPECT_EQ(ev.count(6), 0u);
  EXPECT_EQ(ev.count(7), 0u);
  ASSERT_EQ(ev.count(1), 1u);
  EXPECT_EQ(ev[1].type, kFdRead);
  EXPECT_EQ(ev[1].error, 0);
  EXPECT_EQ(ev[1].nbytes, 3u);
  EXPECT_EQ(ev[1].flags, 0);
  ASSERT_EQ(ev.count(2), 1u);
  EXPECT_EQ(ev[2].nbytes, 5u);  // buffered
  EXPECT_EQ(ev[2].flags, 0);
  ASSERT_EQ(ev.count(3), 1u);
  EXPECT_EQ(ev[3].type, kFdWrite);
  EXPECT_EQ(ev[3].nbytes, 16u);  // free space toward the peer
  ASSERT_EQ(ev.count(4), 1u);
  EXPECT_EQ(ev[4].nbytes, 0u);
  EXPECT_EQ(ev[4].flags, 1);  // __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP
  ASSERT_EQ(ev.count(5), 1u);
  EXPECT_EQ(ev[5].nbytes, 42u);
  ASSERT_EQ(ev.count(8), 1u);
  EXPECT_EQ(ev[8].error, static_cast<uint16_t>(Errno::kBadf));
}

TEST_F(SharePollTest, ClockFiresAloneWhenNothingIsReady) {
  auto gate = std::make_shared<Gate>();
  auto [chan, peer] = MakeChannel(16);
  auto fd_gate = table_->Push(Entry::For(gate));
  auto fd_chan = table_->Push(Entry::For(chan));
  ASSERT_TRUE(fd_gate.ok() && fd_chan.ok());
  std::map<uint64_t, Event> ev;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(Poll({{1, kFdRead, *fd_gate, 0}, {2, kFdRead, *fd_chan, 0}, {3, kClock, 0, 20'000'000}},
                 &ev),
            0u);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 20ms);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev.count(3), 1u);
  EXPECT_EQ(ev[3].type, kClock);
}

TEST_F(SharePollTest, CustomHandleBecomingReadyWakesTheWait) {
  auto gate = std::make_shared<Gate>();
  auto [chan, peer] = MakeChannel(16);
  auto fd_gate = table_->Push(Entry::For(gate));
  auto fd_chan = table_->Push(Entry::For(chan));
  ASSERT_TRUE(fd_gate.ok() && fd_chan.ok());
  std::thread opener([g = gate] {
    std::this_thread::sleep_for(50ms);
    g->Open(7);
  });
  std::map<uint64_t, Event> ev;
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(Poll({{1, kFdRead, *fd_gate, 0}, {2, kFdRead, *fd_chan, 0}, {3, kClock, 0, 10'000'000'000ull}},
                 &ev),
            0u);
  opener.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  ASSERT_EQ(ev.size(), 1u);
  ASSERT_EQ(ev.count(1), 1u);
  EXPECT_EQ(ev[1].nbytes, 7u);
}

}  // namespace
}  // namespace weft::wasi
