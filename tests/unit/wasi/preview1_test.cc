// The preview1 bodies on a fake guest memory (a plain byte array), through the same
// generic entry point the engine binding uses.
#include "weft/wasi/preview1.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "wasi/abi/layout.h"
#include "weft/wasi/channel.h"
#include "weft/wasi/ctx.h"
#include "weft/wasi/fd_file.h"
#include "weft/wasi/pipe.h"
#include "weft/wasi/virtual_fs.h"

namespace weft::wasi {
namespace {

constexpr uint32_t E(Errno e) { return static_cast<uint32_t>(e); }

class FixedClocks : public Clocks {
 public:
  ErrnoOr<Timestamp> Now(Clockid id) override {
    if (id == Clockid::kRealtime) return Timestamp{1700000000000000000ull};
    return Clocks::Now(id);
  }
};

class Preview1Test : public ::testing::Test {
 protected:
  void SetUp() override { Build(CtxBuilder()); }

  void Build(CtxBuilder b) {
    out_ = std::make_shared<WritePipe>();
    root_ = MakeVirtualFs();
    ASSERT_TRUE(root_->AddFile("hello.txt", "hello, world").ok());
    ASSERT_TRUE(root_->AddDir("sub").ok());
    auto ctx = b.Arg("prog.wasm")
                   .Arg("a b")
                   .Env("FOO", "bar")
                   .Env("X", "")
                   .Stdin(std::make_shared<ReadPipe>(std::string_view("input")))
                   .Stdout(out_)
                   .PreopenDir(root_, "/sandbox")
                   .Trace([this](std::string_view l) { trace_.emplace_back(l); })
                   .Build();
    ASSERT_TRUE(ctx.ok()) << ctx.error();
    ctx_ = *ctx;
    mem_.assign(65536, 0);
  }

  Result<uint32_t> Run(const char* name, std::initializer_list<uint64_t> args) {
    const Preview1Function* f = FindPreview1Function(name);
    EXPECT_NE(f, nullptr) << name;
    Call call(*ctx_, mem_.data(), mem_.size(), f->name);
    std::vector<uint64_t> a(args);
    a.resize(16);
    return InvokePreview1(*f, call, a.data());
  }
  // Runs and expects an errno (not a trap).
  uint32_t Errno_(const char* name, std::initializer_list<uint64_t> args) {
    auto r = Run(name, args);
    EXPECT_TRUE(r.ok()) << name << " trapped: " << r.error().trap().detail;
    return r.ok() ? *r : 0xffff;
  }
  std::string TrapOf(const char* name, std::initializer_list<uint64_t> args) {
    auto r = Run(name, args);
    EXPECT_FALSE(r.ok()) << name << " did not trap";
    if (r.ok()) return "";
    EXPECT_EQ(r.error().trap().kind, wasm::TrapKind::kHost);
    return r.error().trap().detail;
  }

  void Put32(uint32_t at, uint32_t v) { std::memcpy(&mem_[at], &v, 4); }
  void Put64(uint32_t at, uint64_t v) { std::memcpy(&mem_[at], &v, 8); }
  uint32_t Get32(uint32_t at) { uint32_t v; std::memcpy(&v, &mem_[at], 4); return v; }
  uint64_t Get64(uint32_t at) { uint64_t v; std::memcpy(&v, &mem_[at], 8); return v; }
  uint16_t Get16(uint32_t at) { uint16_t v; std::memcpy(&v, &mem_[at], 2); return v; }
  uint32_t PutStr(uint32_t at, std::string_view s) {
    std::memcpy(&mem_[at], s.data(), s.size());
    return static_cast<uint32_t>(s.size());
  }
  std::string Str(uint32_t at, size_t n) { return std::string(reinterpret_cast<char*>(&mem_[at]), n); }

  // Opens `path` under the preopen (fd 3) and returns the new fd.
  uint32_t Open(std::string_view path, uint32_t oflags = 0, uint64_t rights = rights::kAll,
                uint32_t fdflags = 0) {
    uint32_t len = PutStr(1000, path);
    EXPECT_EQ(Errno_("path_open", {3, 1, 1000, len, oflags, rights, rights, fdflags, 2000}), 0u);
    return Get32(2000);
  }

