/*
 * Private to analyzer/: a loop whose iterations are independent, run on
 * two threads (analyzer/par.c).  A speed technique only: a caller that
 * writes each iteration's result to its own place, and combines them in
 * index order afterwards, gets the same result as a plain loop.
 */
#ifndef CTPLAN_PAR_H
#define CTPLAN_PAR_H

#include <stddef.h>

/* workers of ctp_par_for(): per-worker scratch is indexed by worker */
#define CTP_PAR_WORKERS 2

/* fn(ud, i, worker) for every i in [0, n), each once; worker 0 takes
 * the first half in this thread, worker 1 the rest on another (or this
 * thread too, if none can start).  Returns when all are done. */
void ctp_par_for(size_t n, void (*fn)(void *ud, size_t i, unsigned worker),
		 void *ud);

#endif
