#!/usr/bin/env python3
"""Linear growth and memory-limit runs for quern (bench/RESULTS.md, issue "bounded memory").

    python3 bench/scale.py --quern ./quern [--runs 3] [--data /tmp/scale]

Data (seeded, from ../shared/bench's generators; see bench/RESULTS.md for the commands):
  words-256m.txt, $BENCH_DATA/words/corpus-1g.txt, words-4g.txt   (1×, 4×, 16× text)
  h2o-1e6.csv, h2o-4e6.csv, h2o-16e6.csv                          (1×, 4×, 16× rows)
Each run is a whole process under GNU time; the table gives medians of wall seconds and
peak RSS, and seconds per GiB of input relative to the 1× run (1.00 = perfectly linear).
"""
import argparse, os, statistics, subprocess, sys, tempfile

WC = "SELECT word, count(*) AS n FROM `{f}` GROUP BY word ORDER BY n DESC, word LIMIT 10"
Q10 = ("CREATE TABLE ans AS SELECT id1, id2, id3, id4, id5, id6, sum(v3) AS v3, count(*) AS count "
       "FROM `{f}` GROUP BY id1, id2, id3, id4, id5, id6; SELECT count(*) AS groups FROM ans")
Q10_COUNT = ("SELECT count(*) AS groups, sum(n) AS rows_in FROM (SELECT id1, id2, id3, id4, id5, id6, "
             "sum(v3) AS v3, count(*) AS n FROM `{f}` GROUP BY id1, id2, id3, id4, id5, id6) t")
Q3 = "SELECT id3, sum(v1) AS v1, avg(v3) AS v3 FROM `{f}` GROUP BY id3"


def run(quern, sql, limit, runs):
    walls, rss, out = [], [], None
    with tempfile.TemporaryDirectory() as d:
        tf, of = os.path.join(d, "t"), os.path.join(d, "o")
        cmd = ["/usr/bin/time", "-f", "%e %M", "-o", tf, quern, "--format", "csv"]
        if limit:
            cmd += ["--memory-limit", limit]
        cmd += ["-c", sql]
        for _ in range(runs):
            with open(of, "w") as o:
                rc = subprocess.call(cmd, stdout=o, stderr=subprocess.PIPE)
            if rc != 0:
                sys.exit(f"quern failed (rc {rc}): {' '.join(cmd)}")
            w, m = open(tf).read().split()[-2:]
            walls.append(float(w))
            rss.append(int(m) / 1024)
            out = open(of).read()
    return statistics.median(walls), statistics.median(rss), out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quern", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--data", default="/tmp/scale")
    ap.add_argument("--bench-data", default=os.environ.get("BENCH_DATA", "/tmp/benchdata"))
    ap.add_argument("parts", nargs="*", default=["linear", "limits"])
    a = ap.parse_args()
    words = [f"{a.data}/words-256m.txt", f"{a.bench_data}/words/corpus-1g.txt", f"{a.data}/words-4g.txt"]
    h2o = [f"{a.data}/h2o-1e6.csv", f"{a.data}/h2o-4e6.csv", f"{a.data}/h2o-16e6.csv"]
    if "linear" in a.parts:
        print("| workload | size | input | median s | s/GiB ÷ 1× | peak RSS MiB |")
        print("|---|---|---|---|---|---|")
        for name, sql, files, limit in [("word count top 10", WC, words, None),
                                        ("word count top 10, 512MB limit", WC, words, "512MB"),
                                        ("h2o q3 (100K groups)", Q3, h2o, None),
                                        ("h2o q10 (≈all rows groups), 256MB limit", Q10_COUNT, h2o, "256MB")]:
            base = None
            for mult, f in zip(["1×", "4×", "16×"], files):
                size = os.path.getsize(f)
                w, m, _ = run(a.quern, sql.format(f=f), limit, a.runs)
                per = w / (size / 2**30)
                base = base or per
                print(f"| {name} | {mult} | {size / 2**20:.0f} MiB | {w:.2f} | {per / base:.2f} | {m:.0f} |", flush=True)
    if "limits" in a.parts:
        q10 = f"{a.bench_data}/h2o/G1_1e7_1e2_0_0.csv"
        print("\n| workload | memory limit | median s | peak RSS MiB | time ÷ unlimited | answer |")
        print("|---|---|---|---|---|---|")
        for name, sql, f, limits in [("h2o q10, 10 M rows (groups counted, not stored)", Q10_COUNT, q10, [None, "256MB"]),
                                     ("word count, 4 GiB text", WC, words[2], [None, "512MB"])]:
            base, want = None, None
            for limit in limits:
                w, m, out = run(a.quern, sql.format(f=f), limit, a.runs)
                base = base or w
                want = want or out
                print(f"| {name} | {limit or 'none'} | {w:.2f} | {m:.0f} | {w / base:.2f} | {'same' if out == want else 'DIFFERS'} |", flush=True)


if __name__ == "__main__":
    main()
