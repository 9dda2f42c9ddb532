"""`onthedot solve` and `onthedot check-routes`, the real binary on
Solomon-format files generated here (seeded; the benchmark data in ../shared
is not needed): the route file and the closing lines, every solution
accepted by the separate checker, a seed and iteration count that reproduce
a run, a capped run reproduced by the iteration count it prints, crafted
infeasible route files refused with the reason, and bad input refused with
the line and what is wrong."""

import math
import os
import random
import re
import shutil
import subprocess
import tempfile
import unittest

import otd


def instance_text(seed, customers=40, vehicles=8, capacity=60, width=(30, 120)):
    """A random instance in the Solomon text format (depot window 0..600)."""
    rnd = random.Random(seed)
    rows = [(0, 50, 50, 0, 0, 600, 0)]
    for c in range(1, customers + 1):
        x, y = rnd.randint(0, 100), rnd.randint(0, 100)
        w = rnd.randint(*width)
        back = math.hypot(x - 50, y - 50)
        ready = rnd.randint(int(back), max(int(back), int(600 - back - w - 10)))
        rows.append((c, x, y, rnd.randint(1, 10), ready, ready + w, 10))
    lines = ["RANDOM%d" % seed, "", "VEHICLE", "NUMBER     CAPACITY",
             "  %d         %d" % (vehicles, capacity), "", "CUSTOMER",
             "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME", " "]
    lines += ["%5d %6d %6d %6d %8d %8d %6d" % r for r in rows]
    return "\n".join(lines) + "\n", rows


