// fuzz.mutation: a deterministic robustness test of the decoder/validator.
//
//   weft_mutation_test --wast2json PATH --spec-dir DIR --work-dir DIR
//
// Converts every non-SIMD spec .wast to module binaries (wast2json), then applies a
// fixed-seed set of mutations to each binary (bit flips, truncation at every N-th byte,
// byte insertions, overlong LEB128 section sizes, oversized counts, huge limits) plus
// synthetic deep-nesting modules, and decodes+validates every result. It asserts that
// nothing crashes (run it under ASan), that no decode takes more than a second, and that
// every error carries a message and an offset within the input. A sample of the mutants
// that decode is also instantiated (stub imports, no unbounded execution).
// Exit status 0 on success; the first failures are printed.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "fuzz_support.h"

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

namespace {

struct Stats {
  uint64_t runs = 0, decoded = 0, instantiated = 0, failures = 0;
  double slowest_s = 0;
};

Bytes ReadFile(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(f)), {});
}

void PutU32(Bytes& out, uint32_t v) {
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    if (v) b |= 0x80;
    out.push_back(b);
  } while (v);
}

// A 5-byte (maximally padded, still valid) LEB128 encoding.
void PutU32Padded(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<uint8_t>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<uint8_t>(v & 0x7F));
}

bool GetU32(const Bytes& b, size_t& pos, uint32_t* v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (pos >= b.size()) return false;
    uint8_t byte = b[pos++];
    r |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (!(byte & 0x80)) {
      *v = static_cast<uint32_t>(r);
      return true;
    }
  }
  return false;
}

struct SectionPos {
  uint8_t id;
  size_t header;   // offset of the id byte
  size_t payload;  // offset of the payload
  uint32_t size;
};

std::vector<SectionPos> Sections(const Bytes& b) {
  std::vector<SectionPos> out;
  size_t pos = 8;
  while (pos < b.size()) {
    SectionPos s;
    s.id = b[pos];
    s.header = pos++;
    if (!GetU32(b, pos, &s.size)) break;
    s.payload = pos;
    if (s.size > b.size() - pos) break;
    out.push_back(s);
    pos += s.size;
  }
  return out;
}

