// MemFile: bytes, offsets shared by holders of one description, errno values, times.
#include "weft/wasi/memfile.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "file_test_util.h"

namespace weft::wasi {
namespace {

using testing::WriteOk;

std::string ReadN(File& f, size_t n) {
  std::string buf(n, '\0');
  IoVec iov{reinterpret_cast<uint8_t*>(buf.data()), n};
  auto r = f.Read(std::span<const IoVec>(&iov, 1));
  EXPECT_TRUE(r.ok());
  buf.resize(r.ok() ? *r : 0);
  return buf;
}

TEST(VirtMemFile, ReadWriteSeekTell) {
  auto f = MakeMemFile("hello");
  EXPECT_EQ(ReadN(*f, 3), "hel");
  EXPECT_EQ(*f->Tell(), 3u);
  EXPECT_EQ(ReadN(*f, 10), "lo");
  EXPECT_EQ(ReadN(*f, 10), "");  // EOF
  EXPECT_EQ(WriteOk(*f, " world"), 6u);
  EXPECT_EQ(f->Contents(), "hello world");
  EXPECT_EQ(*f->Seek(-5, Whence::kEnd), 6u);
  EXPECT_EQ(ReadN(*f, 5), "world");
  EXPECT_EQ(*f->Seek(1, Whence::kSet), 1u);
  EXPECT_EQ(*f->Seek(2, Whence::kCur), 3u);
  EXPECT_EQ(ReadN(*f, 2), "lo");
  auto bad = f->Seek(-100, Whence::kCur);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), Errno::kInval);
  EXPECT_EQ(*f->Tell(), 5u);  // a failed seek leaves the offset alone
  auto big = f->Seek(INT64_MAX, Whence::kEnd);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error(), Errno::kOverflow);
}

TEST(VirtMemFile, ScatterGather) {
  auto f = MakeMemFile();
  const char* a = "abc";
  const char* b = "defgh";
  ConstIoVec out[2] = {{reinterpret_cast<const uint8_t*>(a), 3},
                       {reinterpret_cast<const uint8_t*>(b), 5}};
  EXPECT_EQ(*f->Write(out), 8u);
  ASSERT_TRUE(f->Seek(0, Whence::kSet).ok());
  char x[2], y[4], z[10];
  IoVec in[3] = {{reinterpret_cast<uint8_t*>(x), 2},
                 {reinterpret_cast<uint8_t*>(y), 4},
                 {reinterpret_cast<uint8_t*>(z), 10}};
  EXPECT_EQ(*f->Read(in), 8u);
  EXPECT_EQ(std::string(x, 2), "ab");
  EXPECT_EQ(std::string(y, 4), "cdef");
  EXPECT_EQ(std::string(z, 2), "gh");
}

TEST(VirtMemFile, SeekPastEndAndWriteLeavesZeroHole) {
  auto f = MakeMemFile("ab");
  EXPECT_EQ(*f->Seek(5, Whence::kSet), 5u);
  EXPECT_EQ(ReadN(*f, 4), "");
  EXPECT_EQ(WriteOk(*f, "Z"), 1u);
  EXPECT_EQ(f->Contents(), std::string("ab\0\0\0Z", 6));
  EXPECT_EQ(f->Stat()->size, 6u);
}

TEST(VirtMemFile, PreadPwriteDoNotMoveOffset) {
  auto f = MakeMemFile("0123456789");
  ASSERT_TRUE(f->Seek(2, Whence::kSet).ok());
  char buf[4];
  IoVec iov{reinterpret_cast<uint8_t*>(buf), 4};
  EXPECT_EQ(*f->Pread(std::span<const IoVec>(&iov, 1), 6), 4u);
  EXPECT_EQ(std::string(buf, 4), "6789");
  EXPECT_EQ(*f->Pread(std::span<const IoVec>(&iov, 1), 8), 2u);
  EXPECT_EQ(*f->Pread(std::span<const IoVec>(&iov, 1), 100), 0u);
  ConstIoVec w{reinterpret_cast<const uint8_t*>("XY"), 2};
  EXPECT_EQ(*f->Pwrite(std::span<const ConstIoVec>(&w, 1), 12), 2u);
  EXPECT_EQ(f->Contents(), std::string("0123456789\0\0XY", 14));
  EXPECT_EQ(*f->Tell(), 2u);
}

TEST(VirtMemFile, AppendWritesAtEndEvenAfterSeek) {
  auto f = MakeMemFile("abc");
  ASSERT_TRUE(f->SetFdflags(kFdflagAppend).ok());
  EXPECT_EQ(*f->GetFdflags(), kFdflagAppend);
  ASSERT_TRUE(f->Seek(0, Whence::kSet).ok());
  EXPECT_EQ(WriteOk(*f, "de"), 2u);
  EXPECT_EQ(f->Contents(), "abcde");
  EXPECT_EQ(*f->Tell(), 5u);
  ASSERT_TRUE(f->SetFdflags(0).ok());
  ASSERT_TRUE(f->Seek(0, Whence::kSet).ok());
  EXPECT_EQ(WriteOk(*f, "X"), 1u);
  EXPECT_EQ(f->Contents(), "Xbcde");
  auto bad = f->SetFdflags(0x100);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), Errno::kInval);
}

