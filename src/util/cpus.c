// cpus.c — see cpus.h.
#define _GNU_SOURCE
#include "cpus.h"

#include <sched.h>
#include <unistd.h>

int cpus_for_rank(int local_ranks) {
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (online < 1) online = 1;
    if (local_ranks < 1) local_ranks = 1;
    long share = online / local_ranks > 1 ? online / local_ranks : 1;
    cpu_set_t set;
    // A mask narrower than the host is a binding someone chose. It is this rank's own when each rank
    // has its cores (--bind-to core, --map-by slot:PE=N), but ranks may also share one (bound to a
    // socket, a container's cpuset): never more than the host's share, so shared masks are not
    // oversubscribed, and never more than the mask, so a narrow binding is not either.
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        long bound = CPU_COUNT(&set);
        if (bound > 0 && bound < share) return (int)bound;
    }
    return (int)share;
}
