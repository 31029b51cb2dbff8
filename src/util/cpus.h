// cpus.h — how many cores this process should use by default.
#ifndef ACTLAB_UTIL_CPUS_H
#define ACTLAB_UTIL_CPUS_H

// The cores one of `local_ranks` processes on this host should use: the host's online cores divided
// among the ranks, or fewer when the process is bound to fewer (mpirun's --bind-to, a Slurm or
// taskset mask). At least 1.
int cpus_for_rank(int local_ranks);

#endif
