// fib with a pcall at every level, shared by the tests that need a
// fork-join workload with a known answer.
#ifndef BEAT_TEST_FIB_H
#define BEAT_TEST_FIB_H

typedef struct fib_arg {
    int n;
    long result;
} fib_arg;

__attribute__((unused)) static void fib_task(beat_ctx *ctx, void *p)
{
    fib_arg *a = (fib_arg *)p;
    if (a->n < 2) {
        a->result = a->n;
        return;
    }
    fib_arg x = {a->n - 1, 0}, y = {a->n - 2, 0};
    beat_pcall(ctx, fib_task, &x, fib_task, &y);
    a->result = x.result + y.result;
}

__attribute__((unused)) static long fib_serial(int n)
{
    return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2);
}

// pcalls made by fib(n): one per call with n >= 2.
__attribute__((unused)) static uint64_t fib_pcalls(int n)
{
    return n < 2 ? 0 : 1 + fib_pcalls(n - 1) + fib_pcalls(n - 2);
}

#endif // BEAT_TEST_FIB_H
