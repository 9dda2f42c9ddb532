"""Browser journeys: every tests/browser/<journey>.js (but lib.js) against the real binary.

One server with the Wrenfield organisation (otd_booking.BookingTestCase: gazetteer,
holidays, visitors, visit types, virtual clock) serves all journeys of this class;
each journey is one test method, test_<journey>, which runs

    node tests/browser/<journey>.js BASE_URL SCREENSHOTS

with NODE_PATH at tests/browser/package-lock.json installed by `npm ci` into a scratch
folder under OTD_TEST_TMP (once per lock file), CHROMIUM at Debian's chromium and
OTD_ADMIN_TOKEN set to the server's admin API token (for journeys that move the
virtual clock or act as the dispatcher), and OTD_SCENARIO to the JSON of what the
method scenario_<journey>() returns, when there is one (it runs first and prepares
the server: appointments, tokens, feedback). The journey's own lines (ok / FAIL / notes)
are printed, and are the failure message when it exits non-zero.

Screenshots go to OTD_SCREENSHOTS, by default the folder `screenshots` beside
OTD_TEST_TMP (build/asan/screenshots under ctest), as <journey>-<profile>-<state>.png
(and <journey>-<profile>-FAIL-<n>.png for a failed step); a journey's old ones are
removed before it runs, and its output is kept there as <journey>.log.

Nothing is skipped: without node, npm or chromium every test fails saying to run
`bash contrib/install-deps.sh test`.

The runner itself (npm_install, run_journey, the control channel) is in journeys.py.
"""

import glob
import os
import unittest

import otd_booking
import pages_scenarios
from journeys import BROWSER_DIR, CHROMIUM, SCREENSHOTS, npm_install, require, run_journey


def journeys():
    """The journey names: tests/browser/*.js but the library, sorted."""
    names = []
    for path in sorted(glob.glob(os.path.join(BROWSER_DIR, "*.js"))):
        name = os.path.splitext(os.path.basename(path))[0]
        if name != "lib":
            names.append(name)
    return names


class PagesTest(pages_scenarios.PageScenarios, otd_booking.BookingTestCase):
    """The customer pages in a real browser (methods added below, one per journey)."""

    @classmethod
    def setUpClass(cls):
        # The tools first: a missing one fails every journey with the way out.
        cls.node = require("node", "nodejs")
        require(CHROMIUM, "chromium")
        cls.modules = npm_install()
        os.makedirs(SCREENSHOTS, exist_ok=True)
        super().setUpClass()

    def run_journey(self, name):
        # A method scenario_<journey>() (optional) prepares the server for the
        # journey and returns what the journey needs to know (tokens, names),
        # handed over as JSON in OTD_SCENARIO.
        prepare = getattr(self, "scenario_" + name.replace("-", "_"), None)
        scenario = prepare() if prepare else {}
        run_journey(self, os.path.join(BROWSER_DIR, name + ".js"), scenario)


def _journey_test(name):
    def test(self):
        self.run_journey(name)
    test.__doc__ = "tests/browser/%s.js" % name
    return test


for _name in journeys():
    setattr(PagesTest, "test_" + _name.replace("-", "_"), _journey_test(_name))


class JourneysPresent(unittest.TestCase):
    def test_there_are_journeys(self):
        self.assertIn("smoke", journeys(), "tests/browser/smoke.js is missing")


if __name__ == "__main__":
    unittest.main()
