/* Unit tests: the address autocomplete index (core/addrindex.c): the
 * forgiving queries, the order, limits, an empty index, non-ASCII text,
 * and a property test against a naive scan of random gazetteers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onthedot/addrindex.h"
#include "onthedot/mem.h"
#include "testutil.h"

/* ---- helpers -------------------------------------------------------------- */

static struct otd_addrindex *build(const struct otd_addr_entry *a, size_t n)
{
	struct otd_addrindex *ix = NULL;
	struct otd_error err;
	ck_assert_int_eq(otd_addrindex_build(a, n, &ix, &err), OTD_OK);
	ck_assert_ptr_nonnull(ix);
	return ix;
}

/* The ids a search returns, as "1,2,3". */
static const char *ids(const struct otd_addrindex *ix, const char *q, size_t limit)
{
	static char out[2048];
	struct otd_addr_entry e[OTD_ADDR_LIMIT_MAX];
	size_t n = otd_addrindex_search(ix, q, limit, e);
	size_t len = 0;
	out[0] = '\0';
	for(size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%lld", i ? "," : "",
		                        (long long)e[i].id);
	return out;
}

static const char *norm(const char *s, bool trailing)
{
	static char out[512];
	otd_addr_normalise(s, out, sizeof(out), trailing);
	return out;
}

static const struct otd_addr_entry LONDON[] = {
    {10, "10 Downing Street", "", "London", "SW1A 1AA"},
    {11, "11 Downing Street", "", "London", "SW1A 2AB"},
    {12, "1 Downing Close", "", "Downingham", "DN1 1AA"},
    {13, "Flat 2, 70 Whitehall", "", "London", "SW1A 2AS"},
    {14, "2 Mill Road", "", "Benchton", "BT1 1AA"},
    {15, "10 Mill Road", "", "Benchton", "BT1 1AB"},
    {16, "1 Mill Road", "Mill Yard", "Benchton", "BT1 1AA"},
    {17, "The Old Forge", "Forge Lane", "Benchton", "BT2 4BD"},
    {18, "St John's Cottage", "Church Lane", "Stow-on-the-Wold", "GL54 1AA"},
    {19, "Zoë's Cottage", "", "Cwmbrân", "NP44 3AB"},
    {20, "3 Ffordd Glyndŵr", "", "Caerdydd", "CF10 1AA"},
    {21, "東京タワー 4", "", "Tokyo", "ZZ9 9ZZ"},
    {22, "100 Downing Street", "", "Elsewhere", "EL1 1AA"},
};
#define N_LONDON (sizeof(LONDON) / sizeof(LONDON[0]))

/* ---- normalising ------------------------------------------------------------- */

START_TEST(normalise_folds_case_punctuation_and_spacing)
{
	ck_assert_str_eq(norm("  10 Downing   Street,  LONDON ", false),
	                 "10 downing street london");
	ck_assert_str_eq(norm("SW1A\t1AA", false), "sw1a 1aa");
	ck_assert_str_eq(norm("St John's Road", false), "st johns road");
	ck_assert_str_eq(norm("St John\xe2\x80\x99s Road", false), "st johns road"); /* ’ */
	ck_assert_str_eq(norm("Stow-on-the-Wold", false), "stow on the wold");
	ck_assert_str_eq(norm("Flat 2, 70 Whitehall", false), "flat 2 70 whitehall");
	ck_assert_str_eq(norm("A\xe2\x80\x93"
	                      "B",
	                      false),
	                 "a b"); /* en dash */
	ck_assert_str_eq(norm("!!!", false), "");
	ck_assert_str_eq(norm("", false), "");
	/* A separator at the end is a word end when asked for. */
	ck_assert_str_eq(norm("10 ", true), "10 ");
	ck_assert_str_eq(norm("10, ", true), "10 ");
	ck_assert_str_eq(norm("10", true), "10");
	ck_assert_str_eq(norm("  ", true), "");
}
END_TEST

