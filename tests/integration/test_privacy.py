"""Privacy (issue 10) through the real binary on a virtual clock: erasure by
the admin API and by `onthedot erase`, the subject access export, the audit
log for admins, and the retention rules.

A customer with a distinctive name, phone, email, access notes and feedback
comment books two visits with messages on the record channel: one is done
(with feedback, published, and the visitor's taps with a position at the
door), the other's window is missed (a guarantee case owed). Erasure is
refused while a visit is still to come, then done: afterwards neither the
database file nor its write-ahead log holds any of those strings (as typed
or as stored), the export holds none of them, the trust figures, the
appointments' statuses and the ledger's amounts are unchanged, the links
are dead, and the audit log says who erased whom with counts only. A
second erasure changes nothing. Non-admins get 403, an unknown reference
404. The command line erases by phone number while the server runs.

Retention: with the clock moved past position_days and ip_days the
visitor's positions and the IP addresses are gone; past contact_days the
contact is anonymised; /metrics counts it."""

import json
import os
import time
import unittest

import otd
import otd_booking as ob
from otd_booking import iso, local, secs

DAY = "2026-03-03"  # a Tuesday; London is on GMT
VT = "planning-inspection"

NAME = "Zebedee Quillfeather-Marchbanks"
PHONE = "07700 900765"
PHONE_STORED = "+447700900765"
EMAIL = "zebedee.quillfeather@example.org"
NOTES = "Key under the heron statue by Marchbanks gate"
COMMENT = "Splendid visit from the Quillfeather household"

PRIYA = dict(name="Priya Shah", role_title="planning officer", phone="01632 960100",
             base={"lat": ob.CENTRE[0], "lon": ob.CENTRE[1]}, skills=["planning"],
             shifts=[{"start": "2026-03-02T08:00", "duration_minutes": 600,
                      "rrule": ob.WEEKDAYS}])
TYPES = [{"code": VT, "name": "Planning inspection", "skill": "planning",
          "duration_median_minutes": 45, "duration_spread": 0.3, "window_minutes": 60},
         {"code": "planning-follow-up", "name": "Planning follow-up", "skill": "planning",
          "duration_median_minutes": 30, "duration_spread": 0.3, "window_minutes": 60}]


def raw_files(srv):
    """The bytes of the database file and of its write-ahead log (if any).
    None under PostgreSQL, whose files are the server's: an erasure there
    leaves old row versions until VACUUM reuses their space (README,
    Privacy), so only the database's answers are checked."""
    if srv.pg:
        return None
    out = {}
    for suffix in ("", "-wal"):
        path = srv.db + suffix
        if os.path.exists(path):
            with open(path, "rb") as f:
                out[os.path.basename(path)] = f.read()
    return out


class PrivacyCase(ob.BookingTestCase):
    visitors = [PRIYA]
    visit_types = TYPES

    @classmethod
    def setUpOrganisation(cls):
        cls.priya = cls.org_visitors[0]
        cls.srv.add_user("visitor", "priya", "Priya Shah", visitor_id=cls.priya["id"])
        cls.seq = 0

    def tap(self, kind, t, ref=None, **kw):
        type(self).seq += 1
        self.clock(to=iso(t))
        body = {"client_event_id": "pv%d" % type(self).seq, "type": kind, "at": iso(t)}
        if ref:
            body["appointment"] = ref
        body.update(kw)
        r = self.srv.request("POST", "/api/v1/visitor/events", body,
                             session=self.srv.login("priya"))
        self.assertEqual(r.status, 200, r.raw)
        return r.body

    def book_at(self, date, index, line1, visit_type=VT, **kw):
        vt = self.types[visit_type]["id"]
        a = self.addr[line1]["id"]
        ws = self.windows(a, vt, date)[date]
        return self.hold_and_book(a, vt, ws[index]["start"], **kw)

    def assert_absent(self, strings, blobs, where):
        if blobs is None:  # PostgreSQL: see raw_files
            return
        for name, data in blobs.items():
            for s in strings:
                self.assertNotIn(s.encode("utf-8"), data, "%r is still in %s (%s)"
                                 % (s, name, where))


