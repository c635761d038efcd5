// channel_producer_consumer: two guests on two threads joined by a small in-process
// pipe (weft::wasi::MakePipe, 64 bytes). The producer writes N lines to its stdout, the
// consumer counts the lines on its stdin. The producer's stdout is wrapped in a custom
// handle that counts how often a write found the pipe too full to take everything at
// once, i.e. how often backpressure made the producer wait for the consumer.
#include <atomic>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <chrono>
#include <thread>

#include "example_util.h"
#include "weft/wasi/channel.h"
#include "weft/wasi/pipe.h"

namespace {

constexpr int kLines = 200;
constexpr size_t kCapacity = 64;

struct Stats {
  std::atomic<int> writes{0};
  std::atomic<int> waited{0};
  std::atomic<size_t> bytes{0};
};

// Any File can sit behind a guest fd; this one forwards to the pipe and measures.
class CountingWriter : public weft::wasi::File {
 public:
  CountingWriter(std::shared_ptr<weft::wasi::ChannelEnd> end, std::shared_ptr<Stats> stats)
      : end_(std::move(end)), stats_(std::move(stats)) {}

  weft::wasi::Filetype filetype() const override { return end_->filetype(); }
  weft::wasi::PollSource GetPollSource(weft::wasi::Interest i) override {
    return end_->GetPollSource(i);
  }
  weft::wasi::Readiness CheckReadiness(weft::wasi::Interest i) override {
    return end_->CheckReadiness(i);
  }
  weft::wasi::ErrnoOr<size_t> Write(std::span<const weft::wasi::ConstIoVec> iovs) override {
    size_t want = 0;
    for (const auto& v : iovs) want += v.len;
    // Free space right now; less than the request means the blocking write will wait.
    if (end_->CheckReadiness(weft::wasi::Interest::kWrite).nbytes < want) ++stats_->waited;
    ++stats_->writes;
    auto n = end_->Write(iovs);
    if (n.ok()) stats_->bytes += *n;
    return n;
  }

 private:
  const std::shared_ptr<weft::wasi::ChannelEnd> end_;
  const std::shared_ptr<Stats> stats_;
};

}  // namespace

int main() {
  auto module = example::LoadGuest("demo.wasm");
  if (!module) return 1;

  auto stats = std::make_shared<Stats>();
  auto consumer_out = std::make_shared<weft::wasi::WritePipe>();
  int producer_status = -1, consumer_status = -1;
  {
    std::shared_ptr<weft::wasi::Ctx> producer_ctx, consumer_ctx;
    {
      // (A builder keeps its handles: let it go so the contexts hold the only references.)
      auto [read_end, write_end] = weft::wasi::MakePipe(kCapacity);
      weft::wasi::CtxBuilder producer;
      producer.Arg("demo").Arg("produce").Arg(std::to_string(kLines))
          .Stdout(std::make_shared<CountingWriter>(std::move(write_end), stats))
          .InheritStderr();
      weft::wasi::CtxBuilder consumer;
      consumer.Arg("demo").Arg("consume").Stdin(std::move(read_end)).Stdout(consumer_out)
          .InheritStderr();
      producer_ctx = example::BuildOrDie(producer);
      consumer_ctx = example::BuildOrDie(consumer);
    }
    // Each thread owns its context: when the producer's run ends its context (and so
    // the pipe's write end) is released, which the consumer reads as end of file.
    std::thread p([&, ctx = std::move(producer_ctx)]() mutable {
      producer_status = example::RunStart(module, std::move(ctx));
    });
    // Start the consumer only once the producer has filled the pipe and had to wait
    // for space, so that backpressure shows every run (not only when the scheduler
    // happens to run the producer ahead). Bounded: 10 s at most.
    for (int i = 0; i < 10000 && stats->waited.load() == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::thread c([&, ctx = std::move(consumer_ctx)]() mutable {
      consumer_status = example::RunStart(module, std::move(ctx));
    });
    p.join();
    c.join();
  }

  std::printf("pipe capacity: %zu bytes\n", kCapacity);
  std::printf("producer: exit %d, %d writes, %zu bytes, %d of them had to wait for space\n",
              producer_status, stats->writes.load(), stats->bytes.load(), stats->waited.load());
  std::printf("consumer: exit %d, said: %s", consumer_status, consumer_out->Contents().c_str());
  size_t expected_bytes = 0;
  for (int i = 1; i <= kLines; ++i) {
    expected_bytes += ("line " + std::to_string(i) + " of " + std::to_string(kLines) + "\n").size();
  }
  std::string expected = "consumer: " + std::to_string(kLines) + " lines, " +
                         std::to_string(expected_bytes) + " bytes\n";
  bool ok = producer_status == 0 && consumer_status == 0 && consumer_out->Contents() == expected &&
            stats->bytes.load() == expected_bytes && stats->waited.load() > 0;
  std::printf("backpressure %s\n%s\n", stats->waited.load() > 0 ? "happened" : "did NOT happen",
              ok ? "OK" : "FAILED");
  return ok ? 0 : 1;
}
