package codecs

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// BenchmarkTranscodePCMUOpusCall measures one transcoded call for one
// 20 ms tick: both directions of a PCMU leg bridged to an Opus 16 kHz leg.
//
//	PCMU payload → decode → resample 8k→16k → Opus encode (16 kHz, complexity 5)
//	Opus payload → decode → resample 16k→8k → PCMU encode
//
// The Opus encoder is set up as a transcoded call sets it up: SourceRate
// 8000, since what it codes came from G.711 and carries nothing above
// 4 kHz, so it codes narrowband inside the 16 kHz stream. The far peer's
// Opus traffic it decodes is full wideband. The "wideband-coded" variant
// makes the encoder code the empty 4–8 kHz band too.
//
// It reports calls/core = 20 ms / (wall ns per op), as asked, and
// cpu-calls/core from the benchmark thread's CPU time, which stays
// meaningful when the machine is shared.
func BenchmarkTranscodePCMUOpusCall(b *testing.B) {
	b.Run("band-matched", func(b *testing.B) { benchTranscodeCall(b, 5, 8000) })
	b.Run("wideband-coded", func(b *testing.B) { benchTranscodeCall(b, 5, 0) })
}

// BenchmarkTranscodePCMUOpusComplexity is BenchmarkTranscodePCMUOpusCall at
// other Opus encoder complexities, the main lever on its cost.
func BenchmarkTranscodePCMUOpusComplexity(b *testing.B) {
	for _, c := range []int{1, 3, 8} {
		b.Run("c"+strconv.Itoa(c), func(b *testing.B) { benchTranscodeCall(b, c, 8000) })
	}
}

// benchTranscodeCall runs the call at an encoder complexity; sourceRate is
// the encoder's Params.SourceRate (0: code the full 16 kHz band).
func benchTranscodeCall(b *testing.B, complexity, sourceRate int) {
	const ptime = 20 * time.Millisecond
	speech8 := sigSpeechLike(8000, 1)
	speech16 := sigSpeechLike(16000, 1)

	// Inbound traffic of both legs, prepared outside the timed loop.
	pcmuEnc, pcmuDec := sigNew(b, PCMU(), Params{})
	opusParams := Params{SampleRate: 16000, Complexity: complexity}
	peerOpus, err := Opus().NewEncoder(opusParams) // the far peer: full wideband
	if err != nil {
		b.Fatal(err)
	}
	opusParams.SourceRate = sourceRate
	opusEnc, opusDec := sigNew(b, Opus(), opusParams)
	pcmuIn := sigEncodeAll(b, pcmuEnc, speech8)
	opusIn := sigEncodeAll(b, peerOpus, speech16)

	up, err := NewResampler(8000, 16000)
	if err != nil {
		b.Fatal(err)
	}
	defer up.Close()
	down, err := NewResampler(16000, 8000)
	if err != nil {
		b.Fatal(err)
	}
	defer down.Close()

	pcm8 := make([]int16, FrameSamples(8000, ptime))
	pcm16 := make([]int16, FrameSamples(16000, ptime))
	opusOut := make([]byte, opusEnc.MaxPayloadSize())
	pcmuOut := make([]byte, pcmuEnc.MaxPayloadSize())
	dec16 := make([]int16, 5760)
	res8 := make([]int16, len(pcm8))

	b.ReportAllocs()
	done := benchCPU(b)
	i := 0
	for b.Loop() {
		// PCMU leg → Opus leg.
		n, err := pcmuDec.Decode(pcmuIn[i], pcm8)
		if err != nil {
			b.Fatal(err)
		}
		if m := up.Process(pcm8[:n], pcm16); m != len(pcm16) {
			b.Fatalf("resampled %d samples to %d, want %d", n, m, len(pcm16))
		}
		if _, err := opusEnc.Encode(pcm16, opusOut); err != nil {
			b.Fatal(err)
		}
		// Opus leg → PCMU leg.
		n, err = opusDec.Decode(opusIn[i], dec16)
		if err != nil {
			b.Fatal(err)
		}
		if m := down.Process(dec16[:n], res8); m != len(res8) {
			b.Fatalf("resampled %d samples to %d, want %d", n, m, len(res8))
		}
		if _, err := pcmuEnc.Encode(res8, pcmuOut); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(pcmuIn) || i == len(opusIn) {
			i = 0
		}
	}
	coding := "band-matched to the G.711 source"
	if sourceRate == 0 {
		coding = "wideband-coded"
	}
	reportCallsPerCore(b, ptime, done(), fmt.Sprintf("16 kHz, complexity %d, %s", complexity, coding))
}

