/*
 * Large zeroed arrays (bigmem.h), apart from the hash model that uses
 * them (this was part of analyzer/hash.c): how they are mapped is a
 * matter of memory, not of the model.
 *
 * The large zeroed arrays of one run (bucket counters, the fingerprint
 * set) are mapped and unmapped directly.  Through malloc, freeing one
 * raised glibc's mmap threshold, so the arrays after it came from the
 * heaps, the workers' own among them, and stayed in the process once
 * freed: 48 MiB more at the peak of 4M entries.  Under AddressSanitizer
 * they come from calloc, so overruns are still caught.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stdlib.h>
#include <sys/mman.h>

#include "bigmem.h"

#if defined(MAP_ANONYMOUS) && !defined(__SANITIZE_ADDRESS__)
void *ctp_big_zalloc(size_t size)
{
	/* MAP_POPULATE: every page of these arrays is written, and
	 * faulting them in one by one cost more: a page first read maps
	 * the shared zero page, and the write after it replaces that with
	 * a TLB flush across both threads (ptep_clear_flush, about 6% of a
	 * 1M analysis under perf) */
	void *p = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void ctp_big_free(void *p, size_t size)
{
	if (p)
		munmap(p, size ? size : 1);
}
#else
void *ctp_big_zalloc(size_t size)
{
	return calloc(1, size ? size : 1);
}

void ctp_big_free(void *p, size_t size)
{
	(void)size;
	free(p);
}
#endif
