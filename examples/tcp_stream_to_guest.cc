// tcp_stream_to_guest: the host runs a small TCP "uppercase echo" server on 127.0.0.1
// (ephemeral port, one thread, one connection), connects to it itself, and inserts the
// connected TcpStream into a guest's table as fd 3. The guest talks over fd 3 with plain
// write()/read() (fd_write/fd_read) and prints the reply.
#include <cctype>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "example_util.h"
#include "weft/wasi/net.h"
#include "weft/wasi/table.h"

int main() {
  auto module = example::LoadGuest("demo.wasm");
  if (!module) return 1;

  auto listener = weft::wasi::TcpListener::Bind("127.0.0.1:0");
  if (!listener.ok()) return std::fprintf(stderr, "bind failed\n"), 1;
  uint16_t port = (*listener)->local_port();
  std::printf("server: listening on 127.0.0.1:%u\n", port);
  std::fflush(stdout);

  // The server: one connection, reads up to a newline, answers it upper-cased.
  std::thread server([l = *listener] {
    auto conn = l->Accept(0);
    if (!conn.ok()) return;
    std::string line;
    uint8_t buf[256];
    while (line.empty() || line.back() != '\n') {
      weft::wasi::IoVec iov{buf, sizeof buf};
      auto n = (*conn)->Read({&iov, 1});
      if (!n.ok() || *n == 0) break;
      line.append(reinterpret_cast<char*>(buf), *n);
      if (line.size() > 4096) break;
    }
    for (char& c : line) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    weft::wasi::ConstIoVec out{reinterpret_cast<const uint8_t*>(line.data()), line.size()};
    (void)(*conn)->Write({&out, 1});
  });

  int status = -1;
  {
    auto stream = weft::wasi::TcpStream::Connect("127.0.0.1:" + std::to_string(port));
    if (!stream.ok()) return std::fprintf(stderr, "connect failed\n"), 1;
    auto table = std::make_shared<weft::wasi::Table>();
    weft::wasi::CtxBuilder builder;
    builder.Table(table).Args({"demo", "tcp", "3"}).InheritStdout().InheritStderr();
    auto ctx = example::BuildOrDie(builder);
    // fds 1-2 are the stdio set above; the stream goes to fd 3, as the guest is told.
    if (!table->InsertAt(3, weft::wasi::Entry::For(*stream)).ok()) return 1;
    std::printf("host: connected stream %s -> %s inserted as fd 3\n",
                (*stream)->local_address().c_str(), (*stream)->peer_address().c_str());
    std::fflush(stdout);
    status = example::RunStart(module, ctx);
  }
  server.join();
  std::printf("guest exit status: %d\n%s\n", status, status == 0 ? "OK" : "FAILED");
  return status == 0 ? 0 : 1;
}