class TestErasure(PrivacyCase):
    server_env = {"ONTHEDOT_GUARANTEES_RULE_SET": "gb-energy",
                  "ONTHEDOT_MESSAGES_RECORD_ONLY": "true",
                  "ONTHEDOT_PLANNING_TRAVEL_SPREAD": "0",
                  "ONTHEDOT_TRACKING_TICKER_SECONDS": "300"}

    def erase(self, ref, **kw):
        return self.srv.request("POST", "/api/v1/admin/customers/%s/erase" % ref, **kw)

    def export(self, ref, **kw):
        return self.srv.request("GET", "/api/v1/admin/customers/%s/export" % ref, **kw)

    def test_a_erasure_through_the_api(self):
        srv = self.srv
        done = self.book_at(DAY, 1, "1 Mill Road", name=NAME, phone=PHONE, email=EMAIL,
                            access_notes=NOTES)
        missed = self.book_at(DAY, -1, "1 Mill Road", "planning-follow-up", name=NAME, phone=PHONE, email=EMAIL,
                              access_notes=NOTES)
        ref, token = done["reference"], self.token_of(done)
        aid = self.appointment_id(ref)
        start = ob.utc(done["window"]["start"])
        lat, lon = self.addr["1 Mill Road"]["lat"], self.addr["1 Mill Road"]["lon"]
        self.tap("start_travel", secs(start) - 1200, ref)
        self.tap("arrived", secs(start) + 300, ref, lat=lat, lon=lon, accuracy=5)
        self.tap("done", secs(start) + 3000, ref)
        r = self.link(token, "/feedback", "POST", {"rating": 5, "comment": COMMENT,
                                                   "publish_consent": True})
        self.assertEqual(r.status, 201, r.raw)
        fid = srv.sql("SELECT id FROM feedback WHERE appointment_id = ?", (aid,))[0][0]
        r = srv.request("POST", "/api/v1/feedback/%d/moderate" % fid, {"action": "publish"},
                        token="admin")
        self.assertEqual(r.status, 200, r.raw)
        # The other visit's window passes with nobody there: a case is owed.
        self.clock(to=iso(local(DAY, "23:00")))
        deadline = time.monotonic() + 20
        cases = []
        while not cases and time.monotonic() < deadline:
            cases = srv.sql("SELECT id, amount_minor, state FROM guarantee_cases")
            time.sleep(0.2)
        self.assertEqual(len(cases), 1, cases)

        # The data is there before: in the database and in the export.
        blobs = raw_files(srv)
        if blobs is not None:
            self.assertIn(NAME.encode(), b"".join(blobs.values()))
        ex = self.export(ref, token="admin")
        self.assertEqual(ex.status, 200, ex.raw)
        self.assertEqual(ex.headers.get("Cache-Control"), "no-store")
        (contact,) = ex.body["contacts"]
        self.assertEqual((contact["name"], contact["phone"], contact["email"],
                          contact["access_notes"]), (NAME, PHONE_STORED, EMAIL, NOTES))
        self.assertEqual(sorted(a["reference"] for a in contact["appointments"]),
                         sorted([ref, missed["reference"]]))
        shown = {a["reference"]: a for a in contact["appointments"]}[ref]
        self.assertEqual(shown["feedback"]["comment"], COMMENT)
        self.assertEqual(shown["visitor_first_name"], "Priya")
        self.assertEqual(shown["address"]["line1"], "1 Mill Road")
        self.assertIn("arrived", [e["kind"] for e in shown["events"]])
        self.assertTrue(contact["messages"])
        self.assertTrue(any(m["template"] == "booking_confirmation" for m in contact["messages"]))
        text = ex.raw.decode("utf-8")
        self.assertNotRegex(text, r"/a/[A-Za-z0-9_-]{22}")  # links are redacted
        self.assertIn("/a/REDACTED", text)
        missed_case = {a["reference"]: a for a in contact["appointments"]}[
            missed["reference"]]["guarantee_cases"]
        self.assertEqual([c["amount_minor"] for c in missed_case], [4000])

        # Only admins; an unknown reference is 404.
        disp = srv.login("disp")
        for r in (self.erase(ref, session=disp), self.export(ref, session=disp),
                  srv.request("GET", "/api/v1/admin/audit", session=disp)):
            self.assertEqual(r.status, 403, r.raw)
        for bad in ("OTD-ZZZZZZ", "nothing"):
            self.assertEqual(self.erase(bad, token="admin").status, 404)
            self.assertEqual(self.export(bad, token="admin").status, 404)
        # A visit whose window closed less than a day ago counts as still
        # under way: refused, naming it.
        r = self.erase(ref, token="admin")
        self.assertEqual(r.status, 422, r.raw)
        self.assertEqual(r.error["code"], "visit_pending")
        self.assertIn(missed["reference"], r.error["message"])
        self.clock(seconds=86400)

        trust = srv.request("GET", "/api/v1/trust").body
        self.assertIn(COMMENT, json.dumps(trust))  # published, and cached by the server
        trust_before = trust["periods"]
        stats = ("SELECT reference, status, window_start, window_end, arrived_at, done_at, "
                 "risk FROM appointments ORDER BY id")
        appts_before = srv.sql(stats)
        ledger = "SELECT id, amount_minor, currency, state, penalty_minor FROM guarantee_cases"
        ledger_before = srv.sql(ledger)
        ratings_before = srv.sql("SELECT rating, moderation FROM feedback")

        r = self.erase(ref, token="admin")
        self.assertEqual(r.status, 200, r.raw)
        self.assertTrue(r.body["erased"])
        self.assertFalse(r.body["already_erased"])
        self.assertEqual(r.body["counts"]["appointments"], 2)
        self.assertGreaterEqual(r.body["counts"]["messages"], 2)
        self.assertEqual(r.body["counts"]["feedback"], 1)
        self.assertTrue(r.body["log_truncated"])
        # Idempotent.
        again = self.erase(ref, token="admin")
        self.assertEqual(again.status, 200, again.raw)
        self.assertEqual((again.body["erased"], again.body["already_erased"]), (False, True))

        # Nothing of it in the file or its log, in any form.
        needles = [NAME, "Quillfeather", PHONE, PHONE_STORED, PHONE_STORED[1:], "7700 900765",
                   EMAIL, "zebedee", NOTES, "heron statue", COMMENT]
        blobs = raw_files(srv)
        if blobs is not None:
            self.assertIn("onthedot.db", blobs)
            self.assert_absent(needles, blobs, "after the API erasure")
        row = srv.sql("SELECT name, phone, email, access_notes, erased_at IS NOT NULL FROM "
                      "customers c JOIN appointments a ON a.customer_id = c.id WHERE "
                      "a.reference = ?", (ref,))[0]
        self.assertEqual(row, ("erased", None, None, "", 1))
        self.assertEqual(srv.sql("SELECT DISTINCT payload FROM outbox WHERE appointment_id = ?",
                                 (aid,)), [('{"erased":true}',)])
        self.assertEqual(srv.sql("SELECT count(*) FROM outbox WHERE recipient IS NOT NULL AND "
                                 "appointment_id = ?", (aid,))[0][0], 0)
        self.assertEqual(srv.sql("SELECT count(*) FROM outbox WHERE state = 'pending' AND "
                                 "appointment_id = ?", (aid,))[0][0], 0)
        # The home is now a placeholder for the district, its position rounded.
        place = srv.sql("SELECT d.line1, d.postcode, d.lat, d.lon, d.retired FROM appointments a "
                        "JOIN addresses d ON d.id = a.address_id WHERE a.id = ?", (aid,))[0]
        self.assertEqual(place[:2], ("Address erased (ZZ1)", "ZZ1"))
        self.assertEqual((place[2], place[3], place[4]), (round(lat, 2), round(lon, 2), 1))
        # The visitor's position at the door, in the evidence, is rounded too.
        detail = json.loads(srv.sql("SELECT detail FROM appointment_events WHERE "
                                    "appointment_id = ? AND kind = 'arrived'", (aid,))[0][0])
        self.assertEqual((detail["lat"], detail["lon"]), (round(lat, 2), round(lon, 2)))
        tapped = srv.sql("SELECT lat, lon FROM visitor_events WHERE appointment_id = ? AND "
                         "kind = 'arrived'", (aid,))[0]
        self.assertEqual(tapped, (round(lat, 2), round(lon, 2)))
        # Anonymous statistics and the ledger stay as they were.
        self.assertEqual(srv.sql(stats), appts_before)
        self.assertEqual(srv.sql(ledger), ledger_before)
        self.assertEqual(srv.sql("SELECT rating, moderation FROM feedback"), ratings_before)
        trust_after = srv.request("GET", "/api/v1/trust").body
        # The public figures: promises kept, compensation, feedback marks.
        # (A warning never sent, on the record channel here, is cancelled
        # and so no longer counts as notice given.)
        keep = ("days", "promises", "compensation", "feedback")
        self.assertEqual([{k: p[k] for k in keep} for p in trust_after["periods"]],
                         [{k: p[k] for k in keep} for p in trust_before])
        self.assertGreaterEqual(trust_before[0]["promises"]["due"], 2)
        self.assertNotIn(COMMENT, json.dumps(trust_after))
        # The links are dead.
        self.assertEqual(self.link(token).status, 404)
        # The export says what is left: nothing personal.
        ex = self.export(ref, token="admin")
        self.assertEqual(ex.status, 200, ex.raw)
        for s in needles:
            self.assertNotIn(s, ex.raw.decode("utf-8"))
        (contact,) = ex.body["contacts"]
        self.assertEqual(contact["name"], "erased")
        self.assertIsNotNone(contact["erased_at"])
        self.assertEqual(len(contact["appointments"]), 2)

        # The audit log: who erased whom, with counts only, newest first.
        cid = srv.sql("SELECT customer_id FROM appointments WHERE id = ?", (aid,))[0][0]
        r = srv.request("GET", "/api/v1/admin/audit?entity=customer&entity_id=%d" % cid,
                        token="admin")
        self.assertEqual(r.status, 200, r.raw)
        actions = [e["action"] for e in r.body["items"]]
        self.assertEqual(actions[0], "customer.export")
        self.assertIn("customer.erase", actions)
        erase_entry = [e for e in r.body["items"] if e["action"] == "customer.erase"][0]
        self.assertEqual(erase_entry["actor_kind"], "token")
        self.assertEqual(erase_entry["detail"]["appointments"], 2)
        for s in needles:
            self.assertNotIn(s, r.raw.decode("utf-8"))
        p1 = srv.request("GET", "/api/v1/admin/audit?limit=2", token="admin")
        self.assertEqual(len(p1.body["items"]), 2)
        ids = [e["id"] for e in p1.body["items"]]
        self.assertEqual(ids, sorted(ids, reverse=True))
        nb = p1.body["next_before_id"]
        self.assertEqual(nb, ids[-1])
        p2 = srv.request("GET", "/api/v1/admin/audit?limit=2&before_id=%d" % nb, token="admin")
        self.assertTrue(all(e["id"] < nb for e in p2.body["items"]))
        r = srv.request("GET", "/api/v1/admin/audit?since=%s" % iso(local(DAY, "00:00")),
                        token="admin")
        self.assertEqual(r.status, 200, r.raw)
        for bad in ("limit=0", "before_id=x", "since=yesterday", "entity_id=-3"):
            r = srv.request("GET", "/api/v1/admin/audit?" + bad, token="admin")
            self.assertEqual(r.status, 400, "%s: %s" % (bad, r.raw))
        # /metrics counts the erasure.
        m = srv.request("GET", "/metrics").body
        self.assertIn("otd_retention_erasures_total 1\n", m)

    def test_b_erasure_and_export_from_the_command_line(self):
        srv = self.srv
        name, phone, email = "Ottoline Bramblewick", "07700 900888", "ottoline.b@example.org"
        v = self.book_at("2026-03-10", 2, "7 Church Lane", name=name, phone=phone, email=email,
                         access_notes="Ring the Bramblewick bell twice")
        r = self.link(self.token_of(v), "/cancel", "POST",
                      {"reason": "Bramblewick family away that week"})
        self.assertEqual(r.status, 200, r.raw)
        p = srv.cli("export", "--customer", v["reference"], "--db", srv.db)
        doc = json.loads(p.stdout)
        self.assertEqual(doc["contacts"][0]["name"], name)
        self.assertEqual(doc["contacts"][0]["appointments"][0]["cancel_reason"],
                         "Bramblewick family away that week")
        # Refused without --yes when nobody can be asked.
        p = srv.cli("erase", "--phone", phone, "--db", srv.db, check=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--yes", p.stderr)
        p = srv.cli("erase", "--phone", phone, "--db", srv.db, "--yes")
        self.assertIn("erased 1 contact", p.stdout)
        self.assertIn("write-ahead log checkpointed and truncated", p.stdout)
        needles = [name, "Bramblewick", phone, "+447700900888", email, "ottoline"]
        self.assert_absent(needles, raw_files(srv), "after `onthedot erase`")
        self.assertEqual(srv.sql("SELECT count(*) FROM outbox o JOIN appointments a ON a.id = "
                                 "o.appointment_id WHERE a.reference = ? AND o.state = 'pending'",
                                 (v["reference"],))[0][0], 0)
        p = srv.cli("erase", "--customer", v["reference"], "--db", srv.db, "--yes")
        self.assertIn("already erased", p.stdout)
        p = srv.cli("erase", "--email", "nobody@example.org", "--db", srv.db, "--yes",
                    check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("No contact has that email address", p.stderr)
        for cmd in ("erase", "export", "retention"):
            self.assertEqual(srv.cli(cmd, "--help").returncode, 0)


class TestRetention(PrivacyCase):
    server_env = {"ONTHEDOT_MESSAGES_RECORD_ONLY": "true",
                  "ONTHEDOT_PLANNING_TRAVEL_SPREAD": "0",
                  "ONTHEDOT_TRACKING_TICKER_SECONDS": "600"}

    def metric(self, name):
        for line in self.srv.request("GET", "/metrics").body.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        self.fail("%s is not on /metrics" % name)

    def test_retention_rules(self):
        srv = self.srv
        v = self.book_at(DAY, 1, "3 Mill Road", name="Rosalind Umberfield",
                         phone="07700 900555", email="rosalind.u@example.org")
        ref = v["reference"]
        start = secs(ob.utc(v["window"]["start"]))
        self.tap("start_travel", start - 1200, ref)
        self.tap("position", start - 600, lat=52.2055, lon=-1.5482, accuracy=10)
        self.tap("arrived", start + 300, ref)
        self.tap("done", start + 3000, ref)
        self.assertGreater(srv.sql("SELECT count(*) FROM visitor_positions")[0][0], 0)
        self.assertGreater(srv.sql("SELECT count(*) FROM sessions WHERE ip <> ''")[0][0], 0)
        self.assertGreater(srv.sql("SELECT count(*) FROM audit_log WHERE ip NOT IN ('', "
                                   "'cli')")[0][0], 0)
        self.assertGreaterEqual(self.metric("otd_retention_runs_total"), 1)

        # 31 days on: positions and IP addresses are gone; the contact stays.
        self.clock(to=iso(local("2026-04-03", "12:00")))
        self.assertEqual(srv.sql("SELECT count(*) FROM visitor_positions")[0][0], 0)
        self.assertEqual(srv.sql("SELECT count(*) FROM visitor_days WHERE pos_at IS NOT "
                                 "NULL")[0][0], 0)
        self.assertEqual(srv.sql("SELECT count(*) FROM sessions WHERE ip <> '' AND "
                                 "created_at < ?", (secs(local(DAY, "12:00")),))[0][0], 0)
        self.assertEqual(srv.sql("SELECT count(*) FROM audit_log WHERE ip NOT IN ('', 'cli') "
                                 "AND at < ?", (secs(local(DAY, "12:00")),))[0][0], 0)
        self.assertEqual(srv.sql("SELECT name FROM customers c JOIN appointments a ON "
                                 "a.customer_id = c.id WHERE a.reference = ?", (ref,))[0][0],
                         "Rosalind Umberfield")
        self.assertGreaterEqual(self.metric("otd_retention_positions_total"), 1)
        self.assertGreaterEqual(self.metric("otd_retention_ips_total"), 1)

        # The command's dry run says what a pass at a later time would do,
        # and does nothing (while the server runs).
        p = srv.cli("retention", "--dry-run", "--now", iso(local("2026-06-03", "12:00")),
                    "--db", srv.db)
        self.assertIn("dry run, nothing changed", p.stdout)
        self.assertIn("contacts anonymised 1,", p.stdout)
        self.assertEqual(srv.sql("SELECT count(*) FROM customers WHERE erased_at IS NOT "
                                 "NULL")[0][0], 0)

        # 91 days after the visit: the contact is anonymised, the visit stays.
        self.clock(to=iso(local("2026-06-03", "12:00")))
        row = srv.sql("SELECT c.name, c.phone, c.email, a.status FROM customers c JOIN "
                      "appointments a ON a.customer_id = c.id WHERE a.reference = ?", (ref,))[0]
        self.assertEqual(row, ("erased", None, None, "done"))
        self.assertGreaterEqual(self.metric("otd_retention_contacts_total"), 1)
        self.assert_absent(["Umberfield", "+447700900555", "rosalind.u@example.org"],
                           raw_files(srv), "after retention")
        self.assertEqual(srv.sql("SELECT count(*) FROM audit_log WHERE action = "
                                 "'customer.anonymise' AND actor_kind = 'system'")[0][0], 1)


if __name__ == "__main__":
    unittest.main()
