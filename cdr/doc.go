// Package cdr writes call detail records: one JSON line per call, appended
// to a daily file, by one goroutine behind a bounded queue.
//
//	call ends ─► Writer.Write(Record) ─► queue (4096) ─► writer goroutine
//	                │ full for 2 s                        │ batch ≤ 256
//	                ▼                                     ▼
//	       Dropped()++ and the record        <dir>/cdr-YYYY-MM-DD.jsonl
//	       logged at error level             append, then fsync at most every 200 ms
//
// Times are RFC 3339 in UTC with milliseconds; a record goes in the file of
// its End date. Disposition maps the final status to answered, busy,
// no-answer, cancelled or failed. A call with media carries its quality
// record (rtcpstats.CallQuality: per leg, what Switchboard received and
// what the peer reported of what it sent) in the same line, under
// "quality".
//
// Locks: Writer.mu (RWMutex) is held shared while Write hands a record to the
// queue and exclusively while Close closes it, so no record is sent on a
// closed queue. The writer goroutine's file state is owned by that goroutine.
package cdr