START_TEST(normalise_folds_latin_letters_and_keeps_other_utf8)
{
	ck_assert_str_eq(norm("Zoë", false), "zoe");
	ck_assert_str_eq(norm("ZOË", false), "zoe");
	ck_assert_str_eq(norm("Glyndŵr", false), "glyndwr");
	ck_assert_str_eq(norm("Straße", false), "strasse");
	ck_assert_str_eq(norm("Æthelred Þorp", false), "aethelred thorp");
	ck_assert_str_eq(norm("Łódź", false), "lodz");
	ck_assert_str_eq(norm("5×3", false), "5 3");
	ck_assert_str_eq(norm("東京タワー", false), "東京タワー");
	ck_assert_str_eq(norm("£5", false), "5");
	/* Bytes that are not UTF-8 stay as they are. */
	ck_assert_str_eq(norm("a\xff"
	                      "B",
	                      false),
	                 "a\xff"
	                 "b");
	/* Never longer than the input, and cut to the room given. */
	char small[4];
	ck_assert_uint_eq(otd_addr_normalise("abcdef", small, sizeof(small), false), 3);
	ck_assert_str_eq(small, "abc");
	ck_assert_uint_eq(otd_addr_normalise("ab cd", small, sizeof(small), false), 2);
	ck_assert_str_eq(small, "ab");
	/* A character is never cut in half. */
	ck_assert_uint_eq(otd_addr_normalise("a東", small, sizeof(small), false), 1);
	ck_assert_str_eq(small, "a");
}
END_TEST

START_TEST(natural_order_compares_numbers_by_value)
{
#define NC(a, b) otd_addr_natural_cmp(a, strlen(a), b, strlen(b))
	ck_assert_int_lt(NC("2 mill road", "10 mill road"), 0);
	ck_assert_int_gt(NC("10 mill road", "2 mill road"), 0);
	ck_assert_int_lt(NC("10 mill road", "10a mill road"), 0);
	ck_assert_int_lt(NC("flat 2 5 x", "flat 10 1 x"), 0);
	ck_assert_int_lt(NC("1 a", "1 b"), 0);
	ck_assert_int_eq(NC("abc", "abc"), 0);
	ck_assert_int_lt(NC("ab", "abc"), 0);
	ck_assert_int_lt(NC("99999999999999999999 x", "100000000000000000000 x"), 0);
	/* Same value, different spelling: ordered, not equal. */
	ck_assert_int_ne(NC("01 x", "1 x"), 0);
	ck_assert((NC("01 x", "1 x") < 0) == (NC("1 x", "01 x") > 0));
	ck_assert_int_lt(NC("9 x", "0010 x"), 0);
#undef NC
}
END_TEST

/* ---- searching ----------------------------------------------------------------- */

START_TEST(the_forgiving_queries_find_downing_street)
{
	struct otd_addrindex *ix = build(LONDON, N_LONDON);
	const char *queries[] = {"sw1a1aa",          "SW1A 1AA",    "sw1a 1",
	                         "10 downing",       "Downing St",  "downing street london",
	                         "  10   DOWNING  ", "10, Downing", "sw1a-1aa",
	                         "S W 1 A 1 A A",    "downing 10",  "london 10 downing",
	                         "10 downing sw1a"};
	for(size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		struct otd_addr_entry e[10];
		size_t n = otd_addrindex_search(ix, queries[i], 10, e);
		bool found = false;
		for(size_t k = 0; k < n; k++)
			found = found || e[k].id == 10;
		ck_assert_msg(found, "\"%s\" does not find 10 Downing Street (got %s)", queries[i],
		              ids(ix, queries[i], 10));
	}
	/* The exact ones put it first. */
	ck_assert_str_eq(ids(ix, "sw1a1aa", 10), "10");
	ck_assert_str_eq(ids(ix, "SW1A 1AA", 10), "10");
	ck_assert_str_eq(ids(ix, "10 downing", 10), "10");    /* "10" is a whole word: not 100 */
	ck_assert_str_eq(ids(ix, "downing 10", 10), "10,22"); /* the last may be a start */
	ck_assert_str_eq(ids(ix, "downing street london", 10), "10,11");
	/* The strings point into the index. */
	struct otd_addr_entry e[1];
	ck_assert_uint_eq(otd_addrindex_search(ix, "sw1a1aa", 1, e), 1);
	ck_assert_str_eq(e[0].line1, "10 Downing Street");
	ck_assert_str_eq(e[0].line2, "");
	ck_assert_str_eq(e[0].town, "London");
	ck_assert_str_eq(e[0].postcode, "SW1A 1AA");
	otd_addrindex_free(ix);
}
END_TEST

