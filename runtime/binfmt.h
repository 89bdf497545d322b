/* Another architecture's executables: the kernel hands them to an
 * interpreter (qemu-user) registered in binfmt_misc, never a program
 * imgtool runs. This module only looks: is there a handler a container
 * can use? (docs/buildfile.md, multi-platform)
 *
 * The handlers read are the ones at /proc/sys/fs/binfmt_misc in this
 * process's mount namespace; the kernel uses the instance of the user
 * namespace the process runs in (or its nearest ancestor's), which is the
 * one mounted there unless someone mounted another. A handler counts only
 * with the F flag: without it the kernel opens the interpreter by path at
 * exec time, inside the container's root, where it is not. */
#ifndef IMGTOOL_BINFMT_H
#define IMGTOOL_BINFMT_H

struct err;

#define RT_BINFMT_DIR "/proc/sys/fs/binfmt_misc"

/* qemu's name for an architecture (GOARCH name: arm64 -> aarch64), or
 * NULL when imgtool knows no ELF machine for it. */
const char *rt_binfmt_qemu_name (const char *arch);

/* 0 when a process here can exec os/arch's ELF executables (names as an
 * image config has them: normalised first; arch NULL: yes): the host's
 * own architecture (amd64 also runs 386, arm64 also arm), or an enabled
 * handler whose magic and mask match such an ELF header, with the F flag.
 * Else -1 and one error line that says what is missing and the command
 * that gets it. */
int rt_binfmt_check (const char *os, const char *arch, struct err **err);

/* The same over dirfd (a binfmt_misc directory, named dir in messages;
 * -1: none) with host_arch as the host's, for tests. */
int rt_binfmt_check_at (int dirfd, const char *dir, const char *host_arch,
                        const char *os, const char *arch, struct err **err);

#endif
