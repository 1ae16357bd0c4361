// Package vqreport sends RFC 6035 voice-quality session reports
// (event package vq-rtcpxr) to a collector at the end of every call with
// media, built from the call's quality record.
//
// Flow:
//
//	b2bua writes a call's CDR ──► Publisher.Observe(rec)     (call goroutine: a
//	                                   │ bounded queue          non-blocking send;
//	                                   ▼                        full queue: dropped,
//	                               worker goroutine             counted)
//	                                   │ one report per leg with media:
//	                                   │   Format(rec, leg) ── "VQSessionReport: CallTerm"
//	                                   ▼
//	                               Sender.Publish(collector, body)   PUBLISH, Event: vq-rtcpxr,
//	                                                                  Content-Type: application/vq-rtcpxr
//
// Switchboard anchors the media, so it is the reporting endpoint of both
// legs (RFC 6035 §3: any RTP endpoint or intermediate that terminates
// RTCP may report). Each leg is one session report: LocalMetrics are what
// Switchboard measured on the stream it received from the leg's peer
// (loss, discards, jitter, jitter-buffer delay, E-model MOS), RemoteMetrics
// the peer's view of the stream Switchboard sent, from the peer's RTCP
// (report blocks and XR VoIP Metrics). LocalGroup carries Switchboard's
// call id so that a collector can pair the two legs of one call.
//
// Hand-written: the format is a few text lines (RFC 6035 §4.7), and no
// maintained Go library produces it.
package vqreport