  std::shared_ptr<Ctx> ctx_;
  std::shared_ptr<WritePipe> out_;
  std::shared_ptr<VirtualDir> root_;
  std::vector<uint8_t> mem_;
  std::vector<std::string> trace_;
};

// ---- the generated EBADF sweep -------------------------------------------------------

TEST_F(Preview1Test, EveryFunctionTakingAnFdAnswersEbadfForAClosedFd) {
  int swept = 0;
  for (const Preview1Function& f : Preview1Functions()) {
    if (std::strchr(f.params, 'f') == nullptr) continue;
    for (uint64_t bad : {uint64_t{77}, uint64_t{0xffffffff}}) {
      // Valid (zero) pointers and lengths, the bad fd in every fd position, other fds
      // valid (the preopen) so the bad one is what fails.
      std::vector<uint64_t> args(16, 0);
      size_t nf = 0;
      for (size_t i = 0; f.params[i]; ++i) {
        if (f.params[i] == 'f') args[i] = nf++ == 0 ? bad : 3;
      }
      Call call(*ctx_, mem_.data(), mem_.size(), f.name);
      auto r = InvokePreview1(f, call, args.data());
      ASSERT_TRUE(r.ok()) << f.name << " trapped: " << r.error().trap().detail;
      EXPECT_EQ(*r, E(Errno::kBadf)) << f.name << " with fd " << bad;
    }
    ++swept;
  }
  EXPECT_EQ(swept, 35);  // every fd_* (21), path_* (10) and sock_* (4) row
}

TEST_F(Preview1Test, SecondFdOfTwoFdFunctionsIsCheckedToo) {
  uint32_t a = PutStr(100, "hello.txt"), b = PutStr(200, "x");
  EXPECT_EQ(Errno_("path_rename", {3, 100, a, 77, 200, b}), E(Errno::kBadf));
  EXPECT_EQ(Errno_("path_link", {3, 0, 100, a, 77, 200, b}), E(Errno::kBadf));
  EXPECT_EQ(Errno_("fd_renumber", {1, 77}), E(Errno::kBadf));
}

TEST(Preview1ListTest, EveryWasiSnapshotPreview1FunctionIsListedOnce) {
  const char* expected[] = {
      "args_get", "args_sizes_get", "environ_get", "environ_sizes_get", "clock_res_get",
      "clock_time_get", "fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_get",
      "fd_fdstat_set_flags", "fd_fdstat_set_rights", "fd_filestat_get", "fd_filestat_set_size",
      "fd_filestat_set_times", "fd_pread", "fd_prestat_get", "fd_prestat_dir_name", "fd_pwrite",
      "fd_read", "fd_readdir", "fd_renumber", "fd_seek", "fd_sync", "fd_tell", "fd_write",
      "path_create_directory", "path_filestat_get", "path_filestat_set_times", "path_link",
      "path_open", "path_readlink", "path_remove_directory", "path_rename", "path_symlink",
      "path_unlink_file", "poll_oneoff", "proc_exit", "proc_raise", "sched_yield", "random_get",
      "sock_accept", "sock_recv", "sock_send", "sock_shutdown"};
  EXPECT_EQ(Preview1Functions().size(), std::size(expected));
  for (const char* name : expected) EXPECT_NE(FindPreview1Function(name), nullptr) << name;
  EXPECT_STREQ(FindPreview1Function("fd_seek")->params, "fUxp");
  EXPECT_FALSE(FindPreview1Function("proc_exit")->returns_errno);
}

// ---- guest pointers -------------------------------------------------------------------

TEST_F(Preview1Test, FdWriteWithIovecOutOfBoundsTrapsNamingFdWrite) {
  Put32(0, 65530);  // iovec buf
  Put32(4, 100);    // len runs past the end
  std::string t = TrapOf("fd_write", {1, 0, 1, 64});
  EXPECT_EQ(t.rfind("fd_write: out of bounds", 0), 0u) << t;
  EXPECT_EQ(out_->Contents(), "");  // nothing written
  // The iovec array itself out of bounds, and overflowing ptr+len.
  EXPECT_NE(TrapOf("fd_write", {1, 65532, 1, 64}).find("out of bounds"), std::string::npos);
  Put32(0, 0xfffffff0);
  Put32(4, 0x20);
  EXPECT_NE(TrapOf("fd_write", {1, 0, 1, 64}).find("out of bounds"), std::string::npos);
}

TEST_F(Preview1Test, MisalignedOutPointerTraps) {
  Put32(0, 100);
  Put32(4, 2);
  std::string t = TrapOf("fd_write", {1, 0, 1, 66});
  EXPECT_EQ(t.rfind("fd_write: misaligned pointer 0x42", 0), 0u) << t;
  EXPECT_EQ(out_->Contents(), "");
  EXPECT_EQ(TrapOf("fd_write", {1, 2, 1, 64}).rfind("fd_write: misaligned", 0), 0u);
  EXPECT_EQ(TrapOf("clock_time_get", {1, 0, 4}).rfind("clock_time_get: misaligned", 0), 0u);
  EXPECT_EQ(TrapOf("fd_filestat_get", {1, 65536 - 32}).rfind("fd_filestat_get: out of bounds", 0),
            0u);
}

TEST_F(Preview1Test, OtherFunctionsTrapOnWildPointers) {
  EXPECT_EQ(TrapOf("args_get", {65534, 0}).rfind("args_get: ", 0), 0u);
  EXPECT_EQ(TrapOf("random_get", {65000, 1000}).rfind("random_get: ", 0), 0u);
  EXPECT_EQ(TrapOf("path_open", {3, 0, 65530, 10, 0, 0, 0, 0, 0}).rfind("path_open: ", 0), 0u);
  EXPECT_EQ(TrapOf("poll_oneoff", {65528, 0, 1, 0}).rfind("poll_oneoff: ", 0), 0u);
  EXPECT_EQ(TrapOf("fd_prestat_dir_name", {3, 65535, 8}).rfind("fd_prestat_dir_name: ", 0), 0u);
}

TEST_F(Preview1Test, NoMemoryMeansEveryPointerTraps) {
  const Preview1Function* f = FindPreview1Function("fd_write");
  Call call(*ctx_, nullptr, 0, f->name);
  uint64_t args[4] = {1, 0, 1, 8};
  auto r = InvokePreview1(*f, call, args);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().trap().detail.find("out of bounds"), std::string::npos);
}

TEST_F(Preview1Test, InvalidUtf8PathIsEilseq) {
  mem_[100] = 0xC3;
  mem_[101] = 0x28;  // bad continuation byte
  EXPECT_EQ(Errno_("path_create_directory", {3, 100, 2}), E(Errno::kIlseq));
  mem_[100] = 0xED; mem_[101] = 0xA0; mem_[102] = 0x80;  // a UTF-16 surrogate
  EXPECT_EQ(Errno_("path_unlink_file", {3, 100, 3}), E(Errno::kIlseq));
  uint32_t n = PutStr(100, "d\xC3\xA9j\xC3\xA0");  // valid UTF-8 passes
  EXPECT_EQ(Errno_("path_create_directory", {3, 100, n}), 0u);
}

// The validator takes ASCII eight bytes at a time: a bad byte anywhere, and a sequence
// that starts inside or after such a word, is still seen.
TEST(Utf8Test, EveryPositionOfLongPaths) {
  for (size_t len : {7u, 8u, 9u, 16u, 17u, 23u, 24u, 31u}) {
    for (size_t at = 0; at < len; ++at) {
      std::string s(len, 'a');
      s[at] = '\xFF';
      EXPECT_FALSE(abi::IsValidUtf8(reinterpret_cast<const uint8_t*>(s.data()), s.size()))
          << len << " " << at;
      if (at + 2 <= len) {
        s[at] = '\xC3';
        s[at + 1] = '\xA9';
        EXPECT_TRUE(abi::IsValidUtf8(reinterpret_cast<const uint8_t*>(s.data()), s.size()))
            << len << " " << at;
        s[at + 1] = 'x';  // bad continuation
        EXPECT_FALSE(abi::IsValidUtf8(reinterpret_cast<const uint8_t*>(s.data()), s.size()))
            << len << " " << at;
      }
    }
    std::string cut(len, 'a');
    cut[len - 1] = '\xC3';  // a sequence cut off by the end
    EXPECT_FALSE(abi::IsValidUtf8(reinterpret_cast<const uint8_t*>(cut.data()), cut.size()));
  }
}

// ---- invalid flags and enums ---------------------------------------------------------

TEST_F(Preview1Test, InvalidFlagsAndEnumsAreEinval) {
  uint32_t f = Open("hello.txt");
  EXPECT_EQ(Errno_("fd_seek", {f, 0, 3, 64}), E(Errno::kInval));
  EXPECT_EQ(Errno_("fd_advise", {f, 0, 0, 6}), E(Errno::kInval));
  EXPECT_EQ(Errno_("fd_fdstat_set_flags", {f, 0x20}), E(Errno::kInval));
  EXPECT_EQ(Errno_("fd_filestat_set_times", {f, 0, 0, 0x10}), E(Errno::kInval));
  EXPECT_EQ(Errno_("fd_filestat_set_times", {f, 0, 0, kFstAtim | kFstAtimNow}), E(Errno::kInval));
  EXPECT_EQ(Errno_("fd_filestat_set_times", {f, 0, 0, kFstMtim | kFstMtimNow}), E(Errno::kInval));
  uint32_t n = PutStr(100, "x");
  EXPECT_EQ(Errno_("path_open", {3, 0, 100, n, 0x10, 0, 0, 0, 200}), E(Errno::kInval));
  EXPECT_EQ(Errno_("path_open", {3, 0, 100, n, 0, 0, 0, 0x20, 200}), E(Errno::kInval));
  EXPECT_EQ(Errno_("path_open", {3, 2, 100, n, 0, 0, 0, 0, 200}), E(Errno::kInval));
  EXPECT_EQ(Errno_("path_filestat_get", {3, 4, 100, n, 256}), E(Errno::kInval));
  EXPECT_EQ(Errno_("clock_time_get", {4, 0, 64}), E(Errno::kInval));
  EXPECT_EQ(Errno_("clock_res_get", {99, 64}), E(Errno::kInval));
  EXPECT_EQ(Errno_("poll_oneoff", {0, 512, 0, 64}), E(Errno::kInval));  // no subscriptions
  mem_[8] = 3;  // unknown subscription tag
  EXPECT_EQ(Errno_("poll_oneoff", {0, 512, 1, 64}), E(Errno::kInval));
  EXPECT_EQ(Errno_("sock_shutdown", {f, 0}), E(Errno::kInval));
  EXPECT_EQ(Errno_("sock_shutdown", {f, 4}), E(Errno::kInval));
  EXPECT_EQ(Errno_("sock_accept", {f, 1, 64}), E(Errno::kInval));
}

// ---- args, env, clocks, random, proc -------------------------------------------------

TEST_F(Preview1Test, ArgsAndEnviron) {
  EXPECT_EQ(Errno_("args_sizes_get", {0, 4}), 0u);
  EXPECT_EQ(Get32(0), 2u);
  EXPECT_EQ(Get32(4), std::strlen("prog.wasm") + 1 + 4);
  EXPECT_EQ(Errno_("args_get", {100, 200}), 0u);
  EXPECT_EQ(Get32(100), 200u);
  EXPECT_EQ(Get32(104), 210u);
  EXPECT_EQ(Str(200, 14), std::string("prog.wasm\0a b\0", 14));

  EXPECT_EQ(Errno_("environ_sizes_get", {0, 4}), 0u);
  EXPECT_EQ(Get32(0), 2u);
  EXPECT_EQ(Get32(4), 11u);
  EXPECT_EQ(Errno_("environ_get", {300, 400}), 0u);
  EXPECT_EQ(Get32(300), 400u);
  EXPECT_EQ(Get32(304), 408u);
  EXPECT_EQ(Str(400, 11), std::string("FOO=bar\0X=\0", 11));
}

TEST_F(Preview1Test, NoHostEnvironmentUnlessAsked) {
  setenv("WEFT_TEST_SECRET", "s3", 1);
  auto plain = CtxBuilder().Build();
  EXPECT_TRUE((*plain)->env().empty());
  auto inherit = CtxBuilder().InheritEnv("WEFT_TEST_SECRET").InheritEnv("WEFT_UNSET_VAR").Build();
  EXPECT_EQ((*inherit)->env(), std::vector<std::string>{"WEFT_TEST_SECRET=s3"});
}

TEST_F(Preview1Test, Clocks) {
  EXPECT_EQ(Errno_("clock_time_get", {1, 0, 64}), 0u);
  uint64_t t1 = Get64(64);
  EXPECT_EQ(Errno_("clock_time_get", {1, 0, 64}), 0u);
  EXPECT_GE(Get64(64), t1);
  EXPECT_EQ(Errno_("clock_res_get", {0, 72}), 0u);
  EXPECT_GT(Get64(72), 0u);
  // CPU-time clocks are real (wasmtime answers EBADF; weft follows the WASI spec).
  EXPECT_EQ(Errno_("clock_res_get", {2, 72}), 0u);
  EXPECT_GT(Get64(72), 0u);
  EXPECT_EQ(Errno_("clock_res_get", {3, 72}), 0u);
  EXPECT_GT(Get64(72), 0u);
  EXPECT_EQ(Errno_("clock_time_get", {2, 0, 64}), 0u);
  EXPECT_EQ(Errno_("clock_time_get", {3, 0, 64}), 0u);
}

TEST_F(Preview1Test, CustomClocksAreUsed) {
  Build(CtxBuilder().Clocks(std::make_shared<FixedClocks>()));
  EXPECT_EQ(Errno_("clock_time_get", {0, 0, 64}), 0u);
  EXPECT_EQ(Get64(64), 1700000000000000000ull);
}

TEST_F(Preview1Test, RandomGetFillsTheBuffer) {
  EXPECT_EQ(Errno_("random_get", {100, 64}), 0u);
  int nonzero = 0;
  for (int i = 0; i < 64; ++i) nonzero += mem_[100 + i] != 0;
  EXPECT_GT(nonzero, 40);
  EXPECT_EQ(mem_[164], 0);
  Build(CtxBuilder().Random([](std::span<uint8_t> b) -> ErrnoOr<void> {
    for (auto& x : b) x = 7;
    return {};
  }));
  EXPECT_EQ(Errno_("random_get", {10, 3}), 0u);
  EXPECT_EQ(Str(10, 3), "\7\7\7");
}

TEST_F(Preview1Test, ProcExitIsAnExitTrap) {
  auto r = Run("proc_exit", {42});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().trap().kind, wasm::TrapKind::kExit);
  EXPECT_EQ(r.error().trap().exit_code, 42);
  EXPECT_EQ(ctx_->exit_code(), 42);
  // wasmtime refuses statuses >= 126.
  EXPECT_NE(TrapOf("proc_exit", {126}).find("invalid exit status"), std::string::npos);
}