Bytes ReplaceSection(const Bytes& b, const SectionPos& s, const Bytes& payload, bool padded_size) {
  Bytes out(b.begin(), b.begin() + s.header);
  out.push_back(s.id);
  if (padded_size) PutU32Padded(out, static_cast<uint32_t>(payload.size()));
  else PutU32(out, static_cast<uint32_t>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  out.insert(out.end(), b.begin() + s.payload + s.size, b.end());
  return out;
}

class Mutator {
 public:
  explicit Mutator(Stats* stats) : stats_(stats) {}

  void Check(const Bytes& bytes, const std::string& what) {
    auto t0 = std::chrono::steady_clock::now();
    // Instantiate a deterministic sample of decodable mutants (1 in 16 runs).
    bool instantiate = (stats_->runs % 16) == 0;
    auto r = weft::fuzz::DecodeAndMaybeInstantiate(bytes, instantiate);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++stats_->runs;
    if (r.decoded) ++stats_->decoded;
    if (r.instantiated) ++stats_->instantiated;
    if (s > stats_->slowest_s) stats_->slowest_s = s;
    std::string problem;
    if (s > 1.0) problem = "took " + std::to_string(s) + " s";
    if (!r.decoded && r.diag.message.empty()) problem = "error without a message";
    if (!r.decoded && r.diag.offset > bytes.size())
      problem = "error offset " + std::to_string(r.diag.offset) + " beyond input size " +
                std::to_string(bytes.size()) + " (" + r.diag.message + ")";
    if (!problem.empty()) {
      if (++stats_->failures <= 20) std::printf("FAIL %s: %s\n", what.c_str(), problem.c_str());
    }
  }

  void MutateAll(const Bytes& orig, const std::string& name) {
    Check(orig, name);
    const size_t n = orig.size();
    // 1. Bit flips.
    for (int i = 0; i < 12 && n > 0; ++i) {
      Bytes m = orig;
      size_t pos = rng_() % n;
      m[pos] ^= static_cast<uint8_t>(1u << (rng_() % 8));
      Check(m, name + " bitflip@" + std::to_string(pos));
    }
    // 2. Truncation at every N-th byte (every byte for small modules).
    size_t step = n <= 64 ? 1 : n / 24;
    for (size_t len = 0; len < n; len += step)
      Check(Bytes(orig.begin(), orig.begin() + len), name + " truncate@" + std::to_string(len));
    // 3. Byte insertions (random bytes, and LEB128 continuation bytes).
    for (int i = 0; i < 6; ++i) {
      Bytes m = orig;
      size_t pos = rng_() % (n + 1);
      uint8_t byte = (i % 2) ? 0x80 : static_cast<uint8_t>(rng_());
      m.insert(m.begin() + pos, byte);
      Check(m, name + " insert@" + std::to_string(pos));
    }
    // 4. Per section: overlong (padded) size, oversized size, oversized first count,
    //    huge limits in table/memory sections.
    for (const SectionPos& s : Sections(orig)) {
      Bytes payload(orig.begin() + s.payload, orig.begin() + s.payload + s.size);
      Check(ReplaceSection(orig, s, payload, /*padded_size=*/true), name + " padded-size");
      {
        // Overlong: 6 bytes for a u32 ("integer representation too long").
        Bytes m(orig.begin(), orig.begin() + s.header + 1);
        PutU32Padded(m, s.size);
        m[m.size() - 1] |= 0x80;
        m.push_back(0x00);
        m.insert(m.end(), orig.begin() + s.payload, orig.end());
        Check(m, name + " overlong-size");
      }
      {
        Bytes m(orig.begin(), orig.begin() + s.header + 1);
        PutU32(m, 0xFFFFFFFFu);
        m.insert(m.end(), orig.begin() + s.payload, orig.end());
        Check(m, name + " huge-section-size");
      }
      if (s.id != 0 && s.id != 8 && s.id != 12 && !payload.empty()) {
        size_t p = 0;
        uint32_t count;
        if (GetU32(payload, p, &count)) {
          for (uint32_t big : {0xFFFFFFFFu, 0x10000000u, count + 1}) {
            Bytes np;
            PutU32(np, big);
            np.insert(np.end(), payload.begin() + p, payload.end());
            Check(ReplaceSection(orig, s, np, false), name + " count=" + std::to_string(big));
          }
        }
      }
      if (s.id == 5) {
        Bytes np = {0x01, 0x01};
        PutU32(np, 0xFFFFFFFFu);
        PutU32(np, 0xFFFFFFFFu);
        Check(ReplaceSection(orig, s, np, false), name + " huge-memory");
        Bytes np2 = {0x01, 0x00};
        PutU32(np2, 65536);
        Check(ReplaceSection(orig, s, np2, false), name + " max-memory");
      }
      if (s.id == 4) {
        Bytes np = {0x01, 0x70, 0x01};
        PutU32(np, 0xFFFFFFFFu);
        PutU32(np, 0xFFFFFFFFu);
        Check(ReplaceSection(orig, s, np, false), name + " huge-table");
      }
    }
  }

 private:
  Stats* stats_;
  std::mt19937_64 rng_{0x5eed};  // fixed seed: the same mutants on every run
};

// A module with one function `() -> ()` whose body is `body` (without the final end).
Bytes FuncModule(const Bytes& body) {
  Bytes m = {0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00};
  m.insert(m.end(), {0x01, 0x04, 0x01, 0x60, 0x00, 0x00});  // type () -> ()
  m.insert(m.end(), {0x03, 0x02, 0x01, 0x00});              // one function of type 0
  Bytes code;
  PutU32(code, 1);
  Bytes fn = {0x00};  // no locals
  fn.insert(fn.end(), body.begin(), body.end());
  fn.push_back(0x0B);
  PutU32(code, static_cast<uint32_t>(fn.size()));
  code.insert(code.end(), fn.begin(), fn.end());
  m.push_back(0x0A);
  PutU32(m, static_cast<uint32_t>(code.size()));
  m.insert(m.end(), code.begin(), code.end());
  return m;
}

void DeepNesting(Mutator& mu) {
  for (uint32_t depth : {100u, 9999u, 10000u, 10001u, 200000u}) {
    for (uint8_t op : {0x02, 0x03, 0x04}) {  // block, loop, if
      Bytes body;
      for (uint32_t i = 0; i < depth; ++i) {
        if (op == 0x04) body.insert(body.end(), {0x41, 0x00});  // i32.const 0 (condition)
        body.insert(body.end(), {op, 0x40});
      }
      Bytes closed = body;
      closed.insert(closed.end(), depth, 0x0B);
      mu.Check(FuncModule(closed), "nesting " + std::to_string(depth));
      mu.Check(FuncModule(body), "unclosed nesting " + std::to_string(depth));
    }
  }
  // A huge br_table and a long run of unreachable code.
  Bytes bt = {0x02, 0x40, 0x41, 0x00, 0x0E};
  PutU32(bt, 100000);
  bt.insert(bt.end(), 100001, 0x00);
  bt.push_back(0x0B);
  mu.Check(FuncModule(bt), "br_table 100000");
  Bytes un = {0x00};
  for (int i = 0; i < 100000; ++i) un.insert(un.end(), {0x6A});  // i32.add on the polymorphic stack
  mu.Check(FuncModule(un), "polymorphic i32.add x100000");
}

}  // namespace

