/* diff: line-based unified diff; see diff.h. The common head and tail are
 * cut first (a dry run's changes are a few weight lines), then the middle is
 * aligned by the longest common subsequence. A middle too large for the
 * table is shown as all removed, then all added: still a correct patch. */
#include "diff.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define CONTEXT 3
#define MAX_TABLE_CELLS (4u << 20)

struct lines {
	const char **p; /* start of each line */
	size_t *len;    /* its length, newline excluded */
	size_t n;
	bool last_nl;   /* the text ends with a newline (or is empty) */
};

static void split(const char *s, struct lines *l)
{
	size_t cap = 0;
	memset(l, 0, sizeof(*l));
	l->last_nl = true;
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		size_t c = cap;
		l->p = util_grow(l->p, &c, l->n + 1, sizeof(*l->p), 64);
		l->len = util_grow(l->len, &cap, l->n + 1, sizeof(*l->len), 64);
		l->p[l->n] = s;
		l->len[l->n++] = len;
		l->last_nl = nl != NULL;
		s += len + (nl ? 1 : 0);
	}
}

static bool same(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0 &&
	       (i + 1 < a->n || a->last_nl) == (j + 1 < b->n || b->last_nl);
}

/* One edit script entry: ' ' both, '-' a only, '+' b only. */
struct op {
	char kind;
	size_t i, j;
};

/* The edit script for a[lo_a..hi_a) against b[lo_b..hi_b), appended to ops. */
static size_t align(const struct lines *a, size_t lo_a, size_t hi_a, const struct lines *b,
		    size_t lo_b, size_t hi_b, struct op *ops, size_t k)
{
	size_t n = hi_a - lo_a, m = hi_b - lo_b;
	if (n && m && (n + 1) * (m + 1) <= MAX_TABLE_CELLS) {
		/* t[i][j]: LCS length of a[lo_a+i..hi_a) and b[lo_b+j..hi_b). */
		unsigned *t = xcalloc((n + 1) * (m + 1), sizeof(*t));
#define T(i, j) t[(i) * (m + 1) + (j)]
		for (size_t i = n; i-- > 0;)
			for (size_t j = m; j-- > 0;)
				T(i, j) = same(a, lo_a + i, b, lo_b + j)
						  ? T(i + 1, j + 1) + 1
						  : (T(i + 1, j) >= T(i, j + 1) ? T(i + 1, j) : T(i, j + 1));
		size_t i = 0, j = 0;
		while (i < n || j < m) {
			if (i < n && j < m && same(a, lo_a + i, b, lo_b + j)) {
				ops[k++] = (struct op){' ', lo_a + i++, lo_b + j++};
			} else if (j < m && (i == n || T(i, j + 1) > T(i + 1, j))) {
				ops[k++] = (struct op){'+', lo_a + i, lo_b + j++};
			} else {
				ops[k++] = (struct op){'-', lo_a + i++, lo_b + j};
			}
		}
#undef T
		free(t);
		return k;
	}
	for (size_t i = lo_a; i < hi_a; i++)
		ops[k++] = (struct op){'-', i, lo_b};
	for (size_t j = lo_b; j < hi_b; j++)
		ops[k++] = (struct op){'+', hi_a, j};
	return k;
}

static void add_line(struct util_buf *out, char kind, const struct lines *l, size_t i)
{
	util_buf_add(out, &kind, 1);
	util_buf_add(out, l->p[i], l->len[i]);
	util_buf_add(out, "\n", 1);
	if (i + 1 == l->n && !l->last_nl)
		util_buf_add(out, "\\ No newline at end of file\n", 28);
}

/* A hunk's range as diff -u writes it: start,count (start is the line
 * before when count is 0). */
static void range(char *buf, size_t len, size_t start, size_t count)
{
	if (count == 1)
		snprintf(buf, len, "%zu", start + 1);
	else
		snprintf(buf, len, "%zu,%zu", count ? start + 1 : start, count);
}

static void hunks(struct util_buf *out, const struct op *ops, size_t k, const struct lines *a,
		  const struct lines *b)
{
	size_t at = 0;
	while (at < k) {
		while (at < k && ops[at].kind == ' ')
			at++;
		if (at == k)
			break;
		size_t start = at >= CONTEXT ? at - CONTEXT : 0, end = at;
		/* Extend while the next change is within two contexts of this one. */
		for (size_t e = at; e < k; e++) {
			if (ops[e].kind == ' ')
				continue;
			if (e - end > 2 * CONTEXT)
				break;
			end = e + 1;
		}
		end = end + CONTEXT < k ? end + CONTEXT : k;
		size_t na = 0, nb = 0;
		for (size_t e = start; e < end; e++) {
			na += ops[e].kind != '+';
			nb += ops[e].kind != '-';
		}
		char ra[48], rb[48], hdr[128];
		range(ra, sizeof(ra), ops[start].i, na);
		range(rb, sizeof(rb), ops[start].j, nb);
		int hl = snprintf(hdr, sizeof(hdr), "@@ -%s +%s @@\n", ra, rb);
		util_buf_add(out, hdr, (size_t)hl);
		for (size_t e = start; e < end; e++) {
			if (ops[e].kind == '+')
				add_line(out, '+', b, ops[e].j);
			else
				add_line(out, ops[e].kind, a, ops[e].i);
		}
		at = end;
	}
}

char *diff_unified(const char *a_text, const char *b_text, const char *label_a,
		   const char *label_b)
{
	if (strcmp(a_text, b_text) == 0)
		return xstrdup("");
	struct lines a, b;
	split(a_text, &a);
	split(b_text, &b);
	size_t head = 0, tail = 0;
	while (head < a.n && head < b.n && same(&a, head, &b, head))
		head++;
	while (tail < a.n - head && tail < b.n - head && same(&a, a.n - 1 - tail, &b, b.n - 1 - tail))
		tail++;
	struct op *ops = xcalloc(a.n + b.n + 1, sizeof(*ops));
	size_t k = 0;
	for (size_t i = 0; i < head; i++)
		ops[k++] = (struct op){' ', i, i};
	k = align(&a, head, a.n - tail, &b, head, b.n - tail, ops, k);
	for (size_t t = tail; t > 0; t--)
		ops[k++] = (struct op){' ', a.n - t, b.n - t};
	struct util_buf out = {0};
	char hdr[1024];
	int hl = snprintf(hdr, sizeof(hdr), "--- %s\n+++ %s\n", label_a, label_b);
	util_buf_add(&out, hdr, (size_t)hl < sizeof(hdr) ? (size_t)hl : sizeof(hdr) - 1);
	hunks(&out, ops, k, &a, &b);
	free(ops);
	free(a.p);
	free(a.len);
	free(b.p);
	free(b.len);
	return out.p;
}
