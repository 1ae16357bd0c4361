// Package dtmf holds Switchboard's DTMF building blocks: RFC 4733
// telephone-event payloads, a sender and a receiver for them, and an
// in-band dual-tone generator and detector (ITU-T Q.23 tones, Q.24 receiver
// tolerances). The media bridge combines them to convert digits between
// RFC 4733 and in-band audio, or to report them to the call.
//
//	RTP in: telephone-event                     RTP out: telephone-event
//	(seq, ts, payload)                          Packet{SendAt, Marker, Timestamp, Event}
//	      │                                               ▲
//	      ▼                                               │
//	Receiver (RFC 4733 §2.5.2)                  Sender (RFC 4733 §2.5.1)
//	Event.Unmarshal → Report                    updates, 3× end, long-event segments
//	      │                                               ▲
//	      └──── Press/Release ──►  call / bridge  ──── key, duration
//	      ┌──── Press/Release ──►  relay, convert,        │
//	      │                        report, record         ▼
//	Detector (Goertzel,                         Generator (Q.23 tone pair,
//	Q.24 tolerances) → Digit                    dBm0 levels, twist)
//	      ▲                                               │
//	      │                                               ▼
//	decoded PCM in (8/16/48 kHz)                PCM out, to encode
//
// Every type here serves one stream and is used from one goroutine: there
// are no locks, no goroutines and no clocks. Times are RTP timestamp units
// (Sender, Receiver) or sample counts (Detector); the caller owns the clock.
// Steady-state paths (Event.Marshal/Unmarshal, Sender.Next, Receiver.Push,
// Generator.Generate, Detector.Process) do not allocate.
//
// Why hand-written: no maintained Go library does this. pion has no
// telephone-event support; emiago/diago encodes and decodes the 4-byte
// payload inside its media session (8 kHz only, fixed durations, no
// segments, no receiver state machine); and there is no Go DTMF detector
// that follows the Q.24 frequency, twist and timing tolerances. The
// detector's design (a Hann-windowed Goertzel bank every 5 ms, the
// frequency offset measured from the bin's phase advance, purity,
// neighbour and second-harmonic checks) is described on Detector.
package dtmf
