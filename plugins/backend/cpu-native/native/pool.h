/* A persistent thread pool for chunked work (column chunks of a product, row chunks of the
 * activation quantization). The caller posts a job and claims chunks
 * itself alongside the workers from one atomic counter, so a worker the OS has not scheduled only
 * costs its share of the speed-up, never a stall (unlike a barrier-based OpenMP loop on a busy machine). */
#ifndef LLM_CPU_NATIVE_POOL_H
#define LLM_CPU_NATIVE_POOL_H
typedef struct pool pool;

/* One chunk of a job: items [c0, c1) of whatever ctx describes. */
typedef void (*pool_task)(const void *ctx, int c0, int c1);

/* A pool of threads-1 workers (threads >= 1), or NULL when threads cannot be started. */
pool *pool_create(int threads);
void pool_destroy(pool *p);
/* Threads actually running (the caller included). */
int pool_threads(const pool *p);
/* Runs task over items [0, total) in chunks of `chunk` items on all threads; returns when all are
 * done (ctx must stay valid until then). */
void pool_run(pool *p, pool_task task, const void *ctx, int total, int chunk);
#endif
