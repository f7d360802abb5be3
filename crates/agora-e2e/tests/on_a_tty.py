#!/usr/bin/env python3
"""Runs a command with a pseudo-terminal as its controlling terminal, as an operator's
shell would, copying what it writes there to stdout; exits when it does.

Used to check that nothing agora starts waits on a terminal prompt (ssh_repo.rs).
"""

import os
import pty
import sys


def main():
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(sys.argv[1], sys.argv[1:])
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO once the child side is closed
            break
        if not data:
            break
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
