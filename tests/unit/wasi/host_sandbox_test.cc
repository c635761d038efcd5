// The sandbox-escape suite: nothing a guest can name through a HostDir reaches outside
// the preopen, for both resolvers (openat2 and the component walk). Files planted
// outside are compared (content, size, times, link count) after every test.
#include <fcntl.h>
#include <ftw.h>
#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "host_test_util.h"
#include "wasi/host/resolve.h"
#include "weft/wasi/host_fs.h"

namespace weft::wasi {
namespace {

using testing::ErrOf;
using testing::HostExists;
using testing::ModeName;
using testing::Opts;
using testing::ReadAll;
using testing::ReadHostFile;
using testing::WriteHostFile;
using testing::WriteStr;

struct Snap {
  std::string content;
  off_t size;
  nlink_t nlink;
  mode_t mode;
  int64_t mtime_ns, atime_ns, ctime_ns;
  bool operator==(const Snap&) const = default;
};

int64_t Ns(const struct timespec& ts) { return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec; }

std::map<std::string, Snap>* g_snap;  // nftw has no user pointer
std::string g_skip_prefix;

std::map<std::string, Snap> SnapshotOutside(const std::string& base, const std::string& root) {
  std::map<std::string, Snap> out;
  g_snap = &out;
  g_skip_prefix = root;
  nftw(
      base.c_str(),
      [](const char* p, const struct stat* st, int, struct FTW*) {
        std::string path(p);
        if (path.compare(0, g_skip_prefix.size(), g_skip_prefix) == 0) return 0;
        // Files are read with O_NOATIME so that the snapshot itself leaves atime alone
        // (a read through the sandbox would move it). Directory atimes move whenever
        // anyone lists them, this walk included, so they are not compared.
        bool reg = S_ISREG(st->st_mode);
        Snap s{reg ? ReadHostFile(path, O_NOATIME) : "",
               st->st_size,
               st->st_nlink,
               st->st_mode,
               Ns(st->st_mtim),
               reg ? Ns(st->st_atim) : 0,
               Ns(st->st_ctim)};
        (*g_snap)[path] = s;
        return 0;
      },
      64, FTW_PHYS);
  return out;
}

class SandboxTest : public testing::HostDirFixture {
 protected:
  void SetUp() override {
    HostDirFixture::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    std::string out = base_ + "/outside";
    ASSERT_EQ(mkdir(out.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((out + "/sub").c_str(), 0755), 0);
    WriteHostFile(out + "/secret", "SECRET");
    WriteHostFile(out + "/victim", "VICTIM");
    WriteHostFile(base_ + "/topsecret", "TOP");
    // Inside the sandbox.
    WriteHostFile(P("file"), "inside");
    ASSERT_EQ(mkdir(P("a").c_str(), 0755), 0);
    ASSERT_EQ(mkdir(P("a/b").c_str(), 0755), 0);
    ASSERT_EQ(symlink("/", P("to_root").c_str()), 0);
    ASSERT_EQ(symlink("..", P("to_parent").c_str()), 0);
    ASSERT_EQ(symlink("../outside", P("to_sibling").c_str()), 0);
    ASSERT_EQ(symlink("../outside/secret", P("to_secret").c_str()), 0);
    ASSERT_EQ(symlink((root_ + "/file").c_str(), P("abs_inside").c_str()), 0);
    ASSERT_EQ(symlink("c2", P("c1").c_str()), 0);
    ASSERT_EQ(symlink("a/c3", P("c2").c_str()), 0);
    ASSERT_EQ(symlink("../../outside", P("a/c3").c_str()), 0);
    ASSERT_EQ(symlink("a/b/../../..", P("deep").c_str()), 0);
    ASSERT_EQ(symlink("../../../outside", P("a/b/up").c_str()), 0);
    ASSERT_EQ(symlink("../outside/created", P("dangle").c_str()), 0);
    ASSERT_EQ(symlink("a/b/up/secret", P("via_up").c_str()), 0);
    // Old, fixed times outside so that any write, truncate or read shows.
    struct timespec old[2] = {{1000, 0}, {1000, 0}};
    for (const char* p :
         {"/outside/secret", "/outside/victim", "/outside/sub", "/outside", "/topsecret"}) {
      ASSERT_EQ(utimensat(AT_FDCWD, (base_ + p).c_str(), old, AT_SYMLINK_NOFOLLOW), 0);
    }
    before_ = SnapshotOutside(base_, root_);
    OpenRoot();
  }
  void TearDown() override {
    dir_.reset();
    if (!base_.empty() && !IsSkipped()) ExpectOutsideUnchanged();
    HostDirFixture::TearDown();
  }
  void ExpectOutsideUnchanged() {
    auto after = SnapshotOutside(base_, root_);
    EXPECT_EQ(after.size(), before_.size()) << "files appeared or vanished outside the sandbox";
    for (const auto& [path, snap] : before_) {
      auto it = after.find(path);
      ASSERT_NE(it, after.end()) << path << " vanished";
      EXPECT_EQ(it->second.content, snap.content) << path;
      EXPECT_TRUE(it->second == snap) << path << " changed (size/mode/nlink/times)";
    }
  }

  std::map<std::string, Snap> before_;
};

// Paths that leave lexically.
const char* const kLexical[] = {"/etc/passwd",
                                "/",
                                "..",
                                "../outside/secret",
                                "a/../../outside/secret",
                                "a/b/../../../topsecret",
                                "./..",
                                "a/../..",
                                "../root/file",
                                "a/b/../../../outside",
                                "//etc"};

TEST_P(SandboxTest, LexicalEscapesArePerm) {
  for (const char* p : kLexical) {
    SCOPED_TRACE(p);
    std::string s(p);
    EXPECT_EQ(ErrOf(dir_->OpenAt(s, Opts(0, true, false))), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->OpenAt(s, Opts(0, true, false, kLookupSymlinkFollow))), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->OpenAt(s + "/new", Opts(kOflagCreat, false, true))), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->StatAt(0, s)), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->StatAt(kLookupSymlinkFollow, s)), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->CreateDir(s + "/newdir")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->UnlinkFile(s)), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->RemoveDir(s)), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->Rename(s, *dir_, "stolen")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->Rename("file", *dir_, s + "/planted")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->Link(0, s, *dir_, "hard")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->Link(0, "file", *dir_, s + "/hard")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->Symlink("file", s + "/sym")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->Readlink(s)), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->SetTimesAt(0, s, 0, 5, kFstMtim)), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->SetTimesAt(kLookupSymlinkFollow, s, 0, 5, kFstMtim)), Errno::kPerm);
  }
  EXPECT_FALSE(HostExists(P("stolen")));
  EXPECT_FALSE(HostExists(P("hard")));
}

