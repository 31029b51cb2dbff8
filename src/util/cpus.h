// cpus.h — how many cores this process should use by default.
#ifndef ACTLAB_UTIL_CPUS_H
#define ACTLAB_UTIL_CPUS_H

// The cores one of `local_ranks` processes on this host should use: its CPU binding when it has one
// (mpirun or Slurm bound it to a subset of the host's cores, which is then its share), else the
// host's online cores divided among the ranks. At least 1.
int cpus_for_rank(int local_ranks);

#endif
