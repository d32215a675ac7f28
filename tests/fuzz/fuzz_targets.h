/* fuzz_targets: one entry point per fuzzed input format. Linked into the
 * libFuzzer binaries (make fuzz) and into test_fuzz_corpus, which replays the
 * seed corpora and every past crash under make check. */
#ifndef WD_FUZZ_TARGETS_H
#define WD_FUZZ_TARGETS_H

#include <stddef.h>
#include <stdint.h>

int fuzz_prom_response(const uint8_t *data, size_t size);
int fuzz_prom_answer(const uint8_t *data, size_t size);
int fuzz_config(const uint8_t *data, size_t size);
int fuzz_duration(const uint8_t *data, size_t size);
int fuzz_state(const uint8_t *data, size_t size);

#endif
