/* A persistent thread pool for column-chunked kernels. The caller posts a job and claims chunks
 * itself alongside the workers from one atomic counter, so a worker the OS has not scheduled only
 * costs its share of the speed-up, never a stall (unlike a barrier-based OpenMP loop on a busy machine). */
#ifndef LLM_CPU_NATIVE_POOL_H
#define LLM_CPU_NATIVE_POOL_H
#include "matmul.h"

typedef struct pool pool;

/* A pool of threads-1 workers (threads >= 1), or NULL when threads cannot be started. */
pool *pool_create(int threads);
void pool_destroy(pool *p);
/* Threads actually running (the caller included). */
int pool_threads(const pool *p);
/* Runs fn over columns [0, m) in chunks of `chunk` columns on all threads; returns when all are done. */
void pool_run(pool *p, matmul_fn fn, float *out, const float *x, const void *w, int n, int k, int m, int chunk);
#endif
