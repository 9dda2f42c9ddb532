#!/usr/bin/python3
"""The simulator's figures over several seeds, as the README reports them.

`onthedot simulate --scenario FILE --seed N --report DIR` writes one folder
per seed (report.json and timings.json); this reads them all and prints, in
Markdown, one row per policy and window width over every seed:

  kept        kept rate: the mean over seeds and the lowest seed
  util        utilisation: the mean over seeds
  warned      broken promises warned, pooled (sum warned / sum broken),
              and those warned 60 minutes or more before the window ended
  lead        warning lead of warned broken promises, median and 10th
              percentile (nearest rank, as the engine computes them) over
              the pooled values when every run lists them in
              lead_minutes.values; otherwise the median of the per-seed
              figures, marked with * (a median of medians is not the
              median of the whole)
  false       false alarms as a share of apologies, pooled
  msgs        messages per customer, pooled (sum messages / sum customers,
              each seed's customers being messages / messages_per_customer)
  seconds     wall-clock seconds per run from timings.json: mean and max

then one line per target of issue 9 (60-minute windows, onthedot): met, or
missed and by how much.

  python3 tests/bench/sim_summary.py out/seed-*        (folders)
  python3 tests/bench/sim_summary.py out               (its sub-folders)
  python3 tests/bench/sim_summary.py --json out/seed-* (a JSON line too)
  python3 tests/bench/sim_summary.py --self-test

Python 3.11, standard library only.
"""

import argparse
import json
import math
import os
import statistics
import sys
import tempfile

TARGET_WIDTH = 60
TARGET_POLICY = "onthedot"
KEPT_MIN = 0.97
UTIL_MIN = 0.75
WARNED60_MIN = 0.90
FALSE_ALARM_MAX = 0.25
MESSAGES_MAX = 1.3


class ReportError(Exception):
    pass


# ---- reading ---------------------------------------------------------------


def find_reports(paths):
    """The report folders among paths: a folder holding report.json, a
    report.json itself, or a folder whose sub-folders hold one."""
    found = []
    for p in paths:
        if os.path.isfile(p) and os.path.basename(p) == "report.json":
            found.append(os.path.dirname(p) or ".")
        elif os.path.isfile(os.path.join(p, "report.json")):
            found.append(p)
        elif os.path.isdir(p):
            subs = sorted(
                os.path.join(p, d)
                for d in os.listdir(p)
                if os.path.isfile(os.path.join(p, d, "report.json"))
            )
            if not subs:
                raise ReportError(f"{p}: no report.json in it or its sub-folders")
            found.extend(subs)
        else:
            raise ReportError(f"{p}: no such report folder")
    return found


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ReportError(f"{path}: {e}") from e


def run_seconds(timings, policy, width):
    """Seconds of the run (policy, width) in a timings.json, or None."""
    if timings is None:
        return None
    runs = timings.get("runs", []) if isinstance(timings, dict) else timings
    for t in runs if isinstance(runs, list) else []:
        if not isinstance(t, dict):
            continue
        if t.get("policy") != policy or t.get("width_minutes") != width:
            continue
        for key in ("total_s", "seconds"):
            if isinstance(t.get(key), (int, float)):
                return float(t[key])
        parts = [v for k, v in t.items() if k.endswith("_s") and isinstance(v, (int, float))]
        return float(sum(parts)) if parts else None
    return None


def num(run, key, where, nullable=False):
    v = run.get(key)
    if v is None and nullable and key in run:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ReportError(f"{where}: {key} is not a number")
    return v


