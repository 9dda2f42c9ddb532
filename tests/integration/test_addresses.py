"""The address autocomplete, GET /api/v1/addresses, against the real binary:
the forgiving queries (case, spacing, punctuation, postcode format, accents,
words in any order), the order and the limit, a gazetteer imported with
`onthedot import gazetteer` in another process while the server runs (offered
within a couple of seconds, and a removed address no longer offered), text
that needs escaping, the 400s naming q or limit, and the per-client rate
limit (429 with Retry-After)."""

import csv
import io
import os
import time
import unittest
import urllib.parse

import otd

RAISED = {
    "ONTHEDOT_LIMITS_ADDRESS_SEARCHES_BURST": "100000",
    "ONTHEDOT_LIMITS_ADDRESS_SEARCHES_PER_MINUTE": "100000",
}

# (uprn, line1, line2, town, postcode)
GAZETTEER = [
    ("10090000001", "1 Mill Road", "", "Wrenfield", "ZZ1 1AA"),
    ("10090000002", "3 Mill Road", "", "Wrenfield", "ZZ1 1AA"),
    ("10090000003", "Flat 2, 5 Mill Road", "", "Wrenfield", "ZZ1 1AA"),
    ("10090000004", "10 Mill Road", "", "Wrenfield", "ZZ1 1AB"),
    ("10090000005", "2 Mill Road", "", "Wrenfield", "ZZ1 1AA"),
    ("10090000006", "The Old Forge", "Forge Lane", "Wrenfield", "ZZ2 4BD"),
    ("10090000007", "10 Downing Street", "", "London", "SW1A 1AA"),
    ("10090000008", "11 Downing Street", "", "London", "SW1A 2AB"),
    ("10090000009", "100 Downing Street", "", "Elsewhere", "EL1 1AA"),
    ("10090000010", "Zoë's Cottage", "", "Cwmbrân", "NP44 3AB"),
    ("10090000011", 'The "Quoted" House \\ Annexe <b>', "", "Wrenfield", "ZZ3 1AA"),
]


def gazetteer_csv(rows):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["uprn", "line1", "line2", "town", "postcode", "latitude", "longitude"])
    for i, (uprn, l1, l2, town, pc) in enumerate(rows):
        w.writerow([uprn, l1, l2, town, pc, "%.6f" % (52.2 + i / 1000.0), "-1.548000"])
    return out.getvalue()


def import_gazetteer(srv, rows, name="gazetteer.csv"):
    path = os.path.join(srv.dir, name)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(gazetteer_csv(rows))
    return srv.cli("import", "gazetteer", path, "--db", srv.db)


class AddressCase(otd.ServerTestCase):
    server_env = RAISED
    users = ("admin",)

    @classmethod
    def setUpClass(cls):
        cls.srv = otd.Server(cls.__name__, env=cls.server_env, virtual_clock=True,
                             users=cls.users)
        cls.addClassCleanup(cls.srv.kill)
        cls.srv.prepare()
        import_gazetteer(cls.srv, GAZETTEER)
        cls.srv.start(prepare=False)
        cls.ids = {r[1]: r[0] for r in cls.srv.sql("SELECT id, line1 FROM addresses")}

    def search(self, q, limit=None, status=200):
        params = {"q": q}
        if limit is not None:
            params["limit"] = limit
        path = "/api/v1/addresses?" + urllib.parse.urlencode(params)
        r = self.srv.request("GET", path)
        self.assertEqual(r.status, status, r.raw)
        return r

    def lines(self, q, limit=None):
        return [i["line1"] for i in self.search(q, limit).body["items"]]