TEST_F(Preview1Test, ProcRaiseSchedYieldAndSocketsOnNonSockets) {
  EXPECT_EQ(Errno_("proc_raise", {9}), E(Errno::kNotsup));
  EXPECT_EQ(Errno_("sched_yield", {}), 0u);
  uint32_t f = Open("hello.txt");
  EXPECT_EQ(Errno_("sock_accept", {f, 0, 64}), E(Errno::kNotsock));
  EXPECT_EQ(Errno_("sock_shutdown", {3, 3}), E(Errno::kNotsock));
  EXPECT_EQ(Errno_("sock_send", {1, 0, 0, 0, 64}), E(Errno::kNotsock));
  EXPECT_EQ(Errno_("sock_recv", {0, 0, 0, 0, 64, 68}), E(Errno::kNotsock));
}

// ---- fd_* -------------------------------------------------------------------------------

TEST_F(Preview1Test, FdWriteGathersIovecsAndTraces) {
  uint32_t a = PutStr(100, "hello, "), b = PutStr(200, "world\n");
  Put32(0, 100); Put32(4, a); Put32(8, 200); Put32(12, b);
  EXPECT_EQ(Errno_("fd_write", {1, 0, 2, 64}), 0u);
  EXPECT_EQ(Get32(64), 13u);
  EXPECT_EQ(out_->Contents(), "hello, world\n");
  ASSERT_FALSE(trace_.empty());
  EXPECT_EQ(trace_.back(), "fd_write(1, 0x0, 2, 0x40) -> 0 (nwritten=13)");
  EXPECT_EQ(Errno_("fd_write", {0, 0, 2, 64}), E(Errno::kBadf));  // stdin is a ReadPipe
  EXPECT_EQ(trace_.back(), "fd_write(0, 0x0, 2, 0x40) -> 8 (EBADF)");
}