// Symlinks inside the sandbox that lead to a directory outside it.
const char* const kDirLinks[] = {"to_root", "to_parent", "to_sibling", "c1", "deep", "a/b/up"};

TEST_P(SandboxTest, SymlinkedDirectoriesOutsideArePerm) {
  for (const char* l : kDirLinks) {
    SCOPED_TRACE(l);
    std::string L(l);
    std::string p = L + "/secret";
    EXPECT_EQ(ErrOf(dir_->OpenAt(p, Opts(0, true, false))), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->OpenAt(p, Opts(0, true, false, kLookupSymlinkFollow))), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->OpenAt(L + "/victim", Opts(kOflagTrunc, false, true))), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->OpenAt(L + "/newfile", Opts(kOflagCreat, false, true))), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->OpenAt(L, Opts(kOflagDirectory, true, false, kLookupSymlinkFollow))),
              Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->OpenAt(L + "/", Opts(0, true, false))), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->StatAt(0, p)), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->StatAt(kLookupSymlinkFollow, L)), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->StatAt(0, L + "/")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->CreateDir(L + "/newdir")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->RemoveDir(L + "/sub")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->UnlinkFile(L + "/victim")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->Rename(p, *dir_, "stolen")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->Rename("file", *dir_, L + "/planted")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->Link(0, p, *dir_, "hard")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->Link(0, "file", *dir_, L + "/hard")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->Symlink("x", L + "/sym")), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->Readlink(p)), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->SetTimesAt(0, p, 0, 5, kFstMtim)), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->SetTimesAt(kLookupSymlinkFollow, L, 0, 5, kFstMtim)), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->SetTimesAt(0, L + "/", 0, 5, kFstMtim)), Errno::kPerm);
    // Not following the link is fine: it is an object inside the sandbox.
    auto st = dir_->StatAt(0, L);
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(st->filetype, Filetype::kSymbolicLink);
  }
}

