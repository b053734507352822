#ifndef TOLLGATE_CSQLITE_SHIM_H
#define TOLLGATE_CSQLITE_SHIM_H

#include <sqlite3.h>

// sqlite3_config is variadic, which Swift cannot call; these fixed-argument wrappers can.
// Both only take effect before SQLite initializes (before the first connection opens).

/// Connections open in multi-thread mode (no per-connection mutex on every API call). GRDB
/// already guarantees that one connection is used by one thread at a time.
static inline int tollgate_sqlite3_config_multithread(void) {
    return sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
}

/// No global memory statistics: otherwise every SQLite allocation takes a process-wide mutex.
static inline int tollgate_sqlite3_config_no_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

#endif
