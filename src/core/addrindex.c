/* The address autocomplete index: sorted word-suffix keys, one
 * range-minimum structure per key set, and a best-first walk of a
 * prefix's range (see include/onthedot/addrindex.h).
 *
 * Addresses are stored in their final order ("ord": natural order of
 * line1, then of the whole text, then id), so the best addresses of a
 * range of keys are those with the smallest ord. The k smallest values of
 * a range come out of a heap of sub-ranges, each keyed by its minimum: pop
 * the smallest, then push the two halves on either side of its position
 * (the classic top-k-in-a-range use of range-minimum queries). The
 * range-minimum structure is a segment tree over blocks of RMQ_BLOCK keys
 * plus a scan inside the end blocks: little memory, a few hundred
 * operations a query. */
#include "onthedot/addrindex.h"

#include <stdlib.h>
#include <string.h>

#include "onthedot/mem.h"
#include "onthedot/utf8.h"

#define RMQ_BLOCK 32
#define NONE UINT32_MAX
#define TEXT_MAX ((size_t)3 << 30)
#define KEYS_MAX ((size_t)1 << 31)

struct key {
	uint32_t off; /* of the key's text (to its NUL) in ix->text */
	uint32_t ord; /* the address: its index in ix->recs */
};

/* Sorted keys and, over their ords, a segment tree of per-block minima. */
struct keyset {
	struct key *k;
	size_t n;
	size_t nb;      /* blocks of RMQ_BLOCK keys */
	uint32_t *tree; /* 2 * nb positions: tree[nb + b] = argmin of block b */
};

struct rec {
	int64_t id;
	uint32_t line1, line2, town, postcode; /* as given, offsets in text */
	uint32_t norm;                         /* normalised text, ends in ' ' */
	uint32_t norm_len;
	uint32_t line1_len; /* bytes of norm that are line1's */
	uint32_t pc;        /* postcode normalised without spaces */
};

struct otd_addrindex {
	char *text;
	size_t text_len;
	struct rec *recs; /* by ord */
	size_t n;
	struct keyset start; /* one per address: its whole text */
	struct keyset inner; /* every later word-suffix */
	struct keyset post;  /* the postcode without spaces */
	size_t bytes;
};

/* ---- normalising --------------------------------------------------------- */

/* U+00C0 to U+00FF: the ASCII letter each folds to; '1' is "ae", '2' "th",
 * '3' "ss", ' ' a separator (multiplication and division signs). */
static const char latin1_fold[65] = "aaaaaa1ceeeeiiiidnooooo ouuuuy23"
                                    "aaaaaa1ceeeeiiiidnooooo ouuuuy2y";

/* U+0100 to U+017F (Latin Extended-A), in code point order. */
static const char latin_ext_a_fold[129] = "aaaaaa"       /* 0100 Amacron..aogonek */
                                          "cccccccc"     /* 0106 Cacute..ccaron */
                                          "dddd"         /* 010E Dcaron..dstroke */
                                          "eeeeeeeeee"   /* 0112 Emacron..ecaron */
                                          "gggggggg"     /* 011C Gcircumflex..gcedilla */
                                          "hhhh"         /* 0124 Hcircumflex..hstroke */
                                          "iiiiiiiiii"   /* 0128 Itilde..dotless i */
                                          "ii"           /* 0132 IJ ligature */
                                          "jj"           /* 0134 Jcircumflex */
                                          "kkk"          /* 0136 Kcedilla, kra */
                                          "llllllllll"   /* 0139 Lacute..lstroke */
                                          "nnnnnnn"      /* 0143 Nacute..napostrophe */
                                          "nn"           /* 014A Eng */
                                          "oooooo"       /* 014C Omacron..odoubleacute */
                                          "oo"           /* 0152 OE ligature */
                                          "rrrrrr"       /* 0154 Racute..rcaron */
                                          "ssssssss"     /* 015A Sacute..scaron */
                                          "tttttt"       /* 0162 Tcedilla..tstroke */
                                          "uuuuuuuuuuuu" /* 0168 Utilde..uogonek */
                                          "ww"           /* 0174 Wcircumflex (Welsh) */
                                          "yyy"          /* 0176 Ycircumflex, Ydiaeresis */
                                          "zzzzzz"       /* 0179 Zacute..zcaron */
                                          "s";           /* 017F long s */

