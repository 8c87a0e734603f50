// Known functions for the symbol tests: a C++ one (mangled), a static one (only
// in .symtab), one with a body big enough to look up addresses inside it; then
// it sleeps until killed so its mappings can be read.
#include <unistd.h>

namespace pyperf_ns {
struct Widget {
    __attribute__((noinline)) long spin(long n);
};
long Widget::spin(long n)
{
    volatile long x = 0;
    for (long i = 0; i < n; i++)
        x += i * 3;
    return x;
}
}

__attribute__((noinline)) static long pyperf_static_helper(long n)
{
    volatile long y = n;
    return y * 2;
}

extern "C" __attribute__((noinline)) long pyperf_exported(long n)
{
    return pyperf_static_helper(n) + 1;
}

int main()
{
    pyperf_ns::Widget w;
    pyperf_exported(w.spin(10));
    for (;;)
        pause();
}
