#ifndef CKEELPROCESS_H
#define CKEELPROCESS_H

#include <spawn.h>

/// prctl(PR_SET_DUMPABLE, 0): /proc/<pid>/environ, mem and maps become root's, and no other process of
/// the same user may ptrace this one. (prctl is variadic, so Swift cannot call it directly.)
int keel_process_set_non_dumpable(void);

/// prctl(PR_GET_DUMPABLE): 1 when dumpable, 0 when not, -1 on error.
int keel_process_is_dumpable(void);

/// posix_spawn_file_actions_addclosefrom_np (glibc 2.34): the child closes every descriptor from `from`
/// on before it runs the program. Declared only under _GNU_SOURCE, which Swift's Glibc module lacks.
int keel_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

#endif
