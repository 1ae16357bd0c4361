// Package codecs turns RTP audio payloads into PCM and back: one Codec
// interface, a Registry keyed by SDP rtpmap, G.711 (PCMU, PCMA), G.722,
// Opus and L16, loss concealment, Opus in-band FEC, packetization, and
// (resample.go, g711plc.go, cn*.go, vad.go) resampling, G.711 Appendix I
// PLC, comfort noise and voice activity detection.
//
// A processing bridge pushes each leg through it, paced by the playout tick:
//
//	SDP rtpmap+fmtp ──Registry.Lookup──► Codec ◄──ParseFmtp── a=fmtp
//	                                       │ NewDecoder(Params) / NewEncoder(Params)
//	                                       ▼
//	RTP payload ─► jitter ─► Decoder.Decode ──► PCM (mono int16, SampleRate) ─┐
//	      lost ──► FECDecoder.DecodeFEC(next) or Concealer.Conceal ──► PCM ──┤
//	                                                                          ▼
//	                                       Resampler (8/16/48 kHz) ─► taps (record, mix, VAD)
//	                                                                          │
//	RTP payload ◄─ Packetizer (emits every ptime) ◄─ Encoder.Encode ◄─────────┘
//
// All PCM is mono, signed 16-bit. A Codec is immutable and shareable; its
// Encoders, Decoders and Packetizers hold one stream's state and are used
// by that stream's goroutine only. The package has no locks and no global
// mutable state. Encode and Decode do not allocate (codec_bench_test.go).
//
// # Parameters
//
// ParseFmtp reads an a=fmtp parameter list into Params; the encoder honours
// the peer's Opus parameters (RFC 7587 6.1): useinbandfec, usedtx,
// maxaveragebitrate, maxplaybackrate (as the encoder's maximum bandwidth)
// and ptime. Packet durations are 10, 20, 30, 40 or 60 ms; Opus has no
// 30 ms frame and refuses it (ErrUnsupported), so a 30 ms peer gets 20 or
// 40 ms, which RFC 7587 receivers must accept. PCM rates: G.711 8 kHz, G.722
// 16 kHz (RTP clock 8000, RFC 3551 4.5.2), L16 its clock rate, Opus 8, 12,
// 16, 24 or 48 kHz by Params.SampleRate (RTP clock always 48000).
//
// # Libraries, and why
//
// G.711: github.com/zaf/g711, per-sample functions. Bit-exact against the
// ITU-T G.191 STL sweep (all 65536 inputs encoded, all 256 codes decoded;
// g711_test.go). Decode 0.06-0.09 µs, encode 0.3-0.4 µs per 20 ms frame.
//
// G.722: spandsp's codec (libspandsp 0.0.6, Debian libspandsp-dev, LGPL-2.1,
// dynamically linked) through cgo. Compared with the pure-Go
// github.com/gotranspile/g722 (a machine translation of the same Steve
// Underwood code; the proxy serves only a 2024 pseudo-version): both produce
// bit-identical payloads, so quality is equal (tone round trip SNR 62.1,
// 47.3, 41.4 and 27.2 dB at 300, 1000, 3000 and 6000 Hz; 31.7 dB on the
// upsampled rtpengine PCMU fixture), and spandsp is faster per 20 ms frame
// (2-core AMD EPYC, shared, -benchtime=1s):
//
//	                       encode     decode
//	spandsp (chosen)       12.0 µs     8.2 µs
//	gotranspile (pure Go)  18.6 µs    15.4 µs
//
// Its state structs hold no pointers and live inside the Go encoder and
// decoder, so nothing needs freeing. Neither library conceals loss: the G.722
// decoder repeats the last pitch period (found by normalized
// autocorrelation), holds it 10 ms, fades it out over 50 ms, and cross-fades
// 2.5 ms into the next good frame; the ADPCM state is left as it was, which
// measured better on the frames after a loss than resetting it or
// re-encoding the concealment into it (g722_test.go).
//
// Opus: libopus through gopkg.in/hraban/opus.v2 (cgo; Debian libopus-dev
// 1.3.1). Concealment is libopus PLC; DecodeFEC decodes the next packet's
// LBRR data, which beats PLC on the lost frame by 3-5 dB (TestOpusFECBeatsPLC).
// Defaults: VoIP application, complexity 5, bitrate 16/24/40 kbit/s at
// 8/16/48 kHz (a quarter more with FEC: libopus codes no LBRR at 8 kHz below
// about 20 kbit/s). Opus keeps the spectrum rather than the waveform, so its
// tests measure spectral SNR (tones 27-44 dB, fixture 10-13 dB) and the
// dominant frequency. Debian's libopus 1.3.1 has no SIMD kernels; its
// encoder dominates the cost of a transcoded call (about 118 µs of CPU per
// 20 ms frame at 16 kHz, complexity 5, in C as through Go).
//
// L16: encoding/binary, big-endian (RFC 3551 4.5.11); nothing to choose.
//
// # Signal helpers
//
// Between decode and encode sit the signal helpers. Resampler converts
// between 8/12/16/24/32/48 kHz with libspeexdsp's polyphase filter (quality
// 4): exactly len*to/from samples per frame, a fixed 4-5 ms delay, no
// allocation; Close frees its C memory. It was chosen over libsoxr (three
// times faster but silent for the first frames, then bursty: unusable on a
// frame clock) and a pure-Go resampler (allocates per call); aliasing of a
// tone above the target Nyquist is over 85 dB down. G711PLC is ITU-T G.711
// Appendix I concealment, bit-exact with the STL reference, delaying the
// signal by 3.75 ms; WithG711PLC puts it behind the Concealer interface of
// a PCMU/PCMA decoder. VAD, CNEncoder, CNDecoder and ParseSID implement
// silence suppression and comfort noise per RFC 3389; ClassifyGap tells a
// DTX pause (timestamp jump with consecutive sequence numbers) from loss, so
// the decode path picks comfort noise or concealment:
//
//	rtp ─► ClassifyGap ─► loss: Concealer.Conceal (G711PLC, G.722, Opus PLC/FEC)
//	                   └► dtx:  CNDecoder.Generate (after Update(SID))
//	pcm ─► VAD ─► speech: Encoder ─► rtp      silence: CNEncoder ─► SID
//	pcm ─► Resampler(from,to) ─► mixer / recorder / other leg
//
// No type in this package is safe for concurrent use; none takes a lock.
//
// # Cost
//
// BenchmarkTranscodePCMUOpusCall runs both directions of a PCMU⇄Opus 16 kHz
// call for one 20 ms tick (decode, resample, encode, each way) and reports
// calls per core. Most of it is the Opus encoder, so a transcoding call
// tells it the band its input really carries (Params.SourceRate 8000 for
// audio from G.711): coding narrowband inside the 16 kHz stream costs 40 %
// less than coding an empty 4–8 kHz band. BenchmarkEncode and BenchmarkDecode report each codec per
// 20 ms frame. Each also reports the benchmark thread's CPU time
// ("cpu-ns/op", "cpu-calls/core"), which stays meaningful on a shared
// machine where wall time does not.
package codecs
