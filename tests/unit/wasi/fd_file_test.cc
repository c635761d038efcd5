// FdFile over regular files, pipes, sockets and character devices.
#include "weft/wasi/fd_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "file_test_util.h"

namespace weft::wasi {
namespace {

using testing::ErrOf;

ErrnoOr<size_t> Put(File& f, const std::string& s) {
  ConstIoVec v{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  return f.Write(std::span<const ConstIoVec>(&v, 1));
}

std::string Get(File& f, size_t n) {
  std::string out(n, '\0');
  IoVec v{reinterpret_cast<uint8_t*>(out.data()), n};
  auto r = f.Read(std::span<const IoVec>(&v, 1));
  if (!r.ok()) return "<err>";
  out.resize(*r);
  return out;
}

class FdFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir();
    if (tmpl.empty() || tmpl.back() != '/') tmpl += '/';
    path_ = tmpl + "weft-fdfile-XXXXXX";
    int fd = mkstemp(path_.data());
    ASSERT_GE(fd, 0);
    file_ = std::make_unique<FdFile>(fd, true);
  }
  void TearDown() override {
    file_.reset();
    unlink(path_.c_str());
  }
  std::string path_;
  std::unique_ptr<FdFile> file_;
};

TEST_F(FdFileTest, ScatterGatherReadWrite) {
  std::string a = "hello ", b = "scatter ", c = "world";
  ConstIoVec out[3] = {{reinterpret_cast<const uint8_t*>(a.data()), a.size()},
                       {reinterpret_cast<const uint8_t*>(b.data()), b.size()},
                       {reinterpret_cast<const uint8_t*>(c.data()), c.size()}};
  auto w = file_->Write(out);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w, 19u);
  EXPECT_EQ(*file_->Tell(), 19u);
  ASSERT_EQ(*file_->Seek(0, Whence::kSet), 0u);
  uint8_t x[4], y[100];
  IoVec in[2] = {{x, sizeof(x)}, {y, sizeof(y)}};
  auto r = file_->Read(in);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 19u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(x), 4), "hell");
  EXPECT_EQ(std::string(reinterpret_cast<char*>(y), 15), "o scatter world");
  // End of file reads 0; no buffers read 0.
  EXPECT_EQ(*file_->Read(in), 0u);
  EXPECT_EQ(*file_->Read(std::span<const IoVec>()), 0u);
}

TEST_F(FdFileTest, SeekTellPreadPwrite) {
  ASSERT_TRUE(Put(*file_, "0123456789").ok());
  EXPECT_EQ(*file_->Seek(-3, Whence::kEnd), 7u);
  EXPECT_EQ(*file_->Seek(1, Whence::kCur), 8u);
  EXPECT_EQ(Get(*file_, 10), "89");
  EXPECT_EQ(ErrOf(file_->Seek(-100, Whence::kCur)), Errno::kInval);
  EXPECT_EQ(ErrOf(file_->Seek(0, static_cast<Whence>(7))), Errno::kInval);
  // pread/pwrite leave the offset alone.
  ASSERT_EQ(*file_->Seek(2, Whence::kSet), 2u);
  uint8_t buf[3];
  IoVec v{buf, 3};
  ASSERT_EQ(*file_->Pread(std::span<const IoVec>(&v, 1), 5), 3u);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 3), "567");
  std::string s = "AB";
  ConstIoVec cv{reinterpret_cast<const uint8_t*>(s.data()), 2};
  ASSERT_EQ(*file_->Pwrite(std::span<const ConstIoVec>(&cv, 1), 12), 2u);
  EXPECT_EQ(*file_->Tell(), 2u);
  auto st = file_->Stat();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->size, 14u);  // hole at 10..11
  EXPECT_EQ(ErrOf(file_->Pread(std::span<const IoVec>(&v, 1), 1ull << 63)), Errno::kInval);
}

TEST_F(FdFileTest, StatSizeSyncAdviseAllocate) {
  EXPECT_EQ(file_->filetype(), Filetype::kRegularFile);
  ASSERT_TRUE(Put(*file_, "abc").ok());
  auto st = file_->Stat();
  ASSERT_TRUE(st.ok());
  struct stat hs;
  ASSERT_EQ(stat(path_.c_str(), &hs), 0);
  EXPECT_EQ(st->filetype, Filetype::kRegularFile);
  EXPECT_EQ(st->size, 3u);
  EXPECT_EQ(st->ino, hs.st_ino);
  EXPECT_EQ(st->dev, hs.st_dev);
  EXPECT_EQ(st->nlink, 1u);
  ASSERT_TRUE(file_->SetSize(100).ok());
  EXPECT_EQ(file_->Stat()->size, 100u);
  ASSERT_TRUE(file_->SetSize(1).ok());
  EXPECT_EQ(file_->Stat()->size, 1u);
  EXPECT_EQ(ErrOf(file_->SetSize(1ull << 63)), Errno::kInval);
  EXPECT_TRUE(file_->Sync().ok());
  EXPECT_TRUE(file_->Datasync().ok());
  EXPECT_TRUE(file_->Advise(0, 10, Advice::kSequential).ok());
  EXPECT_TRUE(file_->Advise(0, 0, Advice::kDontneed).ok());
  EXPECT_EQ(ErrOf(file_->Advise(0, 10, static_cast<Advice>(9))), Errno::kInval);
  // As wasmtime: fd_allocate is not supported.
  EXPECT_EQ(ErrOf(file_->Allocate(0, 10)), Errno::kNotsup);
}

