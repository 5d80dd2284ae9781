"""Name the machine that a benchmark result comes from, and write the result."""

import os
import platform
from pathlib import Path

import torch


def machine_name(device="cpu"):
    """Describe the processor, its cores and torch threads, and any GPU used."""
    cpu = platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    name = f"{cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
    if device.startswith("cuda"):
        name += f"; GPU {torch.cuda.get_device_name()}"
    return name


def write_result(path, title, description, lines):
    """Write a Markdown result file, a title, a paragraph and a table, and print it."""
    text = "\n".join([f"# {title}", "", description, "", *lines, ""])
    path.write_text(text)
    print(text)
