#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal, as a person at a terminal would, and reports what
the screen received and when.

Usage: pty_session.py STEPS_JSON -- COMMAND [ARGS...]

STEPS_JSON is a list of steps, run in order:
  {"wait_for": TEXT, "timeout": SECONDS}  wait until the output (escape codes removed)
                                          holds TEXT, counting from the previous step
  {"send": TEXT}                          type TEXT (\\u0003 is Ctrl-C, \\r is Enter)
  {"sleep": SECONDS}
  {"mark": NAME}                          note the output so far under NAME
Then it waits for the command to end (15 s at most) and prints one JSON document:
  {"marks": {NAME: TEXT}, "output": TEXT, "raw": TEXT, "exit": CODE, "failed": REASON|null}
TEXT is the output with escape codes removed; RAW keeps them. Like a terminal, it answers
the cursor-position question line editors ask.
"""
import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


def main():
    steps = json.loads(sys.argv[1])
    command = sys.argv[sys.argv.index("--") + 1:]
    pid, master = pty.fork()
    if pid == 0:
        # The window's size, as a terminal emulator sets it (COLUMNS x LINES, else 100 x 30).
        size = struct.pack("HHHH", int(os.environ.get("LINES", "30")),
                           int(os.environ.get("COLUMNS", "100")), 0, 0)
        fcntl.ioctl(0, termios.TIOCSWINSZ, size)
        os.execvp(command[0], command)
    raw = b""

    def read(timeout):
        nonlocal raw
        ready, _, _ = select.select([master], [], [], timeout)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return False
            if not chunk:
                return False
            raw += chunk
            # A terminal answers "where is the cursor?" (line editors ask it).
            for _ in range(chunk.count(b"\x1b[6n")):
                os.write(master, b"\x1b[1;1R")
        return True

    def text():
        return ESCAPES.sub("", raw.decode("utf-8", "replace"))

    marks, failed = {}, None
    for step in steps:
        if "wait_for" in step:
            deadline = time.monotonic() + step.get("timeout", 10)
            while step["wait_for"] not in text():
                left = deadline - time.monotonic()
                if left <= 0 or not read(min(left, 0.05)):
                    if step["wait_for"] not in text():
                        failed = "never saw %r" % step["wait_for"]
                    break
            if failed:
                break
        elif "send" in step:
            os.write(master, step["send"].encode())
        elif "sleep" in step:
            deadline = time.monotonic() + step["sleep"]
            while time.monotonic() < deadline:
                read(max(0.0, min(0.05, deadline - time.monotonic())))
        elif "mark" in step:
            # Whatever is already on its way first.
            while read(0.02) and select.select([master], [], [], 0)[0]:
                pass
            marks[step["mark"]] = text()
    deadline = time.monotonic() + 15
    code = None
    while time.monotonic() < deadline:
        read(0.05)
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(status)
            break
    if code is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        failed = failed or "the command did not end"
    while read(0.05):
        pass
    print(json.dumps({"marks": marks, "output": text(), "raw": raw.decode("utf-8", "replace"),
                      "exit": code, "failed": failed}))


if __name__ == "__main__":
    main()
