#!/usr/bin/env python3
"""Turn the raw measurements of Benchmarks/compare/run.sh into results.md, results.json, chart.png.

    report.py --run RUN_DIR --out docs/benchmarks
    report.py --from-json docs/benchmarks/results.json --out docs/benchmarks   # redo the Markdown/PNG

RUN_DIR holds meta.json (machine, versions), records.jsonl (one line per timed command, plus
notes and restore verifications) and, when snap has it, snap_benchmark.json.
"""

import argparse
import json
import os
import statistics

TOOLS = ["snap", "restic", "borg"]

STEPS = [
    # name, title, extra metrics shown after wall/CPU/RSS
    ("backup1", "First backup of the tree (fresh repository)", ["repo"]),
    ("backup2", "Second backup, nothing changed", ["added"]),
    ("backup_edit", "Backup after ~1 % of files edited, 0.5 % added, 0.5 % deleted", ["added"]),
    ("restore", "Full restore of the first snapshot (fresh folder)", ["cores"]),
    ("prune", "Prune after forget --keep-last 1", ["freed", "repo"]),
    ("check", "check", []),
    ("check_read_data", "check --read-data (borg: check --verify-data)", []),
    ("bigfile", "One large file (tar of the tree) into a fresh repository", ["repo"]),
    ("bigfile_insert", "Same file after 50 random 100-byte insertions", ["added"]),
    ("small_backup", "Small files: first backup (fresh repository)", ["repo"]),
    ("small_backup2", "Small files: second backup, nothing changed", ["added"]),
    ("small_restore", "Small files: full restore (fresh folder)", ["cores"]),
]
STEP_TITLES = {s[0]: s[1] for s in STEPS}

METRIC_LABELS = {
    "wall": "wall time (s)",
    "cpu": "CPU user+sys (s)",
    "rss": "peak RSS (MiB)",
    "repo": "repository size (MB)",
    "added": "stored bytes added (MB)",
    "freed": "bytes freed (MB)",
    "cores": "cores used (CPU ÷ wall)",
}

# Issue #5, section 2: (step, metric, limit as snap ÷ restic, description)
TARGETS = [
    ("backup1", "wall", 0.5, "first backup wall time ≤ 0.5× restic"),
    ("backup1", "repo", 1.0, "first backup repository size ≤ 1.0× restic"),
    ("backup2", "wall", 0.25, "unchanged second backup ≤ 0.25× restic"),
    ("backup_edit", "wall", 0.5, "1 % edit backup ≤ 0.5× restic"),
    ("backup_edit", "added", 1.0, "1 % edit backup stored bytes ≤ 1.0× restic"),
    ("bigfile", "wall", 0.5, "single large file ≤ 0.5× restic"),
    ("bigfile_insert", "added", 1.0, "after 50 insertions, stored bytes ≤ 1.0× restic"),
    ("restore", "wall", 0.5, "full restore ≤ 0.5× restic"),
    ("prune", "wall", 0.5, "prune (forget + prune) ≤ 0.5× restic"),
    ("check", "wall", 0.5, "check ≤ 0.5× restic"),
    ("check_read_data", "wall", 0.5, "check --read-data ≤ 0.5× restic"),
]


def load(run):
    meta = json.load(open(os.path.join(run, "meta.json")))
    records, notes, verifies = [], [], []
    for line in open(os.path.join(run, "records.jsonl")):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        if "note" in r:
            notes.append(r["note"])
        elif "verify" in r:
            verifies.append(r)
        else:
            records.append(r)
    bench = None
    path = os.path.join(run, "snap_benchmark.json")
    if os.path.exists(path):
        try:
            bench = json.load(open(path))
        except ValueError:
            bench = {"unparsed": open(path).read()}
    return meta, records, notes, verifies, bench