_Static_assert(sizeof(latin1_fold) == 65, "64 folds of U+00C0..U+00FF");
_Static_assert(sizeof(latin_ext_a_fold) == 129, "128 folds of U+0100..U+017F");

struct norm_out {
	char *out;
	size_t size, n;
	bool space; /* a separator is pending */
	bool full;
};

/* Appends k bytes, after the pending space if any text precedes it. */
static void put(struct norm_out *o, const char *s, size_t k)
{
	if(o->full)
		return;
	size_t need = k + (o->space && o->n ? 1 : 0);
	if(o->n + need + 1 > o->size) {
		o->full = true;
		return;
	}
	if(o->space && o->n)
		o->out[o->n++] = ' ';
	o->space = false;
	memcpy(o->out + o->n, s, k);
	o->n += k;
}

static void put_fold(struct norm_out *o, char c)
{
	switch(c) {
	case ' ': o->space = true; break;
	case '1': put(o, "ae", 2); break;
	case '2': put(o, "th", 2); break;
	case '3': put(o, "ss", 2); break;
	default: put(o, &c, 1); break;
	}
}

size_t otd_addr_normalise(const char *s, char *out, size_t size, bool keep_trailing)
{
	if(size == 0)
		return 0;
	struct norm_out o = {out, size, 0, false, false};
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s);
	while(left && !o.full) {
		unsigned char c = *p;
		size_t len = 1;
		if((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			put(&o, (const char *)p, 1);
		} else if(c >= 'A' && c <= 'Z') {
			char l = (char)(c - 'A' + 'a');
			put(&o, &l, 1);
		} else if(c == '\'') {
			/* dropped: "John's" is "johns" */
		} else if(c < 0x80) {
			o.space = true;
		} else {
			len = otd_utf8_char(p, left);
			if(len == 0) {
				len = 1; /* not UTF-8: kept as it is */
				put(&o, (const char *)p, 1);
			} else if(len == 2 && c == 0xC3) {
				put_fold(&o, latin1_fold[p[1] - 0x80]);
			} else if(len == 2 && (c == 0xC4 || c == 0xC5)) {
				put_fold(&o, latin_ext_a_fold[(c - 0xC4) * 64 + (p[1] - 0x80)]);
			} else if(len == 2 && c == 0xC2) {
				o.space = true; /* C1 controls, no-break space, Latin-1 signs */
			} else if(len == 3 && c == 0xE2 && p[1] == 0x80 &&
			          (p[2] == 0x98 || p[2] == 0x99)) {
				/* curly apostrophes, dropped like ' */
			} else if(len == 3 && c == 0xE2 &&
			          (p[1] == 0x80 || (p[1] == 0x81 && p[2] <= 0xAF))) {
				o.space = true; /* General Punctuation: dashes, spaces, quotes */
			} else {
				put(&o, (const char *)p, len);
			}
		}
		p += len;
		left -= len;
	}
	if(keep_trailing && o.space && o.n && o.n + 2 <= o.size)
		o.out[o.n++] = ' ';
	o.out[o.n] = '\0';
	return o.n;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

int otd_addr_natural_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	size_t i = 0, j = 0;
	while(i < an && j < bn) {
		if(is_digit(x[i]) && is_digit(y[j])) {
			while(i < an && x[i] == '0')
				i++;
			while(j < bn && y[j] == '0')
				j++;
			size_t is = i, js = j;
			while(i < an && is_digit(x[i]))
				i++;
			while(j < bn && is_digit(y[j]))
				j++;
			if(i - is != j - js)
				return i - is < j - js ? -1 : 1;
			int c = memcmp(x + is, y + js, i - is);
			if(c)
				return c;
			continue;
		}
		if(x[i] != y[j])
			return x[i] < y[j] ? -1 : 1;
		i++;
		j++;
	}
	if(i < an)
		return 1;
	if(j < bn)
		return -1;
	/* Equal values ("01" and "1"): byte order decides. */
	int c = memcmp(a, b, an < bn ? an : bn);
	if(c)
		return c;
	return an < bn ? -1 : an > bn;
}

/* ---- building ------------------------------------------------------------- */