TEST(VirtMemFile, TwoHoldersShareOneOffset) {
  std::shared_ptr<File> a = MakeMemFile("abcdef");
  std::shared_ptr<File> b = a;  // e.g. the same handle in two tables
  EXPECT_EQ(ReadN(*a, 2), "ab");
  EXPECT_EQ(ReadN(*b, 2), "cd");
  EXPECT_EQ(*a->Tell(), 4u);
  ASSERT_TRUE(b->SetFdflags(kFdflagAppend).ok());
  EXPECT_EQ(*a->GetFdflags(), kFdflagAppend);
}

TEST(VirtMemFile, StatAndSetSizeAndAllocate) {
  auto f = MakeMemFile("hello");
  Filestat st = *f->Stat();
  EXPECT_EQ(st.filetype, Filetype::kRegularFile);
  EXPECT_EQ(st.size, 5u);
  EXPECT_EQ(st.nlink, 0u);  // anonymous, like memfd
  EXPECT_NE(st.ino, 0u);
  EXPECT_GT(st.mtim, 0u);
  EXPECT_NE(MakeMemFile()->Stat()->ino, st.ino);

  ASSERT_TRUE(f->SetSize(2).ok());
  EXPECT_EQ(f->Contents(), "he");
  ASSERT_TRUE(f->SetSize(4).ok());
  EXPECT_EQ(f->Contents(), std::string("he\0\0", 4));
  ASSERT_TRUE(f->Allocate(2, 6).ok());
  EXPECT_EQ(f->Stat()->size, 8u);
  ASSERT_TRUE(f->Allocate(0, 3).ok());  // inside: no change
  EXPECT_EQ(f->Stat()->size, 8u);
  auto zero = f->Allocate(0, 0);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error(), Errno::kInval);
  auto huge = f->SetSize(Filesize{1} << 40);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error(), Errno::kFbig);
  ConstIoVec w{reinterpret_cast<const uint8_t*>("x"), 1};
  auto far = f->Pwrite(std::span<const ConstIoVec>(&w, 1), Filesize{1} << 40);
  ASSERT_FALSE(far.ok());
  EXPECT_EQ(far.error(), Errno::kFbig);
  EXPECT_TRUE(f->Advise(0, 10, Advice::kSequential).ok());
  EXPECT_TRUE(f->Sync().ok());
  EXPECT_TRUE(f->Datasync().ok());
}

TEST(VirtMemFile, SetTimes) {
  auto f = MakeMemFile();
  ASSERT_TRUE(f->SetTimes(111, 222, kFstAtim | kFstMtim).ok());
  Filestat st = *f->Stat();
  EXPECT_EQ(st.atim, 111u);
  EXPECT_EQ(st.mtim, 222u);
  ASSERT_TRUE(f->SetTimes(0, 0, kFstMtimNow).ok());
  st = *f->Stat();
  EXPECT_EQ(st.atim, 111u);
  EXPECT_GT(st.mtim, 1000000000ull * 1600000000ull);
  auto bad = f->SetTimes(1, 1, kFstAtim | kFstAtimNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error(), Errno::kInval);
  ASSERT_TRUE(f->SetTimes(5, 6, 0).ok());  // nothing to change
  EXPECT_EQ(f->Stat()->atim, 111u);
}

TEST(VirtMemFile, AlwaysReadyWithNbytes) {
  auto f = MakeMemFile("abcd");
  EXPECT_LT(f->GetPollSource(Interest::kRead).fd, 0);
  Readiness r = f->CheckReadiness(Interest::kRead);
  EXPECT_TRUE(r.ready);
  EXPECT_EQ(r.nbytes, 4u);
  ReadN(*f, 3);
  EXPECT_EQ(f->CheckReadiness(Interest::kRead).nbytes, 1u);
  EXPECT_TRUE(f->CheckReadiness(Interest::kWrite).ready);
}

// Concurrent appenders through one shared description: no byte lost or torn.
TEST(VirtMemFile, ThreadConcurrentAppendsAreAtomic) {
  auto f = MakeMemFile();
  ASSERT_TRUE(f->SetFdflags(kFdflagAppend).ok());
  constexpr int kThreads = 4, kWrites = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string rec(8, static_cast<char>('a' + t));
      for (int i = 0; i < kWrites; ++i) WriteOk(*f, rec);
    });
  }
  for (auto& th : threads) th.join();
  std::string all = f->Contents();
  ASSERT_EQ(all.size(), size_t{kThreads * kWrites * 8});
  int counts[kThreads] = {};
  for (size_t i = 0; i < all.size(); i += 8) {
    char c = all[i];
    ASSERT_EQ(all.substr(i, 8), std::string(8, c)) << "torn record at " << i;
    counts[c - 'a']++;
  }
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(counts[t], kWrites);
}

}  // namespace
}  // namespace weft::wasi
