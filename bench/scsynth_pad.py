#!/usr/bin/env python3
# bench/scsynth_pad.py — render the 64-voice pad of bench/scsynth_pad.fsp in
# forksynth (one DSP thread, per SIMD path) and the same pad in
# SuperCollider's scsynth (non-realtime, block size 64), time both, check
# that both sound, and print a markdown table (optionally rewriting its
# section in a file).  Run by bench/scsynth_pad.sh.
#
# scsynth gets a SynthDef file (SCgf version 2) and a binary OSC score
# written here, so that the bench needs neither sclang nor a display.
# The voice's values (detune, cutoff, envelopes, gains) are read from the
# forksynth patch so the two cannot drift apart.

import argparse
import array
import math
import os
import re
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

RATE = 48000
FIRST_NOTE = 36          # C2; the chord is 64 adjacent keys, C2 .. D#7
VOICES = 64
BUS = 16                 # scsynth private stereo bus the voices sum into
SECTION = "## 64-voice pad against scsynth (one thread)"

# scsynth's FreeVerb2 for forksynth's reverb: room 0.8 for a tail of a few
# seconds (forksynth: decay=3), the same damping and dry/wet mix.
FREEVERB_ROOM = 0.8


# ---------------------------------------------------------------- the patch

def patch_params(path):
    """Module name -> {param: float} for every `voice`/`global` line of the
    forksynth patch (choices such as wave=saw are left out)."""
    mods = {}
    with open(path) as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if len(words) >= 3 and words[0] in ("voice", "global"):
                params = {}
                for w in words[3:]:
                    k, _, v = w.partition("=")
                    try:
                        params[k] = float(v)
                    except ValueError:
                        pass
                mods[words[2]] = params
    return mods


# ---------------------------------------------------------------- SynthDef (SCgf 2)

def pstring(s):
    b = s.encode()
    return struct.pack(">B", len(b)) + b


class SynthDef:
    """A SynthDef built by hand: constants, one Control UGen for the named
    parameters, then UGens in the order they are added (which must be an
    order in which every input comes before its reader)."""

    def __init__(self, name, params):
        self.name = name
        self.params = params              # [(name, default)]
        self.consts = []
        self.ugens = []
        if params:
            self.ugen("Control", 1, [], [1] * len(params))

    def const(self, value):
        value = struct.unpack(">f", struct.pack(">f", value))[0]
        if value not in self.consts:
            self.consts.append(value)
        return (-1, self.consts.index(value))

    def param(self, name):
        names = [p[0] for p in self.params]
        return (0, names.index(name))

    def ugen(self, cls, rate, inputs, outputs, special=0):
        """Add a UGen; inputs are (ugen, output) pairs or floats; returns
        its outputs as (ugen, output) pairs.  Rates: 0 ir, 1 kr, 2 ar."""
        ins = [self.const(i) if isinstance(i, (int, float)) else i
               for i in inputs]
        self.ugens.append((cls, rate, ins, outputs, special))
        n = len(self.ugens) - 1
        return [(n, k) for k in range(len(outputs))]

    def encode(self):
        b = pstring(self.name)
        b += struct.pack(">i", len(self.consts))
        b += b"".join(struct.pack(">f", c) for c in self.consts)
        b += struct.pack(">i", len(self.params))
        b += b"".join(struct.pack(">f", v) for _, v in self.params)
        b += struct.pack(">i", len(self.params))
        for i, (n, _) in enumerate(self.params):
            b += pstring(n) + struct.pack(">i", i)
        b += struct.pack(">i", len(self.ugens))
        for cls, rate, ins, outs, special in self.ugens:
            b += pstring(cls)
            b += struct.pack(">biih", rate, len(ins), len(outs), special)
            b += b"".join(struct.pack(">ii", u, o) for u, o in ins)
            b += b"".join(struct.pack(">b", r) for r in outs)
        b += struct.pack(">h", 0)         # no variants
        return b


def synthdef_file(defs):
    return b"SCgf" + struct.pack(">ih", 2, len(defs)) + \
        b"".join(d.encode() for d in defs)


ADD, MUL = 0, 2                           # BinaryOpUGen special indices
EXP = 15                                  # UnaryOpUGen special index
CURVE = 5                                 # Env shape number of a numeric curve


