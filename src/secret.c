/* secret: masking credentials in upstream text (see secret.h for the
 * contract). A byte is covered when a window of SECRET_FRAGMENT bytes (the
 * whole secret if shorter) that equals part of a secret starts at most that
 * many bytes before it; covered runs become one mark each. The scan is
 * linear in the input times the secrets' lengths, and stops once out is full. */
#include "secret.h"

#include <string.h>

static const char withheld[] = "(text withheld: it quotes a credential)";

void secret_set_add(struct secret_set *set, const char *s)
{
	if (!s || strlen(s) < SECRET_MIN || set->n == SECRET_MAX)
		return;
	set->s[set->n++] = s;
	for (; *s; s++)
		set->starts[(unsigned char)*s] = 1;
}

/* The length of the window of secret s matched at text (len bytes left), or
 * 0 when no part of s of window length starts there. */
static size_t match_at(const char *s, const char *text, size_t len)
{
	size_t sl = strlen(s), w = sl < SECRET_FRAGMENT ? sl : SECRET_FRAGMENT;
	if (len < w)
		return 0;
	for (size_t j = 0; j + w <= sl; j++)
		if (s[j] == text[0] && memcmp(s + j, text, w) == 0)
			return w;
	return 0;
}

static size_t covered_to(const struct secret_set *set, const char *text, size_t i, size_t len,
			 size_t until)
{
	if (!set->starts[(unsigned char)text[i]])
		return until;
	for (size_t k = 0; k < set->n; k++) {
		size_t w = match_at(set->s[k], text + i, len - i);
		if (w && i + w > until)
			until = i + w;
	}
	return until;
}

bool secret_leaks(const struct secret_set *set, const char *text, size_t len)
{
	for (size_t i = 0; set && i < len; i++)
		if (covered_to(set, text, i, len, 0))
			return true;
	return false;
}

/* secret_mask with a given mark; true when something was masked. */
static bool mask_with(const struct secret_set *set, const char *mark, const char *in,
		      size_t inlen, char *out, size_t outlen)
{
	const size_t ml = strlen(mark);
	size_t o = 0, until = 0;
	bool masked = false, in_run = false;
	for (size_t i = 0; i < inlen && o + 1 < outlen; i++) {
		if (set)
			until = covered_to(set, in, i, inlen, until);
		if (i < until) {
			if (!in_run) {
				size_t n = o + ml < outlen ? ml : outlen - 1 - o;
				memcpy(out + o, mark, n);
				o += n;
				in_run = masked = true;
			}
			continue;
		}
		in_run = false;
		out[o++] = in[i];
	}
	out[o] = '\0';
	return masked;
}

bool secret_mask(const struct secret_set *set, const char *in, size_t inlen, char *out,
		 size_t outlen)
{
	/* The second mark and the notice serve secrets that hold part of the
	 * first mark (a token ending in "secret"): the result must not either. */
	static const char *const marks[] = {SECRET_MARK, "<***>", "?"};
	if (!outlen)
		return false;
	inlen = in ? strnlen(in, inlen) : 0;
	bool masked = false;
	for (size_t m = 0; m < sizeof(marks) / sizeof(*marks); m++) {
		masked = mask_with(set, marks[m], in, inlen, out, outlen);
		if (!masked || !secret_leaks(set, out, strlen(out)))
			return masked;
	}
	const char *notice = secret_leaks(set, withheld, sizeof(withheld) - 1) ? "?" : withheld;
	size_t n = strlen(notice) < outlen - 1 ? strlen(notice) : outlen - 1;
	memcpy(out, notice, n);
	out[n] = '\0';
	return masked;
}
