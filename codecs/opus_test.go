package codecs

import (
	"errors"
	"math"
	"strconv"
	"testing"
)

// opusDelay is libopus' decoder output delay (4 ms look-ahead plus 2.5 ms),
// in samples at rate.
func opusDelay(rate int) int { return rate * 13 / 2000 }

func TestOpusToneRoundTrip(t *testing.T) {
	for _, rate := range []int{8000, 16000, 48000} {
		for _, freq := range []float64{440, 1000, 3000, 7000, 15000} {
			if freq > float64(rate)*0.4 {
				continue
			}
			enc, dec := sigNew(t, Opus(), Params{SampleRate: rate})
			x := sigTone(rate, rate, freq, 10000) // 1 s
			y := sigRoundTrip(t, enc, dec, x)
			d := opusDelay(rate)
			snr := sigSNR(x, y, d, rate/5, len(x)-d)
			ssnr := sigSpectralSNR(x[rate/5:], y[rate/5:], d, rate, 50, float64(rate)/2)
			f := sigDominant(y[rate/5:], rate)
			t.Logf("%d Hz rate, %v Hz: SNR %.1f dB, spectral %.1f dB, dominant %v", rate, freq, snr, ssnr, f)
			if math.Abs(f-freq) > 10 {
				t.Errorf("%d Hz rate, %v Hz: dominant frequency %v Hz", rate, freq, f)
			}
			// Opus keeps the spectrum, not the waveform: measured spectral
			// SNR 27-44 dB below 7 kHz, 16 dB at 15 kHz.
			minSpectral := 22.0
			if freq > 10000 {
				minSpectral = 11
			}
			if ssnr < minSpectral {
				t.Errorf("%d Hz rate, %v Hz: spectral SNR %.1f dB, want >= %.0f", rate, freq, ssnr, minSpectral)
			}
		}
	}
}

// opusDecodeLossy decodes payloads with a fresh decoder, recovering each
// frame in lost with FEC from the next payload (fec) or with PLC.
func opusDecodeLossy(t testing.TB, rate, frame int, payloads [][]byte, lost map[int]bool, fec bool) []int16 {
	t.Helper()
	_, d := sigNew(t, Opus(), Params{SampleRate: rate})
	out := make([]int16, len(payloads)*frame)
	for k, p := range payloads {
		pcm := out[k*frame : (k+1)*frame]
		var n int
		var err error
		switch {
		case !lost[k]:
			n, err = d.Decode(p, pcm)
		case fec:
			n, err = d.(FECDecoder).DecodeFEC(payloads[k+1], pcm)
		default:
			n, err = d.(Concealer).Conceal(pcm)
		}
		if err != nil || n != frame {
			t.Fatalf("frame %d (lost %v, fec %v): n=%d err=%v", k, lost[k], fec, n, err)
		}
	}
	return out
}

// TestOpusFECBeatsPLC drops frames of an FEC-enabled stream and checks that
// recovering them from the next packet's in-band FEC comes closer to the
// audio than PLC does, measured against the loss-free decode (waveform SNR)
// and against the encoder input (spectral SNR).
func TestOpusFECBeatsPLC(t *testing.T) {
	src := sigFixture(t, "pcmu", PCMU(), 12)
	for _, rate := range []int{8000, 16000, 48000} {
		t.Run(strconv.Itoa(rate), func(t *testing.T) {
			x := src
			if rate != 8000 {
				x = sigResample(t, src, 8000, rate)
			}
			enc, err := Opus().NewEncoder(Params{SampleRate: rate, UseInbandFEC: true})
			if err != nil {
				t.Fatal(err)
			}
			frame := enc.FrameSamples()
			payloads := sigEncodeAll(t, enc, x)
			lost := map[int]bool{}
			var lostOrder []int
			for k := 25; k < len(payloads)-1; k += 9 {
				lost[k] = true
				lostOrder = append(lostOrder, k)
			}
			clean := opusDecodeLossy(t, rate, frame, payloads, nil, false)
			plc := opusDecodeLossy(t, rate, frame, payloads, lost, false)
			fec := opusDecodeLossy(t, rate, frame, payloads, lost, true)
			var ref, gotPLC, gotFEC, in []int16
			d := opusDelay(rate)
			for _, k := range lostOrder {
				s := k * frame
				ref = append(ref, clean[s:s+frame]...)
				gotPLC = append(gotPLC, plc[s:s+frame]...)
				gotFEC = append(gotFEC, fec[s:s+frame]...)
				in = append(in, x[s-d:s-d+frame]...)
			}
			snrPLC := sigSNR(ref, gotPLC, 0, 0, len(ref))
			snrFEC := sigSNR(ref, gotFEC, 0, 0, len(ref))
			specPLC := sigSpectralSNR(in, gotPLC, 0, rate, 100, 3800)
			specFEC := sigSpectralSNR(in, gotFEC, 0, rate, 100, 3800)
			t.Logf("%d frames lost: vs clean decode FEC %.1f dB, PLC %.1f dB; vs input (spectral) FEC %.1f dB, PLC %.1f dB",
				len(lost), snrFEC, snrPLC, specFEC, specPLC)
			// Measured: FEC 2-3.5 dB vs PLC -1.3..-1.9 dB, spectral FEC ~6 vs PLC ~3 dB.
			if snrFEC < snrPLC+1 {
				t.Errorf("vs clean decode: FEC %.1f dB, not 1 dB above PLC %.1f dB", snrFEC, snrPLC)
			}
			if specFEC < specPLC+1 {
				t.Errorf("vs input: FEC %.1f dB, not 1 dB above PLC %.1f dB", specFEC, specPLC)
			}
		})
	}
}

