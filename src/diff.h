/* diff: a unified diff of two texts, line by line, as diff -u prints it, so
 * an operator can read it or feed it to patch. Pure: no I/O. */
#ifndef WD_DIFF_H
#define WD_DIFF_H

/* The unified diff (3 lines of context) turning a into b, with the headers
 * "--- label_a" and "+++ label_b", in a new string the caller frees; "" when
 * a and b are the same. A last line without a newline is marked as diff
 * marks it ("\ No newline at end of file"). */
char *diff_unified(const char *a, const char *b, const char *label_a, const char *label_b);

#endif