TEST_F(Preview1Test, FdWriteWithManyIovecs) {
  // More iovecs than the on-stack array holds.
  for (uint32_t i = 0; i < 40; ++i) {
    mem_[1000 + i] = static_cast<uint8_t>('a' + i % 26);
    Put32(8 * i, 1000 + i);
    Put32(8 * i + 4, 1);
  }
  EXPECT_EQ(Errno_("fd_write", {1, 0, 40, 512}), 0u);
  EXPECT_EQ(Get32(512), 40u);
  EXPECT_EQ(out_->Contents(), "abcdefghijklmnopqrstuvwxyzabcdefghijklmn");
}

// A channel end in non-blocking mode answers EAGAIN when empty, and does not wait:
// the scheduler asks the handle's fdflags, not its poll fd (an internal eventfd).
TEST_F(Preview1Test, FdReadNonblockingEmptyChannelIsEagain) {
  auto [ours, theirs] = MakeChannel(16);
  Fd fd = *ctx_->table().Push(Entry::For(theirs));
  EXPECT_EQ(Errno_("fd_fdstat_set_flags", {fd, kFdflagNonblock}), 0u);
  Put32(0, 100); Put32(4, 8);
  EXPECT_EQ(Errno_("fd_read", {fd, 0, 1, 64}), E(Errno::kAgain));
  const uint8_t hi[] = {'h', 'i'};
  ConstIoVec v{hi, 2};
  ASSERT_TRUE(ours->Write(std::span<const ConstIoVec>(&v, 1)).ok());
  EXPECT_EQ(Errno_("fd_read", {fd, 0, 1, 64}), 0u);
  EXPECT_EQ(Get32(64), 2u);
  EXPECT_EQ(Str(100, 2), "hi");
}

