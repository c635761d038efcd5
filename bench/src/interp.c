/* A small stack-machine bytecode interpreter (switch dispatch), the shape of
 * many real guests (scripting languages). Size: loop iterations of the
 * interpreted program. */
#include <string.h>

#include "common.h"

enum Op { kPush, kLoad, kStore, kAdd, kSub, kMul, kXor, kShr, kDup, kJnz, kHalt };

typedef struct {
  uint8_t code[256];
  uint32_t len;
} Program;

static void Emit(Program* p, uint8_t op) { p->code[p->len++] = op; }
static void EmitU32(Program* p, uint8_t op, uint32_t v) {
  Emit(p, op);
  memcpy(p->code + p->len, &v, 4); /* little-endian on both targets */
  p->len += 4;
}
static void EmitU8(Program* p, uint8_t op, uint8_t v) {
  Emit(p, op);
  Emit(p, v);
}

static uint32_t Run(const uint8_t* code) {
  uint32_t stack[64];
  uint32_t locals[4] = {0};
  uint32_t sp = 0, pc = 0;
  for (;;) {
    switch (code[pc++]) {
      case kPush: {
        uint32_t v;
        memcpy(&v, code + pc, 4);
        pc += 4;
        stack[sp++] = v;
        break;
      }
      case kLoad: stack[sp++] = locals[code[pc++]]; break;
      case kStore: locals[code[pc++]] = stack[--sp]; break;
      case kAdd: --sp; stack[sp - 1] += stack[sp]; break;
      case kSub: --sp; stack[sp - 1] -= stack[sp]; break;
      case kMul: --sp; stack[sp - 1] *= stack[sp]; break;
      case kXor: --sp; stack[sp - 1] ^= stack[sp]; break;
      case kShr: --sp; stack[sp - 1] >>= (stack[sp] & 31); break;
      case kDup: stack[sp] = stack[sp - 1]; ++sp; break;
      case kJnz: {
        uint32_t target;
        memcpy(&target, code + pc, 4);
        pc += 4;
        if (stack[--sp] != 0) pc = target;
        break;
      }
      case kHalt: return stack[sp - 1];
      default: fprintf(stderr, "bad opcode\n"); exit(1);
    }
  }
}

int main(int argc, char** argv) {
  uint32_t n = (uint32_t)BenchSize(argc, argv, 23000000);
  if (n == 0) n = 1;
  Program p = {{0}, 0};
  /* i = n; acc = 0; do { acc = (acc*31 + i) ^ (i >> 3); } while (--i); */
  EmitU32(&p, kPush, n);
  EmitU8(&p, kStore, 0);
  EmitU32(&p, kPush, 0);
  EmitU8(&p, kStore, 1);
  uint32_t loop = p.len;
  EmitU8(&p, kLoad, 1);
  EmitU32(&p, kPush, 31);
  Emit(&p, kMul);
  EmitU8(&p, kLoad, 0);
  Emit(&p, kAdd);
  EmitU8(&p, kLoad, 0);
  EmitU32(&p, kPush, 3);
  Emit(&p, kShr);
  Emit(&p, kXor);
  EmitU8(&p, kStore, 1);
  EmitU8(&p, kLoad, 0);
  EmitU32(&p, kPush, 1);
  Emit(&p, kSub);
  Emit(&p, kDup);
  EmitU8(&p, kStore, 0);
  EmitU32(&p, kJnz, loop);
  EmitU8(&p, kLoad, 1);
  Emit(&p, kHalt);
  BenchChecksumU64(Run(p.code));
  return 0;
}