struct arena {
	char *p;
	size_t len, size;
};

static bool arena_put(struct arena *a, const char *s, size_t n, uint32_t *off)
{
	if(a->len + n + 1 > TEXT_MAX)
		return false;
	if(a->len + n + 1 > a->size) {
		size_t size = a->size ? a->size : 4096;
		while(size < a->len + n + 1)
			size *= 2;
		a->p = xrealloc(a->p, size);
		a->size = size;
	}
	*off = (uint32_t)a->len;
	memcpy(a->p + a->len, s, n);
	a->p[a->len + n] = '\0';
	a->len += n + 1;
	return true;
}

struct sort_ctx {
	const char *text;
	const struct rec *recs;
};

static int ord_cmp(const void *pa, const void *pb, void *ctx)
{
	const struct sort_ctx *s = ctx;
	uint32_t ia = *(const uint32_t *)pa, ib = *(const uint32_t *)pb;
	const struct rec *a = &s->recs[ia], *b = &s->recs[ib];
	int c =
	    otd_addr_natural_cmp(s->text + a->norm, a->line1_len, s->text + b->norm, b->line1_len);
	if(c == 0)
		c = otd_addr_natural_cmp(s->text + a->norm, a->norm_len, s->text + b->norm,
		                         b->norm_len);
	if(c == 0 && a->id != b->id)
		c = a->id < b->id ? -1 : 1;
	if(c == 0 && ia != ib)
		c = ia < ib ? -1 : 1;
	return c;
}

/* A key while sorting: its first 8 bytes as a big-endian number (zero
 * padded after the NUL), so most comparisons never touch the text. */
struct sort_key {
	uint64_t prefix;
	struct key k;
};

static int sort_key_cmp(const void *pa, const void *pb, void *ctx)
{
	const char *text = ctx;
	const struct sort_key *a = pa, *b = pb;
	if(a->prefix != b->prefix)
		return a->prefix < b->prefix ? -1 : 1;
	/* Equal first 8 bytes: the rest decides, unless both ended there. */
	int c = (a->prefix & 0xff) ? strcmp(text + a->k.off + 8, text + b->k.off + 8) : 0;
	if(c == 0 && a->k.ord != b->k.ord)
		c = a->k.ord < b->k.ord ? -1 : 1;
	return c;
}

static void sort_keys(struct key *k, size_t n, const char *text)
{
	struct sort_key *s = xmalloc((n ? n : 1) * sizeof(*s));
	for(size_t i = 0; i < n; i++) {
		const unsigned char *t = (const unsigned char *)text + k[i].off;
		uint64_t p = 0;
		int j = 0;
		for(; j < 8 && t[j]; j++)
			p = p << 8 | t[j];
		s[i].prefix = p << (8 * (8 - j));
		s[i].k = k[i];
	}
	qsort_r(s, n, sizeof(*s), sort_key_cmp, (void *)text);
	for(size_t i = 0; i < n; i++)
		k[i] = s[i].k;
	free(s);
}

/* The position of the smaller ord of p and q (either may be NONE); the
 * earlier position on a tie. */
static uint32_t better(const struct keyset *ks, uint32_t p, uint32_t q)
{
	if(p == NONE)
		return q;
	if(q == NONE)
		return p;
	if(ks->k[p].ord != ks->k[q].ord)
		return ks->k[p].ord < ks->k[q].ord ? p : q;
	return p < q ? p : q;
}

static uint32_t scan_min(const struct keyset *ks, size_t lo, size_t hi)
{
	uint32_t best = NONE;
	for(size_t i = lo; i < hi; i++)
		if(best == NONE || ks->k[i].ord < ks->k[best].ord)
			best = (uint32_t)i;
	return best;
}

static void keyset_finish(struct keyset *ks, const char *text)
{
	if(ks->n > 1)
		sort_keys(ks->k, ks->n, text);
	ks->nb = (ks->n + RMQ_BLOCK - 1) / RMQ_BLOCK;
	ks->tree = xcalloc(2 * ks->nb + 1, sizeof(*ks->tree));
	for(size_t b = 0; b < ks->nb; b++) {
		size_t hi = (b + 1) * RMQ_BLOCK;
		ks->tree[ks->nb + b] = scan_min(ks, b * RMQ_BLOCK, hi < ks->n ? hi : ks->n);
	}
	for(size_t i = ks->nb; i-- > 1;)
		ks->tree[i] = better(ks, ks->tree[2 * i], ks->tree[2 * i + 1]);
}

