// A small x86-64 encoder: just the instructions the baseline JIT (x64_jit.cc) emits.
//
// Operands are registers and [base + disp] or [base + index + disp] memory forms; every
// memory operand is encoded with an explicit displacement, so the rbp/r13 and rsp/r12
// special cases of ModRM need no thought by callers. Labels are byte offsets into the
// buffer, patched by the caller (rel32 fields).
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace weft::wasm::jit {

enum Reg : uint8_t {
  RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15,
};
// SSE registers share the encoding space (xmm0..xmm15).
enum Xmm : uint8_t {
  XMM0, XMM1, XMM2, XMM3, XMM4, XMM5, XMM6, XMM7,
  XMM8, XMM9, XMM10, XMM11, XMM12, XMM13, XMM14, XMM15,
};

// Condition codes (the low nibble of Jcc/SETcc/CMOVcc).
enum Cond : uint8_t {
  kO = 0, kNO = 1, kB = 2, kAE = 3, kE = 4, kNE = 5, kBE = 6, kA = 7,
  kS = 8, kNS = 9, kP = 0xA, kNP = 0xB, kL = 0xC, kGE = 0xD, kLE = 0xE, kG = 0xF,
};
inline Cond Negate(Cond c) { return static_cast<Cond>(c ^ 1); }

struct Mem {
  Reg base;
  int32_t disp;
  int8_t index = -1;  // a Reg, or -1 for none (scale is always 1 or 8)
  uint8_t scale = 0;  // log2
};

class Assembler {
 public:
  std::vector<uint8_t>& bytes() { return buf_; }
  size_t size() const { return buf_.size(); }

  void Byte(uint8_t b) { buf_.push_back(b); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void Raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    buf_.insert(buf_.end(), b, b + n);
  }
  void PatchRel32(size_t field, size_t target) {
    int32_t rel = static_cast<int32_t>(static_cast<int64_t>(target) - static_cast<int64_t>(field + 4));
    std::memcpy(&buf_[field], &rel, 4);
  }

  // ---- generic encodings ----
  // REX prefix for (reg field, memory operand); `force` emits one even when empty
  // (needed for byte access to sil/dil).
  void Rex(bool w, uint8_t reg, const Mem& m, bool force = false) {
    uint8_t rex = 0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) |
                  (m.index >= 0 && (m.index & 8) ? 2 : 0) | ((m.base & 8) ? 1 : 0);
    if (rex != 0x40 || force) Byte(rex);
  }
  void RexRR(bool w, uint8_t reg, uint8_t rm, bool force = false) {
    uint8_t rex = 0x40 | (w ? 8 : 0) | ((reg & 8) ? 4 : 0) | ((rm & 8) ? 1 : 0);
    if (rex != 0x40 || force) Byte(rex);
  }
  void ModRM(uint8_t reg, const Mem& m) {
    bool d8 = m.disp >= -128 && m.disp <= 127;
    uint8_t mod = d8 ? 0x40 : 0x80;
    if (m.index >= 0 || (m.base & 7) == RSP) {
      Byte(mod | ((reg & 7) << 3) | 4);
      uint8_t idx = m.index >= 0 ? (m.index & 7) : 4;
      Byte(static_cast<uint8_t>((m.scale << 6) | (idx << 3) | (m.base & 7)));
    } else {
      Byte(mod | ((reg & 7) << 3) | (m.base & 7));
    }
    if (d8) Byte(static_cast<uint8_t>(m.disp)); else U32(static_cast<uint32_t>(m.disp));
  }
  void ModRR(uint8_t reg, uint8_t rm) { Byte(0xC0 | ((reg & 7) << 3) | (rm & 7)); }
  // op reg, [mem] with optional mandatory prefix and 0F escape.
  void OpRM(bool w, std::initializer_list<uint8_t> op, uint8_t reg, const Mem& m,
            uint8_t prefix = 0, bool force_rex = false) {
    if (prefix) Byte(prefix);
    Rex(w, reg, m, force_rex);
    for (uint8_t b : op) Byte(b);
    ModRM(reg, m);
  }
  void OpRR(bool w, std::initializer_list<uint8_t> op, uint8_t reg, uint8_t rm,
            uint8_t prefix = 0, bool force_rex = false) {
    if (prefix) Byte(prefix);
    RexRR(w, reg, rm, force_rex);
    for (uint8_t b : op) Byte(b);
    ModRR(reg, rm);
  }

  // ---- moves ----
  void Load64(Reg d, Mem m) { OpRM(true, {0x8B}, d, m); }
  void Load32(Reg d, Mem m) { OpRM(false, {0x8B}, d, m); }  // zero-extends
  void Load8U(Reg d, Mem m) { OpRM(false, {0x0F, 0xB6}, d, m); }
  void Load16U(Reg d, Mem m) { OpRM(false, {0x0F, 0xB7}, d, m); }
  void Load8S32(Reg d, Mem m) { OpRM(false, {0x0F, 0xBE}, d, m); }
  void Load16S32(Reg d, Mem m) { OpRM(false, {0x0F, 0xBF}, d, m); }
  void Load8S64(Reg d, Mem m) { OpRM(true, {0x0F, 0xBE}, d, m); }
  void Load16S64(Reg d, Mem m) { OpRM(true, {0x0F, 0xBF}, d, m); }
  void Load32S64(Reg d, Mem m) { OpRM(true, {0x63}, d, m); }
  void Store64(Mem m, Reg s) { OpRM(true, {0x89}, s, m); }
  void Store32(Mem m, Reg s) { OpRM(false, {0x89}, s, m); }
  void Store16(Mem m, Reg s) { OpRM(false, {0x89}, s, m, 0x66); }
  void Store8(Mem m, Reg s) { OpRM(false, {0x88}, s, m, 0, /*force_rex=*/s >= RSP); }
  void MovRR64(Reg d, Reg s) { OpRR(true, {0x8B}, d, s); }
  void MovRR32(Reg d, Reg s) { OpRR(false, {0x8B}, d, s); }  // zero-extends
  void MovImm64(Reg d, uint64_t v) {
    if (v <= 0xFFFFFFFFu) {  // mov r32, imm32 zero-extends
      RexRR(false, 0, d);
      Byte(0xB8 | (d & 7));
      U32(static_cast<uint32_t>(v));
    } else {
      RexRR(true, 0, d);
      Byte(0xB8 | (d & 7));
      U64(v);
    }
  }
  void StoreImm32(Mem m, int32_t v, bool w) {  // w: sign-extended to 64 bits
    OpRM(w, {0xC7}, 0, m);
    U32(static_cast<uint32_t>(v));
  }
  void StoreImm16(Mem m, uint16_t v) {
    OpRM(false, {0xC7}, 0, m, 0x66);
    Byte(static_cast<uint8_t>(v));
    Byte(static_cast<uint8_t>(v >> 8));
  }
  void StoreImm8(Mem m, uint8_t v) {
    OpRM(false, {0xC6}, 0, m);
    Byte(v);
  }
  void Lea(Reg d, Mem m) { OpRM(true, {0x8D}, d, m); }
  void Lea32(Reg d, Mem m) { OpRM(false, {0x8D}, d, m); }  // zero-extends
  void Movsxd(Reg d, Reg s) { OpRR(true, {0x63}, d, s); }
  void Movsx8(Reg d, Reg s, bool w) { OpRR(w, {0x0F, 0xBE}, d, s, 0, s >= RSP); }
  void Movsx16(Reg d, Reg s, bool w) { OpRR(w, {0x0F, 0xBF}, d, s); }
  void Movzx8(Reg d, Reg s) { OpRR(false, {0x0F, 0xB6}, d, s, 0, s >= RSP); }

  // ---- integer ALU: op reg, r/m ----
  enum Alu : uint8_t { kAdd = 0x03, kOr = 0x0B, kAnd = 0x23, kSub = 0x2B, kXor = 0x33, kCmp = 0x3B };
  void AluRM(Alu op, bool w, Reg d, Mem m) { OpRM(w, {op}, d, m); }
  void AluRR(Alu op, bool w, Reg d, Reg s) { OpRR(w, {op}, d, s); }
  // op r/m, imm32 (group 1: /0 add, /1 or, /4 and, /5 sub, /6 xor, /7 cmp)
  void AluRI(uint8_t ext, bool w, Reg d, int32_t imm) {
    RexRR(w, 0, d);
    if (imm >= -128 && imm <= 127) {
      Byte(0x83); ModRR(ext, d); Byte(static_cast<uint8_t>(imm));
    } else {
      Byte(0x81); ModRR(ext, d); U32(static_cast<uint32_t>(imm));
    }
  }
  void AluMI(uint8_t ext, bool w, Mem m, int32_t imm) {
    if (imm >= -128 && imm <= 127) {
      OpRM(w, {0x83}, ext, m); Byte(static_cast<uint8_t>(imm));
    } else {
      OpRM(w, {0x81}, ext, m); U32(static_cast<uint32_t>(imm));
    }
  }
  void ImulRM(bool w, Reg d, Mem m) { OpRM(w, {0x0F, 0xAF}, d, m); }
  // Shifts and rotates by cl: /0 rol, /1 ror, /4 shl, /5 shr, /7 sar.
  void ShiftCl(uint8_t ext, bool w, Reg d) { RexRR(w, 0, d); Byte(0xD3); ModRR(ext, d); }
  void ShiftImm(uint8_t ext, bool w, Reg d, uint8_t n) { RexRR(w, 0, d); Byte(0xC1); ModRR(ext, d); Byte(n); }
  void Cmov(Cond c, bool w, Reg d, Reg s) { OpRR(w, {0x0F, static_cast<uint8_t>(0x40 | c)}, d, s); }
  void CmovM(Cond c, bool w, Reg d, Mem m) { OpRM(w, {0x0F, static_cast<uint8_t>(0x40 | c)}, d, m); }
  // lea d, [rip + disp32]; returns the disp32 field (patch with PatchRel32).
  size_t LeaRip(Reg d) {
    RexRR(true, d, 0);
    Byte(0x8D);
    Byte(static_cast<uint8_t>(((d & 7) << 3) | 5));
    size_t f = size();
    U32(0);
    return f;
  }
  void TestRR(bool w, Reg a, Reg b) { OpRR(w, {0x85}, b, a); }
  void Setcc(Cond c, Reg d) { OpRR(false, {0x0F, static_cast<uint8_t>(0x90 | c)}, 0, d, 0, d >= RSP); }
  void Cqo(bool w) { if (w) Byte(0x48); Byte(0x99); }  // cdq / cqo
  // /6 div, /7 idiv of rdx:rax by r/m
  void DivR(bool is_signed, bool w, Reg s) { RexRR(w, 0, s); Byte(0xF7); ModRR(is_signed ? 7 : 6, s); }
  // mul s: rdx:rax = rax * s, unsigned
  void MulR(bool w, Reg s) { RexRR(w, 0, s); Byte(0xF7); ModRR(4, s); }
  void XorRR32(Reg d) { AluRR(kXor, false, d, d); }
  void CmpMemByte0(Mem m) { OpRM(false, {0x80}, 7, m); Byte(0); }

  // ---- SSE (scalar) ----
  // prefix F2 = double, F3 = single
  void MovsdLoad(Xmm d, Mem m, bool dbl) { OpRM(false, {0x0F, 0x10}, d, m, dbl ? 0xF2 : 0xF3); }
  void MovsdStore(Mem m, Xmm s, bool dbl) { OpRM(false, {0x0F, 0x11}, s, m, dbl ? 0xF2 : 0xF3); }
  void MovqToXmm(Xmm d, Reg s) { OpRR(true, {0x0F, 0x6E}, d, s, 0x66); }  // movq xmm, r64
  // movapd d, s: the whole register, so no dependency on d's old value (movsd has one)
  void MovapdRR(Xmm d, Xmm s) { OpRR(false, {0x0F, 0x28}, d, s, 0x66); }
  // 0x58 add, 0x59 mul, 0x5C sub, 0x5E div, 0x51 sqrt
  void SseRM(uint8_t op, Xmm d, Mem m, bool dbl) { OpRM(false, {0x0F, op}, d, m, dbl ? 0xF2 : 0xF3); }
  void SseRR(uint8_t op, Xmm d, Xmm s, bool dbl) { OpRR(false, {0x0F, op}, d, s, dbl ? 0xF2 : 0xF3); }
  // ucomisd/ucomiss xmm, m (or xmm)
  void Ucomis(Xmm a, Mem m, bool dbl) { OpRM(false, {0x0F, 0x2E}, a, m, dbl ? 0x66 : 0); }
  void UcomisRR(Xmm a, Xmm b, bool dbl) { OpRR(false, {0x0F, 0x2E}, a, b, dbl ? 0x66 : 0); }

  // ---- control ----
  // Returns the offset of the rel32 field for patching.
  size_t Jcc(Cond c) { Byte(0x0F); Byte(0x80 | c); size_t f = size(); U32(0); return f; }
  size_t Jmp() { Byte(0xE9); size_t f = size(); U32(0); return f; }
  // call rel32; returns the rel32 field (patch with PatchRel32).
  size_t CallRel() { Byte(0xE8); size_t f = size(); U32(0); return f; }
  void JmpMem(Mem m) { OpRM(false, {0xFF}, 4, m); }
  void JmpR(Reg r) { RexRR(false, 0, r); Byte(0xFF); ModRR(4, r); }
  void CallR(Reg r) { RexRR(false, 0, r); Byte(0xFF); ModRR(2, r); }
  void CallMem(Mem m) { OpRM(false, {0xFF}, 2, m); }
  void Ret() { Byte(0xC3); }
  void Push(Reg r) { if (r & 8) Byte(0x41); Byte(0x50 | (r & 7)); }
  void Pop(Reg r) { if (r & 8) Byte(0x41); Byte(0x58 | (r & 7)); }

 private:
  std::vector<uint8_t> buf_;
};

}  // namespace weft::wasm::jit
