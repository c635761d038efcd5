// The path_open + fd_close fast paths of the host filesystem: CPath's one-pass scan,
// OpenBeneath's error order, OpenAt's host flags, and the per-thread block cache the
// opened handles come from.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "host_test_util.h"
#include "wasi/host/host_util.h"
#include "wasi/host/resolve.h"
#include "weft/wasi/fd_file.h"

namespace weft::wasi {
namespace {

using testing::ErrOf;
using testing::Opts;

TEST(HostCPathTest, CopiesAndFindsNulAndSlashAtEveryLengthAndPlace) {
  std::mt19937 rng(7);
  for (size_t n = 0; n < 300; ++n) {
    for (int round = 0; round < 40; ++round) {
      std::string s(n, 'a');
      for (char& c : s) c = static_cast<char>('a' + rng() % 26);
      // Put at most one NUL and one '/' somewhere (or nowhere), high bytes too.
      if (n > 0 && round % 3 == 0) s[rng() % n] = '\0';
      if (n > 0 && round % 4 == 1) s[rng() % n] = '/';
      if (n > 0 && round % 5 == 2) s[rng() % n] = static_cast<char>(0xC3);
      if (n > 0 && round % 7 == 3) s[rng() % n] = static_cast<char>(0xAF);  // '/' ^ 0x80
      host::CPath p(s);
      ASSERT_EQ(p.has_nul(), s.find('\0') != std::string::npos) << n << " " << round;
      ASSERT_EQ(p.has_slash(), s.find('/') != std::string::npos) << n << " " << round;
      ASSERT_EQ(std::memcmp(p.c_str(), s.data(), n), 0);
      ASSERT_EQ(p.c_str()[n], '\0');
    }
  }
}

class HostOpenCloseTest : public testing::HostDirFixture {};

TEST_P(HostOpenCloseTest, OpenBeneathChecksTheGuestPathInOrder) {
  testing::WriteHostFile(P("f"), "x");
  int root = open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(root, 0);
  using std::string_view;
  auto open_path = [&](string_view path) { return host::OpenBeneath(root, path, O_RDONLY, 0, true); };
  EXPECT_EQ(ErrOf(open_path("")), Errno::kNoent);
  EXPECT_EQ(ErrOf(open_path(string_view("f\0", 2))), Errno::kInval);
  EXPECT_EQ(ErrOf(open_path(string_view("/\0", 2))), Errno::kInval);  // NUL before absolute
  EXPECT_EQ(ErrOf(open_path("/f")), Errno::kPerm);
  EXPECT_EQ(ErrOf(open_path("../f")), Errno::kPerm);
  EXPECT_EQ(ErrOf(open_path("missing")), Errno::kNoent);
  EXPECT_EQ(ErrOf(open_path("f")), Errno::kSuccess);
  EXPECT_EQ(ErrOf(open_path("./f")), Errno::kSuccess);
  std::string long_name(300, 'n');  // past CPath's inline buffer
  EXPECT_EQ(ErrOf(open_path(long_name)), Errno::kNametoolong);
  EXPECT_EQ(ErrOf(open_path(long_name + std::string(1, '\0'))), Errno::kInval);
  close(root);
}

TEST_P(HostOpenCloseTest, OpenAtPassesEveryFdflagToTheHost) {
  OpenRoot();
  testing::WriteHostFile(P("f"), "0123456789");
  struct Case {
    Fdflags fdflags;
    int host;
  };
  const Case cases[] = {{kFdflagAppend, O_APPEND}, {kFdflagNonblock, O_NONBLOCK},
                        {kFdflagDsync, O_DSYNC},   {kFdflagSync, O_SYNC},
                        {kFdflagAppend | kFdflagNonblock, O_APPEND | O_NONBLOCK}};
  for (const Case& c : cases) {
    auto h = dir_->OpenAt("f", Opts(0, true, true, 0, c.fdflags));
    ASSERT_TRUE(h.ok()) << c.fdflags;
    auto* file = dynamic_cast<FdFile*>(h->get());
    ASSERT_NE(file, nullptr);
    int fl = fcntl(file->fd(), F_GETFL);
    EXPECT_EQ(fl & c.host, c.host) << c.fdflags;
    EXPECT_EQ(fl & O_ACCMODE, O_RDWR);
    auto reported = (*h)->GetFdflags();
    ASSERT_TRUE(reported.ok());
    EXPECT_EQ(*reported & c.fdflags, c.fdflags);
  }
  // Oflags: TRUNC empties, CREAT|EXCL refuses an existing name, DIRECTORY a file.
  ASSERT_TRUE(dir_->OpenAt("f", Opts(kOflagTrunc, false, true)).ok());
  EXPECT_EQ(testing::ReadHostFile(P("f")), "");
  EXPECT_EQ(ErrOf(dir_->OpenAt("f", Opts(kOflagCreat | kOflagExcl, false, true))), Errno::kExist);
  EXPECT_EQ(ErrOf(dir_->OpenAt("f", Opts(kOflagDirectory))), Errno::kNotdir);
  ASSERT_TRUE(dir_->OpenAt("g", Opts(kOflagCreat | kOflagExcl, false, true)).ok());
  EXPECT_TRUE(testing::HostExists(P("g")));
}

INSTANTIATE_TEST_SUITE_P(Resolvers, HostOpenCloseTest, testing::AllResolvers(),
                         testing::ModeName);

struct Counted {
  explicit Counted(int* live) : live_(live) { ++*live_; }
  ~Counted() { --*live_; }
  int* live_;
  char pad[48];
};

TEST(HostBlockCacheTest, RecycledBlocksHoldFreshObjects) {
  int live = 0;
  host::RecyclingAllocator<Counted> alloc;
  std::vector<std::shared_ptr<Counted>> held;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 12; ++i) held.push_back(std::allocate_shared<Counted>(alloc, &live));
    EXPECT_EQ(live, static_cast<int>(held.size()));
    for (auto& h : held) EXPECT_EQ(h->live_, &live);
    held.clear();
    EXPECT_EQ(live, 0);
  }
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // A block just freed is the next one handed out for that size.
  Counted* first = std::allocate_shared<Counted>(alloc, &live).get();
  auto second = std::allocate_shared<Counted>(alloc, &live);
  EXPECT_EQ(second.get(), first);
#endif
}

TEST(HostBlockCacheTest, BlocksMoveBetweenThreads) {
  // Made on one thread, dropped on another (each caches what it frees), and threads
  // that exit with cached blocks: nothing crashes, every object is destroyed once.
  int live = 0;
  host::RecyclingAllocator<Counted> alloc;
  std::vector<std::shared_ptr<Counted>> made;
  for (int i = 0; i < 20; ++i) made.push_back(std::allocate_shared<Counted>(alloc, &live));
  std::thread dropper([&] {
    made.clear();
    for (int i = 0; i < 20; ++i) std::allocate_shared<Counted>(alloc, &live).reset();
  });
  dropper.join();
  EXPECT_EQ(live, 0);
  for (int i = 0; i < 4; ++i) {
    std::thread([&] {
      std::vector<std::shared_ptr<Counted>> v;
      for (int k = 0; k < 16; ++k) v.push_back(std::allocate_shared<Counted>(alloc, &live));
    }).join();
  }
  EXPECT_EQ(live, 0);
}

}  // namespace
}  // namespace weft::wasi
