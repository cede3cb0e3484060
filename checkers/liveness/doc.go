// Package liveness checks that after faults heal, the cluster accepts and
// serves writes again within a stated bound, and reports the time to
// recover.
//
// # Definition
//
// Let H be the last heal time the scenario passes (Options.HealTimes; with
// none, the history's first invoke) and B the bound (Options.Bound, default
// 10 s). For each partition:
//
//   - write recovery: the time from H to the first ok send completing at or
//     after H;
//   - read recovery: the time from H to the first ok poll completing at or
//     after H that returned at least one record.
//
// A partition is judged only on what the workload asked of it after H: on
// writes if some send to it was invoked at or after H, on reads if some poll
// of it was invoked at or after H and some record of it is known to exist
// (an empty partition is right to return nothing). A judged recovery
// passes within B; it fails (anomaly kind "liveness") if it took longer, or
// never happened although the history continued more than B after H; it is
// unknown if it never happened but the history ended before B elapsed. The
// overall recovery (the first success on any partition) is reported too.
// If no partition was judged, the verdict is unknown.
//
// Times are the records' times: virtual time in simulation; in real runs
// they are comparable only within one process, so use a single client's
// clock (or a simulated run) for this check.
//
// Ownership and imports: this package imports history and
// checkers/verdict only, and does no I/O.
package liveness
