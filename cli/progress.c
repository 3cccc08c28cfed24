/*
 * Progress on stderr for long runs: once a run has taken more than a
 * second, a status line (phase, bytes read, entries read so far, copies
 * across inputs included, and elapsed seconds)
 * redrawn in place four times a second, and erased at the end.  Only
 * when stderr is a terminal: never in pipes, files or CI logs.
 *
 * A ticker thread draws, so the line moves also while a model runs;
 * the parser's progress callback (ctp_parse_opts.progress) feeds the
 * counts from the parsing thread.  One mutex orders the line against
 * diagnostics, which erase it before they print.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct cli_progress {
	pthread_t tid;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, shown;
	const char *phase;
	uint64_t bytes, entries;
	const ctp_snapshot *snap;
	struct timespec t0;
};

static double elapsed(const cli_progress *p)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - p->t0.tv_sec) +
	       (double)(t.tv_nsec - p->t0.tv_nsec) / 1e9;
}

/* caller holds mu */
static void draw(cli_progress *p)
{
	double s = elapsed(p);

	if (s < 1.0)
		return;
	fprintf(stderr, "\r\033[Kctplan: %s: %.1f MiB read, %llu entries "
			"read, %.0f s",
		p->phase, (double)p->bytes / (1024.0 * 1024.0),
		(unsigned long long)p->entries, s);
	fflush(stderr);
	p->shown = 1;
}

/* caller holds mu */
static void erase(cli_progress *p)
{
	if (p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->shown = 0;
	}
}

static void *ticker(void *arg)
{
	cli_progress *p = arg;
	struct timespec until;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000 * 1000;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cv, &p->mu, &until);
		if (!p->stop)
			draw(p);
	}
	erase(p);
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

cli_progress *cli_progress_start(const ctp_snapshot *snap)
{
	cli_progress *p;

	if (!isatty(STDERR_FILENO))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->snap = snap;
	p->phase = "reading";
	clock_gettime(CLOCK_MONOTONIC, &p->t0);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pthread_create(&p->tid, NULL, ticker, p)) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		free(p);
		return NULL;
	}
	return p;
}

void cli_progress_bytes(void *ud, uint64_t bytes)
{
	cli_progress *p = ud;
	size_t n;

	if (!p)
		return;
	/* the parsing thread: the snapshot is not being written now */
	n = ctp_snapshot_flow_count(p->snap);
	pthread_mutex_lock(&p->mu);
	p->bytes += bytes;
	p->entries = n;
	pthread_mutex_unlock(&p->mu);
}

void cli_progress_phase(cli_progress *p, const char *phase)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->phase = phase;
	pthread_mutex_unlock(&p->mu);
}

void cli_progress_hold(cli_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	erase(p);
}

void cli_progress_release(cli_progress *p)
{
	if (p)
		pthread_mutex_unlock(&p->mu);
}

void cli_progress_stop(cli_progress *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->tid, NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