def read_folder(folder):
    """[(policy, width, figures)] of one report folder."""
    report = load_json(os.path.join(folder, "report.json"))
    tpath = os.path.join(folder, "timings.json")
    timings = load_json(tpath) if os.path.isfile(tpath) else None
    runs = report.get("runs") if isinstance(report, dict) else None
    if not isinstance(runs, list):
        raise ReportError(f"{folder}/report.json: no runs")
    seed = report.get("scenario", {}).get("seed")
    out = []
    for i, run in enumerate(runs):
        where = f"{folder}/report.json runs[{i}]"
        if not isinstance(run, dict) or not isinstance(run.get("policy"), str):
            raise ReportError(f"{where}: no policy")
        width = num(run, "width_minutes", where)
        outcomes = run.get("outcomes") or {}
        lead = run.get("lead_minutes") or {}
        broken = num(outcomes, "broken", where + ".outcomes")
        messages = num(run, "messages", where)
        mpc = num(run, "messages_per_customer", where, nullable=True)
        if mpc:
            customers = round(messages / mpc)
        else:  # no message (or no customer): count the visits due
            customers = sum(num(outcomes, k, where) for k in ("kept", "broken", "moved"))
        w60 = num(run, "warned_60_share", where, nullable=True)
        values = lead.get("values")
        if not (isinstance(values, list) and all(isinstance(v, (int, float)) for v in values)):
            values = None
        out.append(
            (
                run["policy"],
                width,
                {
                    "seed": seed,
                    "kept_rate": num(run, "kept_rate", where, nullable=True),
                    "utilisation": num(run, "utilisation", where, nullable=True),
                    "broken": broken,
                    "broken_warned": num(run, "broken_warned", where),
                    "warned_60": round(w60 * broken) if w60 is not None else 0,
                    "lead_median": lead.get("median"),
                    "lead_p10": lead.get("p10"),
                    "lead_values": values,
                    "apologies": num(run, "apologies", where),
                    "false_alarms": num(run, "false_alarms", where),
                    "messages": messages,
                    "customers": customers,
                    "seconds": run_seconds(timings, run["policy"], width),
                },
            )
        )
    return out


# ---- figures ---------------------------------------------------------------


def nearest_rank(sorted_values, q):
    """The engine's quantile: the value at rank ceil(q n), at least 1."""
    i = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[i - 1]


def ratio(a, b):
    return a / b if b > 0 else None


def summarise(groups):
    """{(policy, width): [figures per seed]} -> rows of pooled figures."""
    rows = []
    for (policy, width), seeds in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        kept = [s["kept_rate"] for s in seeds if s["kept_rate"] is not None]
        util = [s["utilisation"] for s in seeds if s["utilisation"] is not None]
        broken = sum(s["broken"] for s in seeds)
        row = {
            "policy": policy,
            "width_minutes": width,
            "seeds": len(seeds),
            "kept_mean": statistics.fmean(kept) if kept else None,
            "kept_min": min(kept) if kept else None,
            "utilisation_mean": statistics.fmean(util) if util else None,
            "broken": broken,
            "warned_share": ratio(sum(s["broken_warned"] for s in seeds), broken),
            "warned_60_share": ratio(sum(s["warned_60"] for s in seeds), broken),
            "apologies": sum(s["apologies"] for s in seeds),
            "false_alarm_share": ratio(
                sum(s["false_alarms"] for s in seeds), sum(s["apologies"] for s in seeds)
            ),
            "messages_per_customer": ratio(
                sum(s["messages"] for s in seeds), sum(s["customers"] for s in seeds)
            ),
        }
        if all(s["lead_values"] is not None for s in seeds):
            pooled = sorted(v for s in seeds for v in s["lead_values"])
            row["lead_pooled"] = True
            row["lead_median"] = nearest_rank(pooled, 0.5) if pooled else None
            row["lead_p10"] = nearest_rank(pooled, 0.1) if pooled else None
        else:
            med = [s["lead_median"] for s in seeds if isinstance(s["lead_median"], (int, float))]
            p10 = [s["lead_p10"] for s in seeds if isinstance(s["lead_p10"], (int, float))]
            row["lead_pooled"] = False
            row["lead_median"] = statistics.median(med) if med else None
            row["lead_p10"] = statistics.median(p10) if p10 else None
        secs = [s["seconds"] for s in seeds if s["seconds"] is not None]
        row["seconds_mean"] = statistics.fmean(secs) if secs else None
        row["seconds_max"] = max(secs) if secs else None
        rows.append(row)
    return rows