// Symlinks to files outside (or absolute ones, even to inside).
const char* const kFileLinks[] = {"to_secret", "abs_inside", "dangle", "via_up"};

TEST_P(SandboxTest, SymlinkedFilesOutsideArePerm) {
  for (const char* l : kFileLinks) {
    SCOPED_TRACE(l);
    std::string L(l);
    EXPECT_EQ(ErrOf(dir_->OpenAt(L, Opts(0, true, false, kLookupSymlinkFollow))), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->OpenAt(L, Opts(kOflagCreat, false, true, kLookupSymlinkFollow))),
              Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->OpenAt(L, Opts(kOflagTrunc, false, true, kLookupSymlinkFollow))),
              Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->StatAt(kLookupSymlinkFollow, L)), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->SetTimesAt(kLookupSymlinkFollow, L, 0, 5, kFstMtim)), Errno::kPerm);
    EXPECT_EQ(ErrOf(dir_->Link(kLookupSymlinkFollow, L, *dir_, "hard")), Errno::kInval);
    // Without follow the final link is refused (ELOOP) or acted on itself.
    EXPECT_EQ(ErrOf(dir_->OpenAt(L, Opts(0, true, false))), Errno::kLoop);
    EXPECT_EQ(ErrOf(dir_->OpenAt(L, Opts(kOflagCreat, false, true))), Errno::kLoop);
    EXPECT_TRUE(dir_->StatAt(0, L).ok());
    EXPECT_TRUE(dir_->SetTimesAt(0, L, 0, 5000000000ull, kFstMtim).ok());  // the link's own times
  }
  EXPECT_FALSE(HostExists(base_ + "/outside/created"));
  // Removing or renaming the links affects only the links.
  ASSERT_TRUE(dir_->UnlinkFile("to_secret").ok());
  ASSERT_TRUE(dir_->Rename("dangle", *dir_, "dangle2").ok());
  EXPECT_TRUE(HostExists(P("dangle2")));
}

TEST_P(SandboxTest, EscapingSymlinksMayBeCreatedButNotFollowed) {
  ASSERT_TRUE(dir_->Symlink("../outside/victim", "mine").ok());
  EXPECT_EQ(*dir_->Readlink("mine"), "../outside/victim");
  EXPECT_EQ(ErrOf(dir_->OpenAt("mine", Opts(kOflagTrunc, false, true, kLookupSymlinkFollow))),
            Errno::kPerm);
  EXPECT_EQ(ErrOf(dir_->Symlink("/etc", "abs")), Errno::kPerm);
  ASSERT_TRUE(dir_->Symlink("../../..", "a/b/up2").ok());
  EXPECT_EQ(ErrOf(dir_->CreateDir("a/b/up2/x")), Errno::kPerm);
}

TEST_P(SandboxTest, InSandboxDotDotStillWorks) {
  auto f = dir_->OpenAt("a/b/../../file", Opts(0, true, false));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(ReadAll(*(*f)->AsFile()), "inside");
  ASSERT_TRUE(symlink("../../file", P("a/b/back").c_str()) == 0);
  auto g = dir_->OpenAt("a/b/back", Opts(0, true, false, kLookupSymlinkFollow));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(ReadAll(*(*g)->AsFile()), "inside");
  ASSERT_TRUE(symlink("..", P("a/b/parent").c_str()) == 0);  // ".." inside stays inside
  EXPECT_TRUE(dir_->StatAt(0, "a/b/parent/b/parent/b").ok());
}