TEST_F(Preview1Test, FdReadFromReadPipe) {
  Put32(0, 100); Put32(4, 3); Put32(8, 200); Put32(12, 10);
  EXPECT_EQ(Errno_("fd_read", {0, 0, 2, 64}), 0u);
  EXPECT_EQ(Get32(64), 5u);
  EXPECT_EQ(Str(100, 3), "inp");
  EXPECT_EQ(Str(200, 2), "ut");
  EXPECT_EQ(Errno_("fd_read", {0, 0, 2, 64}), 0u);
  EXPECT_EQ(Get32(64), 0u);  // end of file
}

TEST_F(Preview1Test, FdFdstatGetLayout) {
  std::memset(&mem_[64], 0xAA, 24);
  EXPECT_EQ(Errno_("fd_fdstat_get", {3, 64}), 0u);
  EXPECT_EQ(mem_[64], static_cast<uint8_t>(Filetype::kDirectory));
  EXPECT_EQ(mem_[65], 0);  // padding zeroed
  EXPECT_EQ(Get16(66), 0u);
  EXPECT_EQ(Get64(72), rights::kDirBase);
  EXPECT_EQ(Get64(80), rights::kAll);
  uint32_t f = Open("hello.txt", 0, rights::kFdRead | rights::kFdSeek, kFdflagAppend);
  EXPECT_EQ(Errno_("fd_fdstat_get", {f, 64}), 0u);
  EXPECT_EQ(mem_[64], static_cast<uint8_t>(Filetype::kRegularFile));
  EXPECT_EQ(Get64(72), rights::kFdRead | rights::kFdSeek);
  EXPECT_EQ(Get64(80), 0u);  // files inherit nothing
}

TEST_F(Preview1Test, FdstatSetRightsNarrowsOnly) {
  EXPECT_EQ(Errno_("fd_fdstat_set_rights", {1, rights::kFdWrite, 0}), 0u);
  EXPECT_EQ(Errno_("fd_fdstat_set_rights", {1, rights::kFdWrite | rights::kFdRead, 0}),
            E(Errno::kNotcapable));
  EXPECT_EQ(Errno_("fd_fdstat_set_rights", {1, 0, 0}), 0u);
  Put32(0, 100); Put32(4, 1);
  // A missing FD_WRITE right answers EBADF (as writing a read-only fd does).
  EXPECT_EQ(Errno_("fd_write", {1, 0, 1, 64}), E(Errno::kBadf));
  EXPECT_EQ(Errno_("fd_fdstat_get", {1, 64}), 0u);
  EXPECT_EQ(Get64(72), 0u);
}

TEST_F(Preview1Test, PrestatAndDirName) {
  EXPECT_EQ(Errno_("fd_prestat_get", {3, 64}), 0u);
  EXPECT_EQ(mem_[64], 0);
  EXPECT_EQ(Get32(68), 8u);
  EXPECT_EQ(Errno_("fd_prestat_dir_name", {3, 100, 8}), 0u);
  EXPECT_EQ(Str(100, 8), "/sandbox");
  EXPECT_EQ(Errno_("fd_prestat_dir_name", {3, 100, 7}), E(Errno::kNametoolong));
  EXPECT_EQ(Errno_("fd_prestat_get", {1, 64}), E(Errno::kBadf));  // not a preopen
  EXPECT_EQ(Errno_("fd_prestat_get", {4, 64}), E(Errno::kBadf));  // not open
}

TEST_F(Preview1Test, PathOpenReadSeekTellPreadFilestat) {
  uint32_t f = Open("hello.txt");
  EXPECT_EQ(f, 4u);
  Put32(0, 100); Put32(4, 5);
  EXPECT_EQ(Errno_("fd_read", {f, 0, 1, 64}), 0u);
  EXPECT_EQ(Str(100, 5), "hello");
  EXPECT_EQ(Errno_("fd_tell", {f, 64}), 0u);
  EXPECT_EQ(Get64(64), 5u);
  EXPECT_EQ(Errno_("fd_seek", {f, static_cast<uint64_t>(-2), 1, 64}), 0u);
  EXPECT_EQ(Get64(64), 3u);
  EXPECT_EQ(Errno_("fd_pread", {f, 0, 1, 7, 64}), 0u);
  EXPECT_EQ(Get32(64), 5u);
  EXPECT_EQ(Str(100, 5), "world");
  EXPECT_EQ(Errno_("fd_tell", {f, 64}), 0u);
  EXPECT_EQ(Get64(64), 3u);  // pread did not move the offset
  EXPECT_EQ(Errno_("fd_filestat_get", {f, 128}), 0u);
  EXPECT_EQ(mem_[128 + 16], static_cast<uint8_t>(Filetype::kRegularFile));
  EXPECT_EQ(Get64(128 + 32), 12u);
  EXPECT_EQ(Errno_("fd_close", {f}), 0u);
  EXPECT_EQ(Errno_("fd_close", {f}), E(Errno::kBadf));
}

TEST_F(Preview1Test, PathOpenErrors) {
  uint32_t n = PutStr(100, "missing");
  EXPECT_EQ(Errno_("path_open", {3, 0, 100, n, 0, rights::kAll, 0, 0, 200}), E(Errno::kNoent));
  n = PutStr(100, "hello.txt");
  EXPECT_EQ(Errno_("path_open", {3, 0, 100, n, kOflagCreat | kOflagExcl, rights::kAll, 0, 0, 200}),
            E(Errno::kExist));
  EXPECT_EQ(Errno_("path_open", {3, 0, 100, n, kOflagDirectory, rights::kAll, 0, 0, 200}),
            E(Errno::kNotdir));
  uint32_t f = Open("hello.txt");
  // path_* on a regular file fd is ENOTDIR (wasmtime), on stdio EBADF.
  EXPECT_EQ(Errno_("path_open", {f, 0, 100, n, 0, rights::kAll, 0, 0, 200}), E(Errno::kNotdir));
  EXPECT_EQ(Errno_("path_open", {1, 0, 100, n, 0, rights::kAll, 0, 0, 200}), E(Errno::kBadf));
  EXPECT_EQ(Errno_("path_create_directory", {f, 100, n}), E(Errno::kNotdir));
}