/* The position of the smallest ord in keys [lo, hi), lo < hi. */
static uint32_t keyset_min(const struct keyset *ks, size_t lo, size_t hi)
{
	size_t bl = lo / RMQ_BLOCK, bh = (hi - 1) / RMQ_BLOCK;
	if(bl == bh)
		return scan_min(ks, lo, hi);
	uint32_t best = scan_min(ks, lo, (bl + 1) * RMQ_BLOCK);
	best = better(ks, best, scan_min(ks, bh * RMQ_BLOCK, hi));
	/* Whole blocks bl+1 .. bh-1 from the tree. */
	for(size_t l = bl + 1 + ks->nb, r = bh + ks->nb; l < r; l >>= 1, r >>= 1) {
		if(l & 1)
			best = better(ks, best, ks->tree[l++]);
		if(r & 1)
			best = better(ks, best, ks->tree[--r]);
	}
	return best;
}

static void keyset_free(struct keyset *ks)
{
	free(ks->k);
	free(ks->tree);
}

static size_t keyset_bytes(const struct keyset *ks)
{
	return ks->n * sizeof(*ks->k) + (2 * ks->nb + 1) * sizeof(*ks->tree);
}

/* Joins the normalised parts of an address: "line1 line2 town postcode ". */
static size_t join_norm(const char *const parts[4], char *buf, size_t size, size_t *line1_len)
{
	size_t n = 0;
	*line1_len = 0;
	for(int i = 0; i < 4; i++) {
		size_t k = otd_addr_normalise(parts[i], buf + n, size - n, false);
		if(i == 0)
			*line1_len = k;
		if(k) {
			n += k;
			buf[n++] = ' ';
			buf[n] = '\0';
		}
	}
	return n;
}