TEST_F(FdFileTest, SetTimes) {
  const Timestamp kA = 1000000000ull * 100 + 1, kM = 1000000000ull * 200 + 2;
  ASSERT_TRUE(file_->SetTimes(kA, kM, kFstAtim | kFstMtim).ok());
  auto st = file_->Stat();
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->atim, kA);
  EXPECT_EQ(st->mtim, kM);
  ASSERT_TRUE(file_->SetTimes(0, 0, kFstAtimNow).ok());  // mtime untouched
  st = file_->Stat();
  EXPECT_EQ(st->mtim, kM);
  EXPECT_GT(st->atim, static_cast<Timestamp>(time(nullptr) - 60) * 1000000000ull);
  EXPECT_EQ(ErrOf(file_->SetTimes(1, 1, kFstAtim | kFstAtimNow)), Errno::kInval);
  EXPECT_EQ(ErrOf(file_->SetTimes(1, 1, kFstMtim | kFstMtimNow)), Errno::kInval);
  EXPECT_EQ(ErrOf(file_->SetTimes(1, 1, 1 << 5)), Errno::kInval);
}

TEST_F(FdFileTest, FdflagsGetAndSet) {
  EXPECT_EQ(*file_->GetFdflags(), 0);
  ASSERT_TRUE(file_->SetFdflags(kFdflagAppend | kFdflagNonblock).ok());
  EXPECT_EQ(*file_->GetFdflags(), kFdflagAppend | kFdflagNonblock);
  int fl = fcntl(file_->fd(), F_GETFL);
  EXPECT_TRUE(fl & O_APPEND);
  EXPECT_TRUE(fl & O_NONBLOCK);
  ASSERT_TRUE(Put(*file_, "x").ok());
  ASSERT_EQ(*file_->Seek(0, Whence::kSet), 0u);
  ASSERT_TRUE(Put(*file_, "y").ok());  // appends despite the seek
  EXPECT_EQ(file_->Stat()->size, 2u);
  ASSERT_TRUE(file_->SetFdflags(0).ok());
  EXPECT_EQ(*file_->GetFdflags(), 0);
  // As wasmtime: the sync flags cannot be changed after open.
  EXPECT_EQ(ErrOf(file_->SetFdflags(kFdflagSync)), Errno::kInval);
  EXPECT_EQ(ErrOf(file_->SetFdflags(kFdflagDsync)), Errno::kInval);
  EXPECT_EQ(ErrOf(file_->SetFdflags(kFdflagRsync)), Errno::kInval);
  // Sync flags set at open are reported as the host has them.
  int fd = open(path_.c_str(), O_RDWR | O_SYNC | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  FdFile synced(fd, true);
  EXPECT_EQ(*synced.GetFdflags() & (kFdflagSync | kFdflagDsync), kFdflagSync | kFdflagDsync);
  int dfd = open(path_.c_str(), O_RDWR | O_DSYNC | O_CLOEXEC);
  ASSERT_GE(dfd, 0);
  FdFile dsynced(dfd, true);
  EXPECT_EQ(*dsynced.GetFdflags(), kFdflagDsync);
}

TEST_F(FdFileTest, RegularFileReadinessCountsBytesLeft) {
  ASSERT_TRUE(Put(*file_, "0123456789").ok());
  ASSERT_TRUE(file_->Seek(4, Whence::kSet).ok());
  Readiness r = file_->CheckReadiness(Interest::kRead);
  EXPECT_TRUE(r.ready);
  EXPECT_EQ(r.nbytes, 6u);
  EXPECT_FALSE(r.hangup);
  EXPECT_TRUE(file_->CheckReadiness(Interest::kWrite).ready);
  PollSource ps = file_->GetPollSource(Interest::kRead);
  EXPECT_EQ(ps.fd, file_->fd());
  EXPECT_EQ(ps.events, POLLIN);
  EXPECT_EQ(file_->GetPollSource(Interest::kWrite).events, POLLOUT);
}

TEST(FdFilePipeTest, PipeIsAStream) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  auto rd = std::make_shared<FdFile>(p[0], true);
  auto wr = std::make_shared<FdFile>(p[1], true);
  EXPECT_EQ(rd->filetype(), Filetype::kUnknown);  // WASI has no pipe type (as wasmtime)
  EXPECT_EQ(ErrOf(rd->Seek(0, Whence::kCur)), Errno::kSpipe);
  EXPECT_EQ(ErrOf(rd->Tell()), Errno::kSpipe);
  uint8_t b[4];
  IoVec v{b, 4};
  EXPECT_EQ(ErrOf(rd->Pread(std::span<const IoVec>(&v, 1), 0)), Errno::kSpipe);
  EXPECT_EQ(ErrOf(wr->SetSize(0)), Errno::kInval);
  // Empty: not readable yet; the write end is writable.
  Readiness r = rd->CheckReadiness(Interest::kRead);
  EXPECT_FALSE(r.ready);
  EXPECT_TRUE(wr->CheckReadiness(Interest::kWrite).ready);
  ASSERT_EQ(*Put(*wr, "hello"), 5u);
  r = rd->CheckReadiness(Interest::kRead);
  EXPECT_TRUE(r.ready);
  EXPECT_EQ(r.nbytes, 5u);
  EXPECT_FALSE(r.hangup);
  EXPECT_EQ(Get(*rd, 3), "hel");
  EXPECT_EQ(rd->CheckReadiness(Interest::kRead).nbytes, 2u);
  // Nonblocking read of an empty pipe: EAGAIN.
  EXPECT_EQ(Get(*rd, 10), "lo");
  ASSERT_TRUE(rd->SetFdflags(kFdflagNonblock).ok());
  IoVec v2{b, 4};
  EXPECT_EQ(ErrOf(rd->Read(std::span<const IoVec>(&v2, 1))), Errno::kAgain);
  // Writer gone: hangup, and reads return 0.
  wr.reset();
  r = rd->CheckReadiness(Interest::kRead);
  EXPECT_TRUE(r.ready);
  EXPECT_TRUE(r.hangup);
  EXPECT_EQ(Get(*rd, 4), "");
}

