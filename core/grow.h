/*
 * Growing an array by doubling, shared by the library's modules (private:
 * core/ is not installed).
 */
#ifndef CTPLAN_GROW_H
#define CTPLAN_GROW_H

#include <stddef.h>

/*
 * Make *ptr, an array of *cap elements of elem bytes, hold at least need:
 * the capacity doubles (from 16) until it does.  0, or CTP_ENOMEM with
 * *ptr and *cap unchanged.
 */
int ctp_grow(void **ptr, size_t *cap, size_t need, size_t elem);

#endif
