// fmt.h — number formatting shared by config files and run names.
#ifndef ACTLAB_FMT_H
#define ACTLAB_FMT_H

#include <stddef.h>

// The shortest "%g" decimal that reads back as the same value: as a float when as_float (so a
// float 3e-4 prints "0.0003", not "0.00030000001424923539"), else as a double.
void fmt_shortest(char *buf, size_t len, double x, int as_float);

#endif