enum otd_status otd_addrindex_build(const struct otd_addr_entry *a, size_t n,
                                    struct otd_addrindex **out, struct otd_error *err)
{
	*out = NULL;
	if(n >= KEYS_MAX)
		return otd_error_set(err, OTD_ETOOBIG, "too_many_addresses", NULL,
		                     "The gazetteer has too many addresses to index (%zu).", n);
	struct otd_addrindex *ix = xcalloc(1, sizeof(*ix));
	struct arena ar = {0};
	struct rec *tmp = xcalloc(n ? n : 1, sizeof(*tmp));
	char *buf = NULL;
	size_t buf_size = 0;
	enum otd_status st = OTD_OK;
	size_t n_inner = 0, n_start = 0, n_post = 0;
	for(size_t i = 0; i < n; i++) {
		const char *parts[4] = {a[i].line1 ? a[i].line1 : "", a[i].line2 ? a[i].line2 : "",
		                        a[i].town ? a[i].town : "",
		                        a[i].postcode ? a[i].postcode : ""};
		size_t want = 8;
		for(int k = 0; k < 4; k++)
			want += strlen(parts[k]) + 1;
		if(want > buf_size) {
			buf_size = want * 2;
			buf = xrealloc(buf, buf_size);
		}
		struct rec *r = &tmp[i];
		r->id = a[i].id;
		size_t l1;
		size_t len = join_norm(parts, buf, buf_size, &l1);
		bool ok = arena_put(&ar, parts[0], strlen(parts[0]), &r->line1) &&
		          arena_put(&ar, parts[1], strlen(parts[1]), &r->line2) &&
		          arena_put(&ar, parts[2], strlen(parts[2]), &r->town) &&
		          arena_put(&ar, parts[3], strlen(parts[3]), &r->postcode) &&
		          arena_put(&ar, buf, len, &r->norm);
		r->norm_len = (uint32_t)len;
		r->line1_len = (uint32_t)l1;
		/* The postcode without spaces. */
		size_t pl = otd_addr_normalise(parts[3], buf, buf_size, false), m = 0;
		for(size_t k = 0; k < pl; k++)
			if(buf[k] != ' ')
				buf[m++] = buf[k];
		ok = ok && arena_put(&ar, buf, m, &r->pc);
		if(!ok) {
			st = otd_error_set(err, OTD_ETOOBIG, "gazetteer_too_big", NULL,
			                   "The gazetteer's text is too large to index.");
			goto fail;
		}
		n_start += len > 0;
		n_post += m > 0;
		for(size_t k = 1; k < len; k++)
			n_inner += ar.p[r->norm + k - 1] == ' ';
	}
	if(n_inner >= KEYS_MAX) {
		st = otd_error_set(err, OTD_ETOOBIG, "gazetteer_too_big", NULL,
		                   "The gazetteer has too many words to index.");
		goto fail;
	}
	/* Final order: addresses by ord. */
	uint32_t *perm = xcalloc(n ? n : 1, sizeof(*perm));
	for(size_t i = 0; i < n; i++)
		perm[i] = (uint32_t)i;
	struct sort_ctx sc = {ar.p, tmp};
	if(n > 1)
		qsort_r(perm, n, sizeof(*perm), ord_cmp, &sc);
	ix->recs = xcalloc(n ? n : 1, sizeof(*ix->recs));
	for(size_t i = 0; i < n; i++)
		ix->recs[i] = tmp[perm[i]];
	free(perm);
	ix->n = n;
	ix->text = ar.p;
	ix->text_len = ar.len;
	ar.p = NULL;
	/* The keys. */
	ix->start.k = xcalloc(n_start ? n_start : 1, sizeof(struct key));
	ix->inner.k = xcalloc(n_inner ? n_inner : 1, sizeof(struct key));
	ix->post.k = xcalloc(n_post ? n_post : 1, sizeof(struct key));
	for(size_t o = 0; o < n; o++) {
		const struct rec *r = &ix->recs[o];
		const char *t = ix->text + r->norm;
		if(r->norm_len)
			ix->start.k[ix->start.n++] = (struct key){r->norm, (uint32_t)o};
		for(uint32_t k = 1; k < r->norm_len; k++)
			if(t[k - 1] == ' ')
				ix->inner.k[ix->inner.n++] = (struct key){r->norm + k, (uint32_t)o};
		if(ix->text[r->pc])
			ix->post.k[ix->post.n++] = (struct key){r->pc, (uint32_t)o};
	}
	keyset_finish(&ix->start, ix->text);
	keyset_finish(&ix->inner, ix->text);
	keyset_finish(&ix->post, ix->text);
	/* The text is final: give back what the doubling over-allocated. */
	ix->text = xrealloc(ix->text, ix->text_len ? ix->text_len : 1);
	ix->bytes = sizeof(*ix) + ix->text_len + n * sizeof(*ix->recs) + keyset_bytes(&ix->start) +
	            keyset_bytes(&ix->inner) + keyset_bytes(&ix->post);
	free(tmp);
	free(buf);
	*out = ix;
	return OTD_OK;
fail:
	free(ar.p);
	free(tmp);
	free(buf);
	otd_addrindex_free(ix);
	return st;
}

void otd_addrindex_free(struct otd_addrindex *ix)
{
	if(!ix)
		return;
	keyset_free(&ix->start);
	keyset_free(&ix->inner);
	keyset_free(&ix->post);
	free(ix->recs);
	free(ix->text);
	free(ix);
}

size_t otd_addrindex_count(const struct otd_addrindex *ix)
{
	return ix ? ix->n : 0;
}

size_t otd_addrindex_bytes(const struct otd_addrindex *ix)
{
	return ix ? ix->bytes : 0;
}

/* ---- searching ------------------------------------------------------------- */

/* A range of one key set, keyed by its smallest ord at pos. */
struct seg {
	uint32_t ord, pos, lo, hi;
	const struct keyset *ks;
};

struct heap {
	struct seg *a;
	size_t n, cap;
	struct seg local[64];
};

static bool seg_less(const struct seg *x, const struct seg *y)
{
	if(x->ord != y->ord)
		return x->ord < y->ord;
	if(x->ks != y->ks)
		return x->ks < y->ks;
	return x->pos < y->pos;
}