// A symlink swapped in by another thread while this one resolves: the intermediate
// directory "race" and the final name "racef" alternate atomically (RENAME_EXCHANGE)
// between an in-sandbox object and a symlink leading out.
TEST_P(SandboxTest, ConcurrentSymlinkSwapNeverEscapes) {
  ASSERT_EQ(mkdir(P("race").c_str(), 0755), 0);
  WriteHostFile(P("race/secret"), "INSIDE");
  ASSERT_EQ(symlink("../outside", P("race_alt").c_str()), 0);
  WriteHostFile(P("racef"), "INSIDEF");
  ASSERT_EQ(symlink("../outside/secret", P("racef_alt").c_str()), 0);
  struct stat outside_secret;
  ASSERT_EQ(stat((base_ + "/outside/secret").c_str(), &outside_secret), 0);

  int rootfd = open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(rootfd, 0);
  std::atomic<bool> stop{false};
  std::atomic<long> swaps{0};
  std::thread swapper([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      renameat2(rootfd, "race", rootfd, "race_alt", RENAME_EXCHANGE);
      renameat2(rootfd, "racef", rootfd, "racef_alt", RENAME_EXCHANGE);
      swaps.fetch_add(1, std::memory_order_relaxed);
    }
  });

  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  int iterations = 0, inside_reads = 0;
  while (std::chrono::steady_clock::now() < deadline && iterations < 20000) {
    ++iterations;
    auto f = dir_->OpenAt("race/secret", Opts(0, true, false, kLookupSymlinkFollow));
    if (f.ok()) {
      std::string got = ReadAll(*(*f)->AsFile());
      ASSERT_EQ(got, "INSIDE");
      ++inside_reads;
    }
    auto g = dir_->OpenAt("racef", Opts(0, true, false, kLookupSymlinkFollow));
    if (g.ok()) {
      ASSERT_EQ(ReadAll(*(*g)->AsFile()), "INSIDEF");
    }
    auto w = dir_->OpenAt("racef", Opts(0, false, true, kLookupSymlinkFollow));
    if (w.ok()) (void)WriteStr(*(*w)->AsFile(), "INSIDEF");  // same bytes: inside stays readable
    auto st = dir_->StatAt(kLookupSymlinkFollow, "race/secret");
    if (st.ok()) {
      ASSERT_NE(st->ino, outside_secret.st_ino);
    }
    auto st2 = dir_->StatAt(kLookupSymlinkFollow, "racef");
    if (st2.ok()) {
      ASSERT_NE(st2->ino, outside_secret.st_ino);
    }
    (void)dir_->SetTimesAt(kLookupSymlinkFollow, "racef", 0, 7000000000ull, kFstMtim);
    (void)dir_->SetTimesAt(0, "race/secret", 0, 7000000000ull, kFstMtim);
    (void)dir_->OpenAt("race/victim", Opts(kOflagTrunc, false, true));
    (void)dir_->UnlinkFile("race/victim");
    if (dir_->CreateDir("race/newdir").ok()) (void)dir_->RemoveDir("race/newdir");
    (void)dir_->Rename("race/sub", *dir_, "stolen_sub");
    (void)dir_->Link(0, "race/secret", *dir_, "hard");
    (void)dir_->UnlinkFile("hard");
  }
  stop = true;
  swapper.join();
  close(rootfd);
  EXPECT_GT(swaps.load(), 10);
  EXPECT_GT(iterations, 10);
  EXPECT_FALSE(HostExists(P("stolen_sub")));
  RecordProperty("iterations", iterations);
  RecordProperty("inside_reads", inside_reads);
  // TearDown compares everything outside with the snapshot.
}

// Many threads using one HostDir at once (run under TSan).
TEST_P(SandboxTest, ConcurrentUseOfOneHostDir) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string name = "t" + std::to_string(t) + "_" + std::to_string(i);
        auto f = dir_->OpenAt(name, Opts(kOflagCreat, true, true));
        if (!f.ok() || !WriteStr(*(*f)->AsFile(), name).ok()) ++failures;
        if (!dir_->StatAt(0, name).ok()) ++failures;
        int n = 0;
        if (!dir_->Readdir(0, [&](const DirEntry&) { return ++n < 10; }).ok()) ++failures;
        if (!dir_->Rename(name, *dir_, name + "r").ok()) ++failures;
        if (!dir_->UnlinkFile(name + "r").ok()) ++failures;
        if (dir_->OpenAt("../outside/secret", Opts(0, true, false)).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Resolvers, SandboxTest, testing::AllResolvers(), ModeName);

}  // namespace
}  // namespace weft::wasi