def combine(records):
    """Sum a run's parts (e.g. restic forget + prune) into one measurement per step/tool/rep."""
    runs = {}
    for r in records:
        key = (r["step"], r["tool"], r["rep"])
        runs.setdefault(key, []).append(r)
    out = {}
    for key, parts in runs.items():
        wall = sum(p["wall"] for p in parts)
        cpu = sum(p["user"] + p["sys"] for p in parts)
        m = {
            "wall": wall,
            "cpu": cpu,
            "rss": max(p["rss_kib"] for p in parts) / 1024.0,
            "rc": max(p["rc"] for p in parts),
            "parts": {p["part"]: {"wall": p["wall"], "cpu": p["user"] + p["sys"],
                                  "rss_mib": p["rss_kib"] / 1024.0} for p in parts},
            "busy_procs": max(p.get("busy_procs", 0) for p in parts),
            "load1": max(p.get("load1", 0) for p in parts),
        }
        if parts[-1]["repo_after"]:
            m["repo"] = parts[-1]["repo_after"] / 1e6
            m["added"] = (parts[-1]["repo_after"] - parts[0]["repo_before"]) / 1e6
            m["freed"] = -m["added"]
        m["cores"] = cpu / wall if wall > 0 else 0.0
        out[key] = m
    return out


def summarise(combined):
    summary = {}
    for (step, tool, rep), m in sorted(combined.items()):
        d = summary.setdefault(step, {}).setdefault(tool, {})
        for metric in METRIC_LABELS:
            if metric in m:
                d.setdefault(metric, {"values": []})["values"].append(m[metric])
        d.setdefault("failed_reps", [])
        if m["rc"] != 0:
            d["failed_reps"].append(rep)
    for step in summary.values():
        for d in step.values():
            for metric, v in d.items():
                if metric == "failed_reps":
                    continue
                v["median"] = statistics.median(v["values"])
                v["min"] = min(v["values"])
                v["max"] = max(v["values"])
    return summary


def med(summary, step, tool, metric):
    try:
        return summary[step][tool][metric]["median"]
    except KeyError:
        return None


def ratio(a, b):
    if a is None or b is None or b <= 0 or a < 0:
        return None
    return a / b


def fmt(x, metric=None):
    if x is None:
        return "n/a"
    if metric in ("repo", "added", "freed"):
        if abs(x) >= 100:
            return "%.0f" % x
        if abs(x) >= 1:
            return "%.1f" % x
        return "%.3f" % x
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def fmt_ratio(x):
    return "n/a" if x is None else "%.2f×" % x


def cell(summary, step, tool, metric):
    try:
        v = summary[step][tool][metric]
    except KeyError:
        return "n/a"
    s = fmt(v["median"], metric)
    if len(v["values"]) > 1:
        s += " (%s–%s)" % (fmt(v["min"], metric), fmt(v["max"], metric))
    if summary[step][tool].get("failed_reps"):
        s += " ⚠ exit≠0"
    return s


def targets(summary, bench):
    rows = []
    for step, metric, limit, desc in TARGETS:
        r = ratio(med(summary, step, "snap", metric), med(summary, step, "restic", metric))
        rows.append(target_row(desc, r, limit))
    for step, _, _ in STEPS:
        if step in summary and "restic" in summary[step]:
            r = ratio(med(summary, step, "snap", "rss"), med(summary, step, "restic", "rss"))
            rows.append(target_row("peak RSS ≤ 0.5× restic: " + step, r, 0.5))
    chunk = None
    if isinstance(bench, list):
        for row in bench:
            if str(row.get("name", "")).startswith("chunker"):
                chunk = row.get("bytes_per_second")
    rows.append({"target": "chunker ≥ 1.5 GB/s on one core (snap benchmark)",
                 "measured": None if chunk is None else chunk / 1e9, "limit": 1.5,
                 "status": "n/a" if chunk is None else ("met" if chunk >= 1.5e9 else "missed"),
                 "unit": "GB/s"})
    return rows


def target_row(desc, r, limit):
    if r is None:
        status = "n/a"
    elif r <= limit:
        status = "met"
    else:
        status = "missed"
    return {"target": desc, "measured": r, "limit": limit, "status": status, "unit": "×"}