START_TEST(order_is_postcode_then_line1_start_then_the_rest_each_natural)
{
	struct otd_addrindex *ix = build(LONDON, N_LONDON);
	/* "sw1a": no exact postcode; postcodes starting so, line1 natural. */
	ck_assert_str_eq(ids(ix, "sw1a", 10), "10,11,13");
	/* "sw1a 2": 11 and 13 by natural line1 ("11 ..." < "flat ..."). */
	ck_assert_str_eq(ids(ix, "sw1a 2", 10), "11,13");
	/* Mill Road: a later word; 1 before 2 before 10. */
	ck_assert_str_eq(ids(ix, "mill", 10), "16,14,15");
	/* "1": line1 starts (1 before 10 before 11 before 100), then other
	 * words ("1aa" of a postcode). */
	ck_assert_str_eq(ids(ix, "1", 10), "12,16,10,15,11,22,14,20,18");
	/* "10 ": a whole number, not 100. */
	ck_assert_str_eq(ids(ix, "10 ", 10), "10,15");
	/* "downing": the start of line1 nowhere; 1 Downing Close (natural "1",
	 * and Downingham too) then 10, 11, 100 Downing Street. */
	ck_assert_str_eq(ids(ix, "downing", 10), "12,10,11,22");
	/* The postcode exactly: BT1 1AA lists 16 and 14, not 15 (BT1 1AB). */
	ck_assert_str_eq(ids(ix, "bt1 1aa", 10), "16,14");
	ck_assert_str_eq(ids(ix, "bt1", 10), "16,14,15");
	/* The same query gives the same answer. */
	char first[256];
	snprintf(first, sizeof(first), "%s", ids(ix, "downing", 10));
	ck_assert_str_eq(first, ids(ix, "DOWNING", 10));
	ck_assert_str_eq(first, ids(ix, "Downing,", 10));
	otd_addrindex_free(ix);
}
END_TEST

START_TEST(limits_are_kept_and_bounded)
{
	struct otd_addrindex *ix = build(LONDON, N_LONDON);
	struct otd_addr_entry e[OTD_ADDR_LIMIT_MAX];
	ck_assert_uint_eq(otd_addrindex_search(ix, "downing", 0, e), 0);
	ck_assert_str_eq(ids(ix, "downing", 1), "12");
	ck_assert_str_eq(ids(ix, "downing", 2), "12,10");
	/* Asking for more than the cap gets at most the cap. */
	size_t n = 400;
	struct otd_addr_entry *many = xcalloc(n, sizeof(*many));
	struct otd_addr_entry *big = xcalloc(n, sizeof(*big));
	for(size_t i = 0; i < n; i++) {
		char *l1 = xasprintf("%zu Long Road", i + 1);
		big[i] = (struct otd_addr_entry){(int64_t)i + 1, l1, "", "Town", "LR1 1AA"};
	}
	struct otd_addrindex *ix2 = build(big, n);
	ck_assert_uint_eq(otd_addrindex_search(ix2, "l", 1000, many), OTD_ADDR_LIMIT_MAX);
	ck_assert_uint_eq(otd_addrindex_search(ix2, "1", 10, many), 10);
	/* 1, 10..18 in natural order, then 19 waits. */
	ck_assert_str_eq(ids(ix2, "1", 10), "1,10,11,12,13,14,15,16,17,18");
	ck_assert_str_eq(ids(ix2, "long road 1", 3), "1,2,3");
	for(size_t i = 0; i < n; i++)
		free((char *)big[i].line1);
	free(big);
	free(many);
	otd_addrindex_free(ix2);
	otd_addrindex_free(ix);
}
END_TEST