// reportCallsPerCore reports calls/core from wall time and cpu-calls/core
// from the thread's CPU time cpu, and prints the latter with label.
func reportCallsPerCore(b *testing.B, ptime, cpu time.Duration, label string) {
	wall := b.Elapsed() / time.Duration(max(b.N, 1))
	b.ReportMetric(float64(ptime)/float64(wall), "calls/core")
	if cpu > 0 {
		b.ReportMetric(float64(ptime)/float64(cpu), "cpu-calls/core")
		if b.N > 1 {
			fmt.Printf("transcoding PCMU<->Opus (%s): %.0f calls per core\n", label, float64(ptime)/float64(cpu))
		}
	}
}

// BenchmarkTranscodePCMUOpusNarrowband is the transcoded call as the
// processing path sets it up when one leg is G.711: Opus at an 8 kHz PCM
// rate on both sides (RFC 7587: the RTP clock stays 48000 whatever the
// coding rate), so there is no resampler, and the encoder codes only the
// band the G.711 source carries. The far peer's Opus is wideband; the
// decoder renders it at 8 kHz, which is all the PCMU leg can carry.
func BenchmarkTranscodePCMUOpusNarrowband(b *testing.B) {
	for _, c := range []int{5, 10} {
		b.Run("c"+strconv.Itoa(c), func(b *testing.B) { benchTranscodeNarrowband(b, c, false) })
		b.Run("c"+strconv.Itoa(c)+"-fec", func(b *testing.B) { benchTranscodeNarrowband(b, c, true) })
	}
}

func benchTranscodeNarrowband(b *testing.B, complexity int, fec bool) {
	const ptime = 20 * time.Millisecond
	speech8 := sigSpeechLike(8000, 1)
	speech16 := sigSpeechLike(16000, 1)
	pcmuEnc, pcmuDec := sigNew(b, PCMU(), Params{})
	peerOpus, err := Opus().NewEncoder(Params{SampleRate: 16000, Complexity: complexity})
	if err != nil {
		b.Fatal(err)
	}
	opusEnc, opusDec := sigNew(b, Opus(), Params{SampleRate: 8000, SourceRate: 8000, Complexity: complexity, UseInbandFEC: fec})
	pcmuIn := sigEncodeAll(b, pcmuEnc, speech8)
	opusIn := sigEncodeAll(b, peerOpus, speech16)

	pcm8 := make([]int16, FrameSamples(8000, ptime))
	opusOut := make([]byte, opusEnc.MaxPayloadSize())
	pcmuOut := make([]byte, pcmuEnc.MaxPayloadSize())
	dec8 := make([]int16, 5760)

	b.ReportAllocs()
	done := benchCPU(b)
	i := 0
	for b.Loop() {
		n, err := pcmuDec.Decode(pcmuIn[i], pcm8)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := opusEnc.Encode(pcm8[:n], opusOut); err != nil {
			b.Fatal(err)
		}
		n, err = opusDec.Decode(opusIn[i], dec8)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := pcmuEnc.Encode(dec8[:n], pcmuOut); err != nil {
			b.Fatal(err)
		}
		if i++; i == len(pcmuIn) || i == len(opusIn) {
			i = 0
		}
	}
	reportCallsPerCore(b, ptime, done(), fmt.Sprintf("8 kHz coding rate, complexity %d, in-band FEC %t", complexity, fec))
}