TEST(FdFilePipeTest, WrongDirectionIsReadyWithEbadfAndNotPolled) {
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  FdFile rd(p[0], true), wr(p[1], true);
  // A pipe's write end never becomes readable: waiting on it would hang a blocking
  // fd_read that should fail with EBADF at once.
  EXPECT_LT(wr.GetPollSource(Interest::kRead).fd, 0);
  Readiness r = wr.CheckReadiness(Interest::kRead);
  EXPECT_TRUE(r.ready);
  EXPECT_EQ(r.error, Errno::kBadf);
  EXPECT_EQ(Get(wr, 1), "<err>");
  EXPECT_LT(rd.GetPollSource(Interest::kWrite).fd, 0);
  EXPECT_EQ(rd.CheckReadiness(Interest::kWrite).error, Errno::kBadf);
  EXPECT_EQ(ErrOf(Put(rd, "x")), Errno::kBadf);
  // The right directions are polled on the fd itself.
  EXPECT_EQ(rd.GetPollSource(Interest::kRead).fd, p[0]);
  EXPECT_EQ(wr.GetPollSource(Interest::kWrite).fd, p[1]);
  EXPECT_EQ(wr.CheckReadiness(Interest::kWrite).error, Errno::kSuccess);
}

TEST(FdFilePipeTest, WriteToClosedPipeIsEpipe) {
  signal(SIGPIPE, SIG_IGN);
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  FdFile wr(p[1], true);
  close(p[0]);
  EXPECT_EQ(ErrOf(Put(wr, "x")), Errno::kPipe);
  Readiness r = wr.CheckReadiness(Interest::kWrite);
  EXPECT_TRUE(r.ready);  // POLLERR: a write would fail at once
}

TEST(FdFileKindsTest, SocketsAndDevices) {
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  FdFile s0(sv[0], true), s1(sv[1], true);
  EXPECT_EQ(s0.filetype(), Filetype::kSocketStream);
  EXPECT_EQ(s0.Stat()->filetype, Filetype::kSocketStream);
  ASSERT_EQ(*Put(s0, "ping"), 4u);
  Readiness r = s1.CheckReadiness(Interest::kRead);
  EXPECT_TRUE(r.ready);
  EXPECT_EQ(r.nbytes, 4u);
  EXPECT_EQ(Get(s1, 10), "ping");
  int dv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dv), 0);
  FdFile d0(dv[0], true), d1(dv[1], true);
  EXPECT_EQ(d0.filetype(), Filetype::kSocketDgram);
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  ASSERT_GE(null_fd, 0);
  FdFile devnull(null_fd, true);
  EXPECT_EQ(devnull.filetype(), Filetype::kCharacterDevice);
  EXPECT_EQ(*Put(devnull, "gone"), 4u);
  EXPECT_EQ(Get(devnull, 4), "");
}

TEST(FdFileOwnershipTest, ClosesOnlyOwnedFds) {
  int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int b = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  { FdFile borrowed(a, false); }
  EXPECT_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);  // still open
  { FdFile owned(b, true); }
  EXPECT_EQ(fcntl(b, F_GETFD), -1);  // closed
  close(a);
}

TEST(FdFileOwnershipTest, BadFdAnswersEbadf) {
  FdFile bad(-1, false);
  EXPECT_EQ(bad.filetype(), Filetype::kUnknown);
  EXPECT_EQ(ErrOf(bad.Stat()), Errno::kBadf);
  EXPECT_EQ(ErrOf(bad.Allocate(0, 1)), Errno::kBadf);
  EXPECT_EQ(ErrOf(Put(bad, "x")), Errno::kBadf);
  EXPECT_EQ(bad.CheckReadiness(Interest::kRead).error, Errno::kBadf);
}

}  // namespace
}  // namespace weft::wasi
