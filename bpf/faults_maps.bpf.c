/* The faults probe's per-process map and its lost counter, made once in the
 * agent's life and never unloaded: bcc's shared tables (BPF_TABLE_PUBLIC) are
 * found by name from then on, by the faults probe's programs and, when the sched
 * probe runs too, by its switch program (bpf/faults_settle.part.c). A shared
 * table made twice keeps its first fd under the name: unloading and making it
 * again would leave that fd closed, or another map's. */
#include "common.h"
#include "faults.h"

/* BPF_TABLE_PUBLIC's two lines, with HASH_MAP's flags */
PERCPU_HASH_MAP(fault_processes, u32, struct process_faults, 16384);
__attribute__((section("maps/export"))) struct fault_processes_table_t __fault_processes;
BPF_TABLE_PUBLIC("array", int, u64, fault_lost, 1);
