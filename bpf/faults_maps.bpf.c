/* The faults probe's per-process map and its lost counter, made once in the
 * agent's life and never unloaded: bcc's shared tables (BPF_TABLE_PUBLIC) are
 * found by name from then on, by the faults probe's programs and, when the sched
 * probe runs too, by its switch program (bpf/faults_settle.part.c). A shared
 * table made twice keeps its first fd under the name: unloading and making it
 * again would leave that fd closed, or another map's. */
#include "faults.h"

BPF_TABLE_PUBLIC("percpu_hash", u32, struct process_faults, fault_processes, 16384);
BPF_TABLE_PUBLIC("array", int, u64, fault_lost, 1);
