"""What the export commands (``export_data``, ``run_report``) share: the output file.

The file is written beside its target and moved into place only when complete, so a failed run
never leaves a half-written file nor destroys an earlier one of the same name. It gets the mode
any new file of the user gets (0666 less the umask), not the private 0600 of a temporary file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError


def _umask() -> int:
    # The umask can only be read by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def output_atomic(output: Path) -> Iterator[str]:
    """Yield a temporary path to write; on success it becomes ``output``."""
    if not output.parent.exists():
        raise CommandError(f"The folder {output.parent} does not exist.")
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".part", dir=output.parent)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
