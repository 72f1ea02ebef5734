#!/usr/bin/env python3
"""The example consumer (examples/bank) built against the *installed* lockgraph package.

Installs this build into a scratch prefix, configures examples/bank with find_package(lockgraph),
builds it, runs its ctest suite (lockgraph_add_test) and checks that each test passes or fails for
the right reason: the SARIF each one wrote names the exact finding kind, objects and source lines.
Then builds the wrapped example by hand with pkg-config and `lockgraph config`, the non-CMake way.

usage: consumer_test.py BUILD_DIR SOURCE_DIR CXX
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

build_dir, source_dir, cxx = sys.argv[1:4]
failures = []


def check(cond, message):
    if not cond:
        failures.append(message)
        print("FAIL: " + message, flush=True)


def run(cmd, expect=0, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if expect is not None and p.returncode != expect:
        sys.exit(f"command {cmd} exited {p.returncode}, expected {expect}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}")
    return p


def line_of(path, snippet):
    with open(path) as f:
        hits = [n for n, line in enumerate(f, 1) if snippet in line]
    if len(hits) != 1:
        sys.exit(f"{snippet!r} occurs {len(hits)} times in {path}")
    return hits[0]


def results(sarif_path):
    with open(sarif_path) as f:
        doc = json.load(f)
    check(doc.get("version") == "2.1.0", f"{sarif_path}: SARIF version {doc.get('version')}")
    return doc["runs"][0]["results"]


def lines_of(result):
    return sorted({loc["physicalLocation"]["region"]["startLine"] for loc in result["locations"]} |
                  {loc["physicalLocation"]["region"]["startLine"] for loc in result.get("relatedLocations", [])})


scratch = tempfile.mkdtemp(prefix="lockgraph-consumer-")
try:
    prefix = os.path.join(scratch, "prefix")
    run(["cmake", "--install", build_dir, "--prefix", prefix])
    for f in ["bin/lockgraph", "lib/liblockgraph_rt.so", "lib/liblockgraph_scan.so", "lib/liblockgraph_tracer.a",
              "include/lockgraph/mutex.hpp",
              "lib/cmake/lockgraph/lockgraphConfig.cmake", "lib/pkgconfig/lockgraph.pc"]:
        check(os.path.exists(os.path.join(prefix, f)), f"installed {f}")

    example = os.path.join(source_dir, "examples", "bank")
    bank_build = os.path.join(scratch, "bank")
    run(["cmake", "-S", example, "-B", bank_build, "-G", "Ninja", "-DCMAKE_PREFIX_PATH=" + prefix,
         "-DCMAKE_CXX_COMPILER=" + cxx, "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"])
    run(["cmake", "--build", bank_build])
    # The installed CLI runs the tests: it must not be the build tree's.
    ctest = run(["ctest", "--test-dir", bank_build, "--output-junit", "junit.xml", "-j2"], expect=None)
    check(ctest.returncode != 0, "ctest of the example fails (it has deliberate bugs)")
    outcome = {}
    for case in ET.parse(os.path.join(bank_build, "junit.xml")).getroot().iter("testcase"):
        outcome[case.get("name")] = case.get("status")
    expected = {"bank_inversion": "fail", "bank_race": "fail", "bank_safe": "run",
                "bank_inversion_suppressed": "run", "bank_wrapped": "fail"}
    check(outcome == expected, f"example test outcomes {outcome}, expected {expected}\n{ctest.stdout}")
    testlog = open(os.path.join(bank_build, "Testing", "Temporary", "LastTest.log")).read()
    check(prefix + "/bin/lockgraph" in testlog, "the example's tests ran the installed lockgraph")

    src = os.path.join(example, "bank.cpp")
    reports = os.path.join(bank_build, "reports")
    # The inversion: one potential deadlock over the two account mutexes, at transfer()'s two guards.
    inv = results(os.path.join(reports, "bank_inversion.sarif"))
    check([r["ruleId"] for r in inv] == ["deadlock_potential"], f"bank_inversion findings {[r['ruleId'] for r in inv]}")
    if inv:
        want = sorted({line_of(src, "std::lock_guard payer(from.m);"), line_of(src, "std::lock_guard payee(to.m);")})
        check(lines_of(inv[0]) == want, f"bank_inversion lines {lines_of(inv[0])}, expected {want}")
        text = inv[0]["message"]["text"]
        check("alice" in text and "bob" in text, f"bank_inversion names the accounts' mutexes: {text}")
    # The race: the unlocked counter, at its increment (read/write and write/write pairs, and the
    # lockset view's unprotected_write), and nothing else.
    race = results(os.path.join(reports, "bank_race.sarif"))
    # How many data_race pairs (read/write, write/write) depends on how the compiler instruments
    # the increment: g++ gives two, clang++ one. The kinds, variable and line do not.
    kinds = sorted(r["ruleId"] for r in race)
    check(kinds.count("unprotected_write") == 1 and kinds.count("data_race") in (1, 2) and
          set(kinds) == {"data_race", "unprotected_write"}, f"bank_race findings {kinds}")
    unlocked = [n for n, l in enumerate(open(src), 1) if l.strip() == "++transfers_done;"]
    for r in race:
        check("transfers_done" in r["message"]["text"], f"bank_race names transfers_done: {r['message']['text']}")
        check(lines_of(r) == unlocked[1:], f"bank_race lines {lines_of(r)}, expected the unlocked increment {unlocked[1:]}")
    check(results(os.path.join(reports, "bank_safe.sarif")) == [], "bank_safe has no findings")
    wrapped = results(os.path.join(reports, "bank_wrapped.sarif"))
    check([r["ruleId"] for r in wrapped] == ["deadlock_potential"], f"bank_wrapped findings {[r['ruleId'] for r in wrapped]}")
    if wrapped:
        text = wrapped[0]["message"]["text"]
        check("ledger" in text and "audit" in text, f"bank_wrapped names ledger and audit: {text}")
    graph = json.load(open(os.path.join(reports, "bank_inversion.graph.json")))
    check(len(graph["edges"]) == 2 and len(graph["runs"]) == 1, f"bank_inversion graph: {graph}")
    check(os.path.exists(os.path.join(reports, "bank_safe.graph.json")), "bank_safe graph saved")
    html = open(os.path.join(reports, "bank_wrapped.html")).read()
    check("<h1>lockgraph: FAILED</h1>" in html and "data-kind=\"deadlock_potential\"" in html, "bank_wrapped.html")

    # The installed static scan: the CLI loads the installed scanner plugin (not the build tree's).
    lg = os.path.join(prefix, "bin", "lockgraph")
    scan_json = os.path.join(scratch, "scan.json")
    scan = run([lg, "scan", "-p", bank_build, "--format", "json", "-o", scan_json], expect=None,
               env=dict(os.environ, LD_DEBUG="files"))
    check(scan.returncode in (0, 1), f"installed lockgraph scan exited {scan.returncode}: {scan.stderr[-2000:]}")
    check(os.path.join(prefix, "lib", "liblockgraph_scan.so") in scan.stderr, "scan loaded the installed plugin")
    check(os.path.exists(scan_json) and "findings" in json.load(open(scan_json)), "scan wrote its report")

    # Without CMake: pkg-config for the wrappers, `lockgraph config` for instrumentation.
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"))
    flags = run(["pkg-config", "--cflags", "--libs", "lockgraph"], env=env).stdout.split()
    exe = os.path.join(scratch, "wrapped_by_hand")
    run([cxx, os.path.join(example, "bank_wrapped.cpp"), "-o", exe] + flags)
    lg = os.path.join(prefix, "bin", "lockgraph")
    report = os.path.join(scratch, "r1.json")
    run([lg, "run", "--trace-dir", os.path.join(scratch, "t1"), "--format", "json", "-o", report, "--", exe], expect=1)
    kinds = [f["kind"] for f in json.load(open(report))["findings"]]
    check(kinds == ["deadlock_potential"], f"pkg-config build findings {kinds}")
    cxxflags = run([lg, "config", "--cxxflags", "--compiler", cxx]).stdout.split()
    ldflags = run([lg, "config", "--ldflags", "--compiler", cxx]).stdout.split()
    check(any(prefix in f for f in ldflags), f"ldflags point into the prefix: {ldflags}")
    exe = os.path.join(scratch, "bank_by_hand")
    # Compile and link as two steps: g++ links libtsan whenever -fsanitize=thread is on the link line.
    run([cxx, "-std=c++20", "-O1"] + cxxflags + ["-c", src, "-o", exe + ".o"])
    run([cxx, exe + ".o", "-o", exe] + ldflags)
    report = os.path.join(scratch, "r2.json")
    run([lg, "run", "--trace-dir", os.path.join(scratch, "t2"), "--format", "json", "-o", report, "--", exe, "race"],
        expect=1)
    kinds = [f["kind"] for f in json.load(open(report))["findings"]]
    check("data_race" in kinds, f"hand-built instrumented bank finds the race: {kinds}")
    # Linked the wrong way (g++ with -fsanitize=thread when linking): a clear refusal, not a crash.
    if "clang" not in os.path.basename(cxx):
        wrong = os.path.join(scratch, "bank_with_libtsan")
        run([cxx, exe + ".o", "-o", wrong, "-fsanitize=thread"] + ldflags)
        p = run([lg, "run", "--trace-dir", os.path.join(scratch, "t3"), "--", wrong, "race"], expect=2)
        check("is linked with libtsan" in p.stderr, f"libtsan refusal: {p.stderr}")
finally:
    shutil.rmtree(scratch, ignore_errors=True)

if failures:
    sys.exit(f"{len(failures)} check(s) failed")
print("consumer: all checks passed")
