// Package b2bua is Switchboard's signaling half: a back-to-back user agent
// that terminates the caller's dialog (leg A), originates the callee's
// (leg B, forked to every registered contact or sent to a trunk) and joins
// them with a media bridge.
//
//	socket ─► readFilter ─► sipgo parser ─► transactions ─► guard(validate) ─► handler
//	                                                                             │
//	  INVITE (new) ─► identify (trusted trunk │ digest 407) ─► Call (locked) ◄───┤ in-dialog
//	                                               │  events: requests, ACKs,     │ requests,
//	                                               │  responses, timers, media    │ ACK, CANCEL
//	                                               ▼  timeouts, shutdown          │
//	      route ─► media endpoints + bridge ─► fork INVITEs ─► first 2xx wins ─► CDR at end
//
// readFilter also refuses new INVITEs while overloaded (503, overload.go).
//
// Files by role:
//   - server.go: listeners, handler table, dialog table, drain and reload.
//   - call.go: the Call type and its event dispatch. Its events (requests,
//     ACKs, responses through sipgo's response hook, timers) run one at a
//     time under the call's lock on the goroutine that delivers them.
//   - call_state.go: the call's named states (call, offer/answer, bridge,
//     each client INVITE), their transitions, and every way a call ends.
//   - call_deps.go: the narrow interfaces a Call depends on instead of
//     *Server: callHost (with callTable and requestStamp), sipSender,
//     mediaPath and mediaBridge (the seam for another media engine),
//     recordSink.
//   - call_start.go: the first event: caller leg, identity, route, media.
//   - call_uas.go: the caller's INVITE as its server: responses, 2xx
//     retransmission until ACK, CANCEL, timers.
//   - call_uac.go: the callee side: fork INVITEs, their responses,
//     CANCEL, ACK, BYE, stray 2xx.
//   - call_offer.go: SDP offer/answer per leg: answers, late offer,
//     re-INVITE relay.
//   - srtp_offer.go: SRTP per leg (SDES, RFC 4568; best effort, RFC 8643):
//     the user's or trunk's srtp policy, Switchboard's own keys per leg,
//     the 488 of required and the plain retry of srtp_fallback.
//   - call_streams.go: every m-line beside audio (issue 17), at the same
//     index on both legs: video relayed on its own endpoint pair and
//     bridge (video: relay | drop), anything else answered with port 0.
//   - call_fax.go: T.38 re-INVITEs relayed as a UDPTL stream, the T.38
//     attributes negotiated per leg, back to audio; the CDR's fax.
//   - fax_gateway.go: a T.38 re-INVITE the other leg refused, gatewayed
//     to that leg's G.711 (media/faxgw on a Terminal), torn down on the
//     way back to audio or at the end; the CDR's t38-gatewayed.
//   - call_dialog.go: in-dialog requests (BYE, re-INVITE, INFO, UPDATE).
//   - call_prack.go: reliable provisionals (RFC 3262) on each leg on its
//     own: reliable 18x to a caller that offered 100rel, PRACK to a callee
//     that requires it.
//   - call_reason.go: why a call ended, as a Reason header (RFC 3326,
//     package cause): relayed from the BYE, CANCEL or final failure that
//     ended it to the other leg, or Switchboard's own; into the CDR.
//   - call_timer.go: session timers (RFC 4028) per leg: 422, refresher
//     negotiation, our refreshes, expiry ending the call.
//   - call_refer.go: transfer by REFER (RFC 3515) done by Switchboard for
//     the transferor: a new leg to the target, NOTIFY with sipfrag
//     progress, the remaining party bridged to the new leg, the
//     transferor's leg released, the records linked (transfer_id).
//   - call_replaces.go: Replaces (RFC 3891): attended transfer (a REFER
//     naming another call's dialog: that call hands its far leg over) and
//     INVITE with Replaces from a phone taking a leg's place.
//   - call_glare.go: in-dialog robustness of relayed re-INVITEs: 491
//     retried after the RFC 3261 §14.1 timer, a failed re-INVITE keeps
//     the session in force, 481 ends the call.
//   - call_record.go: the call's CDR, opened at the INVITE, written once.
//   - loghandler.go: the lazy slog handler calls log through.
//   - udpconn_linux.go: the SIP UDP socket with raw system calls.
//   - leg.go: dialog state of one leg (RFC 3261 §12): tags, CSeq counted
//     separately for each direction, route set, remote target, and where
//     in-dialog requests go (the address the dialog came from: NAT and TCP
//     safe).
//   - service_call.go: calls Switchboard answers itself (to: echo, tone,
//     playback, conference): one leg ending in a media.Terminal, standing
//     in the bridge's slot; re-INVITEs answered here.
//   - conference.go: rooms by dialled number (mixer.Room on the playout
//     clock), each participant a terminal; the PIN by DTMF.
//   - recording.go: recording: all (route, user, trunk) → a stereo WAV and
//     sidecar from the answer to the end; repair of unfinished files.
//   - moh.go: hold: moh → the hold re-INVITE answered here, music on hold
//     to the held party (media.Bridge.Hold), the other leg untouched.
//   - router.go: ordered regex rules to user, trunk, reject or a service.
//   - trunk_tls.go: the transport toward a trunk (TLS first, auto probe).
//   - outbound.go: a user reached over one live RFC 5626 flow per instance
//     (connection open, keep-alive within Flow-Timer), a GRUU to its instance.
//   - trunk_dns.go: a trunk given by host name or with destinations:
//     RFC 3263 targets (package sipdns) and failover between them within
//     the call (failover_timeout, 503, 408), hold-down, CDR trunk_targets.
//   - trunk_eyeballs.go: Happy Eyeballs (RFC 8305) between a trunk
//     host's IPv6 and IPv4 addresses: a TCP/TLS connection race before the
//     INVITE, a short failover timer over UDP (happy_eyeballs_delay).
//   - trunk_health.go: OPTIONS pings marking destinations and trunks
//     down/up; routing passes over a down trunk.
//   - identity.go: STIR/SHAKEN (package identity): calls to a trunk with
//     identity: signed (Identity and Date headers, attestation policy),
//     calls from trunks verified (verstat on the From toward the user, the
//     CDR, identity.reject), E.164 From toward a trunk (rewrite_from).
//   - trunk_register.go: outbound registration with a carrier (digest,
//     refresh, backoff) and the carrier's calls on the registered contact.
//   - trunk_policy.go: routes by source (user, group, trunk), DIDs, and
//     route lists falling back to the next trunk.
//   - readfilter.go: raw-byte stage before sipgo's parser: answers what the
//     parser would drop (400/505/416 for RFC 4475 torture cases), frames TCP.
//   - overload.go, overload_answer.go: admission control of new calls,
//     decided in the read filter from the UDP queue's standing delay,
//     INVITEs in flight, descriptors and free RTP ports; a stateless 503
//     with Retry-After for a new INVITE past capacity, nothing else shed.
//   - validate.go: RFC 3261 §8.2 request checks (416, 420, 415, 400...).
//   - status.go: every status text and the failure mappings, in one place.
//
// Topology hiding is inherent: leg B's requests are built from scratch
// (own Call-ID, tags, CSeq, Via, Contact, User-Agent); nothing from one
// leg's Via, Contact, Record-Route, Call-ID or User-Agent reaches the other.
// SDP is rebuilt for each leg by media.Session with Switchboard's address.
//
// The trunk pingers and registration loops (one goroutine per trunk that
// has them) belong to the configuration in force: a reload stops them and
// starts the new configuration's, Close stops and waits for them. Their
// locks (trunkReg.mu, sipdns.Targets') are leaves.
//
// Lock order: Call.mu before Server.mu. Server.mu guards only the dialog,
// call and initial-INVITE tables and is never held while calling into a
// Call. An event never waits for another event of its call; callbacks that
// may run under sipgo's or the media engine's locks post from a goroutine
// of their own. A panic in a request handler becomes a 500; a panic in a
// call's event ends that call (500 or BYE, one CDR) and the process keeps
// serving.
package b2bua
