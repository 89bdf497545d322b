#!/usr/bin/env python3
"""Run a command on a new pty, as a user at a terminal would, and drive it.

    pty-drive.py [--size ROWSxCOLS] [ACTION...] -- COMMAND [ARG...]

ACTION, done in order once the command runs:
    --expect REGEX     read its output until REGEX matches (fails after 20 s)
    --send TEXT        type TEXT (\\n, \\r, \\x03 ... are decoded)
    --resize ROWSxCOLS change the terminal's size (the command gets SIGWINCH)
    --signal SIG       send SIG (a name, e.g. INT) to the command itself
Then the output is read to its end and printed (CRs before LF dropped) on stdout, and
pty-drive exits with the command's status (128+N when killed by signal N).
A failed --expect prints what was read and exits 99.
"""
import fcntl
import os
import re
import select
import signal
import struct
import sys
import termios
import time


def set_size(fd, spec):
    rows, cols = (int(x) for x in spec.split("x"))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        sys.exit(__doc__)
    cut = argv.index("--")
    opts, cmd = argv[:cut], argv[cut + 1:]
    size = "24x80"
    actions = []
    i = 0
    while i < len(opts):
        if opts[i] == "--size":
            size = opts[i + 1]
        else:
            actions.append((opts[i], opts[i + 1]))
        i += 2

    master, slave = os.openpty()
    set_size(master, size)
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        os.execvp(cmd[0], cmd)
    os.close(slave)

    out = b""

    def read_some(timeout):
        nonlocal out
        r, _, _ = select.select([master], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b""
        if not data:
            return False
        out += data
        return True

    seen = 0
    for what, arg in actions:
        if what == "--expect":
            pattern = re.compile(arg.encode())
            deadline = time.monotonic() + 20
            while not pattern.search(out, seen):
                left = deadline - time.monotonic()
                if left <= 0 or not read_some(left):
                    sys.stdout.write(out.decode(errors="replace"))
                    sys.stdout.write("\n# pty-drive: no match for %r\n" % arg)
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    sys.exit(99)
            seen = pattern.search(out, seen).end()
        elif what == "--send":
            os.write(master, arg.encode().decode("unicode_escape").encode())
        elif what == "--resize":
            set_size(master, arg)
        elif what == "--signal":
            os.kill(pid, getattr(signal, "SIG" + arg.upper().removeprefix("SIG")))
        else:
            sys.exit("unknown action " + what)
    while read_some(None):
        pass
    _, status = os.waitpid(pid, 0)
    # both ptys add a CR before each LF (the outer one unless imgtool made
    # it raw): keep plain lines
    sys.stdout.write(re.sub(r"\r+\n", "\n", out.decode(errors="replace")))
    sys.stdout.flush()
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


main()