TEST_F(Preview1Test, OpenedFileRightsAreNarrowedByTheRequest) {
  uint32_t f = Open("hello.txt", 0, rights::kFdRead);
  Put32(0, 100); Put32(4, 1);
  EXPECT_EQ(Errno_("fd_write", {f, 0, 1, 64}), E(Errno::kBadf));
  EXPECT_EQ(Errno_("fd_seek", {f, 1, 0, 64}), E(Errno::kNotcapable));
  EXPECT_EQ(Errno_("fd_read", {f, 0, 1, 64}), 0u);
}

TEST_F(Preview1Test, CreateWriteTruncateAndAppend) {
  uint32_t f = Open("new.txt", kOflagCreat, rights::kAll);
  uint32_t n = PutStr(100, "abcdef");
  Put32(0, 100); Put32(4, n);
  EXPECT_EQ(Errno_("fd_write", {f, 0, 1, 64}), 0u);
  EXPECT_EQ(*root_->ReadFile("new.txt"), "abcdef");
  EXPECT_EQ(Errno_("fd_filestat_set_size", {f, 3}), 0u);
  EXPECT_EQ(*root_->ReadFile("new.txt"), "abc");
  uint32_t g = Open("new.txt", 0, rights::kAll, kFdflagAppend);
  EXPECT_EQ(Errno_("fd_write", {g, 0, 1, 64}), 0u);
  EXPECT_EQ(*root_->ReadFile("new.txt"), "abcabcdef");
  uint32_t h = Open("new.txt", kOflagTrunc, rights::kAll);
  EXPECT_NE(h, 0u);
  EXPECT_EQ(*root_->ReadFile("new.txt"), "");
}

TEST_F(Preview1Test, StdoutIsNotSeekable) {
  EXPECT_EQ(Errno_("fd_seek", {1, 0, 0, 64}), E(Errno::kSpipe));
  EXPECT_EQ(Errno_("fd_tell", {1, 64}), E(Errno::kSpipe));
  EXPECT_EQ(Errno_("fd_seek", {3, 0, 0, 64}), E(Errno::kBadf));  // a directory
}

TEST_F(Preview1Test, PathCalls) {
  uint32_t n = PutStr(100, "d");
  EXPECT_EQ(Errno_("path_create_directory", {3, 100, n}), 0u);
  EXPECT_EQ(Errno_("path_create_directory", {3, 100, n}), E(Errno::kExist));
  EXPECT_EQ(Errno_("path_filestat_get", {3, 1, 100, n, 2048}), 0u);
  EXPECT_EQ(mem_[2048 + 16], static_cast<uint8_t>(Filetype::kDirectory));
  uint32_t t = PutStr(300, "hello.txt"), l = PutStr(400, "link");
  EXPECT_EQ(Errno_("path_symlink", {300, t, 3, 400, l}), 0u);
  EXPECT_EQ(Errno_("path_readlink", {3, 400, l, 500, 64, 64}), 0u);
  EXPECT_EQ(Get32(64), 9u);
  EXPECT_EQ(Str(500, 9), "hello.txt");
  EXPECT_EQ(Errno_("path_readlink", {3, 400, l, 500, 4, 64}), 0u);  // truncated
  EXPECT_EQ(Get32(64), 4u);
  EXPECT_EQ(Errno_("path_filestat_get", {3, 0, 400, l, 2048}), 0u);
  EXPECT_EQ(mem_[2048 + 16], static_cast<uint8_t>(Filetype::kSymbolicLink));
  EXPECT_EQ(Errno_("path_filestat_get", {3, 1, 400, l, 2048}), 0u);
  EXPECT_EQ(mem_[2048 + 16], static_cast<uint8_t>(Filetype::kRegularFile));
  uint32_t r = PutStr(600, "renamed.txt");
  EXPECT_EQ(Errno_("path_rename", {3, 300, t, 3, 600, r}), 0u);
  EXPECT_EQ(*root_->ReadFile("renamed.txt"), "hello, world");
  uint32_t k = PutStr(700, "hard.txt");
  EXPECT_EQ(Errno_("path_link", {3, 0, 600, r, 3, 700, k}), 0u);
  EXPECT_EQ(Errno_("path_unlink_file", {3, 600, r}), 0u);
  EXPECT_EQ(*root_->ReadFile("hard.txt"), "hello, world");
  EXPECT_EQ(Errno_("path_remove_directory", {3, 100, n}), 0u);
  EXPECT_EQ(Errno_("path_remove_directory", {3, 100, n}), E(Errno::kNoent));
  uint32_t esc = PutStr(800, "../x");
  EXPECT_EQ(Errno_("path_create_directory", {3, 800, esc}), E(Errno::kPerm));
}

