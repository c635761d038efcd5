#!/usr/bin/env python3
"""weft's benchmark runner: builds the suite, runs it side by side, prints ratios.

One command builds every program in bench/src natively (gcc -O2) and for
wasm32-wasi (clang-19 -O2), then runs each benchmark natively, under weft
(`weft run --dir . PROG.wasm SIZE`) and under node's node:wasi
(bench/node_wasi.mjs), interleaved, N runs each. It reports the median wall
time, the ratio to native, and checks that every runtime prints the same
checksum as native (a mismatch is a loud error and a non-zero exit status).
It also measures start-up (wall time and peak RSS of hello.wasm).

Optionally a peer that none of us wrote runs in a fourth column:
`--peer-wizer PATH` (or `--peer-wizer auto`, the cache of
bench/peers/fetch_wizer.sh) runs each program as Wizer's init function, i.e.
under wasmtime (Cranelift) and wasmtime-wasi's preview1, followed by Wizer's
snapshot of the instance. Wizer passes the guest no argv, so the programs run
at their built-in default size, which is the full size: the peer is measured
only in full-size runs (skipped with --quick). The time from the guest's last
output to process exit (mostly the snapshot) is measured per run.

Ratios are the product, not absolute times: run everything in one go on a
quiet machine. Python standard library only.

  bench/run.py                 full run (sizes take about 1 s natively each)
  bench/run.py --quick         smoke: tiny sizes, 1 run; fails on mismatch/crash
  bench/run.py --train         weft and native only, 1 run, host calls at a 20th of
                               full size: the training run of ./dev.sh release (PGO)
  bench/run.py --update        full run, then rewrite BENCHMARKS.md
  bench/run.py --only fib,stat --runs 3
  bench/run.py --peer-wizer "$(bench/peers/fetch_wizer.sh)" --update

Exit status: 0 when every run that was attempted succeeded with the native
checksum; 1 on any checksum mismatch, crash, non-zero exit or timeout (under
weft only once weft can run hello.wasm: until then weft is skipped with a
note); 2 on a usage or build error.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
SRC_DIR = BENCH_DIR / "src"

# name, group, full size (about 1 s natively on the reference machine),
# quick size (milliseconds), what it stresses.
BENCHMARKS = [
    ("fib", "compute", 43, 20, "recursive calls, fib(n)"),
    ("sieve", "compute", 175, 1, "byte loads/stores, sieve of 2M, n repetitions"),
    ("matmul", "compute", 1100, 40, "i32 multiply-add, n x n matrices"),
    ("nbody", "compute", 5500000, 1000, "f64 arithmetic and sqrt, n steps"),
    ("sha256", "compute", 165, 1, "32-bit rotates/adds, n MiB hashed"),
    ("qsort", "compute", 90, 1, "indirect calls, own quicksort of 64K, n reps"),
    ("memops", "compute", 10000, 10, "libc memcpy/memset, n x 256 operations"),
    ("interp", "compute", 23000000, 10000, "switch dispatch, n bytecode loop iterations"),
    ("write1", "host calls", 1900000, 1000, "fd_write of 1 byte, n calls"),
    ("read64k", "host calls", 160000, 40, "fd_read of 64 KiB, n calls"),
    ("clock", "host calls", 27000000, 10000, "clock_time_get, n calls"),
    ("fstat", "host calls", 2500000, 1000, "fd_filestat_get, n calls"),
    ("stat", "host calls", 1300000, 1000, "path_filestat_get, n calls"),
    ("openclose", "host calls", 700000, 500, "path_open + fd_close, n pairs"),
    ("cwcu", "host calls", 41000, 100, "create/write/close/unlink, n cycles"),
]
GROUPS = ["compute", "host calls"]
# Runtime columns in table order; "wizer" is the optional peer.
COLUMNS = ["weft", "node", "wizer"]
WEFT_NO_CACHE = "weft -C cache=n"  # start-up only: weft without its code cache
PEER_CACHE = Path(os.environ.get("WEFT_BENCH_CACHE",
                                  Path.home() / ".cache" / "weft-bench"))
HELLO = "hello"
HELLO_OUTPUT = "hello, weft\n"
HELLO_STATIC = "hello-static"  # hello.c linked with gcc -static: a start-up row

NATIVE_CC = ["gcc", "-O2", "-ffp-contract=off", "-Wall", "-Wextra"]
WASM_CC = ["clang-19", "--target=wasm32-wasi", "--sysroot=/usr", "-O2",
           "-Wall", "-Wextra", "-Wl,--strip-debug"]


class Failure(Exception):
    """A build or environment problem that stops the whole run."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- building