def markdown(meta, summary, combined, notes, verifies, bench, trows, records, out_dir):
    L = []
    L.append("# snap vs restic vs borg")
    L.append("")
    L.append("Produced by `Benchmarks/compare/run.sh` (see `Benchmarks/compare/README.md`); "
             "raw measurements in `results.json`. Medians over %d repetitions (%d for the small-file steps), "
             "with the spread (min–max) in brackets; the tools took turns inside every step "
             "(snap, restic, borg, snap, …). Ratios are snap ÷ other tool on the medians: below 1 means snap is "
             "faster or smaller." % (meta["reps"], meta["small_reps"]))
    L.append("")
    if meta.get("quick"):
        L.append("**QUICK run** (small generated tree, %d small files): a smoke test of the script, "
                 "not a measurement." % meta["small_files"])
        L.append("")
    L.append("## Machine")
    L.append("")
    L.append("| | |")
    L.append("|---|---|")
    L.append("| CPU | %s, %d cores (nproc) |" % (meta["cpu_model"], meta["nproc"]))
    L.append("| memory | %.1f GiB |" % meta["mem_total_gib"])
    L.append("| kernel / OS | %s / %s |" % (meta["kernel"], meta["os"]))
    L.append("| file system of the work folder | %s |" % meta["filesystem"])
    L.append("| snap | %s, commit %s%s |" % (meta["snap_version"], meta["snap_commit"],
             (" plus %d uncommitted source files in the working tree" % meta["snap_uncommitted_source_files"])
             if meta["snap_uncommitted_source_files"] else ""))
    L.append("| restic | %s (repository format v%s: zstd compression `auto` by default) |"
             % (meta["restic_version"], meta.get("restic_repository_version") or "?"))
    L.append("| borg | %s (`--encryption=repokey`, `--compression zstd,3`, default files cache ctime,size,inode) |"
             % meta["borg_version"])
    L.append("| data | %s: %s bytes, %s files; changed tree: %s; large file %s bytes; small-file tree %d files |"
             % (meta["source"], "{:,}".format(meta["source_bytes"]), "{:,}".format(meta["source_files"]),
                meta.get("mutation", "").replace("mutate: ", "") or "n/a",
                "{:,}".format(meta.get("bigfile_bytes", 0)), meta["small_files"]))
    L.append("| run | %s → %s |" % (meta.get("started", "?"), meta.get("finished", "?")))
    L.append("")
    busy = [r for r in records if r.get("busy_procs", 0) > 0]
    max_load = max((r.get("load1", 0) for r in records), default=0)
    if busy:
        L.append("**Busy machine:** other engineers' processes (swift builds/tests, storage servers) were running "
                 "during %d of %d timed commands (load average up to %.1f on %d cores), so wall times are noisier "
                 "than on an idle machine; compare the spreads." % (len(busy), len(records), max_load, meta["nproc"]))
    else:
        L.append("No other builds or servers were seen running during the timed commands (load average up to %.1f)."
                 % max_load)
    L.append("")
    L.append("Every timed step that reads the source was preceded by reading it into the page cache "
             "(restores, prune and checks: the repository), so the numbers are for a warm cache, "
             "and by `sync`, so that no command waits on the writeback of an earlier one's files.")
    L.append("")
    if meta.get("build_note"):
        L.append("Note: " + meta["build_note"])
        L.append("")
    for n in notes:
        L.append("- Note: " + n)
    if notes:
        L.append("")

    # Summary
    L.append("## Summary: median wall time (s) and ratios")
    L.append("")
    L.append("| step | snap | restic | borg | snap ÷ restic | snap ÷ borg | RSS snap ÷ restic |")
    L.append("|---|---|---|---|---|---|---|")
    for step, title, extra in STEPS:
        if step not in summary:
            continue
        w = {t: med(summary, step, t, "wall") for t in TOOLS}
        L.append("| %s | %s | %s | %s | %s | %s | %s |" % (
            step, fmt(w["snap"]), fmt(w["restic"]), fmt(w["borg"]),
            fmt_ratio(ratio(w["snap"], w["restic"])), fmt_ratio(ratio(w["snap"], w["borg"])),
            fmt_ratio(ratio(med(summary, step, "snap", "rss"), med(summary, step, "restic", "rss")))))
    L.append("")
    L.append("![median wall time per step](chart.png)")
    L.append("")

    # Targets
    L.append("## Issue #5 targets (snap ÷ restic, this run)")
    L.append("")
    L.append("| target | measured | limit | status |")
    L.append("|---|---|---|---|")
    for t in trows:
        if t["measured"] is None:
            m = "n/a"
        elif t["unit"] == "GB/s":
            m = "%.2f GB/s" % t["measured"]
        else:
            m = "%.2f×" % t["measured"]
        lim = ("≥ %.1f GB/s" % t["limit"]) if t["unit"] == "GB/s" else ("≤ %.2f×" % t["limit"])
        st = t["status"]
        if st == "missed" and t["unit"] == "×":
            st = "**missed** (%.1f× over the limit)" % (t["measured"] / t["limit"])
        elif st == "missed":
            st = "**missed**"
        L.append("| %s | %s | %s | %s |" % (t["target"], m, lim, st))
    L.append("")
    L.append("Not measured here: restore using both cores is shown as “cores used” in the restore table; "
             "sparse files (the kernel tree has none); remote backends (S3, SFTP, REST).")
    L.append("")

    # Per-step detail
    L.append("## Steps in detail")
    L.append("")
    for step, title, extra in STEPS:
        if step not in summary:
            continue
        L.append("### %s — %s" % (step, title))
        L.append("")
        L.append("| metric | snap | restic | borg | snap ÷ restic | snap ÷ borg |")
        L.append("|---|---|---|---|---|---|")
        for metric in ["wall", "cpu", "rss"] + extra:
            if not any(metric in summary[step].get(t, {}) for t in TOOLS):
                continue
            a = med(summary, step, "snap", metric)
            L.append("| %s | %s | %s | %s | %s | %s |" % (
                METRIC_LABELS[metric], cell(summary, step, "snap", metric), cell(summary, step, "restic", metric),
                cell(summary, step, "borg", metric),
                fmt_ratio(ratio(a, med(summary, step, "restic", metric))),
                fmt_ratio(ratio(a, med(summary, step, "borg", metric)))))
        parts = []
        for (s, t, _), m in combined.items():
            for p in m["parts"]:
                if s == step and (t, p) not in parts:
                    parts.append((t, p))
        if any(len([p for (t2, p) in parts if t2 == t]) > 1 for t in TOOLS):
            desc = []
            for t in TOOLS:
                ps = [p for (t2, p) in parts if t2 == t]
                if ps:
                    meds = []
                    for p in ps:
                        vals = [m["parts"][p]["wall"] for (s, t2, _), m in combined.items()
                                if s == step and t2 == t and p in m["parts"]]
                        meds.append("%s %s s" % (p, fmt(statistics.median(vals))))
                    desc.append("%s: %s" % (t, " + ".join(meds)))
            L.append("")
            L.append("Parts (median wall): " + "; ".join(desc) + ".")
        L.append("")
    if verifies:
        L.append("Restores compared with the original (`diff -r`, first repetition): " + ", ".join(
            "%s %s: %s" % (v["verify"], v["tool"], "identical" if v["identical"] else "**differs**") for v in verifies) + ".")
        L.append("")

    if bench is not None:
        L.append("## `snap benchmark --json`")
        L.append("")
        if isinstance(bench, list):
            L.append("| measurement | throughput | other |")
            L.append("|---|---|---|")
            for row in bench:
                bps = row.get("bytes_per_second")
                other = ", ".join("%s %s" % (k, ("%.3g" % v) if isinstance(v, float) else v)
                                  for k, v in row.items() if k not in ("name", "bytes_per_second"))
                L.append("| %s | %s | %s |" % (row.get("name"), "n/a" if bps is None else "%.0f MB/s" % (bps / 1e6), other))
        else:
            L.append("```")
            L.append(json.dumps(bench, indent=1)[:4000])
            L.append("```")
        L.append("")
    if os.path.exists(os.path.join(out_dir, "analysis.md")):
        L.append("Why the missed targets are missed, with measurements: [analysis.md](analysis.md) "
                 "(written by hand for the run it names).")
        L.append("")
    L.append("## How to read this")
    L.append("")
    L.append("- wall, CPU (user+sys) and peak RSS come from `/usr/bin/time -f '%e %U %S %M'` around one command "
             "(prune: forget + prune for snap and restic, prune + compact for borg 1.2, summed; peak RSS is the larger).")
    L.append("- Repository size is `du -sb` of the repository folder after the step; “stored bytes added” is its growth in the step.")
    L.append("- restic 0.14 creates repository format v2, which compresses with zstd (`--compression auto`), so its "
             "repository sizes include compression; borg uses zstd,3 as set; snap its default (zstd 3).")
    L.append("- Caches (restic's, borg's files/chunks cache, snap's) live under the run's `XDG_CACHE_HOME` and are not counted in repository size.")
    L.append("")
    return "\n".join(L)


