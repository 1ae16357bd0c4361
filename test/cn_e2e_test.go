package test

import (
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

// TestComfortNoiseTowardLegWithoutCN: the caller sends 2 s of a PCMU tone,
// then an RFC 3389 SID (noise level -40 dBov) and nothing for 2.6 s (DTX,
// one refresh SID), then the tone again. The callee negotiated no CN, so
// Switchboard plays the silence to it as comfort noise at the SID's level:
// packets keep coming every 20 ms, and their level is about -40 dBov
// (within 3 dB), with no silent frame and no burst.
func TestComfortNoiseTowardLegWithoutCN(t *testing.T) {
	const sidLevel = 40 // -dBov
	var pkts []rtp.Packet
	seq, ts := uint16(2000), uint32(80000)
	tone := make([]byte, 160)
	slot := func(pt uint8, marker bool, payload []byte) {
		pkts = append(pkts, rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: marker,
			SequenceNumber: seq, Timestamp: ts, SSRC: 0xc0ffee}, Payload: payload})
		seq++
		ts += 160
	}
	gap := func() { pkts = append(pkts, rtp.Packet{}); ts += 160 }
	for i := range 100 { // 2 s of 1 kHz tone
		for k := range tone {
			tone[k] = g711.EncodeUlawFrame(int16(0.3 * 32767 * math.Sin(2*math.Pi*1000*float64(i*160+k)/8000)))
		}
		slot(0, i == 0, append([]byte(nil), tone...))
	}
	slot(13, false, []byte{sidLevel}) // RFC 3389 §3: level only, white noise
	for range 60 {
		gap()
	}
	slot(13, false, []byte{sidLevel})
	for range 69 {
		gap()
	}
	for i := range 50 {
		slot(0, i == 0, append([]byte(nil), tone...))
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, "cn.pcap")
	if err := writeRTPPcap(pcap, pkts, 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}

	sink := newRTPSink(t)
	calleeSDP := sinkSDP("0", "a=rtpmap:0 PCMU/8000\n")
	uas := writeScenario(t, "uas-cn", `<recv request="INVITE"/>`, replyWith("200", "OK", true, calleeSDP), `<recv request="ACK"/>`,
		`<recv request="BYE"/>`, replyNoTag("200", "OK", false, ""))
	uac := writeScenario(t, "uac-cn", uacInviteWith(sdpCodecs("0 13", "a=rtpmap:0 PCMU/8000\na=rtpmap:13 CN/8000\n")),
		`<recv response="180" optional="true"/>`, `<recv response="200"/>`, uacAck("2"),
		`<nop><action><exec play_pcap_audio="`+pcap+`"/></action></nop>`,
		`<pause milliseconds="6000"/>`, uacInDialog("BYE", "3", "", ""), `<recv response="200"/>`)
	c := runCallCase(t, SBOptions{}, uas, uac, "-key", "rxport", strconv.Itoa(sink.Port))
	expectCDR(t, c, 200, "answered", "caller")

	type frame struct {
		at  time.Time
		rms float64
	}
	var got []frame
	for _, p := range sink.Drain(time.Second) {
		if p.pt != 0 || len(p.payload) == 0 {
			continue
		}
		var e float64
		for _, b := range p.payload {
			v := float64(g711.DecodeUlawFrame(b))
			e += v * v
		}
		got = append(got, frame{at: p.at, rms: math.Sqrt(e / float64(len(p.payload)))})
	}
	// Find the DTX stretch: after the first tone, the frames far below it.
	start := -1
	for i := 50; i < len(got); i++ {
		if got[i].rms < 2000 {
			start = i
			break
		}
	}
	if start < 0 || start+120 > len(got) {
		t.Fatalf("no comfort-noise stretch in %d frames received", len(got))
	}
	cn := got[start+5 : start+120] // 2.3 s inside the 2.6 s gap
	for i := 1; i < len(cn); i++ {
		if d := cn[i].at.Sub(cn[i-1].at); d > 80*time.Millisecond {
			t.Errorf("a %v hole in the stream during DTX", d)
		}
	}
	levels := make([]float64, len(cn))
	for i, f := range cn {
		levels[i] = f.rms
	}
	slices.Sort(levels)
	want := 32767 * math.Pow(10, -sidLevel/20.0)
	median := levels[len(levels)/2]
	if db := 20 * math.Log10(median/want); math.Abs(db) > 3 {
		t.Errorf("comfort noise at %.0f rms (%.1f dB from the SID's -%d dBov = %.0f rms)", median, db, sidLevel, want)
	}
	if levels[0] < median/4 {
		t.Errorf("a frame of near silence (%.0f rms) in the comfort noise (median %.0f)", levels[0], median)
	}
	if top := levels[len(levels)-1]; top > 3*median {
		t.Errorf("a noise burst (%.0f rms) in the comfort noise (median %.0f)", top, median)
	}
}
