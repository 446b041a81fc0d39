"""What every benchmark in bench/ measures, and how it prints it (one place for both).

Each side of a comparison runs in its own fresh process (``child_run``), so its peak RSS is its
own; sides are interleaved round by round (A B C, B C A, ...) so a busy machine hurts them all
alike, and the table shows medians. Per side: rows/s, wall, CPU of the Python process (its
worker processes included), CPU of its PostgreSQL backends (read from /proc: the server runs on
this machine), peak RSS, and ratios against a chosen side.
"""

from __future__ import annotations

import json
import os
import resource as rusage
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup() -> None:
    """The app's own settings: DATABASE_URL, FERRY_VAR_DIR, MEDIA_ROOT... as the app reads them."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.conf import settings

    # As deployed: with DEBUG on, Django keeps the text of the last 9,000 queries in memory,
    # which would be counted as the work's memory.
    settings.DEBUG = False


def database_ready() -> None:
    """The database the settings name, created if PostgreSQL has none of that name yet (the
    benchmarks that start a web server or workers need one those processes can open: a test
    database would be theirs alone), then migrated. SQLite makes its file itself."""
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "postgresql":
        name = connection.settings_dict["NAME"]
        with connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f"CREATE DATABASE {connection.ops.quote_name(name)}")
    call_command("migrate", verbosity=0, interactive=False)


def vm_hwm_mb(pid: int | str = "self") -> float:
    """Peak RSS of one process since its exec (ru_maxrss would include the parent's)."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def process_cpu(pid: int | None) -> float | None:
    """User + system CPU seconds of a local process (None when it cannot be read)."""
    if pid is None:
        return None
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_pid(connection) -> int | None:
    """The PostgreSQL server process serving this connection (None elsewhere)."""
    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


class Backends:
    """CPU of every PostgreSQL backend this process uses while measured: the main connection's,
    those other threads open, and an import's writer process's, read from /proc before each
    closes (its process is gone after)."""

    def __init__(self):
        self.start_cpu: dict[int, float] = {}
        self.spent = 0.0
        self.active = False

    def start(self, connection) -> None:
        if connection.vendor != "postgresql":
            return
        from django.db.backends.postgresql.base import DatabaseWrapper
        from django.db.backends.signals import connection_created

        self.active = True
        self._note(backend_pid(connection))
        connection_created.connect(self._opened, weak=False)
        close = DatabaseWrapper.close
        backends = self

        def closing(wrapper):
            if backends.active and wrapper.connection is not None:
                backends._settle(wrapper.connection.info.backend_pid)
            return close(wrapper)

        DatabaseWrapper.close = closing

        # An import's writer process has a connection of its own: its backend is noted when
        # the process has started, and read before the process ends (which ends it).
        from jobs.writer_process import WriterProcess

        started, ending = WriterProcess.__init__, WriterProcess.close

        def writer_started(process):
            started(process)
            if backends.active:
                backends._note(process.backend_pid)

        def writer_ending(process):
            if backends.active and process.backend_pid is not None:
                backends._settle(process.backend_pid)
            return ending(process)

        WriterProcess.__init__, WriterProcess.close = writer_started, writer_ending

    def _note(self, pid: int | None) -> None:
        cpu = process_cpu(pid)
        if pid is not None and cpu is not None and pid not in self.start_cpu:
            self.start_cpu[pid] = cpu

    def _opened(self, sender, connection, **kwargs) -> None:
        if self.active and connection.vendor == "postgresql":
            self._note(connection.connection.info.backend_pid)

    def _settle(self, pid: int) -> None:
        cpu0 = self.start_cpu.pop(pid, None)
        cpu = process_cpu(pid)
        if cpu0 is not None and cpu is not None:
            self.spent += cpu - cpu0

    def stop(self) -> float | None:
        if not self.active:
            return None
        for pid in list(self.start_cpu):
            self._settle(pid)
        self.active = False
        return self.spent


@dataclass
class Sample:
    rows: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    db_cpu: float | None = None
    rss_mb: float = 0.0
    extra: dict = field(default_factory=dict)


class Meter:
    """Times a block in a child process: ``with Meter(connection) as m: ...; m.sample.rows = n``."""

    def __init__(self, connection=None, *, children_are_database: bool = False):
        self.connection = connection
        self.sample = Sample()
        # An SQLite import's child process is its writer: the database's work, shown as DB CPU
        # (as a PostgreSQL backend's is) rather than added to the Python CPU.
        self.children_are_database = children_are_database

    def __enter__(self) -> Meter:
        self._backends = Backends() if self.connection is not None else None
        if self._backends is not None:
            self._backends.start(self.connection)
        self._wall0 = time.perf_counter()
        self._cpu0 = time.process_time()
        self._children0 = self._children()
        return self

    @staticmethod
    def _children() -> float:
        ru = rusage.getrusage(rusage.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime

    def __exit__(self, *exc) -> None:
        s = self.sample
        s.wall = time.perf_counter() - self._wall0
        children = self._children() - self._children0
        s.cpu = time.process_time() - self._cpu0
        if self.children_are_database:
            s.db_cpu = children
        else:
            # Worker processes (PDF renders) count: they are part of what the work costs.
            s.cpu += children
        backends = self._backends.stop() if self._backends is not None else None
        if backends is not None:
            s.db_cpu = backends
        s.rss_mb = vm_hwm_mb()

    def emit(self) -> None:
        """The child's last stdout line: what the parent reads."""
        print(json.dumps(asdict(self.sample)), flush=True)


def child_run(script: str, argv: list[str], env: dict | None = None) -> Sample:
    """Run one measurement in a fresh process and read its Sample."""
    proc = subprocess.run(
        [sys.executable, script, *argv],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    lines = proc.stdout.strip().splitlines()
    for line in lines[:-1]:
        print(f"    | {line}", flush=True)
    return Sample(**json.loads(lines[-1]))


def rounds(sides: list[str], repeat: int):
    """Interleaved order: each round starts one side later than the one before."""
    for r in range(repeat):
        k = r % len(sides)
        yield r, sides[k:] + sides[:k]


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def table_print(results: dict[str, list[Sample]], *, against: str | None, title: str) -> None:
    """Medians per side and, when ``against`` is given, each side's ratio to it.

    rows/CPU-s counts the Python process and its database backend together: on a busy machine
    it is the figure that does not depend on what else runs.
    """
    print(f"\n{title} — medians of {max(len(v) for v in results.values())} interleaved runs")
    head = (
        f"{'side':<28} {'rows':>9} {'rows/s':>9} {'rows/CPU-s':>10} {'wall s':>8} "
        f"{'py CPU s':>9} {'DB CPU s':>9} {'peak MB':>8}"
    )
    if against:
        head += f"   ratio to {against}: wall / py+DB CPU / DB CPU"
    print(head)
    base = results.get(against) if against else None

    def med(samples, key):
        return _median([getattr(s, key) for s in samples])

    for side, samples in results.items():
        if not samples:
            continue
        wall = med(samples, "wall")
        cpu = med(samples, "cpu")
        db = med(samples, "db_cpu")
        rows = samples[-1].rows
        line = (
            f"{side:<28} {rows:>9,} {rows / wall:>9,.0f} {rows / (cpu + (db or 0.0)):>10,.0f} "
            f"{wall:>8.2f} {cpu:>9.2f} "
            f"{'' if db is None else f'{db:.2f}':>9} {med(samples, 'rss_mb'):>8.0f}"
        )
        if base:
            bw, bc, bd = med(base, "wall"), med(base, "cpu"), med(base, "db_cpu") or 0.0
            line += f"   {wall / bw:5.2f}x / {(cpu + (db or 0.0)) / (bc + bd):5.2f}x"
            line += f" / {db / bd:5.2f}x" if db is not None and bd else " /    -  "
        extra = samples[-1].extra
        if extra:
            line += "   " + ", ".join(f"{k} {v}" for k, v in extra.items())
        print(line, flush=True)
    walls = {side: [round(s.wall, 2) for s in v] for side, v in results.items() if v}
    print(f"  (all wall times: {walls}; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