def adsr(sd, env, gate, level_scale, done_action):
    """EnvGen.kr(Env.adsr(a, d, s, r, 1, -4), gate, level_scale) as sclang
    builds it: levels 0 1 s 0, release node 2, curve -4."""
    spec = [0, 3, 2, -99,
            1, env["attack"], CURVE, -4,
            env["sustain"], env["decay"], CURVE, -4,
            0, env["release"], CURVE, -4]
    return sd.ugen("EnvGen", 1,
                   [gate, level_scale, 0, 1, done_action] + spec, [1])[0]


def pad_synthdef(m):
    """One voice: Saw x2 -> MoogFF swept by an ADSR -> ADSR on the level of
    Pan2 -> Out to the private bus.  Frequencies, key-tracked cutoff and
    pan position are per-note parameters computed by the score."""
    sd = SynthDef("fspad", [("f1", 440.0), ("f2", 440.0), ("cut", 400.0),
                            ("pos", 0.0), ("amp", 0.1), ("gate", 1.0)])
    s1 = sd.ugen("Saw", 2, [sd.param("f1")], [2])[0]
    s2 = sd.ugen("Saw", 2, [sd.param("f2")], [2])[0]
    mix = sd.ugen("BinaryOpUGen", 2, [s1, s2], [2], ADD)[0]
    fenv = adsr(sd, m["fenv"], sd.param("gate"), 1, 0)
    octs = sd.ugen("BinaryOpUGen", 1,
                   [fenv, m["flt"].get("depth", 4) * math.log(2)], [1], MUL)[0]
    ratio = sd.ugen("UnaryOpUGen", 1, [octs], [1], EXP)[0]
    cut = sd.ugen("BinaryOpUGen", 1, [ratio, sd.param("cut")], [1], MUL)[0]
    flt = sd.ugen("MoogFF", 2,
                  [mix, cut, 4 * m["flt"].get("res", 0), 0], [2])[0]
    aenv = adsr(sd, m["aenv"], sd.param("gate"), sd.param("amp"), 2)
    left, right = sd.ugen("Pan2", 2, [flt, sd.param("pos"), aenv], [2, 2])
    sd.ugen("Out", 2, [BUS, left, right], [])
    return sd


def verb_synthdef(m, alone):
    """The reverb: FreeVerb2 on the voices' bus (or, alone, on white noise)
    to the output."""
    sd = SynthDef("fsverb_alone" if alone else "fsverb", [])
    if alone:
        n = sd.ugen("WhiteNoise", 2, [], [2])[0]
        left = right = n
    else:
        left, right = sd.ugen("In", 2, [BUS], [2, 2])
    rev = m["rev"]
    wl, wr = sd.ugen("FreeVerb2", 2,
                     [left, right, rev.get("mix", 0.3), FREEVERB_ROOM,
                      rev.get("damping", 0.5)], [2, 2])
    sd.ugen("Out", 2, [0, wl, wr], [])
    return sd


# ---------------------------------------------------------------- OSC score

def osc_pad(b):
    return b + b"\0" * (-len(b) % 4)


def osc_message(address, *args):
    tags, data = ",", b""
    for a in args:
        if isinstance(a, bytes):
            tags += "b"
            data += struct.pack(">i", len(a)) + osc_pad(a)
        elif isinstance(a, str):
            tags += "s"
            data += osc_pad(a.encode() + b"\0")
        elif isinstance(a, int):
            tags += "i"
            data += struct.pack(">i", a)
        else:
            tags += "f"
            data += struct.pack(">f", a)
    return osc_pad(address.encode() + b"\0") + osc_pad(tags.encode() + b"\0") + data


def osc_bundle(seconds, messages):
    """A bundle as scsynth -N reads it from a score file: its size, then
    the bundle with a 32.32 fixed-point time tag (seconds from the start)."""
    tag = int(round(seconds * (1 << 32)))
    body = b"#bundle\0" + struct.pack(">Q", tag)
    for m in messages:
        body += struct.pack(">i", len(m)) + m
    return struct.pack(">i", len(body)) + body


