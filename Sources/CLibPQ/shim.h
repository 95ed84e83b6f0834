#ifndef KEEL_CLIBPQ_SHIM_H
#define KEEL_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
