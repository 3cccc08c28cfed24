/*
 * Private to analyzer/: the large zeroed arrays of one model run (the
 * hash model's bucket counters and fingerprint set), mapped and unmapped
 * directly rather than through malloc; bigmem.c says why.  The size
 * given to ctp_big_free() is the size given to ctp_big_zalloc().
 */
#ifndef CTPLAN_BIGMEM_H
#define CTPLAN_BIGMEM_H

#include <stddef.h>

/* size bytes, zeroed and already faulted in; NULL when out of memory */
void *ctp_big_zalloc(size_t size);
/* p may be NULL */
void ctp_big_free(void *p, size_t size);

#endif