int main(int argc, char** argv) {
  std::string wast2json = "wast2json";
  fs::path spec_dir, work_dir = "mutation-work";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--wast2json") wast2json = argv[i + 1];
    else if (a == "--spec-dir") spec_dir = argv[i + 1];
    else if (a == "--work-dir") work_dir = argv[i + 1];
  }
  if (spec_dir.empty()) {
    std::fprintf(stderr, "usage: weft_mutation_test --spec-dir DIR [--wast2json PATH] [--work-dir DIR]\n");
    return 2;
  }
  fs::create_directories(work_dir);
  std::vector<fs::path> wasts;
  for (const auto& e : fs::directory_iterator(spec_dir)) {
    std::string name = e.path().filename().string();
    if (e.path().extension() == ".wast" && name.rfind("simd_", 0) != 0) wasts.push_back(e.path());
  }
  std::sort(wasts.begin(), wasts.end());
  std::vector<fs::path> modules;
  for (const auto& w : wasts) {
    fs::path dir = work_dir / w.stem();
    fs::create_directories(dir);
    fs::path json = dir / (w.stem().string() + ".json");
    std::string cmd = "\"" + wast2json + "\" \"" + w.string() + "\" -o \"" + json.string() +
                      "\" > /dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) {
      std::printf("FAIL wast2json %s\n", w.c_str());
      return 1;
    }
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".wasm") found.push_back(e.path());
    std::sort(found.begin(), found.end());
    modules.insert(modules.end(), found.begin(), found.end());
  }
  if (modules.size() < 1000) {
    std::printf("FAIL: only %zu module binaries found\n", modules.size());
    return 1;
  }

  Stats stats;
  Mutator mu(&stats);
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& p : modules) mu.MutateAll(ReadFile(p), p.filename().string());
  DeepNesting(mu);
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("%zu modules, %llu decodes (%llu valid, %llu instantiated), %llu failures, "
              "slowest %.3f s, total %.1f s\n",
              modules.size(), static_cast<unsigned long long>(stats.runs),
              static_cast<unsigned long long>(stats.decoded),
              static_cast<unsigned long long>(stats.instantiated),
              static_cast<unsigned long long>(stats.failures), stats.slowest_s, total);
  return stats.failures == 0 ? 0 : 1;
}
