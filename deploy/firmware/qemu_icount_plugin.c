/* A QEMU TCG plugin, written for mcunas: counts the guest instructions QEMU executes, exactly and deterministically,
 * and records the running count each time the guest executes the marker instruction `mov r11, r11` (Thumb encoding
 * 0x46DB; nothing else in our firmware uses it). The generated model (codegen.cpp, MCUNAS_LAYER_MARK) puts one
 * before every layer and one after the last, so differences of consecutive marks are instructions per layer.
 *
 *   qemu-system-arm ... -plugin PATH/libmcunas_qemu_icount.so,out=counts.txt
 *
 * writes "total N" and then one "mark K COUNT" line per marker executed. QEMU loads plugins through its public
 * plugin ABI (docs/devel/tcg-plugins in QEMU's manual); the few entry points used are declared below from that
 * documentation, since Debian ships no plugin header. */
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
extern struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t index);
extern const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
extern size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
extern void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                       void *ptr, uint64_t imm);
extern void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                                   void (*cb)(unsigned int vcpu, void *data),
                                                   enum qemu_plugin_cb_flags flags, void *data);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, void (*cb)(qemu_plugin_id_t, void *), void *data);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t executed;    /* every guest instruction, counted inline by QEMU */
static uint64_t *marks;      /* `executed` at each marker, in order */
static size_t mark_count, mark_capacity;
static char out_path[4096];

static void on_marker(unsigned int vcpu, void *data) {
  (void)vcpu;
  (void)data;
  if (mark_count == mark_capacity) {
    mark_capacity = mark_capacity ? 2 * mark_capacity : 1024;
    marks = realloc(marks, mark_capacity * sizeof *marks);
    if (!marks) abort();
  }
  marks[mark_count++] = executed;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; ++i) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &executed, 1);
    const uint8_t *bytes = qemu_plugin_insn_data(insn);
    /* Little-endian 0x46DB. Size 2 or more: QEMU (7.2) has been seen to report the marker and the LDM after it as one
     * 4-byte instruction when a block starts at the marker; a 32-bit Thumb encoding never starts with 0x46DB. */
    if (qemu_plugin_insn_size(insn) >= 2 && bytes[0] == 0xDB && bytes[1] == 0x46)
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, NULL);
  }
}

static void on_exit(qemu_plugin_id_t id, void *data) {
  (void)id;
  (void)data;
  FILE *out = out_path[0] ? fopen(out_path, "w") : stderr;
  if (!out) return;
  fprintf(out, "total %llu\n", (unsigned long long)executed);
  for (size_t k = 0; k < mark_count; ++k) fprintf(out, "mark %zu %llu\n", k, (unsigned long long)marks[k]);
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
