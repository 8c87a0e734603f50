/* Blocks in one known function for the off-CPU test: N sleeps of M ms. */
#include <stdlib.h>
#include <time.h>

__attribute__((noinline)) void pyperf_block_here(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, 0);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 50;
    long ms = argc > 2 ? atol(argv[2]) : 10;
    for (int i = 0; i < n; i++)
        pyperf_block_here(ms);
    return 0;
}
