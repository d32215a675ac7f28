/* secret: keeps credentials out of text that came from upstream (an error
 * body, a Prometheus error or warning) before it becomes a message.
 *
 * The contract: secret_mask's output never holds a fragment of
 * SECRET_FRAGMENT bytes or more of any secret in the set (a secret shorter
 * than that: the whole secret), whatever the input and wherever the output
 * is cut. Mask first, cut afterwards: cutting masked text cannot uncover
 * anything. */
#ifndef WD_SECRET_H
#define WD_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define SECRET_FRAGMENT 5 /* shortest part of a secret that counts as the secret */
#define SECRET_MIN 4      /* shorter secrets are not masked: they would hide the text */
#define SECRET_MAX 8      /* secrets per set */
#define SECRET_MARK "<secret>"

/* The secrets to mask; the strings are not owned and must outlive the set. */
struct secret_set {
	const char *s[SECRET_MAX];
	size_t n;
	unsigned char starts[256]; /* bytes that begin some part of a secret */
};

/* Adds s to the set; NULL, short secrets and those beyond SECRET_MAX are ignored. */
void secret_set_add(struct secret_set *set, const char *s);

/* Copies the first inlen bytes of in (less if a NUL comes first) into out
 * (outlen > 0, always NUL-terminated), each run of bytes covered by
 * fragments of a secret replaced by SECRET_MARK; the result is cut to fit
 * out after masking. Should the masked text still hold a fragment (the mark
 * joined to its neighbours, or a secret that holds part of the mark), "<***>"
 * and then "?" mark it, and if it holds one still, out is a notice instead. Returns true when
 * something was masked. out may not overlap in. */
bool secret_mask(const struct secret_set *set, const char *in, size_t inlen, char *out,
		 size_t outlen);

/* True when the first len bytes of text hold a fragment of a secret. */
bool secret_leaks(const struct secret_set *set, const char *text, size_t len);

#endif