def chart(summary, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [s for s, _, _ in STEPS if s in summary]
    fig, ax = plt.subplots(figsize=(max(8, 1.1 * len(steps) + 2), 5))
    width = 0.27
    colors = {"snap": "#d62728", "restic": "#1f77b4", "borg": "#2ca02c"}
    for i, tool in enumerate(TOOLS):
        xs, ys, lo, hi = [], [], [], []
        for j, step in enumerate(steps):
            v = summary[step].get(tool, {}).get("wall")
            if v is None:
                continue
            xs.append(j + (i - 1) * width)
            ys.append(v["median"])
            lo.append(v["median"] - v["min"])
            hi.append(v["max"] - v["median"])
        ax.bar(xs, ys, width, label=tool, color=colors[tool], yerr=[lo, hi], capsize=2)
        for j, step in enumerate(steps):
            if summary[step].get(tool, {}).get("wall") is None:
                ax.annotate("n/a", (j + (i - 1) * width, 0), xycoords=("data", "axes fraction"),
                            xytext=(0, 4), textcoords="offset points", ha="center", fontsize=8,
                            color=colors[tool])
    ax.set_xticks(range(len(steps)))
    ax.set_xticklabels(steps, rotation=30, ha="right")
    ax.set_yscale("log")
    ax.set_ylabel("median wall time (s, log scale; bars: min–max)")
    ax.set_title("snap vs restic vs borg: wall time per step (lower is better)")
    ax.legend()
    ax.grid(axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--run")
    ap.add_argument("--from-json", help="an earlier results.json instead of a run folder")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.from_json:
        old = json.load(open(a.from_json))
        meta, records, notes = old["meta"], old["records"], old["notes"]
        verifies, bench = old["restore_verification"], old["snap_benchmark"]
    elif a.run:
        meta, records, notes, verifies, bench = load(a.run)
    else:
        ap.error("give --run or --from-json")
    combined = combine(records)
    summary = summarise(combined)
    trows = targets(summary, bench)
    os.makedirs(a.out, exist_ok=True)
    raw = {
        "meta": meta,
        "notes": notes,
        "restore_verification": verifies,
        "records": records,
        "per_repetition": [dict(step=s, tool=t, rep=r, **m) for (s, t, r), m in sorted(combined.items())],
        "summary": summary,
        "targets": trows,
        "snap_benchmark": bench,
    }
    with open(os.path.join(a.out, "results.json"), "w") as fh:
        json.dump(raw, fh, indent=1)
    with open(os.path.join(a.out, "results.md"), "w") as fh:
        fh.write(markdown(meta, summary, combined, notes, verifies, bench, trows, records, a.out))
    chart(summary, os.path.join(a.out, "chart.png"))


if __name__ == "__main__":
    main()
