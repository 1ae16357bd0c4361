// Package media anchors a call's RTP: one Endpoint per leg (an RTP socket on
// an even port and RTCP on the next), a Bridge between two endpoints that
// relays packets with their headers rewritten or runs them through the
// processing chain (transcoding, repacketization, jitter buffer,
// concealment, comfort noise, DTMF interworking, PCM taps), and the SDP a
// leg needs to describe its endpoint (ParseSDP, Session.Build,
// FilterCodecs, MatchAnswer) with every other stream of the call
// (ParseStreams, Session.SetStreams; video and T.38 relays below).
//
// # Flow
//
//	phone A                                                            phone B
//	   │ RTP (and rtcp-mux, STUN, DTLS)                                   ▲
//	   ▼                                                                  │
//	Endpoint A: RTP socket ── reactor ── demux by first byte (RFC 7983 §7)
//	   ├─ 0-3 STUN: ICE-lite Binding responder (ice.go; else dropped)
//	   ├─ 20-63 DTLS: copied to the leg's DTLS queue (dtls.go; else dropped)
//	   ├─ 128-191, type 192-223: RTCP (RFC 5761 §4) ─► rtcpstats session
//	   └─ 128-191: [SRTP unprotect, srtp.go, when SetSRTP keyed the leg]
//	               rtp.Parse (RFC 3550 §5.1) → admit (latch) → stats, lastRx
//	                    │
//	                    ▼ direction a→b handler (RTPHandler, atomic swap)
//	     ┌──────────────┴─────────────────────────────┐
//	 relay (same codec and ptime):          processor (Configure chose it):
//	   PT map → outStream.rewrite             reactor goroutine:
//	   (own SSRC, seq, ts; marker               audio/CN → jitter.Buffer.Push
//	   on change) → Endpoint B.WriteRTP         telephone-event → dtmf.Receiver
//	   [SRTP protect with B's keys]
//	   in place, 0 allocations                    → OnDigit, queue to far leg
//	                                          playout goroutine, every 20 ms:
//	                                            Pop → Decode | Conceal (loss)
//	                                            | CNDecoder (after a SID)
//	                                            → Resampler (far leg's rate)
//	                                            → taps (Tap.WritePCM)
//	                                            → Packetizer (far leg's ptime)
//	                                            → outStream.next (SSRC/seq/ts)
//	                                            → Endpoint B.WriteRTP
//	                                            + dtmf.Sender (far leg's clock)
//
//	Endpoint A: RTCP socket ── reactor → count → RTCPHandler hook
//	            (or RTCP muxed on the       → rtcpstats.Session.HandleRTCP
//	             RTP socket, RFC 5761 §4)     (never forwarded)
//
//	Engine: port pool (even ports, quarantine, warm pairs), GOMAXPROCS
//	        reactors, one sweeper goroutine (inactivity of every started
//	        bridge, quarantine expiry, closing pairs left warm for
//	        warmKeep), one RTCP goroutine (every endpoint's reports) and
//	        the playout clock (playout.go: one ticker goroutine per core,
//	        streams spread over them) that ticks every processing
//	        stream of every bridge, running only while there is one
//
// Sockets are raw non-blocking descriptors, not net.UDPConn, each served by
// one reactor (socket_linux.go): a goroutine that collects the ready
// sockets of its level-triggered epoll set and reads each once, parking in
// the Go netpoller when none is ready. A packet goes socket → parse →
// rewrite → socket on that goroutine, in place in the reactor's buffer,
// with no channel and no allocation (BenchmarkRelayPacket); one wake-up
// serves every socket that became ready meanwhile. Elsewhere (and with
// -tags portablesockets) socket_other.go serves each socket with a
// net.UDPConn and a goroutine of its own: slower, same contract. The
// codecs are C (cgo); a build without cgo relays only (process_nocgo.go).
//
// # Relay or processing
//
// Bridge.Configure takes both legs' negotiated formats (LegFormat) and
// chooses per direction: the relay when both legs have the same codec and
// ptime and the receiving leg has whatever the sending one sends
// (telephone-event at the same clock, CN), unless BridgeConfig.Process
// forces processing; the processing chain otherwise. It may be called
// again mid-call (re-INVITE). Each direction's handler sits behind an
// atomic pointer, so a switch never stops the reactor; the outgoing
// stream state is handed over explicitly between the reactor goroutine
// (the relay's owner) and the playout goroutine (the processor's), as
// process.go's "Handover" describes, so the far side sees one continuous
// stream (TestSwitchRelayProcessRelay).
//
// The playout clock is one ticker for the whole engine, not a timer per
// call; tests stop it (playout.manual) and tick it with a fake clock. A
// source whose ptime differs from the tick plays as many frames per tick
// as the tick holds (a 30 ms source: 0, 1 or 2), and the packetizer emits
// at the far leg's ptime, so ptimes are repacketized freely. Taps see each
// processed direction's PCM at the far leg's rate: the recorder and the
// conference mixer attach there (Bridge.AddTap) without changing the
// bridge; ToneMeter is the one the tests use.
//
// # Terminals and monitors
//
// A Terminal (terminal.go) is Switchboard as the far end of one leg: a
// built-in service, music on hold, a conference participant. What the leg
// sends is decoded by the processing chain up to the taps (nothing is
// encoded back); what its Source produces (source.go: Echo, Tone;
// playback.go: Player of a Clip) is encoded, packetized at the leg's
// ptime and sent with its own outStream. Both halves run on the playout
// clock, decode first, in one tick.
//
//	Endpoint ─► jitter.Buffer ─► decode/conceal/CN ─► taps (Echo, recorder, room)
//	Endpoint ◄─ outStream ◄─ Packetizer ◄─ encode ◄─ Source.ReadPCM
//
// A relayed direction whose taps must hear it (BridgeConfig.Taps, a
// recorded call) keeps the relay: the relay copies each packet into a
// monitor's jitter buffer before rewriting it (monitor.go), and the
// monitor decodes on the playout clock. The relay stays allocation-free
// (BenchmarkRelayPacketRecorded).
//
// # WebRTC legs (ice.go, dtls.go, sdp_webrtc.go)
//
// A WebRTC leg (a browser, or any peer offering UDP/TLS/RTP/SAVPF) has
// ICE-lite, DTLS-SRTP and rtcp-mux on its one RTP socket, demultiplexed
// by first byte as above; once keyed its RTP path is the SDES one.
//
//	peer (full ICE agent, controlling)             Endpoint (SetICE, StartDTLS)
//	  Binding request ─────────────────► reactor: USERNAME ours:theirs,
//	  (USE-CANDIDATE, PRIORITY)                   MESSAGE-INTEGRITY (our pwd),
//	                                              FINGERPRINT → success with
//	  ◄───────────────────────────────── XOR-MAPPED-ADDRESS; nominated →
//	                                              latch = the pair (RFC 8445 §7.3)
//	  DTLS records ────────────────────► reactor: from a checked address
//	                                              only; copy → queue (64)
//	  ◄──── flights, written to the record's source ─ pion/dtls (handshake
//	                                              goroutine; peer cert must hash
//	                                              to a=fingerprint, RFC 5763 §5)
//	                                              → ExportKeyingMaterial
//	                                              ("EXTRACTOR-dtls_srtp",
//	                                              RFC 5764 §4.2) → SetSRTP
//	  SRTP/SRTCP ◄─────────────────────► the SRTP stage (srtp.go), 0 allocs
//	  consent checks every ~5 s ───────► lastCheck; the sweeper ends the leg
//	                                     (ICEConfig.OnConsentLost) after 30 s
//	                                     without one (RFC 7675 §5.1)
//
// Until the handshake exported keys the leg sends nothing and accepts no
// RTP or RTCP (needKeys), so nothing leaves in the clear. The responder is
// ours, with pion/stun's messages, not a pion/ice Agent: an Agent owns its
// sockets and goroutines, while here the reactor owns the socket and the
// RTP path must stay allocation-free; an ICE-lite agent only answers
// checks. pion/ice's full agent is the peer of TestICELiteWithPionAgent;
// baresip's ICE that of the end-to-end tests. One
// DTLSCertificate serves the process (the fingerprint stays across
// re-INVITEs); the role follows a=setup (actpass in our offers, active in
// our answers unless the peer is active). On an ICE leg c=0.0.0.0 is a
// placeholder (RFC 8839 §4.2.1.1), not hold: the nominated pair stays
// the destination.
//
// # Port pairs
//
// The sockets belong to a port pair, not to the endpoint: an endpoint
// attaches to a pair, and the reactor hands packets to
// whichever endpoint is attached (an atomic pointer). Endpoint.Close
// detaches it (waiting until no packet is inside it) and releases the pair
// into quarantine still bound: its sockets are still read, and what
// arrives is discarded, so late packets of the old call drain instead of drawing ICMP
// port-unreachable errors, and no other process can take the port. After
// the quarantine the pair is warm: the next NewEndpoint reuses it as it is
// (warm pairs are taken before cold ports, oldest first), saving the
// close, bind and epoll registration of every call. A pair left warm for
// warmKeep (5 s) is closed by the sweeper, so an idle engine holds no
// sockets.
//
//	cold ──bind──► in use ──Close──► quarantine ──► warm ──warmKeep──► cold
//	                 ▲                 (bound,        │   (closed)
//	                 └──── NewEndpoint ── draining) ◄─┘
//
// # Output continuity
//
// Each direction sends one stream with its own random SSRC and random
// initial sequence number and timestamp (RFC 3550 §5.1). When the incoming
// source changes — a new SSRC (re-INVITE, early media → answer), a sequence
// jump beyond RFC 3550 A.1's limits, or a timestamp that runs ahead of the
// wall clock, or back, by more than a second — the offsets are recomputed so
// that the output sequence continues at +1 and the timestamp advances by the
// wall time since the previous packet, in units of the outgoing PT's clock
// (from the PayloadMap, 8000 Hz by default). The first packet after a change
// carries the marker bit.
//
// A processed direction numbers its own packets: sequence +1 per packet,
// timestamp + the packet's duration, or + the wall time after a pause in
// sending. A state handed over between relay and processing (resync)
// continues at sequence+1 with the timestamp advanced by the wall time
// since the last packet (at least one packet's duration), marker set.
//
// # Latching policy (symmetric RTP, RFC 4961)
//
// Until a source is latched, packets go to the SDP address (SetRemote).
// A valid RTP packet (version 2, consistent lengths, a PT the bridge maps)
// from a source address counts towards that address; LatchPackets (default
// 3) consecutive counted packets from the same address latch it, and from
// then on packets go to the latched address.
//
//   - Before the first latch, packets from any source are accepted and
//     relayed: media must flow at once (early media, peers behind NAT whose
//     SDP address is private).
//   - Once latched, only packets from the latched address are relayed.
//     Packets from any other address are dropped (counted as Rejected) while
//     they accumulate towards a re-latch; the packet that completes the
//     re-latch is relayed. This is rtpengine's "strict source" behaviour
//     applied after the first latch: a stray or injected packet is never
//     relayed and never moves the latch.
//   - "Consecutive" means without a packet from the latched address or from
//     a third address in between: either resets the count. A NAT rebinding,
//     where the old address falls silent, re-latches after LatchPackets
//     packets.
//   - SetRemote with a different specified address (the peer moved) drops
//     the latch: the new SDP address is used and any source is accepted
//     until the next latch. Hold (a zero or 0.0.0.0 address) sends nothing
//     and keeps the latch for the resume.
//
// # Inactivity
//
// The engine's sweeper runs every second (or a quarter of Inactivity when
// shorter). A started bridge that is not paused times out when neither of
// its endpoints accepted an RTP packet for Config.Inactivity, counted from
// the later of Start, the last resume and the last packet. The callback runs
// once, on the sweeper goroutine, and must not block.
//
// # RTCP (rtcp.go)
//
// Switchboard terminates RTCP on each leg: nothing is forwarded, and each
// endpoint with SetRTCP has its own rtcpstats.Session.
//
//	reactor: RTP accepted ──OnRTP──────────► Session (Receiver: loss, jitter)
//	         RTCP read (RTCP port, or RTP port when the second octet is
//	         192-223) ──HandleRTCP──────► Session (LSR, RTT, far view, BYE);
//	         a parse error is counted, never fatal; RTCP from a host other
//	         than the peer's RTP or a=rtcp host is counted and dropped
//	write:   RTP sent ──OnSend─────────────► Session (Sender: SR counts)
//	RTCP goroutine (one per engine, a 100 ms ticker only while some leg
//	         is queued): a min-heap of legs by next report time; each due leg
//	         sends SR (sent RTP lately) or RR, + SDES CNAME [+ XR], then is
//	         queued again at the RFC 3550 §6.3 / A.7 interval (5 s minimum,
//	         first report at half, randomised 0.5-1.5 ×, ÷ e-3/2)
//	Close:   final report + BYE (if the leg ever sent anything, §6.3.7)
//
// Reports go to the RTP destination with Mux (RFC 5761), else to the
// source of the peer's last valid RTCP (RFC 4961, same host as the RTP),
// else to a=rtcp (RFC 3605), else to the RTP port + 1. Endpoint.Quality
// and CallQuality turn the sessions into the call's quality record
// (rtcpstats.CallQuality, written inside the CDR).
//
// # Streams beside audio (issue 17)
//
// A call carries every m-line of its offer (RFC 3264 §6, §8): the audio one
// through the flow above, a video one on a second endpoint pair and
// Bridge of its own, a T.38 one on a third pair, anything else refused.
//
//	SDP body ─ pionSafe: m-lines pion/sdp refuses (media "image", proto
//	   │        "udptl", any unknown type) rewritten "m=application <port>
//	   │        UDP <fmts>", count and order kept ─► pion/sdp ─► ParseSDP
//	   │        (the audio Description, unchanged)
//	   └─ ParseStreams (own m=/c=/a= scan of the original text) ─► []Stream
//	         (every m-line, index, media, port, proto, formats, attributes)
//	Session.SetStreams([]Section) ─► Build writes the audio m-line and the
//	   sections at their indices (RejectSection: port 0; RTPSection: video;
//	   T38Section: image); BuildStreams writes the sections alone
//
//	video:  Endpoint ─ relay (PT map, outStream.rewrite, 0 allocations) ─ Endpoint
//	        RTCP terminated per leg; RelayFeedback (feedback.go) re-issues
//	        PLI, FIR and NACK toward the stream's source in its own SSRC and
//	        sequence space (direction.source, stored by the relay on change)
//	T.38:   Endpoint ─ DatagramRelay (udptl.go): every datagram as it is,
//	        latched and counted, no RTP parse, no RTCP ─ Endpoint
//
// Why not one parser for all: pion/sdp is the project's SDP parser and
// stays the one that validates a body and reads the audio. It refuses
// media types and transports outside its IANA lists (RFC 4566 §8.2.1 is
// open-ended; T.38's "image"/"udptl" come from RFC 3362), and patching
// third_party for that is more to carry than pionSafe's line rewrite.
// What the non-audio streams need (port, proto, formats, c=, a=) is a
// few lines of text per m-line, read from the original body by
// ParseStreams, so nothing of an image line is lost in the rewrite;
// FuzzParseStreams covers both.
//
// # Locks
//
// Lock order: Bridge.mu → playout.mu → playoutShard.mu → (a processor's jitter.Buffer mutex);
// Terminal.mu → Bridge.mu (its loop bridge) and Terminal.mu → playout.mu;
// a Hold takes Bridge.mu and waits, without another lock, for the
// holder's reactor to leave its packet (pair.waitIdle). Echo.mu and
// Clip.mu are leaves, taken on the playout goroutine (and Clip.mu when a
// source is prepared);
// Bridge.mu → Engine.mu; rtcpLeg.mu → rtcpClock.mu. Endpoint.remoteMu is a
// leaf, and so are the rtcpstats locks taken on the packet path. A shard's mu
// is held while a tick runs, so playout.remove returns only when no tick is
// inside the stream; a tick takes no other media lock (taps must not
// block). No endpoint or bridge lock is held on the relay path (atomics
// only); the reactor takes a jitter buffer's mutex to push. None is held
// while a timeout callback runs or while a pair's sockets close, and
// Endpoint.Close takes Engine.mu only after its pair's reactor has let go
// of it. The RTCP goroutine takes a leg's lock only after releasing
// rtcpClock.mu.
package media