class SolveTestCase(unittest.TestCase):

    def setUp(self):
        os.makedirs(otd.TEST_TMP, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="solve-", dir=otd.TEST_TMP)
        if not os.environ.get("OTD_KEEP"):
            self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_bin(self, *args):
        return subprocess.run([otd.BIN] + list(args), capture_output=True, text=True, timeout=120)

    def solve(self, inst, *args):
        out = os.path.join(self.dir, "routes-%d.txt" % len(os.listdir(self.dir)))
        r = self.run_bin("solve", inst, "--routes", out, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.strip().split("\n")
        m = re.fullmatch(r"vehicles (\d+) distance (\d+\.\d\d) seconds (\d+\.\d\d)", lines[-1])
        self.assertIsNotNone(m, r.stdout)
        it = re.match(r"iterations (\d+) seed (\d+)", lines[-2])
        self.assertIsNotNone(it, r.stdout)
        with open(out) as f:
            routes = f.read()
        return {"vehicles": int(m.group(1)), "distance": float(m.group(2)),
                "iterations": int(it.group(1)), "routes": routes, "path": out,
                "cut": "cut short" in lines[-2]}

    def check(self, inst, routes_path):
        return self.run_bin("check-routes", inst, routes_path)


class TestSolve(SolveTestCase):

    def test_routes_are_feasible_and_the_checker_agrees(self):
        for seed in (1, 2, 3):
            text, rows = instance_text(seed)
            inst = self.write("i%d.txt" % seed, text)
            got = self.solve(inst, "--iterations", "3000", "--seed", str(seed))
            routes = [l for l in got["routes"].split("\n") if l]
            self.assertEqual(len(routes), got["vehicles"])
            served = []
            for k, line in enumerate(routes, 1):
                m = re.fullmatch(r"Route #%d:((?: \d+)+)" % k, line)
                self.assertIsNotNone(m, line)
                served += [int(c) for c in m.group(1).split()]
            self.assertEqual(sorted(served), list(range(1, len(rows))))
            c = self.check(inst, got["path"])
            self.assertEqual(c.returncode, 0, c.stdout + c.stderr)
            self.assertEqual(c.stdout.strip(), "feasible: vehicles %d distance %.2f"
                             % (got["vehicles"], got["distance"]))

    def test_a_seed_and_budget_reproduce_a_run(self):
        inst = self.write("i.txt", instance_text(7)[0])
        a = self.solve(inst, "--iterations", "2000", "--seed", "5")
        b = self.solve(inst, "--iterations", "2000", "--seed", "5")
        self.assertEqual(a["routes"], b["routes"])
        self.assertEqual(a["distance"], b["distance"])

    def test_a_capped_run_is_reproduced_by_its_iteration_count(self):
        inst = self.write("i.txt", instance_text(8)[0])
        a = self.solve(inst, "--seconds", "1", "--seed", "9")
        if a["cut"]:
            self.skipTest("the machine slowed down mid-run: the cap cut the run short")
        self.assertGreater(a["iterations"], 500)
        b = self.solve(inst, "--iterations", str(a["iterations"]), "--seed", "9")
        self.assertEqual(a["routes"], b["routes"])

    def test_the_vehicles_objective_uses_no_more_vehicles(self):
        inst = self.write("i.txt", instance_text(4, customers=50, vehicles=12)[0])
        d = self.solve(inst, "--iterations", "3000", "--seed", "1")
        v = self.solve(inst, "--iterations", "3000", "--seed", "1", "--objective", "vehicles")
        self.assertLessEqual(v["vehicles"], d["vehicles"])
        self.assertEqual(self.check(inst, v["path"]).returncode, 0)

    def test_crafted_infeasible_routes_are_refused_with_the_reason(self):
        # Three customers: 1 must start by 20, 2 by 200; capacity 10.
        text = "\n".join([
            "CRAFTED", "VEHICLE", "NUMBER CAPACITY", "2 10", "CUSTOMER",
            "CUST NO. XCOORD. YCOORD. DEMAND READY DUE SERVICE",
            "0 0 0 0 0 300 0",
            "1 10 0 6 0 20 10",
            "2 0 100 6 0 200 10",
            "3 0 10 1 0 250 10"]) + "\n"
        inst = self.write("c.txt", text)
        cases = [
            ("Route #1: 2 1\nRoute #2: 3\n",
             "infeasible: route 1: customer 1 starts at 210.50, after its due time 20.00"),
            ("Route #1: 1 2\nRoute #2: 3\n",
             "infeasible: route 1: the load reaches 12 at customer 2, over the capacity 10"),
            ("Route #1: 1\nRoute #2: 3 1 2\n",
             "infeasible: %s: line 2: customer 1 is on a route twice (first on line 1)"),
            ("Route #1: 1\nRoute #2: 2\n", "infeasible: customer 3 is on no route"),
            ("Route #1: 1 9\n", "infeasible: %s: line 1: unknown customer 9"),
            ("Route #3: 1\n", "infeasible: %s: line 1: route 3 is beyond the 2 vehicles"),
        ]
        for routes, want in cases:
            path = self.write("r.txt", routes)
            r = self.check(inst, path)
            self.assertEqual(r.returncode, 1, routes + r.stdout)
            if "%s" in want:
                want = want % path
            self.assertEqual(r.stdout.strip(), want, routes)
        ok = self.write("ok.txt", "Route #1: 1 3\nRoute #2: 2\n")
        r = self.check(inst, ok)
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_bad_input_names_the_line_and_stores_nothing(self):
        good, _ = instance_text(3)
        bad = good.replace("CUSTOMER", "CUSTOMERS", 1)
        r = self.run_bin("solve", self.write("b.txt", bad), "--iterations", "10")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^onthedot solve: .*b\.txt: line \d+: ")
        lines = good.split("\n")
        lines[12] = lines[12] + " 7"
        r = self.run_bin("solve", self.write("b2.txt", "\n".join(lines)), "--iterations", "10")
        self.assertEqual(r.returncode, 1)
        self.assertIn("line 13", r.stderr)
        r = self.run_bin("solve", os.path.join(self.dir, "missing.txt"), "--iterations", "10")
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot open", r.stderr)
        inst = self.write("g.txt", good)
        for args, word in ((["--iterations", "0"], "--iterations"),
                           (["--seconds", "-1"], "--seconds"),
                           (["--seed", "x"], "--seed"),
                           (["--objective", "time"], "--objective"),
                           (["--seconds", "1", "--iterations", "5"], "not both")):
            r = self.run_bin("solve", inst, *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(word, r.stderr)


if __name__ == "__main__":
    unittest.main()