// TestOpusSetPacketLoss: an encoder asked for in-band FEC but told to
// expect no loss (PacketLossPercent < 0) codes no FEC and spends no
// bitrate on it; once SetPacketLoss reports loss, lost frames are
// recovered from the next packet, and reporting 0 again stops the FEC.
func TestOpusSetPacketLoss(t *testing.T) {
	const rate = 8000
	x := sigFixture(t, "pcmu", PCMU(), 12)
	run := func(losses ...int) (snrFEC, snrPLC float64, bytes int) {
		enc, err := Opus().NewEncoder(Params{SampleRate: rate, UseInbandFEC: true, PacketLossPercent: -1})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range losses {
			if err := enc.(LossAdapter).SetPacketLoss(l); err != nil {
				t.Fatal(err)
			}
		}
		frame := enc.FrameSamples()
		payloads := sigEncodeAll(t, enc, x)
		for _, p := range payloads {
			bytes += len(p)
		}
		lost := map[int]bool{}
		for k := 25; k < len(payloads)-1; k += 9 {
			lost[k] = true
		}
		clean := opusDecodeLossy(t, rate, frame, payloads, nil, false)
		plc := opusDecodeLossy(t, rate, frame, payloads, lost, false)
		fec := opusDecodeLossy(t, rate, frame, payloads, lost, true)
		var ref, gotPLC, gotFEC []int16
		for k := range lost {
			s := k * frame
			ref = append(ref, clean[s:s+frame]...)
			gotPLC = append(gotPLC, plc[s:s+frame]...)
			gotFEC = append(gotFEC, fec[s:s+frame]...)
		}
		return sigSNR(ref, gotFEC, 0, 0, len(ref)), sigSNR(ref, gotPLC, 0, 0, len(ref)), bytes
	}
	offFEC, offPLC, offBytes := run()
	onFEC, onPLC, onBytes := run(10)
	backFEC, backPLC, backBytes := run(10, 0)
	t.Logf("no loss expected: FEC %.1f dB PLC %.1f dB, %d bytes; 10%%: FEC %.1f dB PLC %.1f dB, %d bytes; 10%% then 0: FEC %.1f dB, %d bytes",
		offFEC, offPLC, offBytes, onFEC, onPLC, onBytes, backFEC, backBytes)
	if onFEC < onPLC+1 {
		t.Errorf("with 10%% loss reported: FEC %.1f dB, not 1 dB above PLC %.1f dB", onFEC, onPLC)
	}
	if offFEC > offPLC+0.5 || backFEC > backPLC+0.5 {
		t.Errorf("no loss expected: FEC %.1f / %.1f dB above PLC %.1f / %.1f dB: LBRR coded", offFEC, backFEC, offPLC, backPLC)
	}
	if offBytes*10 > onBytes*9 || backBytes*10 > onBytes*9 {
		t.Errorf("bytes without FEC %d / %d, with %d: want at least a tenth fewer", offBytes, backBytes, onBytes)
	}
}