def notes():
    return [FIRST_NOTE + i for i in range(VOICES)]


def sc_score(m, seconds, hold, alone, empty=False):
    """The scsynth score: the SynthDefs, the reverb at the tail of the root
    group, then (unless alone) one voice per note at its head, every gate
    released at `hold`; a last no-op command at `seconds` sets the length.
    Empty: that last command only."""
    if empty:
        return osc_bundle(seconds, [osc_message("/c_set", 0, 0.0)])
    defs = synthdef_file([pad_synthdef(m), verb_synthdef(m, False),
                          verb_synthdef(m, True)])
    start = [osc_message("/d_recv", defs),
             osc_message("/s_new", "fsverb_alone" if alone else "fsverb",
                         1000, 1, 0)]
    release = []
    if not alone:
        cents = (m["saw1"].get("detune", 0), m["saw2"].get("detune", 0))
        for i, n in enumerate(notes()):
            octs = (n - 69) / 12.0
            f = 440.0 * 2 ** octs
            start.append(osc_message(
                "/s_new", "fspad", 1001 + i, 0, 0,
                "f1", f * 2 ** (cents[0] / 1200.0),
                "f2", f * 2 ** (cents[1] / 1200.0),
                "cut", m["flt"].get("cutoff", 1000) * 2 ** octs,
                "pos", max(-1.0, min(1.0, octs * m["place"].get("gain", 1))),
                "amp", m["amp"].get("gain", 1)))
            release.append(osc_message("/n_set", 1001 + i, "gate", 0.0))
    score = osc_bundle(0, start)
    if release:
        score += osc_bundle(hold, release)
    score += osc_bundle(seconds, [osc_message("/c_set", 0, 0.0)])
    return score


def fs_score(hold):
    return "".join(f"at 0 note {n} 100 {hold:g}\n" for n in notes())


# Nothing but an output: what a render costs before any module runs
# (start-up, the engine's blocks, the file).
EMPTY_PATCH = """global vca x
connect x.out out.1
connect x.out out.2
"""

ALONE_PATCH = """global noise n
global reverb rev {rev}
connect n.out rev.left
connect n.out rev.right
connect rev.left out.1
connect rev.right out.2
"""


# ---------------------------------------------------------------- checks

def wav_channels(path):
    """The samples of a 32-bit float WAV file, one array per channel."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a WAV file")
    pos, fmt, samples = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", body[:16])
        elif cid == b"data":
            samples = body
        pos += 8 + size + (size & 1)
    if fmt is None or samples is None:
        raise ValueError(f"{path}: no fmt or data chunk")
    tag, nch, _, _, _, bits = fmt
    if tag == 0xFFFE:                      # WAVE_FORMAT_EXTENSIBLE
        tag = 3
    if tag != 3 or bits != 32:
        raise ValueError(f"{path}: not 32-bit float (format {tag}, {bits} bits)")
    a = array.array("f")
    a.frombytes(samples[:len(samples) - len(samples) % 4])
    if sys.byteorder == "big":
        a.byteswap()
    return [a[c::nch] for c in range(nch)]


def dbfs(x):
    return 20 * math.log10(x) if x > 0 else -math.inf


def loudness(path, skip):
    """rms (dBFS) per channel from `skip` seconds on, the peak over all,
    and the mean frame-to-frame difference over the rms (a brightness
    figure: about 0.05 for a dark pad, 1.4 for white noise)."""
    out = []
    for ch in wav_channels(path):
        tail = ch[int(skip * RATE):]
        ss = math.fsum(x * x for x in tail)
        rms = math.sqrt(ss / max(1, len(tail)))
        diff = math.sqrt(math.fsum((tail[i] - tail[i - 1]) ** 2
                                   for i in range(1, len(tail), 7)) /
                         max(1, len(tail) // 7))
        out.append((rms, max(abs(x) for x in ch), diff / rms if rms else 0))
    return out


# ---------------------------------------------------------------- timing

def timed(cmd, env=None):
    """Run cmd; its wall seconds and its CPU seconds (user + sys of it and
    every child it waited for)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"scsynth_pad: failed ({r.returncode}): {' '.join(cmd)}\n"
                 + r.stderr.decode(errors="replace")[-2000:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def machine():
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return "unknown CPU", set()
    name = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    flags = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
    return (name.group(1).strip() if name else "unknown CPU",
            set(flags.group(1).split()) if flags else set())


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--forksynth", required=True)
    ap.add_argument("--scsynth", default="scsynth")
    ap.add_argument("--patch", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--hold", type=float, default=19.0,
                    help="seconds the chord is held (release after)")
    ap.add_argument("--block", type=int, default=256,
                    help="forksynth --block (scsynth is always 64)")
    ap.add_argument("--paths", default="default sse2 scalar",
                    help="FORKSYNTH_SIMD values to time; default = unset")
    ap.add_argument("--no-parts", action="store_true",
                    help="skip the rows of the empty patch and the reverb alone")
    ap.add_argument("--out", help="file whose section to rewrite or append")
    ap.add_argument("--keep", help="directory to keep the renders in")
    a = ap.parse_args()

    m = patch_params(a.patch)
    cpu_name, flags = machine()
    widest = "avx2" if "avx2" in flags else "sse2"
    work = a.keep or tempfile.mkdtemp(prefix="forksynth-scpad.")
    os.makedirs(work, exist_ok=True)
    try:
        rows, checks = run_all(a, m, work, widest)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)

    text = report(a, cpu_name, widest, rows, checks)
    print(text)
    if a.out:
        write_section(a.out, text)