class TestSearch(AddressCase):

    def test_the_forgiving_queries_find_downing_street(self):
        for q in ("sw1a1aa", "SW1A 1AA", "sw1a 1", "10 downing", "Downing St",
                  "downing street london", "  10,  DOWNING ", "sw1a-1aa", "downing 10",
                  "london 10 downing"):
            items = self.search(q).body["items"]
            self.assertIn("10 Downing Street", [i["line1"] for i in items], q)
        # The exact ones put it first, alone or before the rest.
        for q in ("sw1a1aa", "SW1A 1AA", "10 downing"):
            self.assertEqual(self.lines(q), ["10 Downing Street"], q)
        item = self.search("SW1A 1AA").body["items"][0]
        self.assertEqual(item, {"id": self.ids["10 Downing Street"], "line1": "10 Downing Street",
                                "line2": "", "town": "London", "postcode": "SW1A 1AA",
                                "label": "10 Downing Street, London, SW1A 1AA"})

    def test_order_is_natural_and_the_limit_holds(self):
        # Mill Road as a later word: 1, 2, 3, 10, then "Flat 2, 5".
        self.assertEqual(self.lines("mill"), ["1 Mill Road", "2 Mill Road", "3 Mill Road",
                                              "10 Mill Road", "Flat 2, 5 Mill Road"])
        self.assertEqual(self.lines("mill", limit=2), ["1 Mill Road", "2 Mill Road"])
        # The postcode exactly comes first: ZZ1 1AA, not ZZ1 1AB.
        self.assertEqual(self.lines("zz1 1aa"), ["1 Mill Road", "2 Mill Road", "3 Mill Road",
                                                 "Flat 2, 5 Mill Road"])
        # The start of line1 before other words: 10 Downing and 10 Mill,
        # then 100 Downing.
        self.assertEqual(self.lines("10", limit=3),
                         ["10 Downing Street", "10 Mill Road", "100 Downing Street"])
        # One character: line1 starting with it (5), then a later word (the
        # four at "... 1AA").
        self.assertEqual(len(self.search("1", limit=50).body["items"]), 9)
        self.assertEqual(len(self.search("1", limit=4).body["items"]), 4)
        # Two lines show in the label.
        forge = self.search("old forge").body["items"][0]
        self.assertEqual(forge["label"], "The Old Forge, Forge Lane, Wrenfield, ZZ2 4BD")

    def test_accents_and_escaping(self):
        self.assertEqual(self.lines("zoe"), ["Zoë's Cottage"])
        self.assertEqual(self.lines("ZOË'S COTTAGE CWMBRAN"), ["Zoë's Cottage"])
        r = self.search("quoted house")
        self.assertEqual([i["line1"] for i in r.body["items"]],
                         ['The "Quoted" House \\ Annexe <b>'])
        self.assertNotIn(b"<b>", r.raw)  # escaped as \u003c, still the same string
        self.assertEqual(r.headers["Content-Type"], "application/json")

    def test_nothing_found_is_an_empty_list(self):
        self.assertEqual(self.search("qqqq").body, {"items": []})
        self.assertEqual(self.search("!!!").body, {"items": []})
        self.assertEqual(self.search("downing benchton").body, {"items": []})

    def test_bad_q_and_limit_are_named(self):
        r = self.srv.request("GET", "/api/v1/addresses")
        self.assertError(r, 400, "missing_parameter", "q")
        r = self.srv.request("GET", "/api/v1/addresses?limit=5")
        self.assertError(r, 400, "missing_parameter", "q")
        self.assertError(self.search("", status=400), 400, "empty", "q")
        self.assertError(self.search("a" * 101, status=400), 400, "too_long", "q")
        self.assertError(self.search("ë" * 101, status=400), 400, "too_long", "q")
        self.search("ë" * 100)  # 100 characters (200 bytes) are fine
        self.search("a" * 100)
        r = self.srv.request("GET", "/api/v1/addresses?q=%FF%FE")
        self.assertError(r, 400, "invalid_text", "q")
        for bad in ("0", "51", "-1", "ten", "", "1.5", "9999"):
            self.assertError(self.search("mill", limit=bad, status=400), 400,
                             "invalid_parameter", "limit")
        self.assertEqual(len(self.search("mill", limit=50).body["items"]), 5)

    def test_head_answers_like_get(self):
        r = self.srv.request("HEAD", "/api/v1/addresses?q=mill", check=False)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.raw, b"")


class TestImportWhileServing(AddressCase):

    def wait_for(self, q, want, timeout=5.0):
        """Seconds until the answer to q has line1s want (fails after timeout)."""
        t0 = time.monotonic()
        while True:
            got = self.lines(q)
            if got == want:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                self.fail("after %.1f s %r gives %r, not %r" % (timeout, q, got, want))
            time.sleep(0.05)

    def test_an_import_in_another_process_is_offered_within_two_seconds(self):
        self.assertEqual(self.lines("lark"), [])
        rows = [r for r in GAZETTEER if r[1] != "Zoë's Cottage"]
        rows.append(("10090000099", "7 Lark Rise", "", "Wrenfield", "ZZ9 7LR"))
        import_gazetteer(self.srv, rows, "second.csv")
        waited = self.wait_for("lark", ["7 Lark Rise"])
        self.assertLess(waited, 2.0)
        self.assertEqual(self.lines("zz9 7lr"), ["7 Lark Rise"])
        # Gone from the file, unused: deleted, and no longer offered.
        self.assertEqual(self.lines("zoe"), [])
        # Everything else still there.
        self.assertEqual(self.lines("sw1a1aa"), ["10 Downing Street"])
        log = self.srv.stderr_text()
        self.assertIn('"msg":"address_index"', log)


class TestRateLimit(AddressCase):
    server_env = {"ONTHEDOT_LIMITS_ADDRESS_SEARCHES_BURST": "3",
                  "ONTHEDOT_LIMITS_ADDRESS_SEARCHES_PER_MINUTE": "1"}

    def test_the_fourth_search_at_once_is_refused(self):
        for _ in range(3):
            self.search("mill")
        r = self.search("mill", status=429)
        self.assertError(r, 429, "rate_limited")
        self.assertIn("address searches", r.error["message"])
        retry = int(r.headers["Retry-After"])
        self.assertGreaterEqual(retry, 1)
        self.assertLessEqual(retry, 60)
        # The virtual clock stands still: the bucket does not refill...
        self.search("mill", status=429)
        # ... until a minute passes.
        c = self.srv.request("POST", "/api/v1/admin/clock", {"seconds": 61}, token="admin")
        self.assertEqual(c.status, 200, c.raw)
        self.search("mill")
        # Other public routes are not counted against it.
        r = self.srv.request("GET", "/api/v1/booking/visit-types")
        self.assertEqual(r.status, 200, r.raw)


if __name__ == "__main__":
    unittest.main()
