// Package sipcorpus runs the SIP torture corpora (RFC 4475 and RFC 5118)
// against a listening SIP server and classifies what comes back, so the
// in-process server test (b2bua) and the end-to-end test of the real binary
// (test/) share one runner.
//
//	dir/expect.tsv ─┐                       ┌─ Plan: every case over UDP, then
//	dir/*/EXPECTA-  ├─► Load ─► []Case ─────┤  TCP, each on an instance that has
//	  TIONS.tsv     │  (cross-checked)      │  not seen its transaction key
//	dir/<file>  ────┘                       └─► []Send (+ Probes: OPTIONS each)
//	                                                 │
//	   addr(instance, transport) ─► Client.Run ─► Exchange: dial, write, read
//	                                                 │   finals / 1xx / close
//	                                                 ▼
//	                                 []Result ─► Matches(want, got) ─► Table
//
// Outcomes are strings: a final status code ("400"), "1xx" when only a
// provisional came back, "drop" (no answer; on TCP the connection stays
// open), "close" (the server closed the connection), joined by "+" in the
// order one stream produces them (codes sorted). An expectation may also say
// "accept" (any answer that is not a rejection) and, on TCP, "wait" (no
// answer yet: the message is incomplete).
//
// The expectations file is tab-separated with the columns file, udp, tcp,
// server and note; lines starting with "#" and the first other line (the
// column names) are skipped. Load checks it against the corpus' own
// EXPECTATIONS.tsv files: every message has a row, and where the RFC names
// status codes, every code we expect is one of them.
//
// The package has no locks and no goroutines; a Client is used from one
// goroutine at a time.
package sipcorpus
