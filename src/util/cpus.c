// cpus.c — see cpus.h.
#define _GNU_SOURCE
#include "cpus.h"

#include <sched.h>
#include <unistd.h>

int cpus_for_rank(int local_ranks) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online < 1) online = 1;
    if (local_ranks < 1) local_ranks = 1;
    cpu_set_t set;
    // A mask narrower than the host is a binding someone chose (each rank bound to its cores): the
    // host's count divided by the ranks would then oversubscribe or undersubscribe it.
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        long bound = CPU_COUNT(&set);
        if (bound > 0 && bound < online) return (int)bound;
    }
    return online / local_ranks > 1 ? (int)(online / local_ranks) : 1;
}