def run_all(a, m, work, widest):
    p = lambda name: os.path.join(work, name)
    with open(p("pad.osc"), "wb") as f:
        f.write(sc_score(m, a.seconds, a.hold, False))
    with open(p("alone.osc"), "wb") as f:
        f.write(sc_score(m, a.seconds, a.hold, True))
    with open(p("pad.score"), "w") as f:
        f.write(fs_score(a.hold))
    rev = " ".join(f"{k}={v:g}" for k, v in m["rev"].items())
    with open(p("alone.fsp"), "w") as f:
        f.write(ALONE_PATCH.format(rev=rev))
    with open(p("empty.osc"), "wb") as f:
        f.write(sc_score(m, a.seconds, a.hold, False, empty=True))
    with open(p("empty.fsp"), "w") as f:
        f.write(EMPTY_PATCH)

    def sc_cmd(score, wav):
        return [a.scsynth, "-D", "0", "-i", "2", "-o", "2", "-z", "64",
                "-N", score, "_", wav, str(RATE), "WAV", "float"]

    def fs_cmd(patch, wav, score=None):
        cmd = [a.forksynth, "--render", wav, "--force", "--threads", "1",
               "--block", str(a.block), "--seconds", f"{a.seconds:g}"]
        return cmd + (["--score", score] if score else []) + [patch]

    def fs_env(path):
        env = dict(os.environ)
        env.pop("FORKSYNTH_SIMD", None)
        if path != "default":
            env["FORKSYNTH_SIMD"] = path
        return env

    # (renderer, what, kind, command, environment, render, runs): a row's
    # ratio is to the scsynth row of its kind.
    jobs = [("scsynth", "block 64", "pad", sc_cmd(p("pad.osc"), p("sc.wav")),
             None, p("sc.wav"), a.runs)]
    for path in a.paths.split():
        label = f"{widest} (default)" if path == "default" else path
        jobs.append(("forksynth", label, "pad",
                     fs_cmd(a.patch, p(f"fs-{path}.wav"), p("pad.score")),
                     fs_env(path), p(f"fs-{path}.wav"), a.runs))
    if not a.no_parts:
        few = max(1, (a.runs + 1) // 2)
        jobs += [
            ("scsynth", "empty score", "empty",
             sc_cmd(p("empty.osc"), p("sc-empty.wav")), None,
             p("sc-empty.wav"), few),
            ("forksynth", "empty patch", "empty",
             fs_cmd(p("empty.fsp"), p("fs-empty.wav")), fs_env("default"),
             p("fs-empty.wav"), few),
            ("scsynth", "FreeVerb2 alone", "alone",
             sc_cmd(p("alone.osc"), p("sc-alone.wav")), None,
             p("sc-alone.wav"), few),
            ("forksynth", "reverb alone", "alone",
             fs_cmd(p("alone.fsp"), p("fs-alone.wav")), fs_env("default"),
             p("fs-alone.wav"), few)]

    # Interleave the runs (round robin) so that a burst of load from other
    # work on the machine spreads over every row instead of one.
    times = {i: [] for i in range(len(jobs))}
    for r in range(max(j[6] for j in jobs)):
        for i, (_, _, _, cmd, env, _, runs) in enumerate(jobs):
            if r < runs:
                times[i].append(timed(cmd, env))

    rows = []
    for i, (who, what, kind, _, _, _, _) in enumerate(jobs):
        walls = [t[0] for t in times[i]]
        cpus = [t[1] for t in times[i]]
        rows.append((who, what, kind, len(walls), min(walls),
                     statistics.median(walls), min(cpus), statistics.median(cpus)))
    checks = [("scsynth", loudness(p("sc.wav"), 3.0))]
    first_fs = next((j for j in jobs if j[0] == "forksynth"), None)
    if first_fs:
        checks.append(("forksynth", loudness(first_fs[5], 3.0)))
    return rows, checks


def report(a, cpu_name, widest, rows, checks):
    lines = [SECTION, "",
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"{cpu_name}, {os.cpu_count()} online CPUs, load average "
             f"{os.getloadavg()[0]:.2f} at the end.  {VOICES} voices (MIDI "
             f"{FIRST_NOTE}..{FIRST_NOTE + VOICES - 1} held {a.hold:g} s) of "
             "two detuned saws, a key-tracked Moog-style low-pass swept by an "
             "ADSR, an amplitude ADSR and a pan, summed into one stereo "
             f"reverb; {a.seconds:g} s at {RATE} Hz to a float WAV file.  "
             "scsynth: `scsynth -N` (one thread), block 64, envelopes and "
             "cutoff at control rate, MoogFF, FreeVerb2.  forksynth: "
             f"`--render --threads 1 --block {a.block}` of "
             "bench/scsynth_pad.fsp (ladder, 32-line FDN reverb).  Each "
             "command timed whole (start-up and file writing included); "
             "wall and CPU (user + sys, the DSP child included) in seconds, "
             "runs interleaved; the ratio and real-time factor from the "
             "minimum wall time, each to the scsynth row of its kind.  "
             "Empty: a render of nothing but an output (start-up, the "
             "engine's blocks, the file); alone: white noise into the "
             "reverb alone, no voices.", "",
             "| renderer | path | runs | wall min | wall median | CPU min "
             "| CPU median | x scsynth (wall min) | real-time factor |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for who, what, kind, n, wmin, wmed, cmin, cmed in rows:
        ref = next(r for r in rows if r[0] == "scsynth" and r[2] == kind)
        lines.append(f"| {who} | {what} | {n} | {wmin:.2f} | {wmed:.2f} | "
                     f"{cmin:.2f} | {cmed:.2f} | {wmin / ref[4]:.2f}x | "
                     f"{a.seconds / wmin:.1f}x |")
    lines += ["", "Both renders sound (after the first 3 s): "
              + "; ".join(f"{who} rms "
                          + " / ".join(f"{dbfs(r):.1f}" for r, _, _ in ch)
                          + f" dBFS, peak {dbfs(max(pk for _, pk, _ in ch)):.1f}"
                          + f" dBFS, brightness {ch[0][2]:.3f}"
                          for who, ch in checks) + "."]
    for who, ch in checks:
        if any(r < 10 ** (-60 / 20) for r, _, _ in ch):
            lines.append(f"WARNING: the {who} render is silent or nearly.")
    return "\n".join(lines)


def write_section(path, text):
    """Replace the section that starts with SECTION in `path` (up to the
    next heading of the same or a higher level), or append it."""
    old = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    start = old.find(SECTION + "\n")
    if start < 0:
        new = old + ("\n" if old and not old.endswith("\n\n") else "") + text + "\n"
    else:
        nxt = re.search(r"^#{1,2} ", old[start + len(SECTION):], re.M)
        end = start + len(SECTION) + nxt.start() if nxt else len(old)
        new = old[:start] + text + "\n" + ("\n" if nxt else "") + old[end:]
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(new)
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
