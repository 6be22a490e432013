/* A QEMU TCG plugin, written for mcunas: counts the guest instructions QEMU executes, exactly and deterministically,
 * by timing class, and records the running counts each time the guest executes the marker instruction
 * `mov r11, r11` (Thumb encoding 0x46DB; nothing else in our firmware uses it). The generated model (codegen.cpp,
 * MCUNAS_LAYER_MARK) puts one before every layer and one after the last, so differences of consecutive marks are
 * instructions per layer.
 *
 *   qemu-system-arm ... -plugin PATH/libmcunas_qemu_icount.so,out=counts.txt
 *
 * writes "total N" and then one line per marker executed: "mark K COUNT" followed by the running count of each
 * class below, in the order of `class_names` (deploy/firmware_image.h parses them; cost_models/core_timing.h turns
 * them into cycles). The classes are what the Cortex-M Technical Reference Manuals' timing tables distinguish:
 *   load            single loads (LDR, LDRB, LDRH, LDRSB, LDRSH, literal and SP-relative included)
 *   load_pipelined  those of them right after another single load in their translation block, which the
 *                   Cortex-M4 overlaps with it (one cycle instead of two)
 *   store           single stores
 *   multiple        load/store multiple, PUSH, POP, LDRD, STRD (the instructions)
 *   registers       the registers they transfer (N in their 1 + N cycles)
 *   multiply        multiplies and multiply-accumulates, DSP ones included (SMLAD, SMMULR, ...)
 *   divide          SDIV, UDIV
 *   branch          branches (B, BL, BX, BLX, CBZ, CBNZ, TBB, TBH, and writes to PC: POP/LDM/LDR PC, MOV/ADD PC,
 *                   which also count as their load or load multiple)
 *   taken           of them, those that changed the flow: every unconditional one, and a conditional one when the
 *                   next block QEMU runs does not start where it falls through
 * Instructions are classified once, when QEMU translates them, from their encodings (ARMv7-M Architecture Reference
 * Manual, A5.2 and A5.3 for the 16- and 32-bit Thumb encodings); counting is by QEMU's inline adds, plus one callback
 * per executed block that ends in a conditional branch. QEMU loads plugins through its public plugin ABI
 * (docs/devel/tcg-plugins in QEMU's manual); the few entry points used are declared below from that documentation,
 * since Debian ships no plugin header. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS = 0 };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };

extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
                                                  void (*cb)(qemu_plugin_id_t, struct qemu_plugin_tb *));
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t index);
extern const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
extern size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
extern uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
extern void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                       void *ptr, uint64_t imm);
extern void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                                   void (*cb)(unsigned int vcpu, void *data),
                                                   enum qemu_plugin_cb_flags flags, void *data);
extern void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, void (*cb)(unsigned int vcpu, void *data),
                                                 enum qemu_plugin_cb_flags flags, void *data);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, void *), void *data);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

enum { kLoad, kLoadPipelined, kStore, kMultiple, kRegisters, kMultiply, kDivide, kBranch, kTaken, kClasses };

static uint64_t executed;           /* every guest instruction, counted inline by QEMU */
static uint64_t counts[kClasses];   /* per class, the same way */
static uint64_t *marks;             /* (executed, counts...) at each marker, in order */
static size_t mark_count, mark_capacity;
static char out_path[4096];

/* The block that ran last, when it ended in a conditional branch: where that branch falls through to. */
static uint64_t pending_fallthrough;
static int pending;

static void on_marker(unsigned int vcpu, void *data) {
  (void)vcpu;
  (void)data;
  if (mark_count == mark_capacity) {
    mark_capacity = mark_capacity ? 2 * mark_capacity : 1024;
    marks = realloc(marks, mark_capacity * (kClasses + 1) * sizeof *marks);
    if (!marks) abort();
  }
  uint64_t *row = marks + mark_count++ * (kClasses + 1);
  row[0] = executed;
  memcpy(row + 1, counts, sizeof counts);
}

/* Every block start: settles the conditional branch that ended the previous block, if any. `data` holds the block's
 * start address (and, when it too ends in a conditional branch, that branch's fall-through after it). */
typedef struct {
  uint64_t start, fallthrough;
  int ends_conditional;
} block_info;