def build_one(cc, src, out):
    deps = [src, SRC_DIR / "common.h", Path(__file__)]
    if out.exists() and out.stat().st_mtime >= max(d.stat().st_mtime for d in deps):
        return None
    cmd = cc + ["-o", str(out), str(src), "-lm"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        return f"{' '.join(cmd)}\n{proc.stderr}"
    return None


def build_all(names, out_dir):
    """Compiles each program natively and to wasm; returns (native, wasm) dirs."""
    for tool in ("gcc", "clang-19"):
        if shutil.which(tool) is None:
            raise Failure(f"{tool} not found (install gcc and clang-19, lld-19, "
                          "wasi-libc, libclang-rt-19-dev-wasm32)")
    native_dir = out_dir / "native"
    wasm_dir = out_dir / "wasm"
    native_dir.mkdir(parents=True, exist_ok=True)
    wasm_dir.mkdir(parents=True, exist_ok=True)
    jobs = []
    for name in names:
        src = SRC_DIR / f"{name}.c"
        jobs.append((NATIVE_CC, src, native_dir / name))
        jobs.append((WASM_CC, src, wasm_dir / f"{name}.wasm"))
    # weft is a static executable: hello linked the same way is the fair floor.
    jobs.append((NATIVE_CC + ["-static"], SRC_DIR / f"{HELLO}.c",
                 native_dir / HELLO_STATIC))
    jobs.append((NATIVE_CC, BENCH_DIR / "rss_exec.c", out_dir / "rss_exec"))
    jobs.append((NATIVE_CC, BENCH_DIR / "machine_probe.c", out_dir / "machine_probe"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        errors = [e for e in pool.map(lambda j: build_one(*j), jobs) if e]
    if errors:
        raise Failure("build failed:\n" + "\n".join(errors))
    return native_dir, wasm_dir


# ---------------------------------------------------------------- running

class RunResult:
    def __init__(self, ok, seconds, maxrss_kib, stdout, detail, cpu_seconds=0.0,
                 tail_seconds=None, runs=None):
        self.ok = ok              # exited 0 within the timeout
        self.seconds = seconds    # wall time of the whole process
        self.cpu_seconds = cpu_seconds  # user+system time, all its threads
        self.maxrss_kib = maxrss_kib
        self.stdout = stdout
        self.detail = detail      # why it failed (exit status, stderr)
        # From the last stdout bytes to exit: the programs print their one line
        # last (wasi-libc flushes stdout at exit), so this is what a runtime
        # does after the guest finished (wizer: the snapshot).
        self.tail_seconds = tail_seconds
        # (wall s, peak RSS KiB) of each run, when rss_exec repeated the command
        self.runs = runs or [(seconds, maxrss_kib)]


RSS_EXEC = None  # path of the built rss_exec wrapper, set by main()


def run_once(cmd, cwd, timeout, repeat=1, stdout_file=None):
    """Runs cmd in cwd through rss_exec: its wall time and its own peak RSS.

    With repeat > 1 rss_exec runs it that many times back to back (stopping at a
    failure); stdout is then all runs' output, and .runs has each run's figures.
    With stdout_file, the command's stdout goes to that file (see rss_exec.c) and is
    read back from it."""
    # Beside the guest's directory, not in it: the guest sees only its own files.
    report = Path(cwd).parent / (Path(cwd).name + ".rss")
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            options = ["--repeat", str(repeat)] if repeat > 1 else []
            if stdout_file is not None:
                options += ["--stdout", str(stdout_file)]
            proc = subprocess.Popen([str(RSS_EXEC)] + options + [str(report)] + cmd, cwd=cwd,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=err, start_new_session=True)
        except OSError as e:
            return RunResult(False, 0.0, 0, "", f"cannot start: {e}")
        # stdout through a pipe drained by a thread that notes when bytes arrive.
        chunks = []
        last_output = [None]

        def drain():
            fd = proc.stdout.fileno()
            while True:
                data = os.read(fd, 65536)
                if not data:
                    return
                last_output[0] = time.perf_counter()
                chunks.append(data)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        # A blocking wait sees the exit at once (wait(timeout=...) polls with
        # sleeps of up to 50 ms); a timer enforces the timeout instead.
        killed = threading.Event()

        def kill():
            killed.set()
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the wrapper and the runtime
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill)
        timer.daemon = True
        timer.start()
        proc.wait()
        ended = time.perf_counter()
        timer.cancel()
        timed_out = killed.is_set()
        outer = ended - start
        # A grandchild that kept the pipe open must not hang the runner.
        reader.join(timeout=10)
        if not reader.is_alive():
            proc.stdout.close()
        err.seek(0)
        if stdout_file is not None:
            chunks = [Path(stdout_file).read_bytes() if Path(stdout_file).exists() else b""]
            Path(stdout_file).unlink(missing_ok=True)
        stdout = b"".join(chunks).decode(errors="replace")
        stderr = err.read().decode(errors="replace").strip()
    # The reader may be scheduled after wait() returned: clamp that to 0.
    tail = None if last_output[0] is None else max(0.0, ended - last_output[0])
    runs = []
    try:
        lines = report.read_text().splitlines()
        report.unlink()
        for line in lines:  # one per run; the last one decides success
            fields = line.split()
            seconds, maxrss = int(fields[0]) / 1e9, int(fields[1])
            kind, value = fields[2], int(fields[3])
            cpu = int(fields[4]) / 1e9
            runs.append((seconds, maxrss))
        if not runs:
            raise ValueError("empty report")
    except (OSError, ValueError, IndexError):
        report.unlink(missing_ok=True)
        seconds, maxrss, kind, value, cpu = outer, 0, "exit", proc.returncode, 0.0
        runs = [(seconds, maxrss)]
    if timed_out:
        return RunResult(False, outer, maxrss, stdout, f"timed out after {timeout:g} s")
    if kind == "signal":
        return RunResult(False, seconds, maxrss, stdout,
                         f"killed by signal {value} ({signal.Signals(value).name}); "
                         f"stderr: {stderr[-400:]}")
    if value != 0:
        return RunResult(False, seconds, maxrss, stdout,
                         f"exit status {value}; stderr: {stderr[-400:]}")
    return RunResult(True, seconds, maxrss, stdout, "", cpu, tail, runs)


def checksum_of(stdout):
    for line in stdout.splitlines():
        if line.startswith("checksum: "):
            return line[len("checksum: "):].strip()
    return None


class Runtime:
    def __init__(self, name, make_cmd, takes_args=True):
        self.name = name
        self.make_cmd = make_cmd  # (native_path, wasm_path, args) -> argv
        # False: the guest gets no argv, so it runs only at its default size.
        self.takes_args = takes_args


def find_cached_wizer():
    """The newest wizer that bench/peers/fetch_wizer.sh left in the cache."""
    found = []
    for exe in PEER_CACHE.glob("wizer-*/package/wizer"):
        try:
            key = tuple(int(x) for x in exe.parent.parent.name[len("wizer-"):].split("."))
        except ValueError:
            continue
        found.append((key, exe))
    return max(found)[1] if found else None


def describe_wizer(exe):
    """Versions of the npm package and of the wasmtime crates inside the binary."""
    info = {"path": str(exe), "npm": "?", "wasmtime": "?", "cranelift": "?"}
    try:
        meta = json.loads((exe.parent / "package.json").read_text())
        info["npm"] = f"{meta.get('name', '?')}@{meta.get('version', '?')}"
    except (OSError, ValueError):
        pass
    try:
        blob = exe.read_bytes()
    except OSError:
        return info
    # Crate source paths stay in the binary's panic messages.
    for key, pattern in (("wasmtime", rb"wasmtime-wasi-(\d+\.\d+\.\d+)/"),
                         ("cranelift", rb"cranelift-codegen-(\d+\.\d+\.\d+)/")):
        m = re.search(pattern, blob)
        if m:
            info[key] = m.group(1).decode()
    return info


def make_runtimes(args):
    """Returns (runtimes, notes, weft_required)."""
    notes = []
    runtimes = [Runtime("native", lambda n, w, a: [str(n)] + a)]
    weft = Path(args.weft).resolve() if args.weft else None
    weft_ok = False
    if weft is None or not weft.exists():
        notes.append(f"weft: not found at {args.weft}; weft column skipped")
    else:
        runtimes.append(Runtime(
            "weft", lambda n, w, a: [str(weft), "run", "--dir", ".", str(w)] + a))
        weft_ok = True
    node = shutil.which(args.node) if args.node else None  # no --node: --train
    if args.node and node is None:
        notes.append(f"node: '{args.node}' not found; node column skipped")
    elif node is not None:
        script = str(BENCH_DIR / "node_wasi.mjs")
        runtimes.append(Runtime(
            "node", lambda n, w, a: [node, "--no-warnings", script, str(w)] + a))
    args.wizer_info = None
    if args.peer_wizer:
        wizer = find_cached_wizer() if args.peer_wizer == "auto" else Path(args.peer_wizer)
        if wizer is None:
            notes.append(f"wizer: none in {PEER_CACHE} (bench/peers/fetch_wizer.sh); "
                         "peer column skipped")
        else:
            wizer = wizer.resolve()
            args.wizer_info = describe_wizer(wizer)
            # _start as the init function runs the whole program; the snapshot
            # is written to /dev/null. Wizer cannot pass argv: `a` is dropped.
            runtimes.append(Runtime(
                "wizer", lambda n, w, a: [str(wizer), "--allow-wasi", "--dir", ".",
                                          "-f", "_start", "-o", "/dev/null", str(w)],
                takes_args=False))
    return runtimes, notes, weft_ok


def probe_weft(runtime, native_dir, wasm_dir, work_root, timeout):
    """weft results are mandatory once `weft run hello.wasm` works."""
    with tempfile.TemporaryDirectory(dir=work_root) as cwd:
        res = run_once(runtime.make_cmd(native_dir / HELLO, wasm_dir / f"{HELLO}.wasm", []),
                       cwd, timeout)
    if res.ok and res.stdout == HELLO_OUTPUT:
        return None
    why = res.detail if not res.ok else f"printed {res.stdout!r}"
    return f"weft cannot run hello.wasm yet ({why.splitlines()[0][:200]}); weft column skipped"


def run_bench(bench, size, runtimes, native_dir, wasm_dir, work_root, args, errors):
    """Runs one benchmark on every runtime, interleaved; returns per-runtime stats."""
    name = bench[0]
    argv = [str(size)]
    times = {rt.name: [] for rt in runtimes}
    cpu_times = {rt.name: [] for rt in runtimes}
    tails = {rt.name: [] for rt in runtimes}
    untailed = {rt.name: [] for rt in runtimes}  # wall time minus the tail
    spent = {rt.name: 0.0 for rt in runtimes}
    failed = {}
    sums = {}
    # A runtime that cannot pass argv runs the program's default, full size only.
    skipped = {rt.name for rt in runtimes if not rt.takes_args and size != bench[2]}
    for i in range(args.runs):
        for rt in runtimes:
            if rt.name in failed or rt.name in skipped:
                continue
            # A slow runtime stops repeating once it has used its time budget.
            if i > 0 and spent[rt.name] > args.budget:
                continue
            with tempfile.TemporaryDirectory(dir=work_root) as cwd:
                res = run_once(rt.make_cmd(native_dir / name, wasm_dir / f"{name}.wasm", argv),
                               cwd, args.timeout)
            spent[rt.name] += res.seconds
            if not res.ok:
                failed[rt.name] = res.detail
                errors.append(f"{name} under {rt.name}: {res.detail}")
                continue
            cs = checksum_of(res.stdout)
            if cs is None:
                failed[rt.name] = "no checksum line"
                errors.append(f"{name} under {rt.name}: printed no checksum line: "
                              f"{res.stdout[:200]!r}")
                continue
            times[rt.name].append(res.seconds)
            cpu_times[rt.name].append(res.cpu_seconds)
            if res.tail_seconds is not None:
                tails[rt.name].append(res.tail_seconds)
                untailed[rt.name].append(res.seconds - res.tail_seconds)
            sums.setdefault(rt.name, cs)
            if cs != sums[rt.name]:
                failed[rt.name] = "checksum changed between runs"
                errors.append(f"{name} under {rt.name}: checksum changed between runs "
                              f"({sums[rt.name]} then {cs})")
    native_sum = sums.get("native")
    result = {"name": name, "group": bench[1], "size": size, "what": bench[4],
              "runtimes": {}}
    for rt in runtimes:
        entry = {"runs": len(times[rt.name]), "checksum": sums.get(rt.name)}
        if rt.name in skipped:
            entry["skipped"] = "takes no argv: runs only at the default size"
        if rt.name in failed:
            entry["error"] = failed[rt.name]
        elif times[rt.name]:
            entry["median_s"] = statistics.median(times[rt.name])
            entry["min_s"] = min(times[rt.name])
            entry["median_cpu_s"] = statistics.median(cpu_times[rt.name])
            if tails[rt.name]:
                entry["median_tail_s"] = statistics.median(tails[rt.name])
                entry["median_untailed_s"] = statistics.median(untailed[rt.name])
        if rt.name != "native" and native_sum is not None and rt.name in sums \
                and sums[rt.name] != native_sum:
            entry["error"] = "CHECKSUM MISMATCH"
            errors.append(f"CHECKSUM MISMATCH: {name} under {rt.name} printed "
                          f"{sums[rt.name]!r}, native printed {native_sum!r}")
        result["runtimes"][rt.name] = entry
    return result


STARTUP_BATCH = 11  # hello runs per batch, back to back; the first one is the cold run


def measure_startup(runtimes, native_dir, wasm_dir, work_root, args, errors):
    """Median wall time and peak RSS of hello under each runtime, as hyperfine measures.

    In each round every runtime runs hello STARTUP_BATCH times back to back (rss_exec
    --repeat), rounds interleaved across runtimes. The first run of a batch comes
    right after python's own work, on a machine that has to wake up for it; it is
    reported apart ("first run"), and the median of the others is the start-up time.
    A "native static" row (hello.c linked with -static, as weft is) comes first:
    what starting any static program costs on this machine."""
    static = Runtime("native static", lambda n, w, a: [str(native_dir / HELLO_STATIC)])
    extra = []
    weft = next((rt for rt in runtimes if rt.name == "weft"), None)
    if weft is not None:
        # weft run keeps translated code between runs (CodeCache, on by default as in
        # wasmtime's CLI); this row shows a start without it.
        extra.append(Runtime(WEFT_NO_CACHE, lambda n, w, a: weft.make_cmd(
            n, w, a)[:2] + ["-C", "cache=n"] + weft.make_cmd(n, w, a)[2:]))
    runtimes = [static] + list(runtimes) + extra
    rounds = max(args.runs, 3) if not args.quick else 1
    batch = STARTUP_BATCH if not args.quick else 2
    secs = {rt.name: [] for rt in runtimes}
    firsts = {rt.name: [] for rt in runtimes}
    rss = {rt.name: [] for rt in runtimes}
    failed = set()
    for _ in range(rounds):
        for rt in runtimes:
            if rt.name in failed:
                continue
            with tempfile.TemporaryDirectory(dir=work_root) as cwd:
                # stdout into a file beside the guest's directory: a pipe's reader would
                # be woken by every run (rss_exec.c).
                res = run_once(rt.make_cmd(native_dir / HELLO, wasm_dir / f"{HELLO}.wasm", []),
                               cwd, args.timeout, repeat=batch,
                               stdout_file=Path(cwd).parent / (Path(cwd).name + ".out"))
            if not res.ok or res.stdout != HELLO_OUTPUT * batch or len(res.runs) != batch:
                why = res.detail or f"printed {res.stdout!r}"
                errors.append(f"hello under {rt.name}: {why}")
                failed.add(rt.name)
                continue
            firsts[rt.name].append(res.runs[0][0])
            secs[rt.name] += [seconds for seconds, _ in res.runs[1:]]
            rss[rt.name] += [kib for _, kib in res.runs]
    out = {}
    for rt in runtimes:
        name = rt.name
        if name not in failed:
            out[name] = {"median_s": statistics.median(secs[name]),
                         "median_first_s": statistics.median(firsts[name]),
                         "maxrss_kib": statistics.median(rss[name]), "runs": len(secs[name])}
    return out


def measure_compile(tool, wasm_dir, names, args, errors, notes):
    """Decode+validate and compile throughput from weft_compile_bench, if built."""
    if tool is None:
        notes.append("decode+compile throughput: weft_compile_bench not built "
                     "(`make weft_compile_bench`, or use `make bench`); skipped")
        return None
    files = [str(wasm_dir / f"{n}.wasm") for n in names]
    cmd = [str(tool), "--reps", "1" if args.quick else "20"] + files
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        errors.append(f"weft_compile_bench timed out after {args.timeout:g} s")
        return None
    if proc.returncode != 0:
        errors.append(f"weft_compile_bench failed (status {proc.returncode}): "
                      f"{proc.stderr.strip()[-400:]}")
        return None
    rows = []
    for line in proc.stdout.splitlines():
        parts = line.split()
        if not parts:
            continue
        fields = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        rows.append((parts[0], fields))
    total = next((f for n, f in rows if n == "total"), None)
    if total is None:
        errors.append(f"weft_compile_bench printed no total line: {proc.stdout[-200:]!r}")
        return None
    return {"modules": {n: f for n, f in rows if n != "total"}, "total": total}


# ---------------------------------------------------------------- reporting

def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt_ms(entry):
    if entry is None:
        return "—"
    if "error" in entry:
        return "FAIL"
    if "median_s" not in entry:
        return "—"
    return f"{entry['median_s'] * 1000:.1f}"


def ratio(entry, native, key="median_s"):
    if not entry or not native or key not in entry or key not in native \
            or "error" in entry or native[key] <= 0:
        return None
    return entry[key] / native[key]


def fmt_ratio(r):
    return "—" if r is None else f"{r:.2f}x"


def results_table(results, runtime_names):
    others = [n for n in COLUMNS if n in runtime_names]
    head = ["benchmark", "size", "native ms"]
    for n in others:
        head += [f"{n} ms", f"{n}/native", f"{n}/native cpu"]
    head += ["runs", "checksum"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for group in GROUPS:
        rows = [r for r in results if r["group"] == group]
        if not rows:
            continue
        ratios = {n: [] for n in others}
        cpu_ratios = {n: [] for n in others}
        for r in rows:
            rt = r["runtimes"]
            native = rt.get("native")
            cells = [r["name"], str(r["size"]), fmt_ms(native)]
            for n in others:
                x = ratio(rt.get(n), native)
                if x is not None:
                    ratios[n].append(x)
                c = ratio(rt.get(n), native, "median_cpu_s")
                if c is not None:
                    cpu_ratios[n].append(c)
                cells += [fmt_ms(rt.get(n)), fmt_ratio(x), fmt_ratio(c)]
            cells.append("/".join(str(rt[n]["runs"]) for n in ["native"] + others if n in rt))
            bad = [n for n in rt if rt[n].get("error") == "CHECKSUM MISMATCH"]
            failed = [n for n in rt if "error" in rt[n] and n not in bad]
            if bad:
                cells.append("MISMATCH: " + ", ".join(bad))
            elif failed:
                cells.append("failed: " + ", ".join(failed))
            else:
                cells.append("ok")
            lines.append("| " + " | ".join(cells) + " |")
        cells = [f"**geomean {group}**", "", ""]
        for n in others:
            cells.append("")
            for rs in (ratios[n], cpu_ratios[n]):
                g = geomean(rs)
                complete = len(rs) == len(rows)
                cells.append("—" if g is None else f"**{g:.2f}x**" +
                             ("" if complete else f" ({len(rs)}/{len(rows)})"))
        cells += ["", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def startup_table(startup):
    lines = ["| runtime | hello wall ms | first run of a batch ms | peak RSS MiB | runs |",
             "|---|---|---|---|---|"]
    for name in ["native static", "native"] + COLUMNS + [WEFT_NO_CACHE]:
        s = startup.get(name)
        if s:
            first = s.get("median_first_s")
            lines.append(f"| {name} | {s['median_s'] * 1000:.2f} | "
                         f"{'—' if first is None else f'{first * 1000:.2f}'} | "
                         f"{s['maxrss_kib'] / 1024:.1f} | {s['runs']} |")
    return "\n".join(lines)


PEER_FETCH = "npm pack @bytecodealliance/wizer-linux-x64@11.0.3"

PEER_CANDIDATES = """Other peers looked for (npm registry and the Debian archive are the only
sources this machine reaches):

- wasm3, WAMR (iwasm), WasmEdge, wasmer, wasmtime's own CLI: no Debian
  package (`apt-cache search` finds none), and no npm package in the registry's
  list here ships their native binary (`npm view wasm3` is a 404).
- `@bytecodealliance/weval@0.5.0` (embeds wasmtime too): its npm package holds
  only an `index.js` that downloads the binary from GitHub releases at run time,
  which this machine cannot reach.
- `wasmtime@0.0.2` / `wasmtime-linux-x64-gnu@0.0.2`: a third-party Node N-API
  addon (`.node` file), not a runtime CLI; not used.
- `@wasmer/cli@0.12.0` runs wasmer-js inside node, i.e. on V8, which the node
  column already measures."""


def peer_table(results, startup):
    """weft and the wizer peer side by side, per group, from the same run."""
    head = ["benchmark", "native ms", "weft ms", "wizer ms", "wizer after output ms",
            "weft/native", "wizer/native", "wizer without after-output/native",
            "weft/wizer", "wizer cpu/wall"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for group in GROUPS:
        rows = [r for r in results if r["group"] == group]
        if not rows:
            continue
        cols = {k: [] for k in ("weft", "wizer", "bare", "vs")}
        for r in rows:
            rt = r["runtimes"]
            native, weft, wizer = rt.get("native"), rt.get("weft"), rt.get("wizer")
            x_weft, x_wizer = ratio(weft, native), ratio(wizer, native)
            # The tail comes out of wizer's time only: native's wall is the base.
            x_bare = None
            if x_wizer is not None and "median_untailed_s" in wizer:
                x_bare = wizer["median_untailed_s"] / native["median_s"]
            vs = x_weft / x_wizer if x_weft and x_wizer else None
            for k, v in (("weft", x_weft), ("wizer", x_wizer), ("bare", x_bare), ("vs", vs)):
                if v is not None:
                    cols[k].append(v)
            tail = f"{wizer['median_tail_s'] * 1000:.1f}" \
                if wizer and "median_tail_s" in wizer and "error" not in wizer else "—"
            cpu = None
            if wizer and "median_s" in wizer and "error" not in wizer:
                cpu = wizer["median_cpu_s"] / wizer["median_s"]
            lines.append("| " + " | ".join([
                r["name"], fmt_ms(native), fmt_ms(weft), fmt_ms(wizer), tail,
                fmt_ratio(x_weft), fmt_ratio(x_wizer), fmt_ratio(x_bare), fmt_ratio(vs),
                "—" if cpu is None else f"{cpu:.2f}"]) + " |")

        def g(k):
            v = geomean(cols[k])
            if v is None:
                return "—"
            return f"**{v:.2f}x**" + ("" if len(cols[k]) == len(rows)
                                      else f" ({len(cols[k])}/{len(rows)})")
        lines.append("| " + " | ".join([f"**geomean {group}**", "", "", "", "",
                                         g("weft"), g("wizer"), g("bare"), g("vs"), ""]) + " |")
    # hello's output goes to a file (measure_startup), so it has no after-output time.
    if startup.get("wizer"):
        lines += ["", "| hello | wall ms | peak RSS MiB |", "|---|---|---|"]
        for name in ("native", "weft", "wizer"):
            h = startup.get(name)
            if h:
                lines.append(f"| {name} | {h['median_s'] * 1000:.1f} | "
                             f"{h['maxrss_kib'] / 1024:.1f} |")
    return "\n".join(lines)


def weft_tail_text(results):
    tails = [r["runtimes"]["weft"]["median_tail_s"] for r in results
             if "median_tail_s" in r["runtimes"].get("weft", {})]
    if not tails:
        return "weft's after-output time was not measured"
    return (f"the same measure for weft in this run: {max(tails) * 1000:.1f} ms at most,\n"
            "  which bounds the measure's resolution")


def peer_section(results, startup, runtime_names, args):
    info = getattr(args, "wizer_info", None)
    if "wizer" not in runtime_names or info is None:
        return f"""Not measured in this run. The peer is a runtime none of us wrote: Wizer's
native binary, which embeds wasmtime (Cranelift) and wasmtime-wasi's preview1.
To include it: `bench/peers/fetch_wizer.sh` (runs
`{PEER_FETCH}` into `~/.cache/weft-bench`,
outside the repository), then
`python3 bench/run.py --peer-wizer auto --update` (a full run: the peer cannot
be given a size, see bench/run.py).

{PEER_CANDIDATES}"""
    return f"""A runtime none of us wrote, measured in the same run, on the same machine,
interleaved with the columns above: **wasmtime {info['wasmtime']} (Cranelift
{info['cranelift']}) via Wizer**, npm package
`{info['npm']}` (Wizer, the
WebAssembly pre-initializer, is a native Linux x86-64 binary that embeds
wasmtime and wasmtime-wasi's preview1; versions read from the crate paths in
the binary). Obtained with `{PEER_FETCH}`
(`bench/peers/fetch_wizer.sh` unpacks it into `~/.cache/weft-bench`); measured
with `bench/run.py --peer-wizer PATH`.

How it runs a program: `wizer --allow-wasi --dir . -f _start -o /dev/null PROG.wasm`
calls the program's `_start` as Wizer's initialisation function (the whole
program, with the run's temporary directory preopened as `.` and stdio
inherited, like the other columns), then snapshots the instance into a new
module, written to `/dev/null`. Every checksum is compared with native's like
every other column. What the `wizer` numbers include:

- compiling the whole module with Cranelift before it starts, every run (Wizer
  has no option for a compiled-code cache);
- the snapshot: `wizer after output ms` is the median time from the program's
  last output (its checksum line, printed as it finishes) to process exit;
  `wizer without after-output` takes it out of the wall time, run by run
  ({weft_tail_text(results)});
- the guest gets no argv (Wizer passes none), so each program runs at its
  built-in default size, which is the full size of this table: the peer runs
  only in full runs, never with `--quick`;
- file-descriptor calls as wasmtime-wasi does them in Wizer: wasmtime-wasi
  moves blocking file operations to tokio's blocking thread pool unless the
  embedder enables `allow_blocking_current_thread`, and Wizer's binary has
  that path (`File::spawn_blocking` in its `fd_read`). A one-off
  `/usr/bin/time` of `fstat` at full size spent 52 s of 78 s in the kernel.
  So the host-call column is wasmtime-wasi as Wizer configures it, not
  necessarily what `wasmtime run` would measure (not available here).

`cpu/wall` above 1 means more than one thread was busy (compiler threads, the
blocking pool). Ratios are to native; `weft/wizer` below 1 means weft is
faster.

{peer_table(results, startup)}

{PEER_CANDIDATES}"""


def compile_table(compiled):
    t = compiled["total"]
    return "\n".join([
        "| modules | bytes | code bytes | functions | decode+validate | compile | JIT "
        "| interpreter code / code | machine code / code |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {len(compiled['modules'])} | {t['bytes']} | {t['code_bytes']} | {t['funcs']} | "
        f"{float(t['decode_ms']):.2f} ms ({t['decode_MBps']} MB/s) | "
        f"{float(t['compile_ms']):.2f} ms ({t['compile_MBps']} MB/s) | "
        f"{t.get('jit_MBps', '—')} MB/s | {t.get('internal_ratio', '—')}x | "
        f"{t.get('native_ratio', '—')}x |",
    ])


def first_line(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
        return out.strip().splitlines()[0] if out.strip() else "?"
    except (OSError, subprocess.SubprocessError):
        return "not found"


def machine_description(args):
    model = "?"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    build_type = "?"
    pgo = ""
    source_dir = REPO_DIR
    cache = Path(args.weft).resolve().parent / "CMakeCache.txt"
    if cache.exists():
        for line in cache.read_text(errors="replace").splitlines():
            if line.startswith("CMAKE_BUILD_TYPE:"):
                build_type = line.split("=", 1)[1] or "(none)"
            elif line.startswith("WEFT_PGO:"):
                pgo = line.split("=", 1)[1]
            elif line.startswith("CMAKE_HOME_DIRECTORY:"):
                source_dir = Path(line.split("=", 1)[1])
    # The tree the weft binary was built from, which need not be this one.
    commit = first_line(["git", "-C", str(source_dir), "rev-parse", "--short", "HEAD"])
    if source_dir.resolve() != REPO_DIR:
        commit += f" (HEAD of {source_dir}, the weft binary's source tree; " + \
            first_line(["git", "-C", str(REPO_DIR), "rev-parse", "--short", "HEAD"]) + \
            " here)"
    return [
        ("date (UTC)", datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")),
        ("weft commit", commit),
        ("weft build", f"{args.weft} (CMAKE_BUILD_TYPE {build_type}"
                       + (f", WEFT_PGO {pgo}: ./dev.sh release" if pgo else "") + ")"),
        ("CPU", f"{model}, {os.cpu_count()} logical CPUs"),
        ("kernel", f"{platform.system()} {platform.release()}"),
        ("gcc", first_line(["gcc", "--version"])),
        ("clang", first_line(["clang-19", "--version"])),
        ("node", first_line([args.node, "--version"])),
        ("python", platform.python_version()),
        ("native costs (bench/machine_probe.c)", getattr(args, "machine_costs", "?")),
        ("load average at start", args.load_at_start),
        ("1-minute load average during the run", load_during(args)),
    ] + ([("peer", f"{args.wizer_info['npm']}: wasmtime {args.wizer_info['wasmtime']}, "
                   f"Cranelift {args.wizer_info['cranelift']}")]
         if getattr(args, "wizer_info", None) else [])


def probe_machine(out_dir):
    """Native cost of a null system call and of a vDSO clock read, also in the shape
    WASI's clock_time_get gives it (machine_probe.c)."""
    try:
        out = subprocess.run([str(out_dir / "machine_probe")], capture_output=True,
                             text=True, timeout=60).stdout
        costs = dict(line.split() for line in out.splitlines() if len(line.split()) == 2)
        return (f"null system call {costs['syscall_ns']} ns, clock_gettime {costs['clock_ns']} ns"
                f" ({costs['clock_wasi_ns']} ns in clock_time_get's shape)")
    except (OSError, subprocess.SubprocessError, KeyError, ValueError):
        return "?"


def sample_load(args):
    args.load_samples.append(os.getloadavg()[0])


def load_during(args):
    xs = getattr(args, "load_samples", [])
    if not xs:
        return "?"
    return (f"{min(xs):.2f} to {max(xs):.2f}, median {statistics.median(xs):.2f} "
            f"({len(xs)} samples, one per benchmark)")


def write_benchmarks_md(path, results, startup, compiled, runtime_names, notes, machine,
                        args):
    if compiled:
        compile_section = (
            "`weft_compile_bench` over every guest module of this suite, median of 20\n"
            "repetitions each, summed: `DecodeModule` (decode + validate; MB/s of whole\n"
            "files), translation of every function to the interpreter's code, which\n"
            "`weft run` does lazily on first call, and by the JIT to machine code, which\n"
            "`weft run` does once a function is hot (both MB/s of function bodies); and\n"
            "the size of each translation over the size of the function bodies.\n\n" +
            compile_table(compiled))
    else:
        compile_section = (
            "Not measured in this run: `weft_compile_bench` (bench/compile_bench.cc, built\n"
            "by `make bench` or `make weft_compile_bench`) was not available.")
    weft_state = ("weft was measured" if "weft" in runtime_names else
                  "weft could not run WASI programs at the time of this run, so its "
                  "columns are empty")
    doc = f"""# weft benchmarks

Generated by `python3 bench/run.py --update` (do not edit the tables by hand;
rerun instead). Every benchmark is one C program in `bench/src/`, built
natively with `{' '.join(NATIVE_CC)}` and for WASI with
`{' '.join(WASM_CC)}`. Each prints a checksum that
must equal the native one (a mismatch fails the run). Times are the median
wall time of {args.runs} runs of the whole process (start-up included), runtimes
interleaved run by run; ratios are to native, lower is better; geomeans are
per group. The `cpu` ratios compare user+system CPU time of the process (all
threads: node's includes its background compiler and GC threads); they are
less sensitive than wall time to other load on the machine (see the load
average below). A runtime that exceeds a {args.budget:g} s budget on one benchmark
stops repeating it (the `runs` column shows {'/'.join(['native'] + [n for n in COLUMNS if n in runtime_names])} run counts).
Guests get the run's fresh temporary directory preopened as `.` (`weft run --dir .`,
node: `bench/node_wasi.mjs`). {weft_state}.

## Machine

| | |
|---|---|
""" + "\n".join(f"| {k} | {v} |" for k, v in machine) + f"""

## Results

{results_table(results, runtime_names)}

What each benchmark stresses:

""" + "\n".join(f"- `{b[0]}` ({b[1]}): {b[4]}" for b in BENCHMARKS) + f"""

## Start-up

`hello.wasm` (prints one line), measured as hyperfine measures: {max(args.runs, 3)} rounds,
interleaved across runtimes, in each of which a runtime runs hello {STARTUP_BATCH} times back
to back (`rss_exec --repeat`), its stdout into a file (checked afterwards) rather than a
pipe whose reader every write would wake. "hello wall" is the median of all runs but the
first of each batch; that first run, which follows the runner's own python work, is the
next column. Peak RSS is the median of `wait4`'s rusage for the child:

{startup_table(startup)}

## Decode + compile throughput

{compile_section}

## Peer: wasmtime via Wizer

{peer_section(results, startup, runtime_names, args)}

## Notes

""" + ("\n".join(f"- {n}" for n in notes) if notes else "- none") + """

## Reproduce

```
./dev.sh release                                          # build-release/weft, with PGO
python3 bench/run.py --weft build-release/weft            # table only
python3 bench/run.py --weft build-release/weft --update   # rewrite this file
python3 bench/run.py --quick                              # smoke (ctest: bench.smoke)
```

A plain Release build (`cmake -S . -B build -DCMAKE_BUILD_TYPE=Release`) runs the
compute kernels at the same speed (the JIT's code is the same) and the host calls a
few percent slower than the PGO build (CMakeLists.txt, at WEFT_PGO, gives a measurement).
"""
    path.write_text(doc)


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weft", default=str(REPO_DIR / "build" / "weft"),
                    help="weft executable (default: build/weft)")
    ap.add_argument("--node", default="node", help="node executable")
    ap.add_argument("--compile-bench", default=None,
                    help="weft_compile_bench executable (default: bench/weft_compile_bench "
                         "beside the weft executable, if built)")
    ap.add_argument("--runs", type=int, default=None, help="runs per benchmark (5)")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, 1 run (smoke)")
    ap.add_argument("--train", action="store_true",
                    help="PGO training: weft and native only, 1 run, host calls at 1/20 "
                         "of full size, compute at quick size")
    ap.add_argument("--update", action="store_true", help="rewrite BENCHMARKS.md")
    ap.add_argument("--only", default="", help="comma-separated benchmark names")
    ap.add_argument("--out", default=str(REPO_DIR / "build" / "bench" / "run"),
                    help="build and scratch directory")
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds per run before it counts as a failure (600; quick: 30)")
    ap.add_argument("--budget", type=float, default=60.0,
                    help="seconds one runtime may spend on one benchmark before it "
                         "stops repeating (default 60)")
    ap.add_argument("--peer-wizer", default="", metavar="PATH",
                    help="also run each program under this Wizer binary (wasmtime inside; "
                         "'auto': the newest one bench/peers/fetch_wizer.sh cached); "
                         "full-size runs only, since Wizer passes no argv")
    ap.add_argument("--json", default="", help="also write raw results to this file")
    ap.add_argument("--note", action="append", default=[],
                    help="a remark for the Notes of BENCHMARKS.md (repeatable)")
    args = ap.parse_args()
    if args.train:
        args.quick = True  # one run, quick timeouts; host-call sizes are set below
        args.node = ""
    if args.runs is None:
        args.runs = 1 if args.quick else 5
    if args.timeout is None:
        args.timeout = 30.0 if args.quick else 600.0
    if args.runs < 1:
        ap.error("--runs must be at least 1")
    if args.update and (args.quick or args.only):  # (--train implies --quick)
        ap.error("--update needs a full run (no --quick, no --only)")
    if args.peer_wizer not in ("", "auto") and not os.access(args.peer_wizer, os.X_OK):
        ap.error(f"--peer-wizer {args.peer_wizer}: not an executable file")

    selected = BENCHMARKS
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        known = {b[0] for b in BENCHMARKS}
        unknown = [n for n in wanted if n not in known]
        if unknown:
            ap.error(f"unknown benchmark(s): {', '.join(unknown)}")
        selected = [b for b in BENCHMARKS if b[0] in wanted]

    # Other work on the machine skews ratios: record how busy it was.
    args.load_at_start = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    args.load_samples = []
    out_dir = Path(args.out).resolve()
    try:
        native_dir, wasm_dir = build_all([HELLO] + [b[0] for b in selected], out_dir)
    except Failure as e:
        log(f"error: {e}")
        return 2
    global RSS_EXEC
    RSS_EXEC = out_dir / "rss_exec"
    # Host-call ratios depend on what a system call costs here (machine_probe.c).
    args.machine_costs = probe_machine(out_dir)
    log(f"native costs: {args.machine_costs}")
    work_root = out_dir / "work"
    work_root.mkdir(parents=True, exist_ok=True)
    # weft run keeps translated code between runs (weft/wasm/code_cache.h), as it does for
    # its users: here in a cache of this run's own, emptied first, so that every run of
    # the runner starts alike (and a PGO training run translates every module once).
    cache_dir = out_dir / "weft-cache"
    shutil.rmtree(cache_dir, ignore_errors=True)
    os.environ["WEFT_CACHE_DIR"] = str(cache_dir)

    runtimes, notes, _ = make_runtimes(args)
    notes = list(args.note) + notes
    if args.quick and any(not rt.takes_args for rt in runtimes):
        notes.append("wizer: Wizer passes no argv, so the peer runs only full sizes: "
                     "benchmarks skipped in --quick (start-up measured)")
    weft_rt = next((rt for rt in runtimes if rt.name == "weft"), None)
    if weft_rt is not None:
        why = probe_weft(weft_rt, native_dir, wasm_dir, work_root, min(args.timeout, 30.0))
        if why:
            notes.append(why)
            runtimes.remove(weft_rt)
        else:
            log("weft runs hello.wasm: weft results are mandatory")
    for n in notes:
        log(f"note: {n}")

    errors = []
    results = []
    for bench in selected:
        size = bench[3] if args.quick else bench[2]
        if args.train and bench[1] == "host calls":
            # Long enough that the host-call paths, not start-up, dominate the profile.
            size = bench[2] // 20
        log(f"running {bench[0]} (size {size}) on {', '.join(rt.name for rt in runtimes)}")
        results.append(run_bench(bench, size, runtimes, native_dir, wasm_dir, work_root,
                                 args, errors))
        sample_load(args)
    startup = measure_startup(runtimes, native_dir, wasm_dir, work_root, args, errors)
    names = [rt.name for rt in runtimes]
    tool = Path(args.compile_bench) if args.compile_bench else \
        Path(args.weft).resolve().parent / "bench" / "weft_compile_bench"
    if not tool.exists():
        if args.compile_bench:
            errors.append(f"--compile-bench {args.compile_bench}: not found")
        tool = None
    compiled = measure_compile(tool, wasm_dir, [HELLO] + [b[0] for b in selected], args,
                               errors, notes)

    log(f"1-minute load average during the run: {load_during(args)}")
    print(results_table(results, names))
    print()
    print(startup_table(startup))
    if "wizer" in names:
        print()
        print(peer_table(results, startup))
    if compiled:
        print()
        print(compile_table(compiled))
    if notes:
        print()
        for n in notes:
            print(f"note: {n}")
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"results": results, "startup": startup, "compile": compiled, "notes": notes,
             "runtimes": names}, indent=2))
    if args.update:
        if errors:
            log("not updating BENCHMARKS.md: the run had errors")
        else:
            path = REPO_DIR / "BENCHMARKS.md"
            write_benchmarks_md(path, results, startup, compiled, names, notes,
                                machine_description(args), args)
            log(f"wrote {path}")
    if errors:
        log("")
        log("=" * 72)
        log(f"BENCHMARK ERRORS ({len(errors)}):")
        for e in errors:
            log(f"  {e}")
        log("=" * 72)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
