// Package journal keeps a crash-safe list of the calls that are up, so
// that a SIGKILL or a power loss loses no answered call's record.
//
//	call answered ──Up(rec)──► buffer ─┐
//	every 2 s: alive mark ─────────────┼─► one write + fsync per flush (1 s)
//	                                   ▼
//	                      <state.dir>/calls.journal  (JSON lines)
//
//	next start: Recover ── reads the journal and the records files ──►
//	            one record per call that was up and has none, marked
//	            interrupted, ending at the last alive mark ──► cdr.Writer
//
// The journal is append-only and small: one line when a call is answered
// (its record so far, ~400 bytes) and one alive mark every 2 s for all
// calls at once, written and fsynced in one batch per second, never per
// call. Ends are not journalled: a call that ended has its record in the
// records files (cdr.Writer, fsynced within 200 ms), and that is what
// Recover looks for, so a record is never written twice. When the file
// passes a size it is rewritten (atomically) with just the calls still
// up and those that ended in the last few seconds (their records may not
// be on disk yet), or all that ended while the records writer holds
// records a full disk refused (HoldEndedWhile).
package journal