static void on_block(unsigned int vcpu, void *data) {
  (void)vcpu;
  const block_info *b = data;
  if (pending && b->start != pending_fallthrough) ++counts[kTaken];
  pending = b->ends_conditional;
  pending_fallthrough = b->fallthrough;
}

/* What one instruction is, from its first halfword (and its second for a 32-bit encoding). */
typedef struct {
  int cls;          /* kLoad, kStore, kMultiple, kMultiply, kDivide, or -1 for none of them */
  int registers;    /* for kMultiple */
  int branch;       /* whether it is a branch (or writes PC) */
  int conditional;  /* for a branch: whether it may fall through (B<cond>, CBZ, CBNZ, or inside an IT block) */
} insn_class;

static int popcount16(unsigned v) {
  int n = 0;
  for (; v; v &= v - 1) ++n;
  return n;
}

static insn_class classify(const uint8_t *bytes, size_t size) {
  insn_class c = {-1, 0, 0, 0};
  const unsigned hw1 = (unsigned)bytes[0] | (unsigned)bytes[1] << 8;
  const int wide = (hw1 >> 11) == 0x1D || (hw1 >> 11) == 0x1E || (hw1 >> 11) == 0x1F;
  if (!wide || size < 4) {
    if ((hw1 >> 11) == 0x09) c.cls = kLoad;                                        /* LDR literal */
    else if ((hw1 >> 12) == 0x5) c.cls = ((hw1 >> 9) & 7) < 3 ? kStore : kLoad;   /* register offset */
    else if ((hw1 >> 13) == 0x3 || (hw1 >> 12) == 0x8 || (hw1 >> 12) == 0x9)      /* immediate, SP-relative */
      c.cls = (hw1 >> 11) & 1 ? kLoad : kStore;
    else if ((hw1 >> 12) == 0xC) c.cls = kMultiple, c.registers = popcount16(hw1 & 0xFF);  /* LDM, STM */
    else if ((hw1 & 0xFE00) == 0xB400) c.cls = kMultiple, c.registers = popcount16(hw1 & 0x1FF);  /* PUSH */
    else if ((hw1 & 0xFE00) == 0xBC00) {                                            /* POP */
      c.cls = kMultiple, c.registers = popcount16(hw1 & 0x1FF);
      c.branch = (hw1 & 0x100) != 0;                                               /* POP {..., pc} */
    } else if ((hw1 >> 12) == 0xD && ((hw1 >> 8) & 0xF) < 0xE) c.branch = 1, c.conditional = 1;  /* B<cond> */
    else if ((hw1 >> 11) == 0x1C) c.branch = 1;                                     /* B */
    else if ((hw1 & 0xF500) == 0xB100) c.branch = 1, c.conditional = 1;             /* CBZ, CBNZ */
    else if ((hw1 & 0xFF00) == 0x4700) c.branch = 1;                                /* BX, BLX */
    else if (((hw1 & 0xFF00) == 0x4600 || (hw1 & 0xFF00) == 0x4400) && (((hw1 >> 4) & 8) | (hw1 & 7)) == 15)
      c.branch = 1;                                                                /* MOV PC / ADD PC */
    else if ((hw1 & 0xFFC0) == 0x4340) c.cls = kMultiply;                           /* MULS */
    return c;
  }
  const unsigned hw2 = (unsigned)bytes[2] | (unsigned)bytes[3] << 8;
  if ((hw1 & 0xFE40) == 0xE800) {                                                   /* LDM, STM (and RFE, SRS) */
    c.cls = kMultiple, c.registers = popcount16(hw2);
    c.branch = (hw1 & 0x10) && (hw2 & 0x8000);                                      /* LDM with PC */
  } else if ((hw1 & 0xFE40) == 0xE840) {                                            /* dual, exclusive, TBB/TBH */
    if ((hw1 & 0xFFF0) == 0xE8D0 && (hw2 & 0xFFE0) == 0xF000) c.cls = kLoad, c.branch = 1;  /* TBB, TBH */
    else if (hw1 & 0x0120) c.cls = kMultiple, c.registers = 2;                     /* LDRD, STRD */
    else c.cls = hw1 & 0x10 ? kLoad : kStore;                                       /* LDREX, STREX */
  } else if ((hw1 & 0xFE00) == 0xF800) {                                            /* single loads and stores */
    c.cls = hw1 & 0x10 ? kLoad : kStore;
    c.branch = c.cls == kLoad && ((hw2 >> 12) & 0xF) == 0xF && (hw1 & 0x60) == 0x40;  /* LDR PC */
  } else if ((hw1 & 0xFF80) == 0xFB00) {
    c.cls = kMultiply;                                                              /* MUL, MLA, SMLAD, SMMUL... */
  } else if ((hw1 & 0xFF80) == 0xFB80) {
    const unsigned op1 = (hw1 >> 4) & 7;
    c.cls = op1 == 1 || op1 == 3 ? kDivide : kMultiply;                            /* SDIV, UDIV; long ones */
  } else if ((hw1 >> 11) == 0x1E && (hw2 & 0x8000)) {                               /* branches, misc control */
    const unsigned op1 = (hw2 >> 12) & 7;
    if (op1 & 1) c.branch = 1;                                                      /* B.W, BL */
    else if ((op1 & 5) == 0 && ((hw1 >> 7) & 7) != 7) c.branch = 1, c.conditional = 1;  /* B<cond>.W */
  }
  return c;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  block_info *info = calloc(1, sizeof *info);  /* lives as long as QEMU may run the block */
  if (!info) abort();
  info->start = qemu_plugin_tb_vaddr(tb);
  int it_left = 0;  /* instructions still inside an IT block: a branch there is conditional */
  insn_class previous = {-1, 0, 0, 0};
  for (size_t i = 0; i < n; ++i) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    const uint8_t *bytes = qemu_plugin_insn_data(insn);
    const size_t size = qemu_plugin_insn_size(insn);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
    /* Little-endian 0x46DB. Size 2 or more: QEMU (7.2) has been seen to report the marker and the LDM after it as one
     * 4-byte instruction when a block starts at the marker; a 32-bit Thumb encoding never starts with 0x46DB. */
    if (size >= 2 && bytes[0] == 0xDB && bytes[1] == 0x46) {
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, NULL);
      previous.cls = -1;
      continue;
    }
    insn_class c = classify(bytes, size);
    const unsigned hw1 = (unsigned)bytes[0] | (unsigned)bytes[1] << 8;
    if (c.branch && it_left > 0) c.conditional = 1;
    if (it_left > 0) --it_left;
    if ((hw1 & 0xFF00) == 0xBF00 && (hw1 & 0xF) != 0)  /* IT: the mask's lowest set bit says how many follow */
      it_left = (hw1 & 1) ? 4 : (hw1 & 2) ? 3 : (hw1 & 4) ? 2 : 1;
    if (c.cls >= 0) qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counts[c.cls], 1);
    if (c.cls == kLoad && previous.cls == kLoad)
      qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counts[kLoadPipelined], 1);
    if (c.cls == kMultiple)
      qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counts[kRegisters],
                                                 (uint64_t)c.registers);
    if (c.branch) qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counts[kBranch], 1);
    if (c.branch && !c.conditional)
      qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counts[kTaken], 1);
    if (c.branch && c.conditional && i + 1 == n) {
      info->ends_conditional = 1;
      info->fallthrough = qemu_plugin_insn_vaddr(insn) + size;
    }
    previous = c;
  }
  qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS, info);
}

static void on_exit(qemu_plugin_id_t id, void *data) {
  (void)id;
  (void)data;
  FILE *out = out_path[0] ? fopen(out_path, "w") : stderr;
  if (!out) return;
  fprintf(out, "total %llu\n", (unsigned long long)executed);
  for (size_t k = 0; k < mark_count; ++k) {
    fprintf(out, "mark %zu", k);
    for (int j = 0; j <= kClasses; ++j) fprintf(out, " %llu", (unsigned long long)marks[k * (kClasses + 1) + j]);
    fputc('\n', out);
  }
  if (out != stderr) fclose(out);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const void *info, int argc,
                                                               char **argv) {
  (void)info;
  for (int i = 0; i < argc; ++i)
    if (strncmp(argv[i], "out=", 4) == 0) snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit, NULL);
  return 0;
}