TEST_F(Preview1Test, FdReaddirSerialisesAndTruncates) {
  // Entries: ".", "..", "hello.txt", "sub".
  EXPECT_EQ(Errno_("fd_readdir", {3, 1024, 4096, 0, 64}), 0u);
  uint32_t used = Get32(64);
  EXPECT_EQ(used, 4 * 24 + 1 + 2 + 9 + 3);
  std::vector<std::string> names;
  std::vector<uint64_t> cookies;
  for (uint32_t at = 1024; at < 1024 + used;) {
    uint32_t len = Get32(at + 16);
    cookies.push_back(Get64(at));
    names.push_back(Str(at + 24, len));
    at += 24 + len;
  }
  EXPECT_EQ(names, (std::vector<std::string>{".", "..", "hello.txt", "sub"}));
  EXPECT_EQ(mem_[1024 + 20], static_cast<uint8_t>(Filetype::kDirectory));
  // A buffer that ends inside the third entry's name: bufused == buf_len.
  uint32_t cut = 24 + 1 + 24 + 2 + 24 + 4;
  EXPECT_EQ(Errno_("fd_readdir", {3, 1024, cut, 0, 64}), 0u);
  EXPECT_EQ(Get32(64), cut);
  // Resume from the cookie after ".." (the third entry).
  EXPECT_EQ(Errno_("fd_readdir", {3, 1024, 4096, cookies[1], 64}), 0u);
  EXPECT_EQ(Get32(64), 24 + 9 + 24 + 3u);
  EXPECT_EQ(Str(1024 + 24, 9), "hello.txt");
  // Not a directory.
  EXPECT_EQ(Errno_("fd_readdir", {1, 1024, 4096, 0, 64}), E(Errno::kBadf));
}

TEST_F(Preview1Test, FdRenumberClosesTheTarget) {
  uint32_t f = Open("hello.txt");
  EXPECT_EQ(Errno_("fd_renumber", {f, 1}), 0u);
  Put32(0, 100); Put32(4, 5);
  EXPECT_EQ(Errno_("fd_read", {1, 0, 1, 64}), 0u);
  EXPECT_EQ(Str(100, 5), "hello");
  EXPECT_EQ(Errno_("fd_close", {f}), E(Errno::kBadf));
  EXPECT_EQ(Errno_("fd_renumber", {1, 9}), E(Errno::kBadf));
}

TEST_F(Preview1Test, SyncAdviseAllocateOnVirtualFiles) {
  uint32_t f = Open("hello.txt");
  EXPECT_EQ(Errno_("fd_sync", {f}), 0u);
  EXPECT_EQ(Errno_("fd_datasync", {f}), 0u);
  EXPECT_EQ(Errno_("fd_advise", {f, 0, 10, 1}), 0u);
  EXPECT_EQ(Errno_("fd_sync", {3}), 0u);
  EXPECT_EQ(Errno_("fd_filestat_set_times", {f, 5000000000ull, 6000000000ull, kFstAtim | kFstMtim}), 0u);
  EXPECT_EQ(Errno_("fd_filestat_get", {f, 128}), 0u);
  EXPECT_EQ(Get64(128 + 40), 5000000000ull);
  EXPECT_EQ(Get64(128 + 48), 6000000000ull);
  uint32_t n = PutStr(100, "hello.txt");
  EXPECT_EQ(Errno_("path_filestat_set_times", {3, 1, 100, n, 7, 8, kFstAtim | kFstMtim}), 0u);
  EXPECT_EQ(Errno_("path_filestat_get", {3, 1, 100, n, 128}), 0u);
  EXPECT_EQ(Get64(128 + 48), 8u);
}

// ---- poll_oneoff ------------------------------------------------------------------------

// Writes subscription `i` at 0 + 48*i.
void PutClockSub(std::vector<uint8_t>& m, int i, uint64_t userdata, uint32_t clock,
                 uint64_t timeout, uint16_t flags) {
  uint8_t* s = &m[48 * i];
  std::memset(s, 0, 48);
  std::memcpy(s, &userdata, 8);
  s[8] = 0;
  std::memcpy(s + 16, &clock, 4);
  std::memcpy(s + 24, &timeout, 8);
  std::memcpy(s + 40, &flags, 2);
}
void PutFdSub(std::vector<uint8_t>& m, int i, uint64_t userdata, uint8_t tag, uint32_t fd) {
  uint8_t* s = &m[48 * i];
  std::memset(s, 0, 48);
  std::memcpy(s, &userdata, 8);
  s[8] = tag;
  std::memcpy(s + 16, &fd, 4);
}

TEST_F(Preview1Test, PollRelativeClockSleeps) {
  PutClockSub(mem_, 0, 0x1234, 1, 20'000'000, 0);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(Errno_("poll_oneoff", {0, 1024, 1, 4000}), 0u);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0).count();
  EXPECT_GE(ms, 19);
  EXPECT_EQ(Get32(4000), 1u);
  EXPECT_EQ(Get64(1024), 0x1234u);
  EXPECT_EQ(Get16(1024 + 8), 0u);
  EXPECT_EQ(mem_[1024 + 10], 0);  // clock
}

