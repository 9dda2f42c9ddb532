/* onthedot erase, export and retention: privacy from the command line
 * (app/privacy.h, app/retention.h).
 *
 * They may run on a database a server is using: their writes go through
 * the store's writer with BEGIN IMMEDIATE and wait (store.busy_timeout_ms)
 * for the server's transaction. The server's in-memory trust figures then
 * refresh within a minute; the admin API (POST
 * /api/v1/admin/customers/{reference}/erase) drops them at once and is the
 * way to erase while a server runs. */
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app/app.h"
#include "app/audit.h"
#include "app/privacy.h"
#include "app/retention.h"
#include "cli/cli.h"
#include "cli/config_file.h"
#include "onthedot/civil.h"

/* ---- shared ---------------------------------------------------------------------- */

struct privacy_args {
	const char *reference, *phone, *email, *config, *db, *now;
	bool yes, dry_run;
};

/* Parses the options erase and export share; returns -1 to go on, else
 * the exit status. */
static int parse(const char *cmd, int argc, char **argv, struct privacy_args *a,
                 void (*usage)(FILE *))
{
	static const struct option opts[] = {{"customer", required_argument, 0, 'r'},
	                                     {"phone", required_argument, 0, 'p'},
	                                     {"email", required_argument, 0, 'e'},
	                                     {"yes", no_argument, 0, 'y'},
	                                     {"config", required_argument, 0, 'c'},
	                                     {"db", required_argument, 0, 'd'},
	                                     {"now", required_argument, 0, 'w'},
	                                     {"dry-run", no_argument, 0, 'n'},
	                                     {0, 0, 0, 0}};
	memset(a, 0, sizeof(*a));
	int c;
	optind = 1;
	while((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch(c) {
		case 'r': a->reference = optarg; break;
		case 'p': a->phone = optarg; break;
		case 'e': a->email = optarg; break;
		case 'y': a->yes = true; break;
		case 'c': a->config = optarg; break;
		case 'd': a->db = optarg; break;
		case 'w': a->now = optarg; break;
		case 'n': a->dry_run = true; break;
		default: usage(stderr); return 2;
		}
	}
	if(optind < argc) {
		cli_error(cmd, "unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	return -1;
}

static int subject_given(const char *cmd, const struct privacy_args *a)
{
	int n = (a->reference != NULL) + (a->phone != NULL) + (a->email != NULL);
	if(n != 1) {
		cli_error(cmd,
		          "name the contact with one of --customer OTD-XXXXXX, --phone NUMBER or "
		          "--email ADDRESS");
		return 2;
	}
	return 0;
}

/* Loads the configuration and opens the app (a virtual clock at --now). */
static int open_app(const char *cmd, const struct privacy_args *a, struct otd_config *cfg,
                    struct otd_app *app)
{
	if(sodium_init() < 0)
		return 1;
	if(cli_config_load(cmd, a->config, a->db, cfg))
		return 1;
	if(a->now) {
		int64_t t;
		if(otd_rfc3339_parse(a->now, &t, NULL) != OTD_OK) {
			cli_error(
			    cmd, "--now wants an instant such as 2026-03-03T08:00:00Z (got \"%s\")",
			    a->now);
			otd_config_cleanup(cfg);
			return 2;
		}
		cfg->virtual_clock = true;
		cli_config_set(&cfg->virtual_start, a->now);
	}
	struct otd_error err;
	otd_error_clear(&err);
	if(app_open(app, cfg, OTD_APP_CLI, &err) != OTD_OK) {
		cli_error(cmd, "%s", err.message);
		otd_config_cleanup(cfg);
		return 1;
	}
	return 0;
}

/* ---- erase ------------------------------------------------------------------------ */

static void erase_usage(FILE *out)
{
	fprintf(out,
	        "usage: onthedot erase (--customer OTD-XXXXXX | --phone NUMBER | --email ADDRESS)\n"
	        "                      [--yes] [--config FILE] [--db FILE]\n\n"
	        "Erases a contact's personal data everywhere it is kept: name (it becomes\n"
	        "\"erased\"), phone, email, access notes, cancellation reasons, the bodies and\n"
	        "recipients of their messages (one still waiting is cancelled, never sent),\n"
	        "delivery report details, their texts to us, the words of their feedback (the\n"
	        "mark stays), notes and free text in events and the audit log; their links\n"
	        "stop working and their visits point at a placeholder address for the\n"
	        "postcode district. Windows, statuses, promises kept or broken and the\n"
	        "guarantee ledger's amounts stay, anonymous. Then the write-ahead log is\n"
	        "checkpointed and truncated, so no old copy stays in the database's files.\n\n"
	        "  --customer REF  the contact who booked the appointment REF\n"
	        "  --phone NUMBER  every contact with this phone number (as typed or +44...)\n"
	        "  --email ADDRESS every contact with this email address\n"
	        "  --yes           do not ask for confirmation (it cannot be undone)\n\n"
	        "A visit still to come must be cancelled first. Erasing twice changes nothing\n"
	        "(\"already erased\"). It may run while the server uses the database (it waits\n"
	        "for the server's writes); while a server runs, the admin API\n"
	        "POST /api/v1/admin/customers/REF/erase is better: it also drops the server's\n"
	        "cached figures at once. Backups made before keep the data until they are\n"
	        "rotated out.\n");
}

int cmd_erase(int argc, char **argv)
{
	if(cli_wants_help(argc, argv)) {
		erase_usage(stdout);
		return 0;
	}
	struct privacy_args a;
	int rc = parse("erase", argc, argv, &a, erase_usage);
	if(rc >= 0)
		return rc;
	if((rc = subject_given("erase", &a)))
		return rc;
	if(a.dry_run) {
		cli_error("erase",
		          "--dry-run is for retention; export shows what erase would clear");
		return 2;
	}
	if(!a.yes) {
		if(!isatty(STDIN_FILENO)) {
			cli_error("erase", "erasure cannot be undone: add --yes to confirm");
			return 2;
		}
		fprintf(stderr,
		        "Erase the personal data of %s %s? This cannot be undone. Type yes: ",
		        a.reference ? "the contact of" : "every contact with",
		        a.reference ? a.reference : (a.phone ? a.phone : a.email));
		char line[16] = "";
		if(!fgets(line, sizeof(line), stdin) || strncmp(line, "yes", 3) != 0) {
			fprintf(stderr, "Nothing erased.\n");
			return 1;
		}
	}
	struct otd_config cfg;
	struct otd_app app;
	if((rc = open_app("erase", &a, &cfg, &app)))
		return rc;
	struct otd_principal cli;
	app_principal_cli(&cli);
	struct otd_privacy_subject s = {
	    .reference = a.reference, .phone = a.phone, .email = a.email};
	struct otd_erase_result r;
	struct otd_error err;
	otd_error_clear(&err);
	rc = 1;
	if(app_privacy_erase(&app, &cli, &s, &r, &err) != OTD_OK) {
		cli_error("erase", "%s", err.message);
	} else {
		size_t now = r.contacts - r.already_erased;
		if(now == 0) {
			printf("already erased: %zu contact%s, nothing changed\n", r.contacts,
			       r.contacts == 1 ? "" : "s");
		} else {
			const struct otd_erase_counts *c = &r.counts;
			printf(
			    "erased %zu contact%s: %lld appointment%s, %lld message%s (%lld "
			    "cancelled "
			    "before sending), %lld delivery report%s, %lld text%s received, %lld "
			    "feedback, %lld event%s, %lld audit entr%s, %lld link%s revoked\n",
			    now, now == 1 ? "" : "s", (long long)c->appointments,
			    c->appointments == 1 ? "" : "s", (long long)c->messages,
			    c->messages == 1 ? "" : "s", (long long)c->messages_cancelled,
			    (long long)c->receipts, c->receipts == 1 ? "" : "s",
			    (long long)c->inbound, c->inbound == 1 ? "" : "s",
			    (long long)c->feedback, (long long)c->events, c->events == 1 ? "" : "s",
			    (long long)c->audit, c->audit == 1 ? "y" : "ies",
			    (long long)c->links_revoked, c->links_revoked == 1 ? "" : "s");
			if(r.already_erased)
				printf("%zu more contact%s erased before\n", r.already_erased,
				       r.already_erased == 1 ? " was" : "s were");
			printf(r.log_truncated ? "write-ahead log checkpointed and truncated\n"
			                       : "the write-ahead log is still in use; the server "
			                         "truncates it once idle\n");
		}
		rc = 0;
	}
	app_close(&app);
	otd_config_cleanup(&cfg);
	return rc;
}

/* ---- export ------------------------------------------------------------------------ */

static void export_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: onthedot export (--customer OTD-XXXXXX | --phone NUMBER | --email ADDRESS)\n"
	    "                       [--config FILE] [--db FILE]\n\n"
	    "Prints everything held about a contact as JSON (a subject access request):\n"
	    "the contact, every appointment with its events, feedback, guarantee cases and\n"
	    "payments, every message as rendered (links redacted) with its delivery\n"
	    "reports, the texts they sent, and the audit entries about them. The shape is\n"
	    "the SubjectExport schema of /api/v1/openapi.json (the same as\n"
	    "GET /api/v1/admin/customers/REF/export). The export is audited.\n");
}

int cmd_export(int argc, char **argv)
{
	if(cli_wants_help(argc, argv)) {
		export_usage(stdout);
		return 0;
	}
	struct privacy_args a;
	int rc = parse("export", argc, argv, &a, export_usage);
	if(rc >= 0)
		return rc;
	if((rc = subject_given("export", &a)))
		return rc;
	struct otd_config cfg;
	struct otd_app app;
	if((rc = open_app("export", &a, &cfg, &app)))
		return rc;
	struct otd_principal cli;
	app_principal_cli(&cli);
	struct otd_privacy_subject s = {
	    .reference = a.reference, .phone = a.phone, .email = a.email};
	struct otd_error err;
	otd_error_clear(&err);
	json_t *doc = NULL;
	rc = 1;
	if(app_privacy_export(&app, &cli, &s, &doc, &err) != OTD_OK) {
		cli_error("export", "%s", err.message);
	} else {
		char *text = json_dumps(doc, JSON_INDENT(2));
		if(text) {
			fputs(text, stdout);
			fputc('\n', stdout);
			rc = 0;
		}
		free(text);
		json_decref(doc);
	}
	app_close(&app);
	otd_config_cleanup(&cfg);
	return rc;
}

/* ---- retention ----------------------------------------------------------------------- */

static void retention_usage(FILE *out)
{
	fprintf(out, "usage: onthedot retention [--dry-run] [--now RFC3339] [--config FILE] [--db "
	             "FILE]\n\n"
	             "Runs the retention pass now (the server runs it once a day): contacts\n"
	             "anonymised retention.contact_days after their last visit, evidence deleted\n"
	             "after retention.evidence_days, positions after retention.position_days,\n"
	             "IP addresses blanked after retention.ip_days (see contrib/onthedot.conf).\n"
	             "Prints what it did, as counts.\n\n"
	             "  --dry-run  print what it would do and change nothing (its transaction is\n"
	             "             rolled back; it holds the write lock while it counts)\n"
	             "  --now T    as if it were T (a service on a virtual clock)\n");
}

int cmd_retention(int argc, char **argv)
{
	if(cli_wants_help(argc, argv)) {
		retention_usage(stdout);
		return 0;
	}
	struct privacy_args a;
	int rc = parse("retention", argc, argv, &a, retention_usage);
	if(rc >= 0)
		return rc;
	if(a.reference || a.phone || a.email || a.yes) {
		cli_error("retention", "retention takes only --dry-run, --now, --config and --db");
		return 2;
	}
	struct otd_config cfg;
	struct otd_app app;
	if((rc = open_app("retention", &a, &cfg, &app)))
		return rc;
	struct otd_retention_report r;
	struct otd_error err;
	otd_error_clear(&err);
	rc = 0;
	if((a.dry_run ? app_retention_dry_run(&app, &r, &err)
	              : app_retention_pass(&app, &r, &err)) != OTD_OK) {
		cli_error("retention", "%s", err.message);
		rc = 1;
	}
	printf("%scontacts anonymised %lld, texts from unknown senders cleared %lld, events "
	       "deleted %lld, delivery reports deleted %lld, positions deleted %lld, IP addresses "
	       "blanked %lld\n",
	       a.dry_run ? "dry run, nothing changed; a pass would do: " : "",
	       (long long)r.contacts, (long long)r.inbound, (long long)r.events,
	       (long long)r.receipts, (long long)r.positions, (long long)r.ips);
	app_close(&app);
	otd_config_cleanup(&cfg);
	return rc;
}