START_TEST(queries_that_find_nothing)
{
	struct otd_addrindex *ix = build(LONDON, N_LONDON);
	ck_assert_str_eq(ids(ix, "", 10), "");
	ck_assert_str_eq(ids(ix, "   ", 10), "");
	ck_assert_str_eq(ids(ix, "!?", 10), "");
	ck_assert_str_eq(ids(ix, "qqq", 10), "");
	ck_assert_str_eq(ids(ix, "10 downing street london sw1a 1aa x", 10), "");
	char *long_q = xcalloc(OTD_ADDR_QUERY_BYTES + 1, 1);
	memset(long_q, 'a', OTD_ADDR_QUERY_BYTES);
	ck_assert_str_eq(ids(ix, long_q, 10), "");
	free(long_q);
	/* Tier 3 needs every word. */
	ck_assert_str_eq(ids(ix, "downing benchton", 10), "");
	otd_addrindex_free(ix);
}
END_TEST

START_TEST(an_empty_index_answers_nothing)
{
	struct otd_addrindex *ix = build(NULL, 0);
	ck_assert_uint_eq(otd_addrindex_count(ix), 0);
	ck_assert_str_eq(ids(ix, "a", 10), "");
	ck_assert_str_eq(ids(ix, "sw1a1aa", 10), "");
	otd_addrindex_free(ix);
	/* Addresses that normalise to nothing are kept but found by nothing. */
	struct otd_addr_entry odd[] = {{1, "!!!", NULL, NULL, "--"}};
	ix = build(odd, 1);
	ck_assert_uint_eq(otd_addrindex_count(ix), 1);
	ck_assert_str_eq(ids(ix, "a", 10), "");
	otd_addrindex_free(ix);
	otd_addrindex_free(NULL);
	ck_assert_uint_eq(otd_addrindex_count(NULL), 0);
}
END_TEST

START_TEST(non_ascii_addresses_are_found)
{
	struct otd_addrindex *ix = build(LONDON, N_LONDON);
	ck_assert_str_eq(ids(ix, "zoe", 10), "19");
	ck_assert_str_eq(ids(ix, "ZOË'S", 10), "19");
	ck_assert_str_eq(ids(ix, "zoes cottage", 10), "19");
	ck_assert_str_eq(ids(ix, "cwmbran", 10), "19");
	ck_assert_str_eq(ids(ix, "glyndwr", 10), "20");
	ck_assert_str_eq(ids(ix, "Glyndŵr", 10), "20");
	ck_assert_str_eq(ids(ix, "東", 10), "21");
	ck_assert_str_eq(ids(ix, "東京タワー 4", 10), "21");
	ck_assert_str_eq(ids(ix, "st johns", 10), "18");
	ck_assert_str_eq(ids(ix, "St John’s", 10), "18");
	ck_assert_str_eq(ids(ix, "stow on", 10), "18");
	struct otd_addr_entry e[1];
	ck_assert_uint_eq(otd_addrindex_search(ix, "zoe", 1, e), 1);
	ck_assert_str_eq(e[0].line1, "Zoë's Cottage"); /* shown as written */
	otd_addrindex_free(ix);
}
END_TEST

/* ---- the property test ---------------------------------------------------------- */

static uint64_t seed;

