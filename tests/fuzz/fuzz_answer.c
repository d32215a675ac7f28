/* fuzz_answer: libFuzzer entry for the error-message path (see fuzz_targets.c). */
#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_prom_answer(data, size);
}
