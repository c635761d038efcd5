// Helpers shared by the host filesystem tests (host_*_test.cc): a fresh temp tree per
// test, the per-resolver HostDir fixture, and small POSIX helpers that bypass weft to
// set up and inspect the host side. Opts, ErrOf and WriteStr come from file_test_util.h.
#pragma once

#include <fcntl.h>
#include <ftw.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "file_test_util.h"
#include "wasi/host/resolve.h"
#include "weft/wasi/handle.h"
#include "weft/wasi/host_fs.h"

namespace weft::wasi::testing {

inline std::string MakeTempDir() {
  std::string tmpl = ::testing::TempDir();
  if (tmpl.empty() || tmpl.back() != '/') tmpl += '/';
  tmpl += "weft-hostfs-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  char* p = mkdtemp(buf.data());
  EXPECT_NE(p, nullptr);
  return p ? std::string(p) : std::string();
}

inline void RemoveTree(const std::string& path) {
  nftw(
      path.c_str(),
      [](const char* p, const struct stat*, int, struct FTW*) {
        remove(p);
        return 0;
      },
      64, FTW_DEPTH | FTW_PHYS);
}

inline void WriteHostFile(const std::string& path, const std::string& content) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
  close(fd);
}

// The whole file, or "<missing>" when it cannot be opened. `extra_flags` are added to
// open(2)'s, e.g. O_NOATIME to read without touching the access time.
inline std::string ReadHostFile(const std::string& path, int extra_flags = 0) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | extra_flags);
  if (fd < 0) return "<missing>";
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

inline bool HostExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

inline std::string ReadAll(File& f) {
  std::string out;
  uint8_t buf[256];
  for (;;) {
    IoVec v{buf, sizeof(buf)};
    auto r = f.Read(std::span<const IoVec>(&v, 1));
    if (!r.ok() || *r == 0) break;
    out.append(reinterpret_cast<char*>(buf), *r);
  }
  return out;
}

// The resolvers a HostDirFixture test runs with, and their names in the test names:
// INSTANTIATE_TEST_SUITE_P(Resolvers, MyTest, AllResolvers(), ModeName).
inline auto AllResolvers() {
  return ::testing::Values(host::ResolverMode::kAuto, host::ResolverMode::kWalkOnly);
}
inline const char* ModeName(const ::testing::TestParamInfo<host::ResolverMode>& info) {
  return info.param == host::ResolverMode::kAuto ? "Openat2" : "Walk";
}

// Base of the tests of one HostDir preopen, run once per resolver (kAuto is openat2,
// skipped where the kernel lacks it). SetUp puts the resolver in use and makes a fresh
// temp dir base_ holding the empty directory root_; OpenRoot() preopens root_ as dir_.
// TearDown releases dir_, removes the tree and restores the default resolver. A
// subclass that extends SetUp returns early when IsSkipped() or HasFatalFailure().
class HostDirFixture : public ::testing::TestWithParam<host::ResolverMode> {
 protected:
  void SetUp() override {
    if (GetParam() == host::ResolverMode::kAuto && !host::Openat2Supported()) {
      GTEST_SKIP() << "openat2 not available on this kernel";
    }
    host::SetResolverMode(GetParam());
    // Make sure the resolver under test is the one in use.
    ASSERT_EQ(host::UsingOpenat2(), GetParam() == host::ResolverMode::kAuto);
    base_ = MakeTempDir();
    root_ = base_ + "/root";
    ASSERT_EQ(mkdir(root_.c_str(), 0755), 0);
  }
  void TearDown() override {
    dir_.reset();
    if (!base_.empty()) RemoveTree(base_);
    host::SetResolverMode(host::ResolverMode::kAuto);
  }

  void OpenRoot() {
    auto d = OpenHostDir(root_, false);
    ASSERT_TRUE(d.ok());
    dir_ = *d;
  }
  std::string P(const std::string& rel) { return root_ + "/" + rel; }

  std::string base_, root_;
  std::shared_ptr<Dir> dir_;
};

}  // namespace weft::wasi::testing