static uint64_t next(void)
{
	uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t pick(size_t n)
{
	return (size_t)(next() % n);
}

static const char *const WORDS[] = {
    "Mill",  "Station", "Road",  "Lane", "Church",   "High", "Street",  "St.",  "The",  "Old",
    "Forge", "Cottage", "Close", "Zoë",  "Glyndŵr",  "東京", "O'Brien", "upon", "Mews", "Downing",
    "Down",  "Avenue",  "Ave",   "Hill", "Hillside", "A",    "B",       "Ty",   "Bryn", "1st"};
static const char *const TOWNS[] = {"London",  "Benchton", "Wrenfield",  "Stow-on-the-Wold",
                                    "Cwmbrân", "",         "Downingham", "Mill Hill"};
static const char *const POSTCODES[] = {"SW1A 1AA", "SW1A 2AB", "BT1 1AA",  "BT12 3CD", "B1 1AA",
                                        "ZZ9 9ZZ",  "sw1a1aa",  "CF10 1AA", "GL54 1AA"};

/* A random-looking line in varied case and punctuation. */
static char *random_line(bool number)
{
	char buf[256];
	size_t n = 0;
	if(number) {
		if(pick(5) == 0)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "Flat %zu, ", pick(12) + 1);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%zu%s ", pick(120) + 1,
		                      pick(8) == 0 ? "a" : "");
	}
	size_t words = 1 + pick(3);
	for(size_t i = 0; i < words; i++) {
		const char *w = WORDS[pick(sizeof(WORDS) / sizeof(WORDS[0]))];
		char up[64];
		snprintf(up, sizeof(up), "%s", w);
		if(pick(6) == 0)
			for(char *p = up; *p; p++)
				if(*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 'a' + 'A');
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		                      i ? (pick(5) ? " " : "-") : "", up);
	}
	return xstrdup(buf);
}

struct model {
	const struct otd_addr_entry *a;
	char **text; /* normalised, joined, with the trailing space */
	char **line1;
	char **pc;
};

static bool starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* Whether w is a word of text (which ends in a space) or, unless whole,
 * the start of one. */
static bool has_word(const char *text, const char *w, size_t wl, bool whole)
{
	for(size_t k = 0; text[k]; k++)
		if((k == 0 || text[k - 1] == ' ') && strncmp(text + k, w, wl) == 0 &&
		   (!whole || text[k + wl] == ' '))
			return true;
	return false;
}

/* The tier in which the naive scan finds address i for q, or -1. */
static int naive_tier(const struct model *m, size_t i, const char *q, const char *qc)
{
	const char *t = m->text[i], *pc = m->pc[i];
	if(strcmp(pc, qc) == 0 && *pc)
		return 0;
	if(*t && starts(t, q))
		return 1;
	for(size_t k = 1; t[k]; k++)
		if(t[k - 1] == ' ' && starts(t + k, q))
			return 2;
	if(starts(pc, qc) && *pc)
		return 2;
	/* Words, in any order. */
	const char *tok[OTD_ADDR_TOKENS_MAX + 1];
	size_t tl[OTD_ADDR_TOKENS_MAX + 1], nt = 0;
	bool whole[OTD_ADDR_TOKENS_MAX + 1];
	for(size_t k = 0; q[k];) {
		size_t j = k;
		while(q[j] && q[j] != ' ')
			j++;
		if(j > k) {
			if(nt == OTD_ADDR_TOKENS_MAX)
				return -1;
			tok[nt] = q + k;
			whole[nt] = q[j] == ' ';
			tl[nt++] = j - k;
		}
		k = q[j] ? j + 1 : j;
	}
	if(nt < 2)
		return -1;
	for(size_t k = 0; k < nt; k++)
		if(!has_word(t, tok[k], tl[k], whole[k]) &&
		   !(strncmp(pc, tok[k], tl[k]) == 0 && (!whole[k] || pc[tl[k]] == '\0')))
			return -1;
	return 3;
}

static const struct model *sort_model;
static int *sort_tier;

