"""Killing a child process at a chosen moment, for the interrupted-run tests."""

from __future__ import annotations

import signal
import time


def sigkill_when(child, ready, *, timeout, waiting_for):
    """SIGKILL ``child`` (a ``subprocess.Popen``) as soon as ``ready()`` is true.

    Fails the test, with the child's output when it was captured, if the child ends first or
    ``ready()`` stays false for ``timeout`` seconds; the child never outlives the call.
    """
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            if child.poll() is not None:
                output = child.stdout.read().decode()[-2000:] if child.stdout else ""
                raise AssertionError(f"the child ended before {waiting_for}: {output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the child never reached {waiting_for} in {timeout} s")
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout:
            child.stdout.close()