// TestOpusFmtpHonoured checks that each fmtp parameter changes what the
// encoder produces.
func TestOpusFmtpHonoured(t *testing.T) {
	speech := sigFixture(t, "pcmu", PCMU(), 6)
	speech16 := sigResample(t, speech, 8000, 16000)

	t.Run("useinbandfec", func(t *testing.T) {
		// Without FEC, recovering from the next packet is plain PLC; with
		// it, the result differs.
		for _, tc := range []struct {
			fmtp    string
			wantFEC bool
		}{{"useinbandfec=0", false}, {"useinbandfec=1", true}} {
			p := ParseFmtp(tc.fmtp)
			p.SampleRate = 16000
			enc, _ := sigNew(t, Opus(), p)
			payloads := sigEncodeAll(t, enc, speech16)
			lost := map[int]bool{100: true, 150: true, 200: true}
			plc := opusDecodeLossy(t, 16000, 320, payloads, lost, false)
			fec := opusDecodeLossy(t, 16000, 320, payloads, lost, true)
			differ := false
			for i := range plc {
				differ = differ || plc[i] != fec[i]
			}
			if differ != tc.wantFEC {
				t.Errorf("%s: FEC output differs from PLC: %v, want %v", tc.fmtp, differ, tc.wantFEC)
			}
		}
	})

	t.Run("usedtx", func(t *testing.T) {
		silence := make([]int16, 16000*2)
		for _, tc := range []struct {
			fmtp    string
			wantDTX bool
		}{{"usedtx=0", false}, {"usedtx=1", true}} {
			p := ParseFmtp(tc.fmtp)
			p.SampleRate = 16000
			enc, _ := sigNew(t, Opus(), p)
			tiny := 0
			for _, pl := range sigEncodeAll(t, enc, silence) {
				if len(pl) <= 2 {
					tiny++
				}
			}
			if got := tiny > 50; got != tc.wantDTX {
				t.Errorf("%s: %d of 100 silent frames are DTX frames", tc.fmtp, tiny)
			}
		}
	})

	t.Run("maxaveragebitrate", func(t *testing.T) {
		for _, bps := range []int{12000, 32000} {
			p := ParseFmtp("maxaveragebitrate=" + strconv.Itoa(bps))
			p.SampleRate = 16000
			enc, _ := sigNew(t, Opus(), p)
			payloads := sigEncodeAll(t, enc, speech16)
			total := 0
			for _, pl := range payloads {
				total += len(pl)
			}
			got := float64(total*8) / (float64(len(payloads)) * 0.020)
			if got < 0.7*float64(bps) || got > 1.15*float64(bps) {
				t.Errorf("maxaveragebitrate=%d: coded %.0f bit/s", bps, got)
			}
		}
	})

	t.Run("maxplaybackrate", func(t *testing.T) {
		// 1 kHz + 6 kHz at 48 kHz: a peer that plays back at most 8 kHz
		// (narrowband, 4 kHz audio) gets no 6 kHz.
		x := sigTone(48000, 48000, 1000, 6000)
		for i, v := range sigTone(48000, 48000, 6000, 6000) {
			x[i] += v
		}
		for _, tc := range []struct {
			fmtp   string
			wantHF bool
		}{{"", true}, {"maxplaybackrate=8000", false}} {
			p := ParseFmtp(tc.fmtp)
			p.SampleRate = 48000
			enc, dec := sigNew(t, Opus(), p)
			y := sigRoundTrip(t, enc, dec, x)[9600:]
			ratio := 10 * math.Log10(sigGoertzel(y, 48000, 6000)/sigGoertzel(y, 48000, 1000))
			if got := ratio > -10; got != tc.wantHF {
				t.Errorf("%q: 6 kHz is %.1f dB below 1 kHz", tc.fmtp, -ratio)
			}
		}
	})

	t.Run("sourcerate", func(t *testing.T) {
		// Audio from a G.711 leg carries nothing above 4 kHz: with
		// SourceRate 8000 the encoder codes narrowband (TOC bandwidth,
		// RFC 6716 3.1) and a 1 kHz tone still comes through cleanly at
		// the 16 kHz API rate; without it, wideband.
		x := sigTone(16000*2, 16000, 1000, 8000)
		for _, tc := range []struct {
			source int
			want   string
		}{{0, "WB"}, {8000, "NB"}} {
			enc, dec := sigNew(t, Opus(), Params{SampleRate: 16000, SourceRate: tc.source})
			payloads := sigEncodeAll(t, enc, x)
			for i, pl := range payloads[5:] {
				if got := opusTOCBandwidth(pl[0]); got != tc.want {
					t.Fatalf("source %d: packet %d codes %s, want %s", tc.source, i+5, got, tc.want)
				}
			}
			y := sigRoundTrip(t, enc, dec, x)[3200:]
			if f := sigDominant(y, 16000); math.Abs(f-1000) > 20 {
				t.Errorf("source %d: dominant %.0f Hz, want 1000", tc.source, f)
			}
		}
	})

	t.Run("ptime", func(t *testing.T) {
		for _, ms := range []int{10, 20, 40, 60} {
			p := ParseFmtp("ptime=" + strconv.Itoa(ms))
			p.SampleRate = 16000
			enc, dec := sigNew(t, Opus(), p)
			if enc.FrameSamples() != 16*ms {
				t.Fatalf("ptime %d: FrameSamples %d", ms, enc.FrameSamples())
			}
			payload := make([]byte, enc.MaxPayloadSize())
			n, err := enc.Encode(speech16[:16*ms], payload)
			if err != nil {
				t.Fatal(err)
			}
			pcm := make([]int16, 5760)
			if m, err := dec.Decode(payload[:n], pcm); err != nil || m != 16*ms {
				t.Errorf("ptime %d: packet decodes to %d samples (%v)", ms, m, err)
			}
		}
		if _, err := Opus().NewEncoder(ParseFmtp("ptime=30")); !errors.Is(err, ErrUnsupported) {
			t.Errorf("ptime 30: err %v, want ErrUnsupported", err)
		}
	})
}

// opusTOCBandwidth names the audio bandwidth an Opus packet's TOC byte
// announces (RFC 6716 3.1, Table 2).
func opusTOCBandwidth(toc byte) string {
	config := toc >> 3
	switch {
	case config < 12: // SILK-only
		return [...]string{"NB", "MB", "WB"}[config/4]
	case config < 16: // hybrid
		return [...]string{"SWB", "FB"}[(config-12)/2]
	default: // CELT-only
		return [...]string{"NB", "WB", "SWB", "FB"}[(config-16)/4]
	}
}