static int naive_cmp(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	const struct model *m = sort_model;
	if(sort_tier[a] != sort_tier[b])
		return sort_tier[a] - sort_tier[b];
	int c = otd_addr_natural_cmp(m->line1[a], strlen(m->line1[a]), m->line1[b],
	                             strlen(m->line1[b]));
	if(c == 0)
		c = otd_addr_natural_cmp(m->text[a], strlen(m->text[a]), m->text[b],
		                         strlen(m->text[b]));
	if(c == 0)
		c = m->a[a].id < m->a[b].id ? -1 : m->a[a].id > m->a[b].id;
	return c;
}

static size_t naive_search(const struct model *m, size_t n, const char *query, size_t limit,
                           int64_t *out)
{
	char q[OTD_ADDR_QUERY_BYTES], qc[OTD_ADDR_QUERY_BYTES];
	size_t ql = otd_addr_normalise(query, q, sizeof(q), true), k = 0;
	if(!ql)
		return 0;
	for(size_t i = 0; i < ql; i++)
		if(q[i] != ' ')
			qc[k++] = q[i];
	qc[k] = '\0';
	int *tier = xcalloc(n + 1, sizeof(*tier));
	size_t *hit = xcalloc(n + 1, sizeof(*hit)), nh = 0;
	for(size_t i = 0; i < n; i++) {
		tier[i] = naive_tier(m, i, q, qc);
		if(tier[i] >= 0)
			hit[nh++] = i;
	}
	sort_model = m;
	sort_tier = tier;
	qsort(hit, nh, sizeof(*hit), naive_cmp);
	if(limit > OTD_ADDR_LIMIT_MAX)
		limit = OTD_ADDR_LIMIT_MAX;
	size_t r = nh < limit ? nh : limit;
	for(size_t i = 0; i < r; i++)
		out[i] = m->a[hit[i]].id;
	free(tier);
	free(hit);
	return r;
}

static char *model_text(const struct otd_addr_entry *a)
{
	const char *parts[4] = {a->line1, a->line2 ? a->line2 : "", a->town, a->postcode};
	char buf[1024];
	size_t n = 0;
	for(int i = 0; i < 4; i++) {
		char p[512];
		size_t k = otd_addr_normalise(parts[i], p, sizeof(p), false);
		if(k)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s ", p);
	}
	buf[n] = '\0';
	return xstrdup(buf);
}

/* A query a person might type about address a (or about nothing). */
static char *random_query(const struct otd_addr_entry *a, const struct model *m, size_t i)
{
	char buf[512];
	switch(pick(9)) {
	case 0: { /* a prefix of the written address */
		char full[512];
		snprintf(full, sizeof(full), "%s, %s %s %s", a->line1, a->line2 ? a->line2 : "",
		         a->town, a->postcode);
		size_t len = 1 + pick(strlen(full));
		snprintf(buf, sizeof(buf), "%.*s", (int)len, full);
		break;
	}
	case 1: { /* the postcode, spaced or not, partly */
		size_t len = 1 + pick(strlen(a->postcode));
		snprintf(buf, sizeof(buf), "%.*s", (int)len, a->postcode);
		if(pick(2))
			snprintf(buf, sizeof(buf), "%s", m->pc[i]);
		break;
	}
	case 2: { /* from a later word of the normalised text */
		const char *t = m->text[i];
		size_t starts_at[64], ns = 0;
		for(size_t k = 0; t[k] && ns < 64; k++)
			if(k == 0 || t[k - 1] == ' ')
				starts_at[ns++] = k;
		if(ns == 0) {
			snprintf(buf, sizeof(buf), "x");
			break;
		}
		size_t s = starts_at[pick(ns)];
		size_t len = 1 + pick(strlen(t + s));
		snprintf(buf, sizeof(buf), "%.*s", (int)len, t + s);
		break;
	}
	case 3: /* two or three words in any order */
		snprintf(buf, sizeof(buf), "%s %s%s%s",
		         WORDS[pick(sizeof(WORDS) / sizeof(WORDS[0]))],
		         pick(2) ? "1" : WORDS[pick(sizeof(WORDS) / sizeof(WORDS[0]))],
		         pick(2) ? " " : "",
		         pick(2) ? TOWNS[pick(sizeof(TOWNS) / sizeof(TOWNS[0]))] : "");
		break;
	case 4: { /* a single character */
		const char cs[] = "abcdefghijklmnopqrstuvwxyz0123456789 ";
		snprintf(buf, sizeof(buf), "%c", cs[pick(sizeof(cs) - 1)]);
		break;
	}
	case 5: /* many words: past the tier-3 bound */
		snprintf(buf, sizeof(buf), "a b c d e f g h i j %s", a->line1);
		break;
	case 6: /* a number and a space */ snprintf(buf, sizeof(buf), "%zu ", pick(130)); break;
	case 7: { /* noise */
		size_t n = 1 + pick(12);
		for(size_t k = 0; k < n; k++)
			buf[k] = (char)(' ' + pick(95));
		buf[n] = '\0';
		break;
	}
	default: /* words of this address, shuffled */
		snprintf(buf, sizeof(buf), "%s %s", a->postcode, a->line1);
		break;
	}
	return xstrdup(buf);
}