static void heap_push(struct heap *h, const struct keyset *ks, size_t lo, size_t hi)
{
	if(lo >= hi)
		return;
	if(h->n == h->cap) {
		size_t cap = h->cap * 2;
		if(h->a == h->local) {
			h->a = xmalloc(cap * sizeof(*h->a));
			memcpy(h->a, h->local, h->n * sizeof(*h->a));
		} else {
			h->a = xrealloc(h->a, cap * sizeof(*h->a));
		}
		h->cap = cap;
	}
	uint32_t pos = keyset_min(ks, lo, hi);
	struct seg s = {ks->k[pos].ord, pos, (uint32_t)lo, (uint32_t)hi, ks};
	size_t i = h->n++;
	while(i > 0 && seg_less(&s, &h->a[(i - 1) / 2])) {
		h->a[i] = h->a[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->a[i] = s;
}

static struct seg heap_pop(struct heap *h)
{
	struct seg top = h->a[0];
	struct seg last = h->a[--h->n];
	size_t i = 0;
	for(;;) {
		size_t c = 2 * i + 1;
		if(c >= h->n)
			break;
		if(c + 1 < h->n && seg_less(&h->a[c + 1], &h->a[c]))
			c++;
		if(!seg_less(&h->a[c], &last))
			break;
		h->a[i] = h->a[c];
		i = c;
	}
	if(h->n)
		h->a[i] = last;
	return top;
}

static void heap_init(struct heap *h)
{
	h->a = h->local;
	h->n = 0;
	h->cap = sizeof(h->local) / sizeof(h->local[0]);
}

static void heap_cleanup(struct heap *h)
{
	if(h->a != h->local)
		free(h->a);
	heap_init(h);
}

struct search {
	const struct otd_addrindex *ix;
	uint32_t ords[OTD_ADDR_LIMIT_MAX];
	size_t n, limit;
	uint64_t seen[16]; /* a 1024-bit filter of the ords taken */
	const char *tokens[OTD_ADDR_TOKENS_MAX];
	size_t token_len[OTD_ADDR_TOKENS_MAX];
	bool token_whole[OTD_ADDR_TOKENS_MAX]; /* followed by a space: a whole word */
	size_t n_tokens;
};

static bool taken(const struct search *s, uint32_t ord)
{
	if(!(s->seen[(ord >> 6) & 15] >> (ord & 63) & 1))
		return false;
	for(size_t i = 0; i < s->n; i++)
		if(s->ords[i] == ord)
			return true;
	return false;
}

static void take(struct search *s, uint32_t ord)
{
	s->seen[(ord >> 6) & 15] |= (uint64_t)1 << (ord & 63);
	s->ords[s->n++] = ord;
}

/* Keys of ks in [*lo, *hi) that start with q[0..m). */
static void prefix_range(const struct keyset *ks, const char *text, const char *q, size_t m,
                         size_t *lo, size_t *hi)
{
	size_t a = 0, b = ks->n;
	while(a < b) {
		size_t mid = a + (b - a) / 2;
		if(strncmp(text + ks->k[mid].off, q, m) < 0)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	b = ks->n;
	while(a < b) {
		size_t mid = a + (b - a) / 2;
		if(strncmp(text + ks->k[mid].off, q, m) <= 0)
			a = mid + 1;
		else
			b = mid;
	}
	*hi = a;
}

/* The end of the keys in [lo, hi) equal to q (they come first). */
static size_t exact_end(const struct keyset *ks, const char *text, const char *q, size_t lo,
                        size_t hi)
{
	while(lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if(strcmp(text + ks->k[mid].off, q) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Whether (w, wl) is a word of the address's text or its postcode
 * without spaces, or with !whole the start of one. Every word of the text
 * is followed by a space. */
static bool has_word(const struct otd_addrindex *ix, const struct rec *r, const char *w, size_t wl,
                     bool whole)
{
	const char *t = ix->text + r->norm;
	for(size_t k = 0; k + wl <= r->norm_len; k++)
		if((k == 0 || t[k - 1] == ' ') && memcmp(t + k, w, wl) == 0 &&
		   (!whole || t[k + wl] == ' '))
			return true;
	const char *pc = ix->text + r->pc;
	return strncmp(pc, w, wl) == 0 && (!whole || pc[wl] == '\0');
}

/* Whether address ord has every token (but token skip, known to match). */
static bool has_all_tokens(const struct search *s, uint32_t ord, size_t skip)
{
	const struct rec *r = &s->ix->recs[ord];
	for(size_t i = 0; i < s->n_tokens; i++)
		if(i != skip &&
		   !has_word(s->ix, r, s->tokens[i], s->token_len[i], s->token_whole[i]))
			return false;
	return true;
}

static int ord_order(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Takes addresses from the ranges in h, best first, until the limit,
 * the budget or the ranges run out; with all_tokens only those having
 * every token. */
static void drain(struct search *s, struct heap *h, bool all_tokens, size_t budget)
{
	uint32_t last = NONE;
	for(size_t visits = 0; h->n && s->n < s->limit && visits < budget; visits++) {
		struct seg g = heap_pop(h);
		heap_push(h, g.ks, g.lo, g.pos);
		heap_push(h, g.ks, (size_t)g.pos + 1, g.hi);
		if(g.ord == last)
			continue; /* the same address again: equal ords pop together */
		last = g.ord;
		if(taken(s, g.ord) || (all_tokens && !has_all_tokens(s, g.ord, SIZE_MAX)))
			continue;
		take(s, g.ord);
	}
	h->n = 0;
}

/* Tier 3 when the rarest word has few keys: its addresses, narrowed by
 * each other word that has not too many keys (reading the sorted key
 * arrays only: no cache miss per address), then checked against the text
 * in ord order. The same answer as the best-first walk. */
static void words_few(struct search *s, size_t ranges[][3][2], const size_t *counts, size_t best)
{
	const struct otd_addrindex *ix = s->ix;
	const struct keyset *sets[3] = {&ix->start, &ix->inner, &ix->post};
	uint32_t cand[OTD_ADDR_WORDS_BUDGET], keep[OTD_ADDR_WORDS_BUDGET];
	size_t n = 0;
	for(int k = 0; k < 3; k++)
		for(size_t i = ranges[best][k][0]; i < ranges[best][k][1]; i++)
			cand[n++] = sets[k]->k[i].ord;
	qsort(cand, n, sizeof(*cand), ord_order);
	size_t m = 0;
	for(size_t i = 0; i < n; i++)
		if((i == 0 || cand[i] != cand[i - 1]) && !taken(s, cand[i]))
			cand[m++] = cand[i];
	n = m;
	uint64_t *bits = NULL;
	for(size_t t = 0; t < s->n_tokens && n > 0; t++) {
		/* Reading a key costs about a nanosecond; checking an address's
		 * text a couple of cache misses. */
		if(t == best || counts[t] > OTD_ADDR_FILTER_RATIO * n)
			continue;
		if(!bits)
			bits = xcalloc((ix->n + 63) / 64, sizeof(*bits));
		for(size_t i = 0; i < n; i++)
			bits[cand[i] >> 6] |= (uint64_t)1 << (cand[i] & 63);
		m = 0;
		for(int k = 0; k < 3; k++)
			for(size_t i = ranges[t][k][0]; i < ranges[t][k][1]; i++) {
				uint32_t o = sets[k]->k[i].ord;
				uint64_t bit = (uint64_t)1 << (o & 63);
				if(bits[o >> 6] & bit) {
					bits[o >> 6] &= ~bit; /* once, however many keys it has */
					keep[m++] = o;
				}
			}
		for(size_t i = 0; i < n; i++)
			bits[cand[i] >> 6] &= ~((uint64_t)1 << (cand[i] & 63));
		qsort(keep, m, sizeof(*keep), ord_order);
		memcpy(cand, keep, m * sizeof(*cand));
		n = m;
	}
	free(bits);
	/* The word filters are supersets (a whole word's postcode keys are a
	 * prefix match); the text decides. */
	for(size_t i = 0; i < n && s->n < s->limit; i++)
		if(has_all_tokens(s, cand[i], SIZE_MAX))
			take(s, cand[i]);
}

/* Tier 3: splits q into words and walks the rarest one's keys. */
static void search_words(struct search *s, struct heap *h, char *q, size_t m)
{
	const struct otd_addrindex *ix = s->ix;
	s->n_tokens = 0;
	for(size_t i = 0; i < m;) {
		size_t j = i;
		while(j < m && q[j] != ' ')
			j++;
		if(j > i) {
			if(s->n_tokens == OTD_ADDR_TOKENS_MAX)
				return; /* too many words: no tier 3 */
			s->tokens[s->n_tokens] = q + i;
			s->token_whole[s->n_tokens] = j < m; /* q[j] is a space */
			s->token_len[s->n_tokens++] = j - i;
		}
		i = j + 1;
	}
	if(s->n_tokens < 2)
		return;
	const struct keyset *sets[3] = {&ix->start, &ix->inner, &ix->post};
	size_t ranges[OTD_ADDR_TOKENS_MAX][3][2], counts[OTD_ADDR_TOKENS_MAX], best = 0;
	for(size_t t = 0; t < s->n_tokens; t++) {
		counts[t] = 0;
		for(int k = 0; k < 3; k++) {
			/* A whole word's keys go on with a space (q has it after the
			 * word); the postcode's have none. */
			size_t len = s->token_len[t] + (s->token_whole[t] && k < 2);
			prefix_range(sets[k], ix->text, s->tokens[t], len, &ranges[t][k][0],
			             &ranges[t][k][1]);
			counts[t] += ranges[t][k][1] - ranges[t][k][0];
		}
		if(counts[t] < counts[best])
			best = t;
	}
	if(counts[best] == 0)
		return;
	if(counts[best] <= OTD_ADDR_WORDS_BUDGET) {
		words_few(s, ranges, counts, best);
		return;
	}
	/* Best first, as far as the budget goes. */
	for(int k = 0; k < 3; k++)
		heap_push(h, sets[k], ranges[best][k][0], ranges[best][k][1]);
	drain(s, h, true, OTD_ADDR_WORDS_BUDGET);
}

size_t otd_addrindex_search(const struct otd_addrindex *ix, const char *query, size_t limit,
                            struct otd_addr_entry *out)
{
	if(!ix || !query || limit == 0 || ix->n == 0)
		return 0;
	if(strlen(query) >= OTD_ADDR_QUERY_BYTES)
		return 0;
	char q[OTD_ADDR_QUERY_BYTES], qc[OTD_ADDR_QUERY_BYTES];
	size_t m = otd_addr_normalise(query, q, sizeof(q), true), mc = 0;
	if(m == 0)
		return 0;
	for(size_t i = 0; i < m; i++)
		if(q[i] != ' ')
			qc[mc++] = q[i];
	qc[mc] = '\0';
	struct search s = {.ix = ix,
	                   .limit = limit < OTD_ADDR_LIMIT_MAX ? limit : OTD_ADDR_LIMIT_MAX};
	struct heap h;
	heap_init(&h);
	/* Tier 0: the postcode, exactly. */
	size_t plo, phi;
	prefix_range(&ix->post, ix->text, qc, mc, &plo, &phi);
	heap_push(&h, &ix->post, plo, exact_end(&ix->post, ix->text, qc, plo, phi));
	drain(&s, &h, false, OTD_ADDR_SCAN_BUDGET);
	/* Tier 1: the start of line1. */
	size_t lo, hi;
	if(s.n < s.limit) {
		prefix_range(&ix->start, ix->text, q, m, &lo, &hi);
		heap_push(&h, &ix->start, lo, hi);
		drain(&s, &h, false, OTD_ADDR_SCAN_BUDGET);
	}
	/* Tier 2: a later word, or the start of the postcode. */
	if(s.n < s.limit) {
		prefix_range(&ix->inner, ix->text, q, m, &lo, &hi);
		heap_push(&h, &ix->inner, lo, hi);
		heap_push(&h, &ix->post, plo, phi);
		drain(&s, &h, false, OTD_ADDR_SCAN_BUDGET);
	}
	/* Tier 3: every word somewhere. */
	if(s.n < s.limit)
		search_words(&s, &h, q, m);
	heap_cleanup(&h);
	for(size_t i = 0; i < s.n; i++) {
		const struct rec *r = &ix->recs[s.ords[i]];
		out[i] = (struct otd_addr_entry){r->id, ix->text + r->line1, ix->text + r->line2,
		                                 ix->text + r->town, ix->text + r->postcode};
	}
	return s.n;
}
