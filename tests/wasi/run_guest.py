#!/usr/bin/env python3
"""Runs one case of a WASI guest test (tests/wasi/*.c) and checks what it did.

The case is described by directive comments in the guest's C source; the full
syntax is documented at the top of tests/wasi/CMakeLists.txt. In short:
SETUP lines build a fresh temp directory, RUN gives the `weft run` arguments,
EXIT/OUT/ERR/ERR-HAS check the exit status and the output, FILE/ABSENT/UNTOUCHED
check host-side effects afterwards.

Usage:
  run_guest.py --src prog.c --wasm prog.wasm [--case NAME] --engine CMD...
  (--engine takes the rest of the command line: the program to run instead of
   `weft`, e.g. `--engine build/weft` or `--engine node tests/wasi/node_weft.mjs`.)
Exit status 0 when every check passes; otherwise prints each mismatch and exits 1.
The temp directory is removed on success and kept (path printed) on failure.
"""
import argparse
import hashlib
import os
import re
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

DIRECTIVES = ("CFLAGS", "CASE", "SETUP", "HOSTENV", "STDIN", "RUN", "EXIT", "OUT",
              "ERR", "ERR-HAS", "OUT-HAS", "FILE", "ABSENT", "UNTOUCHED", "TIMEOUT",
              "TCP-SEND", "TCP-REPLY", "STDIN-FILE", "OUT-BYTES", "ERR-MATCH")


