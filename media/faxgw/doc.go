// Package faxgw is Switchboard's T.38 ↔ G.711 fax gateway (issue 17).
// When one leg of a call switches its fax to T.38 and the other refuses
// T.38, Switchboard answers T.38 itself toward the first leg and keeps
// G.711 audio toward the second; a Gateway converts between them:
//
//	audio leg ─RTP G.711─► media.Terminal: decode ─► Gateway.Audio(in) ─┐
//	audio leg ◄─────────── media.Terminal: encode ◄─ Gateway.Audio(out) ◄┤ t38_gateway
//	T.38 leg ─UDPTL─► Decoder (order, redundancy) ─► IFP ─► t38_core ──────┤ (spandsp)
//	T.38 leg ◄─UDPTL─ Encoder (seq, redundancy) ◄── IFP ◄───────────────────┘
//
// The DSP is spandsp's t38_gateway (libspandsp 0.0.6, Debian
// libspandsp-dev, the library codecs/ already uses for G.722): it
// demodulates the fax machine's V.21 HDLC and V.27ter/V.29/V.17 image
// data into T.38 IFP packets and modulates the IFP packets it receives
// back into tones. Its timers count audio samples, so the gateway is
// clocked by Audio, called once per 20 ms tick of the engine's playout
// clock (FrameSamples of 8 kHz PCM in and out). The IFP packets spandsp
// emits are queued in C and framed as UDPTL here after each call (no
// callback from C into Go).
//
// On a call, the audio leg's endpoint is driven by a media.Terminal whose
// tap and source are a PCM (pcm.go), and the T.38 leg's endpoint hands
// its datagrams to ReceiveUDPTL (media.Endpoint.ReceiveDatagrams) while
// the gateway sends through media.Endpoint.WriteDatagram.
//
// UDPTL framing (udptl.go, ITU-T T.38 clause 9.1) is pure Go: sequence
// numbers, the primary IFP packet and t38UDPRedundancy secondaries (sent
// as negotiated, used on receipt to recover lost datagrams); FEC is read
// for its primary packet only.
//
// Lock order: Gateway.mu alone; the send function runs under it and must
// not call back into the gateway.
//
// A build without cgo has no gateway (New fails; nocgo.go), and the
// b2bua then refuses T.38 on such a call as before.
//
// Cost: BenchmarkGateway (make bench) reports calls/core for a fax
// carried at 14400 bit/s with ECM.
package faxgw
