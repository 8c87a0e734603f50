/* Spins in one known function for the profile test. */
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

__attribute__((noinline)) void pyperf_spin_here(double seconds)
{
    double end = now() + seconds;
    volatile unsigned long x = 0;
    while (now() < end)
        for (int i = 0; i < 10000; i++)
            x += i;
}

int main(int argc, char **argv)
{
    pyperf_spin_here(argc > 1 ? atof(argv[1]) : 2.0);
    return 0;
}