def unescape(text):
    out, i = [], 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            out.append({"n": "\n", "t": "\t", "\\": "\\", "s": " "}.get(n, "\\" + n))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def parse_directives(src_path, case):
    """Returns the list of (key, value) pairs that apply to `case` (None: no CASE)."""
    common, cases, current = [], {}, None
    with open(src_path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.startswith("// "):
                continue
            body = line[3:]
            key, sep, value = body.partition(":")
            if not sep or key not in DIRECTIVES:
                continue
            value = value[1:] if value.startswith(" ") else value
            if key == "CASE":
                current = value.strip()
                cases[current] = []
                continue
            (cases[current] if current is not None else common).append((key, value))
    if case:
        if case not in cases:
            sys.exit(f"run_guest: no CASE {case} in {src_path}")
        return common + cases[case]
    if cases:
        sys.exit(f"run_guest: {src_path} has CASEs; pass --case")
    return common


def snapshot(path):
    """Everything observable about a host tree: names, types, modes, contents, times."""
    result = {}
    if not os.path.lexists(path):
        return {"": "absent"}
    for root, dirs, files in os.walk(path, followlinks=False):
        names = dirs + files + ([""] if root == path else [])
        for name in names:
            p = os.path.join(root, name) if name else root
            st = os.lstat(p)
            rel = os.path.relpath(p, path)
            if stat.S_ISLNK(st.st_mode):
                result[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                result[rel] = ("dir", stat.S_IMODE(st.st_mode), st.st_mtime_ns)
            else:
                # No atime: reading the file here may itself update it.
                with open(p, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                result[rel] = ("file", stat.S_IMODE(st.st_mode), st.st_size, st.st_mtime_ns,
                               digest)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True)
    ap.add_argument("--wasm", required=True)
    ap.add_argument("--case", default="")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--engine", nargs=argparse.REMAINDER, required=True)
    args = ap.parse_args()

    directives = parse_directives(args.src, args.case)
    tmp = tempfile.mkdtemp(prefix="weft-wasi-")
    wasm = os.path.abspath(args.wasm)

    # {port}: a TCP port that was free a moment ago (for --tcplisten).
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = str(probe.getsockname()[1])
    probe.close()

    def subst(text):
        return text.replace("{tmp}", tmp).replace("{wasm}", wasm).replace("{port}", port)

    env = dict(os.environ)
    stdin_text, run_args, exit_code, timeout = "", None, 0, 60
    out_lines, err_lines, err_has, out_has = [], [], [], []
    file_checks, absent, untouched = [], [], []
    tcp_send, tcp_reply = None, None
    stdin_file, out_bytes = None, None
    err_match = []
    for key, value in directives:
        if key == "SETUP":
            op, _, rest = value.partition(" ")
            if op == "mkdir":
                os.makedirs(os.path.join(tmp, rest), exist_ok=True)
            elif op == "file":
                path, _, text = rest.partition(" ")
                full = os.path.join(tmp, path)
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "w", encoding="utf-8") as f:
                    f.write(unescape(text))
            elif op == "symlink":
                path, _, target = rest.partition(" ")
                os.symlink(subst(target), os.path.join(tmp, path))
            elif op == "copywasm":
                shutil.copyfile(wasm, os.path.join(tmp, rest))
            elif op == "chmod":
                mode, _, path = rest.partition(" ")
                os.chmod(os.path.join(tmp, path), int(mode, 8))
            elif op == "mtime":  # mtime SECONDS PATH: set atime and mtime
                secs, _, path = rest.partition(" ")
                os.utime(os.path.join(tmp, path), (int(secs), int(secs)), follow_symlinks=False)
            else:
                sys.exit(f"run_guest: unknown SETUP {op}")
        elif key == "HOSTENV":
            name, _, val = value.partition("=")
            env[name] = val
        elif key == "STDIN":
            stdin_text += unescape(value) + "\n"
        elif key == "RUN":
            run_args = [subst(a) for a in shlex.split(value)]
        elif key == "EXIT":
            exit_code = int(value)
        elif key == "OUT":
            out_lines.append(subst(unescape(value)))
        elif key == "ERR":
            err_lines.append(subst(unescape(value)))
        elif key == "ERR-HAS":
            err_has.append(subst(unescape(value)))
        elif key == "OUT-HAS":
            out_has.append(subst(unescape(value)))
        elif key == "FILE":
            path, _, text = value.partition(" ")
            file_checks.append((path, unescape(text)))
        elif key == "ABSENT":
            absent.append(value.strip())
        elif key == "UNTOUCHED":
            untouched.append(value.strip())
        elif key == "TIMEOUT":
            timeout = int(value)
        elif key == "ERR-MATCH":
            err_match.append(subst(value))
        elif key == "STDIN-FILE":
            stdin_file = os.path.join(tmp, value.strip())
        elif key == "OUT-BYTES":
            out_bytes = int(value)
        elif key == "TCP-SEND":
            tcp_send = unescape(value)
        elif key == "TCP-REPLY":
            tcp_reply = unescape(value)
    if run_args is None:
        run_args = [wasm]

    before = {p: snapshot(os.path.join(tmp, p)) for p in untouched}
    cmd = list(args.engine) + ["run"] + run_args
    failures = []
    stdin_handle = open(stdin_file, "rb") if stdin_file else subprocess.PIPE
    proc = subprocess.Popen(cmd, stdin=stdin_handle, cwd=tmp, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if tcp_send is not None:
        # TCP-SEND: connect to 127.0.0.1:{port} (retrying while weft starts), send the
        # text, half-close, and read the reply until the guest closes the connection.
        got_reply = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", int(port)), timeout=timeout) as c:
                    c.sendall(tcp_send.encode())
                    c.shutdown(socket.SHUT_WR)
                    chunks = []
                    while True:
                        data = c.recv(65536)
                        if not data:
                            break
                        chunks.append(data)
                    got_reply = b"".join(chunks).decode("utf-8", "replace")
                break
            except ConnectionRefusedError:
                time.sleep(0.05)
            except OSError as e:
                failures.append(f"tcp: {e}")
                break
        if got_reply is None:
            failures.append("tcp: could not talk to the guest")
        elif tcp_reply is not None and got_reply != tcp_reply:
            failures.append(f"tcp reply: expected {tcp_reply!r}, got {got_reply!r}")
    try:
        out, err = proc.communicate(input=None if stdin_file else stdin_text.encode(),
                                    timeout=timeout)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        code = None
        failures.append(f"timed out after {timeout}s")
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")

    if code is not None and code != exit_code:
        failures.append(f"exit code: expected {exit_code}, got {code}")
    if out_bytes is not None and len(out.encode()) != out_bytes:
        failures.append(f"stdout: expected {out_bytes} bytes, got {len(out.encode())}")
    expected_out = "".join(l + "\n" for l in out_lines)
    if not out_has and out_bytes is None and out != expected_out:
        exp, got = expected_out.splitlines(), out.splitlines()
        for i in range(max(len(exp), len(got))):
            e = exp[i] if i < len(exp) else "<end of output>"
            g = got[i] if i < len(got) else "<end of output>"
            if e != g:
                failures.append(f"stdout line {i + 1}: expected {e!r}, got {g!r}")
                break
        else:
            failures.append("stdout differs (trailing newline)")
    for s in out_has:
        if s not in out:
            failures.append(f"stdout lacks {s!r}")
    if err_lines:
        expected_err = "".join(l + "\n" for l in err_lines)
        if err != expected_err:
            failures.append(f"stderr: expected {expected_err!r}, got {err!r}")
    for s in err_has:
        if s not in err:
            failures.append(f"stderr lacks {s!r}")
    for pattern in err_match:
        if not re.search(pattern, err, re.M):
            failures.append(f"stderr does not match {pattern!r}")
    if not err_lines and not err_has and not err_match and err:
        failures.append(f"stderr should be empty, got {err!r}")
    for path, text in file_checks:
        full = os.path.join(tmp, path)
        try:
            with open(full, encoding="utf-8", errors="replace") as f:
                got = f.read()
            if got != text:
                failures.append(f"file {path}: expected {text!r}, got {got!r}")
        except OSError as e:
            failures.append(f"file {path}: {e.strerror}")
    for path in absent:
        if os.path.lexists(os.path.join(tmp, path)):
            failures.append(f"{path} should not exist")
    for path in untouched:
        after = snapshot(os.path.join(tmp, path))
        if after != before[path]:
            changed = sorted(k for k in set(before[path]) | set(after)
                             if before[path].get(k) != after.get(k))
            failures.append(f"{path} was modified: {changed}")

    if failures:
        print("command:", " ".join(shlex.quote(c) for c in cmd))
        print("cwd:", tmp)
        for f in failures:
            print("FAIL:", f)
        print("---- stdout ----\n" + out + "---- stderr ----\n" + err + "----")
        return 1
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"passed ({len(out_lines)} output lines checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
