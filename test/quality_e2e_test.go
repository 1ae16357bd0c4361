package test

import (
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/zaf/g711"
)

// TestImpairedMediaQuality: a caller streams a 1 kHz PCMA tone through an
// impaired network (user-space netem, impair_test.go) to a trunk whose
// route forces the processing path. What the callee receives must be
// continuous (one packet per 20 ms with consecutive sequence numbers and
// no frame without the tone's energy, loss concealed), and the call's
// quality record must report the loss and jitter the impairment applied
// (within 20 %), with a lower MOS under loss than on a clean network.
func TestImpairedMediaQuality(t *testing.T) {
	cases := []struct {
		name string
		imp  impairment
	}{
		{"clean", impairment{}},
		{"jitter", impairment{Delay: 40 * time.Millisecond, Jitter: 30 * time.Millisecond}},
		{"loss", impairment{Delay: 40 * time.Millisecond, Jitter: 30 * time.Millisecond, Loss: 0.05}},
	}
	mos := map[string]float64{}
	t.Run("group", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				q := impairedCall(t, c.imp)
				mos[c.name] = q.mos
			})
		}
	})
	if t.Failed() {
		return
	}
	if !(mos["loss"] < mos["clean"]) {
		t.Fatalf("MOS under 5%% loss %.2f is not below the clean network's %.2f", mos["loss"], mos["clean"])
	}
}

// callQuality is what impairedCall reports of leg a.
type callQuality struct {
	mos, lossRate, jitterMs, bufferMs float64
}

func impairedCall(t *testing.T, imp impairment) callQuality {
	requireTool(t, "sipp")
	dir := t.TempDir()
	if err := writeALawTone(filepath.Join(dir, benchALaw), time.Second); err != nil {
		t.Fatal(err)
	}
	uasPort := 15000 + 10*instance()
	uacPort := uasPort + 4
	lo, hi := mediaRange()
	front := netip.MustParseAddr("127.0.0.9")
	sb := startSB(t, SBOptions{
		Users:      []string{"1000"},
		Trunks:     fmt.Sprintf(`  - {name: carrier, uri: "sip:127.0.0.2:%d", trusted: [127.0.0.2/32]}`, uasPort),
		Routes:     `  - {match: '^9(\d+)$', to: trunk:carrier, rewrite: '$1', media_mode: process}`,
		MediaPorts: fmt.Sprintf("%d-%d", lo, hi),
		Advertise:  "127.0.0.9",
	})
	caller := netip.MustParseAddr("127.0.0.3")
	im := startImpairer(t, front, netip.MustParseAddr("127.0.0.1"), lo, hi, func(a netip.Addr) bool { return a == caller }, imp)

	// The callee's media sink.
	sink := newRTPSink(t)
	startSipp(t, dir, "-sf", scenario(t, "uas_media_sink.xml"), "-i", "127.0.0.2", "-p", strconv.Itoa(uasPort),
		"-mi", "127.0.0.2", "-mp", strconv.Itoa(uasPort+2), "-key", "rxport", strconv.Itoa(sink.Port), "-aa")
	waitPort(t, "udp", fmt.Sprintf("127.0.0.2:%d", uasPort))

	const hold = 10 * time.Second
	uac := startSipp(t, dir, "-sf", scenario(t, "bench_uac_stream.xml"), sb.Addr(),
		"-i", "127.0.0.3", "-p", strconv.Itoa(uacPort), "-mi", "127.0.0.3", "-mp", strconv.Itoa(uacPort+2),
		"-s", "95551234", "-key", "user", "1000", "-au", "1000", "-ap", sb.Users["1000"],
		"-m", "1", "-d", strconv.Itoa(int(hold.Milliseconds())), "-aa")
	_ = uac

	time.Sleep(hold)
	var got []sunkRTP
	for _, p := range sink.Drain(2 * time.Second) {
		if p.pt == 8 {
			got = append(got, p)
		}
	}
	if len(got) < 300 {
		t.Fatalf("callee received %d PCMA packets, want about %d", len(got), hold/(20*time.Millisecond))
	}
	// Steady part: after the first second and before the last half second.
	steady := got[50 : len(got)-25]
	missing, silentRun, maxSilentRun := 0, 0, 0
	for i, p := range steady {
		if i > 0 {
			if d := p.seq - steady[i-1].seq; d != 1 {
				missing += int(d) - 1
			}
			if d := p.ts - steady[i-1].ts; d != uint32(len(steady[i-1].payload)) {
				t.Errorf("timestamp step %d after seq %d, want %d", d, steady[i-1].seq, len(steady[i-1].payload))
			}
		}
		var e float64
		for _, b := range p.payload {
			v := float64(g711.DecodeAlawFrame(b))
			e += v * v
		}
		if rms := math.Sqrt(e / float64(max(1, len(p.payload)))); rms < 1000 {
			silentRun++
			maxSilentRun = max(maxSilentRun, silentRun)
		} else {
			silentRun = 0
		}
	}
	if missing > 0 {
		t.Errorf("%d frames missing from the callee's stream (sequence gaps)", missing)
	}
	if maxSilentRun > 1 {
		t.Errorf("the callee's audio has a gap of %d frames without the tone (want at most 1)", maxSilentRun)
	}

	recs := sb.WaitCDRs(1, 10*time.Second)
	if len(recs) != 1 || recs[0].Quality == nil || len(recs[0].Quality.Legs) != 2 {
		t.Fatalf("want one CDR with a quality record of two legs, got %+v", recs)
	}
	a := recs[0].Quality.Legs[0]
	recv, _ := a["received"].(map[string]any)
	num := func(k string) float64 { f, _ := recv[k].(float64); return f }
	q := callQuality{mos: num("mos"), lossRate: num("loss_rate"), jitterMs: num("jitter_mean_ms"), bufferMs: num("jitter_buffer_ms")}
	t.Logf("%s: impairer lost %.2f%%, jitter %.1f ms; record: loss %.2f%%, jitter %.1f ms, buffer %.1f ms, MOS %.2f",
		im, 100*im.LossRate(), im.MeanJitterMs(), 100*q.lossRate, q.jitterMs, q.bufferMs, q.mos)
	// Within 20 %, and half a percent: on a loaded machine a few datagrams
	// also drop in socket buffers, and packets in flight at the BYE count.
	if want := im.LossRate(); math.Abs(q.lossRate-want) > 0.2*want+0.005 {
		t.Errorf("record's loss rate %.4f, the impairer dropped %.4f", q.lossRate, want)
	}
	if want := im.MeanJitterMs(); imp.Jitter > 0 && math.Abs(q.jitterMs-want) > 0.2*want {
		t.Errorf("record's jitter %.1f ms, the impaired stream's %.1f ms", q.jitterMs, want)
	}
	if q.mos <= 1 {
		t.Errorf("MOS %.2f: no rating", q.mos)
	}
	return q
}
