/* cgroup v2 has no devices files: the device rules become a
 * BPF_PROG_TYPE_CGROUP_DEVICE program attached to the container's cgroup
 * (what crun's ebpf.c and runc's devicefilter do). Raw bpf(2), no
 * libbpf. See runtime/devices.h.
 *
 * The program, for a context {access_type, major, minor}:
 *   r2 = access (access_type >> 16), r3 = type (access_type & 0xffff),
 *   r4 = major, r5 = minor
 *   for each rule: if the type, numbers and access (r2 & ~rule == 0)
 *                  match, return 1
 *   return 0 */
#include "lib/err.h"
#include "lib/xalloc.h"
#include "runtime/devices.h"

#include <errno.h>
#include <linux/bpf.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static struct bpf_insn
insn (uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  return (struct bpf_insn){
    .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm
  };
}

/* r<dst> = *(u32 *)(r1 + off) */
#define LOAD_CTX(dst, field)                                                   \
  insn (BPF_LDX | BPF_W | BPF_MEM, dst, BPF_REG_1,                             \
        offsetof (struct bpf_cgroup_dev_ctx, field), 0)
#define MOV_IMM(dst, imm) insn (BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define MOV_REG(dst, src) insn (BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0)
#define AND_IMM(dst, imm) insn (BPF_ALU64 | BPF_AND | BPF_K, dst, 0, 0, imm)
#define RSH_IMM(dst, imm) insn (BPF_ALU64 | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define JNE_IMM(dst, imm, off)                                                 \
  insn (BPF_JMP | BPF_JNE | BPF_K, dst, 0, off, imm)
#define EXIT() insn (BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static unsigned
bpf_access (unsigned a)
{
  return (a & RT_DEV_READ ? BPF_DEVCG_ACC_READ : 0)
         | (a & RT_DEV_WRITE ? BPF_DEVCG_ACC_WRITE : 0)
         | (a & RT_DEV_MKNOD ? BPF_DEVCG_ACC_MKNOD : 0);
}

size_t
rt_device_bpf_compile (const struct rt_device_rule *r, size_t n,
                       struct bpf_insn **out)
{
  /* 6 to load, at most 8 per rule, 2 to deny */
  struct bpf_insn *p = xcalloc (6 + 8 * n + 2, sizeof *p);
  size_t i = 0;
  p[i++] = LOAD_CTX (BPF_REG_2, access_type);
  p[i++] = MOV_REG (BPF_REG_3, BPF_REG_2);
  p[i++] = AND_IMM (BPF_REG_3, 0xffff);
  p[i++] = RSH_IMM (BPF_REG_2, 16);
  p[i++] = LOAD_CTX (BPF_REG_4, major);
  p[i++] = LOAD_CTX (BPF_REG_5, minor);
  for (size_t k = 0; k < n; k++)
    {
      bool type = r[k].type != 'a', acc = r[k].access != RT_DEV_RWM;
      bool maj = r[k].major != RT_DEV_ANY, min = r[k].minor != RT_DEV_ANY;
      /* the jumps skip to the next rule: what is left of this one */
      int16_t left = (int16_t)(type + 3 * acc + maj + min + 2);
      if (type)
        p[i++] = JNE_IMM (BPF_REG_3,
                          r[k].type == 'b' ? BPF_DEVCG_DEV_BLOCK
                                           : BPF_DEVCG_DEV_CHAR,
                          --left);
      if (acc)
        {
          /* every bit asked for must be one the rule allows */
          p[i++] = MOV_REG (BPF_REG_6, BPF_REG_2);
          p[i++]
              = AND_IMM (BPF_REG_6, (int32_t)(~bpf_access (r[k].access) & 7));
          left -= 2;
          p[i++] = JNE_IMM (BPF_REG_6, 0, --left);
        }
      if (maj)
        p[i++] = JNE_IMM (BPF_REG_4, (int32_t)r[k].major, --left);
      if (min)
        p[i++] = JNE_IMM (BPF_REG_5, (int32_t)r[k].minor, --left);
      p[i++] = MOV_IMM (BPF_REG_0, 1);
      p[i++] = EXIT ();
    }
  /* why: what no rule allows is denied */
  p[i++] = MOV_IMM (BPF_REG_0, 0);
  p[i++] = EXIT ();
  *out = p;
  return i;
}

static long
sys_bpf (int cmd, union bpf_attr *attr)
{
  return syscall (SYS_bpf, cmd, attr, sizeof *attr);
}

int
rt_device_bpf_load (const struct bpf_insn *insns, size_t n, struct err **err)
{
  union bpf_attr attr;
  char log[4096];
  int fd, e;
  memset (&attr, 0, sizeof attr);
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = (uint64_t)(uintptr_t)insns;
  attr.insn_cnt = (uint32_t)n;
  attr.license = (uint64_t)(uintptr_t) "GPL";
  /* no log the first time: the verifier is faster without one */
  fd = (int)sys_bpf (BPF_PROG_LOAD, &attr);
  if (fd >= 0)
    return fd;
  e = errno;
  log[0] = '\0';
  attr.log_buf = (uint64_t)(uintptr_t)log;
  attr.log_size = sizeof log;
  attr.log_level = 1;
  fd = (int)sys_bpf (BPF_PROG_LOAD, &attr);
  if (fd >= 0)
    return fd;
  log[sizeof log - 1] = '\0';
  /* the first line that is not the trace ("0: (61) r0 = ...") says why */
  for (char *line = log, *next; *line; line = next)
    {
      size_t digits = strspn (line, "0123456789");
      next = line + strcspn (line, "\n");
      if (*next)
        *next++ = '\0';
      if (*line && !(digits && line[digits] == ':'))
        return err_set (err, e, "load the device cgroup program (verifier: %s)",
                        line);
    }
  return err_set (err, e, "load the device cgroup program");
}

int
rt_device_bpf_attach (int cgfd, const struct rt_device_rule *r, size_t n,
                      struct err **err)
{
  _cleanup_free_ struct bpf_insn *insns = NULL;
  _cleanup_close_ int prog = -1;
  union bpf_attr attr;
  size_t len;
  if (rt_device_rules_allow_all (r, n))
    return 0;
  len = rt_device_bpf_compile (r, n, &insns);
  prog = rt_device_bpf_load (insns, len, err);
  if (prog < 0)
    return -1;
  memset (&attr, 0, sizeof attr);
  attr.target_fd = (uint32_t)cgfd;
  attr.attach_bpf_fd = (uint32_t)prog;
  attr.attach_type = BPF_CGROUP_DEVICE;
  /* multi: a program of an ancestor keeps applying, and neither can
   * replace the other */
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (sys_bpf (BPF_PROG_ATTACH, &attr) < 0)
    return err_set (err, errno, "attach the device cgroup program");
  /* the cgroup holds the program now; our fd can go */
  return 0;
}
