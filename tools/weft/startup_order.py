#!/usr/bin/env python3
"""Writes the functions `weft run hello.wasm` executes, in the order it first runs them.

    tools/weft/startup_order.py build-release/weft bench-out/wasm/hello.wasm \
        > tools/weft/startup_order.txt

The weft executable is linked with that list as lld's --symbol-ordering-file
(tools/weft/CMakeLists.txt), so the code a run executes before the guest's first
instruction sits together at the start of .text instead of spread over its 1.7 MB.
Why it pays: every 64 KiB of text a process touches costs a page fault (the kernel maps
64 KiB around each), ~11 us on the PVM machines here.

How: valgrind's lackey tool traces every instruction address (needs the Debian package
valgrind); nm -n gives each function's address and size. A static PIE is loaded at
valgrind's own base, found from the first traced instruction (the entry point). Names
the next build does not have are ignored by the linker, so a stale list costs nothing
but the gain; regenerate it after large changes to start-up code, from a release build
(./dev.sh release), whose names (PGO clones such as .part.0) it then matches.

weft run keeps translated code between runs (weft/wasm/code_cache.h), so hello is traced
twice with a cache of its own: the second run, which starts from the first run's cached
code, is what a repeated start executes, and its functions come first, up to the end
marker (entry.cc populates that much). The first run's other functions (validating,
translating, saving the entry) follow the marker: together, but not populated.
"""
import os
import bisect
import re
import subprocess
import sys
import tempfile


def functions(binary):
    """(start, size, name) of every function symbol, sorted by address."""
    out = subprocess.run(["nm", "-n", "-S", "--defined-only", binary], check=True,
                         capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[2] in "tTwW":
            syms.append((int(fields[0], 16), int(fields[1], 16), fields[3]))
    return sorted(syms)


# entry.cc's entry point and the marker after the start-up code: first and last.
ENTRY, END_MARKER = "weft_entry", "weft_startup_text_end"


# Run natively before main but not under valgrind, found by single-stepping from _start
# to main in gdb: the AMD cache-size probe (valgrind's virtual CPU is an Intel one), the
# vDSO's link map (valgrind maps no vDSO), and crtbegin's frame_dummy. Listed first.
NATIVE_ONLY = ["handle_amd", "_dl_new_object", "_dl_setup_hash", "_dl_add_to_namespace_list",
               "_dl_lookup_symbol_x", "do_lookup_x", "check_match", "frame_dummy",
               "register_tm_clones"]


# glibc picks a string function's variant by CPU (ifunc). valgrind's virtual CPU has no
# AVX-512, so the trace names the AVX2 variants; the EVEX and AVX-512 ones, which the
# AMD EPYC machines here run, are listed right after them (a few KB of .text), as are
# those of a resolver (strcmp_ifunc) whose AVX2 variant the trace never reached.
IFUNC_VARIANT = re.compile(r"^(__\w+?)_(?:avx2|avx|sse2|sse42|ssse3)(_\w+)?$")


def native_variants(name, names):
    m = IFUNC_VARIANT.match(name)
    if m:
        family, suffix = m.group(1), m.group(2) or ""
    elif name.endswith("_ifunc") and not name.startswith("_"):
        family, suffix = "__" + name[:-len("_ifunc")], ""  # strcmp_ifunc: __strcmp_evex
    else:
        return []
    candidates = [f"{family}_{isa}{tail}" for tail in dict.fromkeys((suffix, ""))
                  for isa in ("evex", "avx512")]
    return [v for v in candidates if v in names]


def entry_point(binary):
    out = subprocess.run(["readelf", "-h", binary], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        if "Entry point address" in line:
            return int(line.split()[-1], 16)
    raise SystemExit(f"{binary}: no entry point in readelf -h")


def executed_addresses(binary, module, cache_dir):
    """Instruction addresses in execution order, from valgrind --tool=lackey."""
    with tempfile.NamedTemporaryFile(suffix=".lackey") as log:
        subprocess.run(["valgrind", "--tool=lackey", "--trace-mem=yes",
                        f"--log-file={log.name}", binary, "run", module],
                       check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, WEFT_CACHE_DIR=cache_dir))
        with open(log.name) as f:
            for line in f:
                if line.startswith("I "):
                    yield int(line.split()[1].split(",")[0], 16)


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    binary, module = sys.argv[1], sys.argv[2]
    syms = functions(binary)
    starts = [s[0] for s in syms]
    names = {s[2] for s in syms}

    def executed_functions(cache_dir):
        base = None
        for address in executed_addresses(binary, module, cache_dir):
            if base is None:
                base = address - entry_point(binary)
            offset = address - base
            i = bisect.bisect_right(starts, offset) - 1
            if i < 0 or offset >= syms[i][0] + max(syms[i][1], 1):
                continue  # outside the executable's symbols (the vDSO)
            yield syms[i][2]

    # The entry point (entry.cc) populates the code from its own page to the end marker.
    seen = {ENTRY, END_MARKER}

    def emit(name):
        if name not in seen:
            seen.add(name)
            print(name)
            for variant in native_variants(name, names):
                emit(variant)

    print(ENTRY)
    for name in NATIVE_ONLY:  # frame_dummy has no size, so `names` lacks it
        seen.add(name)
        print(name)
    with tempfile.TemporaryDirectory() as cache_dir:
        first_run = list(dict.fromkeys(executed_functions(cache_dir)))
        for name in executed_functions(cache_dir):
            emit(name)
        print(END_MARKER)
        for name in first_run:
            emit(name)


if __name__ == "__main__":
    main()
