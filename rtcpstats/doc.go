// Package rtcpstats measures one leg's RTP session and speaks its RTCP:
// receiver statistics (RFC 3550 A.1, A.3, A.8), sender counts, SR/RR/SDES/BYE
// generation and parsing (via github.com/pion/rtcp), round-trip time from
// LSR/DLSR (RFC 3550 §6.4.1) and RRTR/DLRR (RFC 3611 §4.4–4.5), RTCP XR
// Statistics Summary and VoIP Metrics blocks (RFC 3611 §4.6–4.7) with
// burst/gap metrics (§4.7.2), an ITU-T G.107 E-model giving R and MOS, and
// a Snapshot for the per-call quality record.
//
// The B2BUA terminates RTCP on each leg, so each leg has its own Session.
//
//	socket reader ──OnRTP(rtp.Header,len,t)──► Receiver ── A.3 seq/loss, A.8 jitter,
//	(RTP in)                                      │          §4.7.2 bursts, §4.6 interval
//	jitter buffer ──Receiver().Discard()─────────►┘
//	socket writer ──OnSend(ts,len,t)──────────► Sender ──── packets, octets, last ts
//	(RTP out)
//	                                     ┌──── Receiver.Report (closes interval)
//	RTCP ticker ──ReportPackets(now)─────┤     Sender.Info (SR sender info)
//	(RTCP out)     AppendReport          └──► SR|RR + SDES CNAME [+ XR: RRTR, DLRR,
//	               AppendBye (+ BYE)            Stats Summary, VoIP Metrics(R, MOS)]
//
//	RTCP reader ──HandleRTCP(buf, t)──► pion rtcp.Unmarshal ──► SR: LSR/DLSR state
//	(RTCP in)                                     report block / DLRR: RTT
//	                                              RRTR: our next DLRR; SDES; BYE
//	                                              XR VoIP Metrics: peer's view
//
//	anyone ──Snapshot()──► Receiver.Stats + Sender.Stats + RTT ──► E-model ──► Snapshot (JSON)
//	       ──LegQuality(leg)──► Snapshot + PlayoutStats ──► LegQuality ──┐
//	                                          CallQuality{Legs} ◄────────┘ (inside the CDR)
//	processing path ──SetPlayoutStats / SetPlayout / Receiver().Discard──► Session
//	endpoint ──SetSSRC, SetXR, SetCodec (re-INVITE)──► Session
//	RTCP scheduler ──Interval (RFC 3550 A.7), AvgSize (§6.3.3)──► next report time
//
// Times are always passed in by the caller (arrival, now), so tests use
// fixed clocks and nothing here reads the wall clock.
//
// Lock order: Session.mu, Receiver.mu and Sender.mu are never held
// together. Session.mu also guards the session's mutable configuration
// (SSRC, XR, codec). Session methods copy what they need from the Receiver and the
// Sender (each under its own lock) before taking Session.mu, and call
// nothing that locks while holding it.
package rtcpstats
