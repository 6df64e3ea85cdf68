"""Peak resident memory of this process around one benchmark step (Linux ``/proc``)."""
import time


def status(field):
    """A ``/proc/self/status`` size field (``VmRSS``, ``VmHWM``) in bytes."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def peak_growth(step):
    """``(seconds, peak RSS growth in bytes, result)`` of ``step()``: the peak is reset to
    the current RSS first (``clear_refs`` 5), so only what the step added counts."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    before = status("VmRSS")
    start = time.perf_counter()
    result = step()
    return time.perf_counter() - start, status("VmHWM") - before, result