START_TEST(search_agrees_with_a_naive_scan)
{
	seed = 20261204;
	size_t checked = 0, nonempty = 0;
	for(int trial = 0; trial < 120; trial++) {
		size_t n = trial == 0 ? 0 : 1 + pick(trial < 20 ? 20 : 300);
		struct otd_addr_entry *a = xcalloc(n + 1, sizeof(*a));
		struct model m = {a, xcalloc(n + 1, sizeof(char *)), xcalloc(n + 1, sizeof(char *)),
		                  xcalloc(n + 1, sizeof(char *))};
		for(size_t i = 0; i < n; i++) {
			/* Ids unique but not in order; a few duplicate texts. */
			a[i].id = (int64_t)((i * 7919) % 100003) + 1;
			if(i > 0 && pick(20) == 0) {
				a[i].line1 = xstrdup(a[i - 1].line1);
				a[i].line2 = xstrdup(a[i - 1].line2);
				a[i].town = a[i - 1].town;
				a[i].postcode = a[i - 1].postcode;
			} else {
				a[i].line1 = random_line(pick(4) != 0);
				a[i].line2 = pick(3) == 0 ? random_line(false) : xstrdup("");
				a[i].town = TOWNS[pick(sizeof(TOWNS) / sizeof(TOWNS[0]))];
				a[i].postcode =
				    POSTCODES[pick(sizeof(POSTCODES) / sizeof(POSTCODES[0]))];
			}
			m.text[i] = model_text(&a[i]);
			char buf[512];
			otd_addr_normalise(a[i].line1, buf, sizeof(buf), false);
			m.line1[i] = xstrdup(buf);
			size_t k = otd_addr_normalise(a[i].postcode, buf, sizeof(buf), false),
			       j = 0;
			for(size_t c = 0; c < k; c++)
				if(buf[c] != ' ')
					buf[j++] = buf[c];
			buf[j] = '\0';
			m.pc[i] = xstrdup(buf);
		}
		struct otd_addrindex *ix = build(a, n);
		ck_assert_uint_eq(otd_addrindex_count(ix), n);
		for(int t = 0; t < 60; t++) {
			size_t i = n ? pick(n) : 0;
			char *q = n ? random_query(&a[i], &m, i) : xstrdup("mill");
			size_t limit = pick(4) == 0 ? 1 + pick(70) : 10;
			int64_t want[OTD_ADDR_LIMIT_MAX];
			struct otd_addr_entry got[OTD_ADDR_LIMIT_MAX];
			size_t nw = naive_search(&m, n, q, limit, want);
			size_t ng = otd_addrindex_search(ix, q, limit, got);
			char ws[2048] = "", gs[2048] = "";
			for(size_t k = 0, len = 0; k < nw; k++)
				len += (size_t)snprintf(ws + len, sizeof(ws) - len, "%lld,",
				                        (long long)want[k]);
			for(size_t k = 0, len = 0; k < ng; k++)
				len += (size_t)snprintf(gs + len, sizeof(gs) - len, "%lld,",
				                        (long long)got[k].id);
			ck_assert_msg(strcmp(ws, gs) == 0,
			              "trial %d, %zu addresses, query \"%s\" limit %zu:\n naive "
			              "%s\n index %s",
			              trial, n, q, limit, ws, gs);
			checked++;
			nonempty += nw > 0;
			free(q);
		}
		otd_addrindex_free(ix);
		for(size_t i = 0; i < n; i++) {
			free((char *)a[i].line1);
			free((char *)a[i].line2);
			free(m.text[i]);
			free(m.line1[i]);
			free(m.pc[i]);
		}
		free(m.text);
		free(m.line1);
		free(m.pc);
		free(a);
	}
	/* The queries were not all misses. */
	ck_assert_uint_gt(nonempty, checked / 2);
}
END_TEST

