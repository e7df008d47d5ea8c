/* Job protocol (as the wasm pool in ../cpu/thread-pool.ts): `next` is a claim counter; job J's
 * chunk c is the claim value base_J + c. Each job's base lies past every value the previous job's
 * counter can reach (its chunks plus one failed claim per thread), so a late claim against an old
 * job is rejected, never taken for a new one. The caller posts params, base, chunks, then opens
 * `next`; a claimer reads chunks before base (the reverse order), so it never pairs an old base
 * with new chunks. A job ends when `done` reaches its chunk count; params stay put until then. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "pool.h"

#define SPIN 20000

struct pool {
  int threads;
  pthread_t *tids;
  pthread_mutex_t mu;
  pthread_cond_t wake, done_cv;
  pool_task task;
  const void *ctx;
  int total, chunk;
  atomic_int gen, next, done, stop, base, chunks;
  int next_base;
};

/* Claims and runs chunks until a claim fails; returns how many it ran. */
static int work(pool *p) {
  int ran = 0;
  for (;;) {
    int claim = atomic_fetch_add(&p->next, 1);
    int chunks = atomic_load(&p->chunks);
    int c = (int)((unsigned)claim - (unsigned)atomic_load(&p->base));
    if (c < 0 || c >= chunks) return ran;
    int c0 = c * p->chunk, c1 = c0 + p->chunk < p->total ? c0 + p->chunk : p->total;
    p->task(p->ctx, c0, c1);
    ran++;
    if (atomic_fetch_add(&p->done, 1) + 1 == chunks) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done_cv);
      pthread_mutex_unlock(&p->mu);
    }
  }
}

static void *worker(void *arg) {
  pool *p = (pool *)arg;
  int seen = 0;
  for (;;) {
    int g = atomic_load(&p->gen);
    for (int i = 0; g == seen && i < SPIN; i++) g = atomic_load(&p->gen);
    if (g == seen) {
      pthread_mutex_lock(&p->mu);
      while ((g = atomic_load(&p->gen)) == seen) pthread_cond_wait(&p->wake, &p->mu);
      pthread_mutex_unlock(&p->mu);
    }
    seen = g;
    if (atomic_load(&p->stop)) return NULL;
    work(p);
  }
}

pool *pool_create(int threads) {
  pool *p = calloc(1, sizeof *p);
  if (!p) return NULL;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->wake, NULL);
  pthread_cond_init(&p->done_cv, NULL);
  p->tids = calloc(threads > 1 ? threads - 1 : 1, sizeof(pthread_t));
  p->threads = 1;
  for (int i = 0; i < threads - 1; i++) {
    if (pthread_create(&p->tids[i], NULL, worker, p) != 0) break;
    p->threads++;
  }
  return p;
}

int pool_threads(const pool *p) { return p->threads; }

void pool_destroy(pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  atomic_store(&p->stop, 1);
  atomic_fetch_add(&p->gen, 1);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->threads - 1; i++) pthread_join(p->tids[i], NULL);
  free(p->tids);
  free(p);
}

void pool_run(pool *p, pool_task task, const void *ctx, int total, int chunk) {
  int chunks = (total + chunk - 1) / chunk;
  if (p->threads == 1 || chunks <= 1) {
    task(ctx, 0, total);
    return;
  }
  p->task = task;
  p->ctx = ctx;
  p->total = total;
  p->chunk = chunk;
  int base = p->next_base;
  p->next_base = (int)((unsigned)base + (unsigned)chunks + (unsigned)p->threads + 1u);
  atomic_store(&p->done, 0);
  atomic_store(&p->base, base);
  atomic_store(&p->chunks, chunks);
  atomic_store(&p->next, base);
  pthread_mutex_lock(&p->mu);
  atomic_fetch_add(&p->gen, 1);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  work(p);
  /* Outstanding chunks are ones a worker claimed and is running now. */
  for (int i = 0; atomic_load(&p->done) < chunks && i < SPIN; i++) {}
  if (atomic_load(&p->done) < chunks) {
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->done) < chunks) pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
  }
}
