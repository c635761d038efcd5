// End to end: real wasi-libc programs (compiled here with clang-19 for wasm32-wasi) run
// by the engine against in-process handles: a VirtualDir preopen (what a guest sees
// with WEFT_HOST_FS=OFF) and Channel ends as stdin/stdout. Skipped when clang-19 or
// wasi-libc is missing.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "guest_build_util.h"
#include "weft/wasi/binding.h"
#include "weft/wasi/channel.h"
#include "weft/wasi/ctx.h"
#include "weft/wasi/pipe.h"
#include "weft/wasi/virtual_fs.h"
#include "weft/wasm/module.h"
#include "weft/wasm/runtime.h"

namespace weft::wasi {
namespace {

using namespace std::chrono_literals;

// Compiles `source` (C) to a wasm32-wasi command module; empty when no toolchain.
std::vector<uint8_t> CompileGuest(const std::string& source, std::string* why) {
  if (system("command -v clang-19 >/dev/null 2>&1") != 0 ||
      access("/usr/include/wasm32-wasi/stdio.h", R_OK) != 0) {
    *why = "clang-19 or wasi-libc not installed";
    return {};
  }
  std::vector<uint8_t> bytes = testing::BuildInTempDir(
      source, "guest.c", "guest.wasm", [](const std::string& src, const std::string& wasm) {
        return "clang-19 --target=wasm32-wasi --sysroot=/usr -O1 -Wall -Werror -o " + wasm + " " +
               src + " 2>&1";
      });
  if (bytes.empty()) *why = "guest failed to compile";
  return bytes;
}

// Runs `_start`; returns the exit code (0 when it returns), or -1000 - trap kind.
int RunGuest(const std::vector<uint8_t>& bytes, std::shared_ptr<Ctx> ctx) {
  auto module = wasm::DecodeModule(bytes);
  EXPECT_TRUE(module.ok());
  if (!module.ok()) return -1;
  wasm::Store store;
  wasm::Linker linker;
  AddToLinker(linker, store, ctx);
  auto inst = linker.Instantiate(store, *module);
  EXPECT_TRUE(inst.ok());
  if (!inst.ok()) return -2;
  wasm::FuncInst* start = (*inst)->GetFunc("_start");
  EXPECT_NE(start, nullptr);
  if (start == nullptr) return -3;
  auto trap = wasm::Call(store, start, {}, {});
  if (!trap) return 0;
  if (trap->kind == wasm::TrapKind::kExit) return trap->exit_code;
  return -1000 - static_cast<int>(trap->kind);
}

const char kFsGuest[] = R"C(
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHECK(c) do { if (!(c)) { printf("FAIL line %d: %s (errno %d)\n", __LINE__, #c, errno); return 1; } } while (0)

int main(void) {
  char buf[64];
  FILE* f = fopen("/data/in.txt", "r");
  CHECK(f != NULL);
  CHECK(fgets(buf, sizeof buf, f) != NULL);
  CHECK(strcmp(buf, "from host\n") == 0);
  CHECK(fclose(f) == 0);
  CHECK(fopen("/data/missing.txt", "r") == NULL && errno == ENOENT);

  CHECK(mkdir("/data/out", 0755) == 0);
  CHECK(mkdir("/data/out", 0755) == -1 && errno == EEXIST);
  f = fopen("/data/out/a.txt", "w");
  CHECK(f != NULL);
  CHECK(fprintf(f, "hello %d\n", 42) == 9);
  CHECK(fclose(f) == 0);
  f = fopen("/data/out/a.txt", "a");
  CHECK(f != NULL);
  CHECK(fputs("more\n", f) >= 0);
  CHECK(fclose(f) == 0);

  struct stat st;
  CHECK(stat("/data/out/a.txt", &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK(st.st_size == 14);
  CHECK(stat("/data/out", &st) == 0 && S_ISDIR(st.st_mode));

  CHECK(rename("/data/out/a.txt", "/data/out/b.txt") == 0);
  CHECK(access("/data/out/a.txt", F_OK) == -1 && errno == ENOENT);
  CHECK(symlink("b.txt", "/data/out/link") == 0);
  char target[32];
  CHECK(readlink("/data/out/link", target, sizeof target) == 5);
  CHECK(memcmp(target, "b.txt", 5) == 0);
  CHECK(lstat("/data/out/link", &st) == 0 && S_ISLNK(st.st_mode));
  f = fopen("/data/out/link", "r");
  CHECK(f != NULL);
  CHECK(fgets(buf, sizeof buf, f) != NULL && strcmp(buf, "hello 42\n") == 0);
  CHECK(fclose(f) == 0);

  DIR* d = opendir("/data/out");
  CHECK(d != NULL);
  int dots = 0, b = 0, link = 0, other = 0;
  struct dirent* e;
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) dots++;
    else if (!strcmp(e->d_name, "b.txt") && e->d_type == DT_REG) b++;
    else if (!strcmp(e->d_name, "link") && e->d_type == DT_LNK) link++;
    else other++;
  }
  CHECK(closedir(d) == 0);
  CHECK(dots == 2 && b == 1 && link == 1 && other == 0);

  CHECK(unlink("/data/out/link") == 0);
  CHECK(rmdir("/data/out") == -1 && errno == ENOTEMPTY);
  CHECK(unlink("/data/out") == -1 && errno == EISDIR);

  int fd = open("/data/out/c.bin", O_CREAT | O_EXCL | O_RDWR, 0644);
  CHECK(fd >= 0);
  CHECK(write(fd, "abcdef", 6) == 6);
  CHECK(lseek(fd, 2, SEEK_SET) == 2);
  CHECK(read(fd, buf, 2) == 2 && memcmp(buf, "cd", 2) == 0);
  CHECK(ftruncate(fd, 3) == 0);
  CHECK(fstat(fd, &st) == 0 && st.st_size == 3);
  CHECK(close(fd) == 0);
  CHECK(open("/data/out/c.bin", O_CREAT | O_EXCL | O_RDWR, 0644) == -1 && errno == EEXIST);
  CHECK(open("/data/out/c.bin/x", O_RDONLY) == -1 && errno == ENOTDIR);

  CHECK(mkdir("/data/gone", 0755) == 0);
  CHECK(rmdir("/data/gone") == 0);
  CHECK(stat("/data/gone", &st) == -1 && errno == ENOENT);
  printf("ok\n");
  return 0;
}
)C";

TEST(VirtGuest, LibcFileOpsOnVirtualFs) {
  std::string why;
  std::vector<uint8_t> wasm = CompileGuest(kFsGuest, &why);
  if (wasm.empty()) GTEST_SKIP() << why;
  auto fs = MakeVirtualFs();
  ASSERT_TRUE(fs->AddFile("in.txt", "from host\n").ok());
  auto out = std::make_shared<WritePipe>();
  auto ctx = CtxBuilder().Arg("guest").PreopenDir(fs, "/data").Stdout(out).Build();
  ASSERT_TRUE(ctx.ok()) << ctx.error();
  EXPECT_EQ(RunGuest(wasm, *ctx), 0) << out->Contents();
  EXPECT_EQ(out->Contents(), "ok\n");
  EXPECT_EQ(*fs->ReadFile("out/b.txt"), "hello 42\nmore\n");
  EXPECT_EQ(*fs->ReadFile("out/c.bin"), "abc");
  EXPECT_EQ(fs->StatAt(0, "out/link").ok(), false);
}

const char kEchoGuest[] = R"C(
#include <ctype.h>
#include <stdio.h>

int main(void) {
  int c;
  long n = 0;
  while ((c = getchar()) != EOF) {
    putchar(toupper(c));
    if (c == '\n') fflush(stdout);
    n++;
  }
  printf("[%ld]\n", n);
  return 0;
}
)C";

// stdin and stdout are Channel ends fed and drained by host threads: the guest's
// blocking reads wait for data and see EOF when the host drops its end.
TEST(VirtGuest, ChannelStdinStdoutThread) {
  std::string why;
  std::vector<uint8_t> wasm = CompileGuest(kEchoGuest, &why);
  if (wasm.empty()) GTEST_SKIP() << why;
  auto [host_in, guest_in] = MakeChannel(16);
  auto [guest_out, host_out] = MakeChannel(16);
  auto ctx = CtxBuilder().Arg("echo").Stdin(guest_in).Stdout(guest_out).Build();
  ASSERT_TRUE(ctx.ok()) << ctx.error();
  guest_in.reset();
  guest_out.reset();
  std::string received;
  std::thread feeder([h = std::move(host_in)]() mutable {
    const std::string text = "hello, channel\nsecond line is longer than sixteen bytes\n";
    for (size_t i = 0; i < text.size(); i += 7) {
      std::string part = text.substr(i, 7);
      ConstIoVec iov{reinterpret_cast<const uint8_t*>(part.data()), part.size()};
      ASSERT_TRUE(h->Write(std::span<const ConstIoVec>(&iov, 1)).ok());
      std::this_thread::sleep_for(2ms);
    }
    h.reset();  // EOF for the guest
  });
  std::thread drainer([h = host_out, &received] {
    char buf[8];
    for (;;) {
      IoVec iov{reinterpret_cast<uint8_t*>(buf), sizeof buf};
      auto r = h->Read(std::span<const IoVec>(&iov, 1));
      if (!r.ok() || *r == 0) break;
      received.append(buf, *r);
    }
  });
  host_out.reset();
  int rc = RunGuest(wasm, *ctx);
  ctx->reset();  // drops the table's ends: EOF for the drainer
  feeder.join();
  drainer.join();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(received, "HELLO, CHANNEL\nSECOND LINE IS LONGER THAN SIXTEEN BYTES\n[56]\n");
}

// A guest blocked reading an empty Channel is woken by Ctx::Interrupt() from another
// thread (the scheduler waits on the channel's eventfd and the ctx's wake fd together).
TEST(VirtGuest, ChannelBlockedReadInterruptedThread) {
  std::string why;
  std::vector<uint8_t> wasm = CompileGuest(kEchoGuest, &why);
  if (wasm.empty()) GTEST_SKIP() << why;
  auto [host_in, guest_in] = MakeChannel(16);
  auto ctx = CtxBuilder().Arg("echo").Stdin(guest_in).Build();
  ASSERT_TRUE(ctx.ok()) << ctx.error();
  std::shared_ptr<Ctx> c = *ctx;
  std::thread interrupter([c] {
    std::this_thread::sleep_for(100ms);
    c->Interrupt();
  });
  int rc = RunGuest(wasm, c);
  interrupter.join();
  EXPECT_EQ(rc, -1000 - static_cast<int>(wasm::TrapKind::kInterrupted));
  // The channel is intact: nothing was consumed, the host end still works.
  EXPECT_FALSE(host_in->CheckReadiness(Interest::kWrite).hangup);
}

}  // namespace
}  // namespace weft::wasi