TEST_F(Preview1Test, PollAbsoluteClockInThePastFiresAtOnce) {
  PutClockSub(mem_, 0, 1, 0, 1000, 1);  // realtime, ABSTIME, 1970
  PutClockSub(mem_, 1, 2, 1, 10'000'000'000ull, 0);  // 10 s relative: must not fire
  EXPECT_EQ(Errno_("poll_oneoff", {0, 1024, 2, 4000}), 0u);
  EXPECT_EQ(Get32(4000), 1u);
  EXPECT_EQ(Get64(1024), 1u);
}

// A clock that takes a while to read (an embedder's clock, or a thread preempted in the
// middle of poll_oneoff): an absolute deadline must still not fire before the clock
// reaches it. poll_oneoff once measured the wait from a host reading taken before the
// guest clock's, so it fired early by however long that read took (seen in CI).
class SlowMonotonicClock : public Clocks {
 public:
  ErrnoOr<Timestamp> Now(Clockid id) override {
    if (id == Clockid::kMonotonic) std::this_thread::sleep_for(std::chrono::milliseconds(15));
    return Clocks::Now(id);
  }
};

TEST_F(Preview1Test, PollAbsoluteClockNeverFiresBeforeItsTime) {
  Build(CtxBuilder().Clocks(std::make_shared<SlowMonotonicClock>()));
  Clocks host;
  ErrnoOr<Timestamp> start = host.Now(Clockid::kMonotonic);
  ASSERT_TRUE(start.ok());
  const uint64_t deadline = *start + 40'000'000;  // 40 ms on
  PutClockSub(mem_, 0, 7, 1, deadline, 1);        // monotonic, ABSTIME
  EXPECT_EQ(Errno_("poll_oneoff", {0, 1024, 1, 4000}), 0u);
  ErrnoOr<Timestamp> after = host.Now(Clockid::kMonotonic);
  ASSERT_TRUE(after.ok());
  EXPECT_GE(*after, deadline);
  EXPECT_EQ(Get32(4000), 1u);
  EXPECT_EQ(Get64(1024), 7u);
}

TEST_F(Preview1Test, PollFdReadinessAndPerSubscriptionErrors) {
  PutFdSub(mem_, 0, 10, 1, 0);   // stdin ReadPipe: 5 bytes
  PutFdSub(mem_, 1, 11, 2, 1);   // stdout WritePipe
  PutFdSub(mem_, 2, 12, 1, 99);  // bad fd: an event with EBADF, not a failed call
  PutClockSub(mem_, 3, 13, 1, 10'000'000'000ull, 0);
  EXPECT_EQ(Errno_("poll_oneoff", {0, 1024, 4, 4000}), 0u);
  ASSERT_EQ(Get32(4000), 3u);
  EXPECT_EQ(Get64(1024), 10u);
  EXPECT_EQ(mem_[1024 + 10], 1);
  EXPECT_EQ(Get64(1024 + 16), 5u);  // nbytes
  EXPECT_EQ(Get16(1024 + 24), 0u);
  EXPECT_EQ(Get64(1056), 11u);
  EXPECT_EQ(mem_[1056 + 10], 2);
  EXPECT_EQ(Get64(1088), 12u);
  EXPECT_EQ(Get16(1088 + 8), E(Errno::kBadf));
}

TEST_F(Preview1Test, PollReportsHangupAtEndOfPipe) {
  Put32(0, 100); Put32(4, 10);
  EXPECT_EQ(Errno_("fd_read", {0, 0, 1, 64}), 0u);  // drain stdin
  PutFdSub(mem_, 0, 10, 1, 0);
  EXPECT_EQ(Errno_("poll_oneoff", {0, 1024, 1, 4000}), 0u);
  EXPECT_EQ(Get32(4000), 1u);
  EXPECT_EQ(Get16(1024 + 24), 1u);  // FDREADWRITE_HANGUP
  EXPECT_EQ(Get64(1024 + 16), 0u);
}

// A handle that is never ready and has no poll source: only the clock can end the wait.
class NeverReady : public File {
 public:
  Filetype filetype() const override { return Filetype::kUnknown; }
  Readiness CheckReadiness(Interest) override { return Readiness{false, 0, false, Errno::kSuccess}; }
};

TEST_F(Preview1Test, InterruptWakesABlockedPoll) {
  Fd fd = *ctx_->table().Push(Entry::For(std::make_shared<NeverReady>()));
  PutFdSub(mem_, 0, 1, 1, fd);
  std::thread waker([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    ctx_->Interrupt();
  });
  auto r = Run("poll_oneoff", {0, 1024, 1, 4000});
  waker.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().trap().kind, wasm::TrapKind::kInterrupted);
  ctx_->ClearInterrupt();
  EXPECT_FALSE(ctx_->interrupted());
  // With a clock it just times out normally after the interrupt is cleared.
  PutClockSub(mem_, 1, 2, 1, 5'000'000, 0);
  EXPECT_EQ(Errno_("poll_oneoff", {0, 1024, 2, 4000}), 0u);
  EXPECT_EQ(Get32(4000), 1u);
  EXPECT_EQ(Get64(1024), 2u);
}

TEST_F(Preview1Test, InterruptWakesABlockingReadOfAHostPipe) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  // An FdFile over the read end of a host pipe nobody writes to.
  Fd fd = *ctx_->table().Push(Entry::For(std::make_shared<FdFile>(p[0], true)));
  Put32(0, 100); Put32(4, 10);
  std::thread waker([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    ctx_->Interrupt();
  });
  auto r = Run("fd_read", {fd, 0, 1, 64});
  waker.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().trap().kind, wasm::TrapKind::kInterrupted);
  close(p[1]);
}

TEST_F(Preview1Test, InterruptWakesABlockingReadOfAnInProcessChannel) {
  auto [rd, wr] = MakePipe();
  Fd fd = *ctx_->table().Push(Entry::For(rd));
  Put32(0, 100); Put32(4, 10);
  std::thread waker([this] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    ctx_->Interrupt();
  });
  auto r = Run("fd_read", {fd, 0, 1, 64});
  waker.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().trap().kind, wasm::TrapKind::kInterrupted);
  EXPECT_EQ(r.error().trap().detail, "fd_read: interrupted");
  // Once cleared, data written by the host is read normally.
  ctx_->ClearInterrupt();
  uint8_t data[] = {'o', 'k'};
  ConstIoVec v{data, 2};
  ASSERT_TRUE(wr->Write(std::span<const ConstIoVec>(&v, 1)).ok());
  EXPECT_EQ(Errno_("fd_read", {fd, 0, 1, 64}), 0u);
  EXPECT_EQ(Get32(64), 2u);
  EXPECT_EQ(Str(100, 2), "ok");
}

}  // namespace
}  // namespace weft::wasi
