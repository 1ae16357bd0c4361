// Package cause is Switchboard's one place for call-failure causes: the
// mapping between SIP status codes and ITU-T Q.850 cause values (RFC 3398
// §7.2.4.1 and §8.2.6.1), the Q.850 cause names, per-trunk overrides, and
// the Reason header (RFC 3326) that carries a cause on final responses
// (RFC 6432), BYE and CANCEL.
//
// Where the B2BUA uses which direction:
//
//	caller ◄──────────── Switchboard ◄──────────── callee / trunk (leg B)
//	(leg A)
//	 final failure      RelayStatus(status, reasons)   4xx-6xx, maybe with
//	 + Reason ◄──────── status kept unless the trunk's   Reason: Q.850;cause=N
//	   Q.850;cause=N    q850_to_sip overrides N; the    (RFC 6432)
//	                    trunk's Reason relayed as is,
//	                    else ForStatus(status) added
//	                    (SIP → Q.850, §8.2.6.1)
//
//	 Switchboard fails  ToSIP(q850) when the failure is known as a Q.850
//	 a call itself  ──► cause (§7.2.4.1); ForStatus(status) when it is
//	                    known as a SIP status
//
//	 BYE ──────────────►  relayed Reason, or NormalClearing()  ──────────► BYE
//	 CANCEL ───────────►  relayed Reason, or NormalClearing()  ──────────► CANCEL
//	                     forked branches that lost: CompletedElsewhere()
//
//	 CDR: status, FromResponse(status, reasons) → (Q.850 cause, fromReason),
//	      and the side whose message ended the call
//
// The Q.850 cause of a response is the cause of its Q.850 Reason when it
// has one (the far network's cause survives end to end), otherwise the
// table's mapping of its status. RFC 3326 §2 allows one Reason value per
// protocol in a message; Format keeps the first of each, and ParseReason
// accepts several values (comma-separated or from several headers) and
// keeps them all so that Find can pick the one wanted.
//
// The tables sit in table.go, one row per Q.850 cause (its name and SIP
// status) and one per SIP status (its cause). Rows copied from RFC 3398
// are marked SourceRFC3398; the few this package corrects or fills in are
// marked SourceErratum or SourceChoice with the reason beside them.
// Values without a row use a default: a Q.850 cause the default of its
// class (Q.850's "unspecified" value of the class), a SIP status 31
// "Normal, unspecified" as RFC 3398 §8.2.6.1 says for every status it
// omits, a 2xx 16 "Normal call clearing". Per-trunk Overrides (config
// maps q850_to_sip and sip_to_q850, validated by NewOverrides) sit in
// front of the tables.
//
// Why hand-written: no maintained Go library holds these tables or parses
// the Reason header. sipgo treats Reason as an opaque header, and the Go
// packages we know of that map causes carry a few statuses each, not RFC
// 3398; Q.850 names live in C telephony stacks (Asterisk, FreeSWITCH). The
// tables are short and fixed by RFC, so a copy here, tested row by row,
// is the smaller risk.
//
// Everything here is pure and read-only: no locks, no goroutines, no
// mutable package state; an Overrides is immutable once built.
package cause