# ---- text ------------------------------------------------------------------


def pct(v):
    return "n/a" if v is None else f"{100 * v:.1f}%"


def fixed(v, dec, unit=""):
    return "n/a" if v is None else f"{v:.{dec}f}{unit}"


def minutes(v, pooled):
    if v is None:
        return "n/a"
    text = f"{v:g} min"
    return text if pooled else text + " *"


def table(rows):
    head = (
        "| Policy | Width | Seeds | Kept (mean) | Kept (min) | Utilisation | Warned "
        "| Warned \u2265 60 min | Lead median | Lead p10 | False alarms | Messages per customer "
        "| Seconds per run (mean) | Seconds per run (max) |"
    )
    lines = [head, "|---|" + "---:|" * 13]
    for r in rows:
        cells = [
            r["policy"],
            f"{r['width_minutes']} min",
            str(r["seeds"]),
            pct(r["kept_mean"]),
            pct(r["kept_min"]),
            pct(r["utilisation_mean"]),
            pct(r["warned_share"]),
            pct(r["warned_60_share"]),
            minutes(r["lead_median"], r["lead_pooled"]),
            minutes(r["lead_p10"], r["lead_pooled"]),
            pct(r["false_alarm_share"]),
            fixed(r["messages_per_customer"], 2),
            fixed(r["seconds_mean"], 1, " s"),
            fixed(r["seconds_max"], 1, " s"),
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def points(v):
    return f"{100 * v:.1f} points"


def targets(rows):
    """One line per target of issue 9, and whether all were met."""
    row = next(
        (r for r in rows if r["policy"] == TARGET_POLICY and r["width_minutes"] == TARGET_WIDTH),
        None,
    )
    if row is None:
        return [f"- No {TARGET_POLICY} run with {TARGET_WIDTH}-minute windows: targets not checked."], False
    lines, all_met = [], True

    def say(name, met, text):
        nonlocal all_met
        all_met &= met
        lines.append(f"- {name}: {'met' if met else 'missed'}, {text}")

    kept, util = row["kept_mean"], row["utilisation_mean"]
    if kept is None or util is None:
        say("kept >= 97% at utilisation >= 75%", False, "no promise was due (no figures)")
    else:
        short = []
        if kept < KEPT_MIN:
            short.append(f"kept short by {points(KEPT_MIN - kept)}")
        if util < UTIL_MIN:
            short.append(f"utilisation short by {points(UTIL_MIN - util)}")
        say(
            "kept >= 97% at utilisation >= 75%",
            not short,
            f"kept {pct(kept)} (lowest seed {pct(row['kept_min'])}) at utilisation {pct(util)}"
            + (f": {'; '.join(short)}" if short else ""),
        )
    w60 = row["warned_60_share"]
    if w60 is None:
        say("broken promises warned >= 60 min before the window ended >= 90%", True,
            "no broken promise")
    else:
        say(
            "broken promises warned >= 60 min before the window ended >= 90%",
            w60 >= WARNED60_MIN,
            f"{pct(w60)} of {row['broken']}"
            + ("" if w60 >= WARNED60_MIN else f": short by {points(WARNED60_MIN - w60)}"),
        )
    fa = row["false_alarm_share"]
    if fa is None:
        say("false alarms <= 25% of apologies", True, "no apology")
    else:
        say(
            "false alarms <= 25% of apologies",
            fa <= FALSE_ALARM_MAX,
            f"{pct(fa)} of {row['apologies']}"
            + ("" if fa <= FALSE_ALARM_MAX else f": over by {points(fa - FALSE_ALARM_MAX)}"),
        )
    mpc = row["messages_per_customer"]
    if mpc is None:
        say("messages per customer <= 1.3", True, "no customer")
    else:
        say(
            "messages per customer <= 1.3",
            mpc <= MESSAGES_MAX,
            f"{mpc:.2f}" + ("" if mpc <= MESSAGES_MAX else f": over by {mpc - MESSAGES_MAX:.2f}"),
        )
    return lines, all_met


def summary(folders):
    """The Markdown text for the report folders, and the rows."""
    groups = {}
    seeds = set()
    for folder in folders:
        for policy, width, figures in read_folder(folder):
            groups.setdefault((policy, width), []).append(figures)
            seeds.add(figures["seed"])
    rows = summarise(groups)
    out = [
        f"Over {len(folders)} report folders ({len(seeds)} seeds).",
        "",
        table(rows),
        "",
    ]
    if any(not r["lead_pooled"] for r in rows):
        out += ["* per-seed median of medians (the reports list no lead_minutes.values).", ""]
    out.append(
        f"Targets (issue 9, {TARGET_POLICY}, {TARGET_WIDTH}-minute windows; "
        "shares pooled over seeds, kept and utilisation the mean over seeds):"
    )
    lines, met = targets(rows)
    out += lines
    return "\n".join(out) + "\n", rows, met


# ---- self-test -------------------------------------------------------------


def fake_run(policy, width, kept, broken, warned, warned60, leads, apologies, false_alarms,
             messages, mpc, util, with_values=True):
    lead = {
        "median": nearest_rank(sorted(leads), 0.5) if leads else None,
        "p10": nearest_rank(sorted(leads), 0.1) if leads else None,
        "histogram": [],
    }
    if with_values:
        lead["values"] = sorted(leads)
    return {
        "policy": policy,
        "width_minutes": width,
        "outcomes": {"kept": kept, "broken": broken, "cancelled": 0, "moved": 0},
        "kept_rate": kept / (kept + broken) if kept + broken else None,
        "utilisation": util,
        "broken_warned": warned,
        "warned_share": warned / broken if broken else None,
        "warned_60_share": warned60 / broken if broken else None,
        "lead_minutes": lead,
        "apologies": apologies,
        "false_alarms": false_alarms,
        "false_alarm_share": false_alarms / apologies if apologies else None,
        "messages": messages,
        "messages_per_customer": mpc,
    }


def write_fake(folder, seed, runs, seconds):
    os.makedirs(folder)
    with open(os.path.join(folder, "report.json"), "w", encoding="utf-8") as f:
        json.dump({"scenario": {"name": "Fake", "seed": seed}, "definitions": {}, "runs": runs}, f)
    timings = {
        "runs": [
            {"policy": r["policy"], "width_minutes": r["width_minutes"], "setup_s": 0.5,
             "total_s": s}
            for r, s in zip(runs, seconds)
        ]
    }
    with open(os.path.join(folder, "timings.json"), "w", encoding="utf-8") as f:
        json.dump(timings, f)


def self_test():
    def check(cond, what):
        if not cond:
            raise AssertionError(what)

    with tempfile.TemporaryDirectory() as tmp:
        # Seed 1: onthedot 60 kept 98/100 (2 broken: leads 70 and 20), 10
        # apologies of which 2 false alarms, 110 messages over 100 customers.
        # Seed 2: kept 95/100 (5 broken: leads 90, 80, 65, 61, 10), 20
        # apologies of which 6 false alarms, 140 messages over 100.
        # Pooled: warned 7/7, >= 60 min 5/7 = 71.4%; false alarms 8/30 =
        # 26.7%; messages 250/200 = 1.25; kept mean 96.5%, min 95%; leads
        # sorted 10 20 61 65 70 80 90: median (rank 4) 65, p10 (rank 1) 10.
        write_fake(
            os.path.join(tmp, "seed-1"), 1,
            [fake_run("baseline", 240, 90, 10, 0, 0, [], 0, 0, 100, 1.0, 0.70),
             fake_run("onthedot", 60, 98, 2, 2, 1, [70, 20], 10, 2, 110, 1.1, 0.80)],
            [2.0, 3.0])
        write_fake(
            os.path.join(tmp, "seed-2"), 2,
            [fake_run("baseline", 240, 80, 20, 0, 0, [], 0, 0, 100, 1.0, 0.72),
             fake_run("onthedot", 60, 95, 5, 5, 4, [90, 80, 65, 61, 10], 20, 6, 140, 1.4, 0.78)],
            [2.5, 5.0])
        text, rows, met = summary(find_reports([tmp]))
        lines = text.splitlines()
        ontd = next(line for line in lines if line.startswith("| onthedot | 60 min |"))
        base = next(line for line in lines if line.startswith("| baseline | 240 min |"))
        check(
            ontd == "| onthedot | 60 min | 2 | 96.5% | 95.0% | 79.0% | 100.0% | 71.4% | 65 min "
            "| 10 min | 26.7% | 1.25 | 4.0 s | 5.0 s |",
            ontd,
        )
        check(
            base == "| baseline | 240 min | 2 | 85.0% | 80.0% | 71.0% | 0.0% | 0.0% | n/a | n/a "
            "| n/a | 1.00 | 2.2 s | 2.5 s |",
            base,
        )
        check(not met, "targets should be missed")
        check("- kept >= 97% at utilisation >= 75%: met" not in text, text)
        check("kept short by 0.5 points" in text, text)
        check("utilisation short" not in text, text)
        check("71.4% of 7: short by 18.6 points" in text, text)
        check("false alarms <= 25% of apologies: missed, 26.7% of 30: over by 1.7 points" in text,
              text)
        check("messages per customer <= 1.3: met, 1.25" in text, text)
        check("median of medians" not in text, text)

        # Without the values: the median of the per-seed medians, marked.
        for seed in ("seed-1", "seed-2"):
            path = os.path.join(tmp, seed, "report.json")
            with open(path, encoding="utf-8") as f:
                report = json.load(f)
            for run in report["runs"]:
                run["lead_minutes"].pop("values")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(report, f)
        text, rows, met = summary(find_reports([os.path.join(tmp, "seed-1"),
                                                os.path.join(tmp, "seed-2", "report.json")]))
        ontd = next(line for line in text.splitlines() if line.startswith("| onthedot"))
        # Medians 20 (seed 1: rank 1 of 20 70) and 65: their median 42.5;
        # p10s 20 and 10: 15.
        check("| 42.5 min * | 15 min * |" in ontd, ontd)
        check("per-seed median of medians" in text, text)

        # A broken folder is an error naming it.
        bad = os.path.join(tmp, "bad")
        os.makedirs(bad)
        with open(os.path.join(bad, "report.json"), "w", encoding="utf-8") as f:
            f.write('{"runs": [{"policy": "onthedot"}]}')
        try:
            summary(find_reports([bad]))
            check(False, "a report without width_minutes was read")
        except ReportError as e:
            check("width_minutes" in str(e) and bad in str(e), str(e))
    print("sim_summary self-test: ok")
    return 0


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="*", metavar="DIR", help="report folders (or their parent)")
    ap.add_argument("--json", action="store_true", help="print the rows as one JSON line too")
    ap.add_argument("--self-test", action="store_true", help="check this script and exit")
    args = ap.parse_args(argv)
    if args.self_test:
        return self_test()
    if not args.dirs:
        ap.error("give at least one report folder")
    try:
        text, rows, met = summary(find_reports(args.dirs))
    except ReportError as e:
        print(f"sim_summary: {e}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    if args.json:
        print(json.dumps({"bench": "sim_summary", "rows": rows, "targets_met": met},
                         sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