/* ---- scale --------------------------------------------------------------------- */

START_TEST(a_hundred_thousand_addresses_fit_in_tens_of_megabytes)
{
	size_t n = 100000;
	struct otd_addr_entry *a = xcalloc(n, sizeof(*a));
	char **strs = xcalloc(2 * n, sizeof(char *));
	for(size_t i = 0; i < n; i++) {
		/* As bench_gazetteer makes them. */
		strs[2 * i] = xasprintf("%zu %s Road", i % 300 + 1, i % 2 ? "Station" : "Mill");
		strs[2 * i + 1] = xasprintf("BT%zu %zu%c%c", i % 90 + 1, i % 9 + 1,
		                            'A' + (char)(i % 26), 'A' + (char)(i / 26 % 26));
		a[i] = (struct otd_addr_entry){(int64_t)i + 1, strs[2 * i], "", "Benchton",
		                               strs[2 * i + 1]};
	}
	struct otd_addrindex *ix = build(a, n);
	size_t bytes = otd_addrindex_bytes(ix);
	ck_assert_msg(bytes < 48u << 20, "%zu bytes", bytes);
	struct otd_addr_entry e[OTD_ADDR_LIMIT_MAX];
	ck_assert_uint_eq(otd_addrindex_search(ix, "s", 10, e), 10);
	ck_assert_uint_eq(otd_addrindex_search(ix, "1", 50, e), 50);
	ck_assert_str_eq(e[0].line1, "1 Mill Road");
	/* BT1 1AA: four addresses exactly, first. */
	ck_assert_uint_ge(otd_addrindex_search(ix, "bt1 1aa", 10, e), 4);
	for(int i = 0; i < 4; i++)
		ck_assert_str_eq(e[i].postcode, "BT1 1AA");
	for(size_t i = 0; i < 2 * n; i++)
		free(strs[i]);
	free(strs);
	free(a);
	otd_addrindex_free(ix);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("addrindex");
	TCase *tc = tcase_create("addrindex");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, normalise_folds_case_punctuation_and_spacing);
	tcase_add_test(tc, normalise_folds_latin_letters_and_keeps_other_utf8);
	tcase_add_test(tc, natural_order_compares_numbers_by_value);
	tcase_add_test(tc, the_forgiving_queries_find_downing_street);
	tcase_add_test(tc, order_is_postcode_then_line1_start_then_the_rest_each_natural);
	tcase_add_test(tc, limits_are_kept_and_bounded);
	tcase_add_test(tc, queries_that_find_nothing);
	tcase_add_test(tc, an_empty_index_answers_nothing);
	tcase_add_test(tc, non_ascii_addresses_are_found);
	tcase_add_test(tc, search_agrees_with_a_naive_scan);
	tcase_add_test(tc, a_hundred_thousand_addresses_fit_in_tens_of_megabytes);
	suite_add_tcase(s, tc);
	return testutil_run(s);
}
